import FoundationEssentials
import Quell

/// Scaffold: replaced by the command's implementation.
enum DemoCommand {
    static func run(_ o: DemoOptions, environment: [String: String]) async -> Int32 {
        printError("quell: this command is not built yet")
        return 1
    }
}
