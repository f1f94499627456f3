import Foundation
import STSTestFixtures
import Testing

/// A running pcscd for the card tests: the one CI started, or one started here (as root) and
/// stopped when the test process exits.
///
/// A socket file alone proves nothing: a pcscd killed with SIGKILL (a machine snapshot, an
/// ended session) leaves `/run/pcscd/pcscd.comm` and its pid file behind, and every client
/// then gets `SCARD_E_NO_SERVICE`. So the check asks the service itself (`card readers`),
/// and a dead one's files are removed before a new pcscd starts.
enum PCSCDaemon {
    static let socket = "/run/pcscd/pcscd.comm"
    static let pidFile = "/run/pcscd/pcscd.pid"

    /// Whether pcscd answers a client with the vpcd reader present.
    static func answers() -> Bool {
        guard let r = try? CommandLine.run(["card", "readers", "--json"]) else { return false }
        return r.status == 0 && r.stdout.contains("Virtual PCD")
    }

    static let available: Bool = {
        if answers() { return true }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/pcscd"), getuid() == 0 else { return false }
        if let pid = runningPID() {
            // Running but without the vpcd reader (started before vsmartcard-vpcd was installed):
            // it reads its reader configuration only at start.
            kill(pid, SIGTERM)
            for _ in 0..<50 where kill(pid, 0) == 0 { usleep(100_000) }
        }
        try? FileManager.default.removeItem(atPath: socket)
        try? FileManager.default.removeItem(atPath: pidFile)
        guard let p = try? ChildProcess("/usr/sbin/pcscd", ["--foreground"]) else { return false }
        started = p.pid
        atexit { if PCSCDaemon.started > 0 { kill(PCSCDaemon.started, SIGTERM) } }
        for _ in 0..<100 where !answers() { usleep(100_000) }
        return answers()
    }()

    /// The pid in pcscd's pid file when that process is alive and is pcscd.
    static func runningPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              kill(pid, 0) == 0,
              let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
              comm.hasPrefix("pcscd") else { return nil }
        return pid
    }

    nonisolated(unsafe) static var started: pid_t = 0

    /// Whether the test can run; records a failure in CI, where card tests must not be skipped.
    static func ready() -> Bool {
        if available { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("pcscd is not available or does not answer with the vpcd reader: the README's test command installs pcscd and vsmartcard-vpcd, and the tests start pcscd as root")
        }
        return false
    }
}
