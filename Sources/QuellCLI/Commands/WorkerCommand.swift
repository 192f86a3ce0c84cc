import Foundation
import Quell

/// Scaffold: replaced by the command's implementation.
enum WorkerCommand {
    static func run(_ o: WorkerOptions, environment: [String: String]) async -> Int32 {
        printError("quell: this command is not built yet")
        return 1
    }
}
