// swift-tools-version:6.0
// Quell's examples: a worker with a task of its own ("contacts.sync") and a
// producer that enqueues it, watches it and cancels it. docs/library.md walks
// through this package. Quell is a dependency by path here; in your own
// package use `.package(url: "https://…/quell.git", branch: "main")` instead.
import PackageDescription

let package = Package(
    name: "QuellExamples",
    dependencies: [
        .package(name: "Quell", path: ".."),
    ],
    targets: [
        // The task: its parameters (shared by worker and producer) and its handler.
        .target(name: "ContactsTasks", dependencies: [.product(name: "Quell", package: "Quell")]),
        .executableTarget(name: "contacts-worker", dependencies: ["ContactsTasks", .product(name: "Quell", package: "Quell")]),
        .executableTarget(name: "contacts-producer", dependencies: ["ContactsTasks", .product(name: "Quell", package: "Quell")]),
        .testTarget(name: "ContactsTasksTests", dependencies: ["ContactsTasks", .product(name: "Quell", package: "Quell")]),
    ],
    swiftLanguageModes: [.v6]
)
