import FoundationEssentials
import Glibc
import QuellCLI

// A thin command layer: everything lives in QuellCLI.
let code = await QuellMain.run(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)
