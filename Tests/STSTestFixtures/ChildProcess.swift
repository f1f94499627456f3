import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts programs for the command-line tests with posix_spawn and waitpid.
///
/// Foundation's Process sometimes misses a child's exit when tests start many processes and
/// daemons (tmux, pcscd, virtual cards) — the test then waits forever on a zombie. Waiting on
/// the exact pid with waitpid cannot miss it.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public private(set) var status: Int32?
    public private(set) var signalled = false

    /// Starts `path` with `args`; standard input, output and error come from / go to the given
    /// files (or /dev/null).
    public init(_ path: String, _ args: [String], environment: [String: String] = [:],
                stdin: String? = nil, stdout: String? = nil, stderr: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child gets default signal handling and an empty mask, whatever the test runner set.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
        pid = child
    }

    /// Waits for the child and returns its exit status (128 + signal when killed).
    @discardableResult
    public func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let termSignal = raw & 0x7F
        signalled = termSignal != 0
        status = signalled ? 128 + termSignal : (raw >> 8) & 0xFF
        return status!
    }

    /// Whether the child is still running.
    public var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid {
            let termSignal = raw & 0x7F
            signalled = termSignal != 0
            status = signalled ? 128 + termSignal : (raw >> 8) & 0xFF
            return false
        }
        return true
    }

    public func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(pid, signal) }

    /// Runs to completion and returns (status, stdout, stderr).
    public static func run(_ path: String, _ args: [String], environment: [String: String] = [:], input: String? = nil) throws -> (Int32, String, String) {
        let dir = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let inPath = dir.appendingPathComponent("in-\(id)").path
        let outPath = dir.appendingPathComponent("out-\(id)").path
        let errPath = dir.appendingPathComponent("err-\(id)").path
        defer { for p in [inPath, outPath, errPath] { unlink(p) } }
        FileManager.default.createFile(atPath: inPath, contents: Data((input ?? "").utf8))
        let child = try ChildProcess(path, args, environment: environment, stdin: inPath, stdout: outPath, stderr: errPath)
        let status = child.wait()
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (status, out, err)
    }
}
