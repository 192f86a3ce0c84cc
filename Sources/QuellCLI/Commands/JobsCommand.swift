import Foundation
import Quell

/// Scaffold: replaced by the `quell jobs …` implementation.
enum JobsCommand {
    static func list(_ o: JobsListOptions) async -> Int32 { notBuilt() }
    static func show(_ o: JobsShowOptions) async -> Int32 { notBuilt() }
    static func cancel(_ o: JobsCancelOptions) async -> Int32 { notBuilt() }
    static func cleanup(_ o: JobsCleanupOptions) async -> Int32 { notBuilt() }
    private static func notBuilt() -> Int32 {
        printError("quell: this command is not built yet")
        return 1
    }
}
