import Foundation
import Quell

/// Scaffold: replaced by the command's implementation.
enum EnqueueCommand {
    static func run(_ o: EnqueueOptions) async -> Int32 {
        printError("quell: this command is not built yet")
        return 1
    }
}
