import Glibc

/// Why a child process could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public let description: String
}

/// Starts a child process with posix_spawn, the way every Quell process that
/// starts others must:
/// - an empty signal mask and default handlers: threads of Swift's pool (and
///   Dispatch) block signals, and a child inheriting that mask ignores SIGTERM;
/// - no inherited descriptors but 0–2: a child holding a copy of a socket
///   keeps that connection open after its owner closes it (glibc's
///   addclosefrom_np is not visible from Swift; what is open now is closed);
/// - standard input from /dev/null; output to `outputPath` (appended, or
///   truncated first), error to `errorPath` or joined to output;
/// - with `ownProcessGroup`, a process group of its own, so a Ctrl-C at the
///   terminal reaches only the parent, which then stops its children in order.
/// Returns the child's pid.
public func spawnProcess(_ path: String, _ arguments: [String], environment: [String: String],
                         outputPath: String? = nil, errorPath: String? = nil, truncate: Bool = false,
                         ownProcessGroup: Bool = false) throws(SpawnError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let mode = O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND)
    if let outputPath {
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, mode, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, mode, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
    }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var all = sigset_t()
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &all)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if ownProcessGroup {
        posix_spawnattr_setpgroup(&attributes, 0)
        flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    var cArgs = ([path] + arguments).map { strdup($0) } + [nil]
    var cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
    }
    var child: pid_t = 0
    let rc = posix_spawn(&child, path, &actions, &attributes, &cArgs, &cEnv)
    guard rc == 0 else { throw SpawnError(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
    return child
}

/// The descriptors open in this process now (from /proc/self/fd).
func openDescriptors() -> [Int32] {
    guard let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name), let dir = opendir("/proc/self/fd") else { return [] }
    defer { closedir(dir) }
    let own = dirfd(dir)
    var out: [Int32] = []
    while let entry = readdir(dir) {
        // The name is read through a pointer, up to its NUL: a dirent is only
        // as long as its name, so loading `d_name` (a 256-byte tuple) reads
        // past the end of the last entry, and crashed when that crossed the
        // end of readdir's buffer into an unmapped page.
        let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
        if let fd = Int32(name), fd != own { out.append(fd) }
    }
    return out
}
