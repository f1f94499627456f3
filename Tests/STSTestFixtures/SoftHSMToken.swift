import Foundation

/// A SoftHSM2 token in a temporary directory for the tests (never the system's token store):
/// its configuration file named by `SOFTHSM2_CONF` for this process (the module reads it when it
/// is initialised), the token initialised with `softhsm2-util`, its user PIN in a 0600 file.
public final class SoftHSMToken: @unchecked Sendable {
    /// The module library, as Debian's `softhsm2` installs it.
    public static let module = "/usr/lib/softhsm/libsofthsm2.so"
    /// The token's label, its folder, and the file holding its user PIN.
    public let label: String, folder: String, pinFile: String

    /// One token per test process (a PKCS#11 module reads its configuration once per process);
    /// nil when SoftHSM2 is not installed.
    public static let shared: SoftHSMToken? = try? SoftHSMToken(label: "sts-test")

    init(label: String) throws {
        guard FileManager.default.fileExists(atPath: Self.module) else { throw CocoaError(.fileNoSuchFile) }
        self.label = label
        folder = NSTemporaryDirectory() + "sts-softhsm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/tokens", withIntermediateDirectories: true)
        let conf = folder + "/softhsm2.conf"
        try "directories.tokendir = \(folder)/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", conf, 1)
        pinFile = folder + "/user.pin"
        let pin = String(UUID().uuidString.prefix(8))
        FileManager.default.createFile(atPath: pinFile, contents: Data((pin + "\n").utf8), attributes: [.posixPermissions: 0o600])
        // The PINs go on the command line of softhsm2-util here only: a throwaway test token.
        let (status, _, err) = try ChildProcess.run("/usr/bin/softhsm2-util", ["--init-token", "--free", "--label", label,
                                                                              "--so-pin", "so-\(pin)", "--pin", pin], environment: ["SOFTHSM2_CONF": conf])
        guard status == 0 else { throw NSError(domain: "softhsm2-util", code: Int(status), userInfo: [NSLocalizedDescriptionKey: err]) }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}
