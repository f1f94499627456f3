import Foundation
import STSDLMS
import STSSupport

/// What the meter keeps for DLMS/COSEM beside its state file, in `STATE.dlms` (mode 0600,
/// format `sts-meter-dlms`, see Specs/dlms.md): its system title and the management client's
/// suite 0 keys, the invocation counters that must survive restarts, the token gateway's last
/// token and the load profile.
struct DLMSDocument: Codable {
    struct LastToken: Codable {
        var token: String
        var time: Int64
        var status: UInt8
        var description: String
        var delivery: UInt8
    }
    var format = "sts-meter-dlms"
    var version = 1
    var system_title: String
    var authentication_key: String
    var block_cipher_key: String
    /// Every management-client counter at or below this was (or may have been) accepted.
    var client_counter_floor: UInt32
    /// The meter's counters below this may have been used: a restart continues from here.
    var server_counter_reserved: UInt32
    var last_token: LastToken?
    /// 15-minute captures: [seconds since 1970, cumulative Wh], oldest first.
    var load_profile: [[Int64]]
    /// The time of the last capture the profile holds.
    var profile_until: Int64?
}

/// The keys a head-end needs to talk to one meter as the management client (`KEYS.json`,
/// mode 0600): the same file the gurux test and `stsvend meter connect` read.
public struct DLMSClientKeys: Codable, Equatable, Sendable {
    /// The meter's system title (hex, 16 digits).
    public var server_system_title: String
    /// The client's system title (hex, 16 digits).
    public var client_system_title: String
    /// The authentication key (hex, 32 digits).
    public var authentication_key: String
    /// The global unicast encryption key (hex, 32 digits).
    public var block_cipher_key: String

    /// The suite 0 keys, nil when a field is not the right hex.
    public var securityKeys: SecurityKeys? {
        guard let ek = Hex.decode(block_cipher_key), let ak = Hex.decode(authentication_key) else { return nil }
        return SecurityKeys(blockCipherKey: ek, authenticationKey: ak)
    }
    /// The titles as bytes, nil when not 8 bytes of hex.
    public var titles: (server: [UInt8], client: [UInt8])? {
        guard let s = Hex.decode(server_system_title), let c = Hex.decode(client_system_title), s.count == 8, c.count == 8 else { return nil }
        return (s, c)
    }

    /// Reads a keys file (refused when group or others can read it).
    public static func load(_ path: String) throws -> DLMSClientKeys {
        var bytes = try OwnerOnlyFile.read(path, what: "DLMS keys file", limit: 4096)
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let keys = try JSONDecoder().decode(DLMSClientKeys.self, from: Data(bytes))
        guard keys.securityKeys != nil, keys.titles != nil else { throw DLMSMeterError.badKeys(path) }
        return keys
    }
}

/// Errors of the DLMS meter endpoint's files.
public enum DLMSMeterError: CodedError, Equatable {
    case badKeys(String)
    case missing(String)
    case io(String)
    public var code: String {
        switch self { case .badKeys: return "dlms-keys-invalid"; case .missing: return "dlms-not-set-up"; case .io: return "io-error" }
    }
    public var description: String {
        switch self {
        case .badKeys(let p): return "\(p) is not a DLMS keys file (16-digit hex titles, 32-digit hex keys)"
        case .missing(let p): return "\(p).dlms does not exist: run 'stsvend sim dlms-keys --state \(p) --out KEYS.json' first"
        case .io(let s): return s
        }
    }
}

enum DLMSFile {
    static func path(for state: String) -> String { state + ".dlms" }

    static func load(_ state: String) throws -> DLMSDocument {
        let p = path(for: state)
        guard FileManager.default.fileExists(atPath: p) else { throw DLMSMeterError.missing(state) }
        var bytes = try OwnerOnlyFile.read(p, what: "DLMS meter file", limit: 8 << 20)
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let doc = try JSONDecoder().decode(DLMSDocument.self, from: Data(bytes))
        guard doc.format == "sts-meter-dlms", doc.version == 1, let t = Hex.decode(doc.system_title), t.count == 8,
              let ak = Hex.decode(doc.authentication_key), let ek = Hex.decode(doc.block_cipher_key),
              SecurityKeys(blockCipherKey: ek, authenticationKey: ak) != nil,
              doc.load_profile.allSatisfy({ $0.count == 2 }) else { throw DLMSMeterError.badKeys(p) }
        return doc
    }

    /// Atomically replaces the file (a 0600 temporary, fsync, rename, folder sync).
    static func save(_ doc: DLMSDocument, for state: String) throws {
        let p = path(for: state)
        let temporary = p + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array(try encoder.encode(doc))
        defer { for i in bytes.indices { bytes[i] = 0 } }
        try OwnerOnlyFile.create(temporary, contents: bytes)
        guard rename(temporary, p) == 0 else {
            unlink(temporary)
            throw DLMSMeterError.io("cannot replace \(p): \(String(cString: strerror(errno)))")
        }
        try OwnerOnlyFile.syncFolder(of: p)
    }

    /// Creates the file with fresh random titles and keys, and returns the client's view of them.
    static func create(for state: String) throws -> DLMSClientKeys {
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255) } }
        // Titles: three letters of maker code then five bytes of serial, as real meters do.
        let serverTitle = Array("STS".utf8) + random(5)
        let clientTitle = Array("HES".utf8) + random(5)
        let ak = random(16), ek = random(16)
        let doc = DLMSDocument(system_title: Hex.string(serverTitle), authentication_key: Hex.string(ak), block_cipher_key: Hex.string(ek),
                               client_counter_floor: 0, server_counter_reserved: 1, last_token: nil, load_profile: [], profile_until: nil)
        let p = path(for: state)
        guard !FileManager.default.fileExists(atPath: p) else { throw DLMSMeterError.io("\(p) already exists: the meter's DLMS keys are set") }
        try save(doc, for: state)
        return DLMSClientKeys(server_system_title: doc.system_title, client_system_title: Hex.string(clientTitle),
                              authentication_key: doc.authentication_key, block_cipher_key: doc.block_cipher_key)
    }
}
