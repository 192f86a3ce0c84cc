// swift-tools-version:6.0
// Quell: a Redis-backed task queue for long-running sync jobs.
// No package dependencies (user's wish): Foundation, Glibc, Dispatch,
// Synchronization and the system C library hiredis only.
import PackageDescription

let package = Package(
    name: "Quell",
    products: [
        .library(name: "Quell", targets: ["Quell"]),
        .library(name: "QuellHTTP", targets: ["QuellHTTP"]),
        // The v1 HTTP API, to host in an application's own process.
        .library(name: "QuellAPI", targets: ["QuellAPI"]),
        .executable(name: "quell", targets: ["quell"]),
        .executable(name: "quell-bench", targets: ["QuellBench"]),
        .executable(name: "quell-chaos", targets: ["QuellChaos"]),
    ],
    targets: [
        // hiredis 0.14 from Debian's libhiredis-dev. No `pkgConfig:` on purpose:
        // pkg-config adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a
        // warning on every build; the header is on the default include path.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Threads of our own for blocking I/O, and starting child processes
        // (shared by the modules below, which otherwise know nothing of each other).
        .target(name: "QuellSystem"),
        // The library: Redis layer, job store, worker runtime. Knows nothing of
        // HTTP or terminals.
        .target(
            name: "Quell",
            dependencies: ["CHiredis", "QuellSystem"],
            resources: [.embedInCode("Scripts")]
        ),
        // The demo tasks of the stock `quell worker` (demo.sync, demo.sleep, …), on
        // the library's public API only.
        .target(name: "QuellDemo", dependencies: ["Quell"]),
        // HTTP/1.1 server. Knows nothing of jobs.
        .target(name: "QuellHTTP", dependencies: ["QuellSystem"]),
        // The v1 HTTP API: routes from QuellHTTP onto the Quell client API.
        .target(name: "QuellAPI", dependencies: ["Quell", "QuellHTTP"]),
        // Terminal control (raw mode, alternate screen, keys, size). Knows nothing of jobs.
        .target(name: "QuellTerminal", dependencies: ["QuellSystem"]),
        // The commands of the `quell` executable: argument parsing, api, worker,
        // monitor, jobs, enqueue, demo.
        .target(name: "QuellCLI", dependencies: ["Quell", "QuellDemo", "QuellAPI", "QuellHTTP", "QuellSystem", "QuellTerminal"]),
        .executableTarget(name: "quell", dependencies: ["QuellCLI"]),
        .executableTarget(name: "QuellBench", dependencies: ["Quell", "QuellDemo", "QuellSystem"]),
        // Test helpers shared by the test targets: a private redis-server, child processes.
        .target(name: "QuellTestSupport", dependencies: ["Quell", "QuellSystem"], path: "Tests/QuellTestSupport"),
        // The chaos suite (scripts/chaos): quell api and workers under kill -9, SIGSTOP,
        // Redis restarts and outages, checked for lost, stuck and double-run jobs.
        .executableTarget(name: "QuellChaos", dependencies: ["Quell", "QuellSystem", "QuellTestSupport"]),
        .testTarget(name: "QuellTests", dependencies: ["Quell", "QuellDemo", "QuellTestSupport"]),
        .testTarget(name: "QuellHTTPTests", dependencies: ["QuellHTTP"]),
        .testTarget(name: "QuellAPITests", dependencies: ["QuellAPI", "Quell", "QuellHTTP", "QuellTestSupport"]),
        .testTarget(name: "QuellCLITests", dependencies: ["QuellCLI", "Quell", "QuellSystem", "QuellTerminal", "QuellTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
