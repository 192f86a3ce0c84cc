import Foundation
import Glibc
import Testing
@testable import QuellSystem

/// `spawnProcess`: what a child inherits, and the listing of open descriptors it relies on.
@Suite struct SpawnTests {
    @Test func openDescriptorsListsWhatIsOpenAndNothingClosed() throws {
        // Enough descriptors that the directory is read in several buffers.
        let opened = (0..<300).map { _ in open("/dev/null", O_RDONLY) }
        #expect(opened.allSatisfy { $0 >= 0 })
        let listed = Set(openDescriptors())
        #expect(Set(opened).isSubset(of: listed))
        for fd in opened.prefix(150) { close(fd) }
        let after = Set(openDescriptors())
        #expect(after.isDisjoint(with: opened.prefix(150)))
        #expect(Set(opened.dropFirst(150)).isSubset(of: after))
        for fd in opened.dropFirst(150) { close(fd) }
    }

    @Test func aChildInheritsOnlyItsStandardDescriptors() throws {
        let extra = open("/dev/null", O_RDONLY)
        defer { close(extra) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quell-spawn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/fds"
        // The shell lists its descriptors into a file; `ls` itself opens the directory it reads.
        let pid = try spawnProcess("/bin/sh", ["-c", "ls /proc/$$/fd"], environment: [:], outputPath: output, truncate: true)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        let fds = Set(try String(contentsOfFile: output, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
        #expect(fds.isSuperset(of: [0, 1, 2]))
        #expect(!fds.contains(extra), "inherited \(extra): \(fds.sorted())")
    }
}
