import Foundation
import Quell

/// Scaffold: replaced by the command's implementation.
enum MonitorCommand {
    static func run(_ o: MonitorOptions) async -> Int32 {
        printError("quell: this command is not built yet")
        return 1
    }
}
