import Foundation
import Glibc
import Testing
@testable import QuellSystem

/// `spawnProcess`: what a child inherits, and the listing of open descriptors it relies on.
@Suite struct SpawnTests {
    @Test func openDescriptorsListsWhatIsOpenAndNothingClosed() throws {
        // Enough descriptors that the directory is read in several buffers,
        // numbered far above what the tests running beside this one use: the
        // kernel hands out the lowest free number, so a number this test
        // closes is not taken again by another test's open() before the
        // second listing (at low numbers it was, under load).
        let source = open("/dev/null", O_RDONLY)
        #expect(source >= 0)
        defer { close(source) }
        let base = Self.highDescriptorBase(count: 300)
        let opened = (0..<300).map { _ in fcntl(source, F_DUPFD, base) }
        #expect(opened.allSatisfy { $0 >= base })
        let listed = Set(openDescriptors())
        #expect(Set(opened).isSubset(of: listed))
        for fd in opened.prefix(150) { close(fd) }
        let after = Set(openDescriptors())
        #expect(after.isDisjoint(with: opened.prefix(150)))
        #expect(Set(opened.dropFirst(150)).isSubset(of: after))
        for fd in opened.dropFirst(150) { close(fd) }
    }

    /// A descriptor number with room for `count` above it, well above those in
    /// use: near the soft limit, raised first towards the hard one (the
    /// process's own limit, harmless to raise), capped at 65 536 so the
    /// kernel's descriptor table stays small.
    private static func highDescriptorBase(count: Int) -> Int32 {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < min(limit.rlim_max, 1 << 16) {
            limit.rlim_cur = min(limit.rlim_max, 1 << 16)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let room = Int(min(limit.rlim_cur, 1 << 16))
        return Int32(max(3, room - count - 16))
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
