import Foundation
import Quell

// quell-bench: the measuring side of bench/*. Prints one "name value unit" line
// per measurement so scripts can compare with peers.

@main
struct QuellBench {
    static func main() async throws {
        var args = Array(CommandLine.arguments.dropFirst())
        guard let command = args.first else {
            print("usage: quell-bench redis-client|store|worker|depth|http-enqueue|spin-worker --url URL [--seconds N] [--jobs N] [--batch N]")
            exit(2)
        }
        args.removeFirst()
        let options = Options(args)
        switch command {
        case "redis-client":
            try await RedisClientBench.run(options)
        case "store":
            try await StoreBench.run(options)
        case "worker":
            try await WorkerBench.run(options)
        case "depth":
            try await DepthBench.run(options)
        case "http-enqueue":
            try await HTTPEnqueueBench.run(options)
        case "spin-worker":
            try await SpinWorker.run(options)
        default:
            FileHandle.standardError.write(Data("unknown benchmark \(command)\n".utf8))
            exit(2)
        }
    }
}

/// `--name value` pairs.
struct Options {
    var values: [String: String] = [:]
    init(_ args: [String]) {
        var i = 0
        while i < args.count {
            if args[i].hasPrefix("--"), i + 1 < args.count {
                values[String(args[i].dropFirst(2))] = args[i + 1]
                i += 2
            } else {
                i += 1
            }
        }
    }
    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func double(_ name: String, _ fallback: Double) -> Double { values[name].flatMap(Double.init) ?? fallback }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap(Int.init) ?? fallback }
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func report(_ name: String, _ value: Double, _ unit: String) {
    print("\(name) \(Int(value.rounded())) \(unit)")
}

/// The cancel benchmarks' handler body: passes a checkpoint every 1 ms until
/// told to stop; returns when it stopped (monotonic seconds) and the error
/// that stopped it, for the handler to rethrow.
func spinUntilStopped(_ context: JobContext) async -> (stoppedAt: Double, error: any Error) {
    do {
        while true {
            try context.checkpoint()
            try await Task.sleep(for: .milliseconds(1))
        }
    } catch {
        return (monotonic(), error)
    }
}
