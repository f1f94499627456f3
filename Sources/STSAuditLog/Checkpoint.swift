import Crypto
import Foundation
import STSBatch

/// A signed checkpoint: the station's Ed25519 signature over the hash of the entry it seals.
/// Because every entry holds the previous one's hash, signing the last hash seals every entry
/// before it; nobody without the station key can change, drop or reorder a sealed entry and
/// produce a checkpoint that still verifies.
public enum Checkpoint {
    /// The entry type of a checkpoint.
    public static let type = "checkpoint"

    /// The exact bytes signed: `stsvend-checkpoint/1`, the station id, the sealed seq and its
    /// hash in hex, separated by line feeds.
    public static func message(stationID: String, through seq: Int64, head: [UInt8]) -> Data {
        Data("stsvend-checkpoint/1\n\(stationID)\n\(seq)\n\(Hex.string(head))".utf8)
    }

    /// The `data` object of a checkpoint entry.
    public static func data(stationID: String, through seq: Int64, head: [UInt8],
                            signingKey: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let signature = try signingKey.signature(for: message(stationID: stationID, through: seq, head: head))
        var w = JSONLineWriter()
        w.begin()
        w.field("through", Int(seq))
        w.field("head", Hex.string(head))
        w.field("signature", signature.base64EncodedString())
        w.close()
        return w.bytes
    }
}

/// The station's public key file (`STATION.db.pub`): one line, `stsvend-station-ed25519 <base64>`,
/// what an auditor is handed to verify exported logs.
public enum StationPublicKeyFile {
    static let label = "stsvend-station-ed25519"

    /// The key file's text: the label, a space, the base64 of the 32-byte raw key and a line feed.
    public static func text(_ key: Curve25519.Signing.PublicKey) -> String {
        "\(label) \(key.rawRepresentation.base64EncodedString())\n"
    }

    /// Reads a public key file: exactly two pieces separated by spaces, CRs or LFs, the label and
    /// base64 of 32 bytes; throws ``AuditFileError/badPublicKey`` otherwise.
    public static func parse(_ text: String) throws -> Curve25519.Signing.PublicKey {
        // Split on bytes: in Swift "\r\n" is one Character, equal to neither "\r" nor "\n".
        let parts = text.utf8.split(whereSeparator: { $0 == 32 || $0 == 10 || $0 == 13 }).map { Array($0) }
        guard parts.count == 2, parts[0] == Array(label.utf8),
              let raw = parts[1].withUnsafeBufferPointer({ Base64.decode($0) }), raw.count == 32 else {
            throw AuditFileError.badPublicKey
        }
        return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }
}

/// Why an audit input file could not be used at all.
public enum AuditFileError: Error, CustomStringConvertible, Equatable {
    /// The public key file is not one line `stsvend-station-ed25519 <base64 of 32 bytes>`.
    case badPublicKey
    /// A file could not be read; `reason` says why (the system's error, a folder, too large).
    case unreadable(path: String, reason: String)

    /// The message `audit verify` prints (after `error: `) when it stops with exit 64.
    public var description: String {
        switch self {
        case .badPublicKey: "the public key file must hold one line: stsvend-station-ed25519 <base64 of 32 bytes>"
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        }
    }
}
