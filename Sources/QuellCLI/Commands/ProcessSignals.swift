import Quell

// SIGTERM/SIGINT for the long-running commands (api, worker): the library's
// `TerminationSignals` (installed before the command announces itself; a
// second SIGINT exits at once with 130).
extension TerminationSignals {
    convenience init(command: String) { self.init(name: command) }
}
