import CPKCS11
import Crypto
import Foundation
import STSCrypto

/// Key check values and key components for key ceremonies (Specs/hsm.md §5).
///
/// * A 64-bit (DES, DKGA02) key's KCV is the banking convention: the first 3 bytes of the key's
///   DES encryption of a zero block, as 6 upper-case hex digits.
/// * A 160-bit (DKGA04) key has no block cipher: its KCV is the first 3 bytes of
///   HMAC-SHA-256(key, ASCII "STS-KCV"), 6 upper-case hex digits (our convention, stated here
///   because a KMC's letter must say which it printed).
///
/// A module computes the same values from its own copy (`C_Encrypt` of a zero block, `C_Sign`
/// over the label), so a key in custody is compared with its letter without leaving the module.
public enum KeyCheckValue {
    /// The label a 160-bit key's KCV is the HMAC of.
    public static let hmacLabel = Array("STS-KCV".utf8)

    /// The KCV of a key's bytes (8: DES; 20: HMAC); nil for another length.
    public static func of(_ key: [UInt8]) -> String? {
        switch key.count {
        case 8:
            let k = key.reduce(0) { $0 << 8 | UInt64($1) }
            let e = DataEncryptionStandard.encrypt(0, key: k)
            return hex((0..<3).map { UInt8(truncatingIfNeeded: e >> UInt64(56 - 8 * $0)) })
        case 20:
            let mac = HMAC<SHA256>.authenticationCode(for: hmacLabel, using: SymmetricKey(data: key))
            return hex(Array(mac.prefix(3)))
        default: return nil
        }
    }

    /// The KCV of a key held by a module, computed there.
    public static func of(_ key: ModuleVendingKey, bits: Int) throws(PKCS11Error) -> String {
        try key.checkValue(bits: bits)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined() }

    /// Combines key components by XOR. Refused: fewer than two, unequal lengths, a length other
    /// than 8 or 20 bytes, two identical components (one custodian would know the key), or a
    /// component whose KCV is not the one on its custodian's letter (`expected`, compared without
    /// case; nil skips). Returns the key; the caller wipes it.
    public static func combine(_ components: [[UInt8]], expected: [String?]) throws(KeyCeremonyError) -> [UInt8] {
        guard components.count >= 2 else { throw .tooFewComponents }
        guard let n = components.first?.count, n == 8 || n == 20, components.allSatisfy({ $0.count == n }) else { throw .componentLength }
        for i in components.indices {
            for j in components.indices where j > i && components[i] == components[j] { throw .identicalComponents }
            if i < expected.count, let e = expected[i], of(components[i]) != e.uppercased() { throw .componentCheckValue(index: i + 1) }
        }
        var key = [UInt8](repeating: 0, count: n)
        for c in components { for k in 0..<n { key[k] ^= c[k] } }
        return key
    }
}

/// Why a key ceremony was refused before anything was stored.
public enum KeyCeremonyError: Error, Equatable, CustomStringConvertible {
    case tooFewComponents, componentLength, identicalComponents
    /// The i-th component (from 1) does not match its custodian's check value.
    case componentCheckValue(index: Int)
    /// The combined key does not match the KMC's check value.
    case combinedCheckValue

    public var description: String {
        switch self {
        case .tooFewComponents: "a key ceremony needs at least two components from two custodians"
        case .componentLength: "every component must be 8 bytes (DKGA02) or 20 bytes (DKGA04), all the same length"
        case .identicalComponents: "two components are the same: one custodian would know the key"
        case let .componentCheckValue(i): "component \(i) does not match the check value on its custodian's letter"
        case .combinedCheckValue: "the combined key does not match the check value on the KMC's letter"
        }
    }
}

extension ModuleVendingKey {
    /// This key's KCV, computed in the module (DES3 K‖K‖K of a zero block, or HMAC over the label).
    func checkValue(bits: Int) throws(PKCS11Error) -> String {
        let out: [UInt8] = bits == 64
            ? try session.encrypt(CK_MECHANISM_TYPE(CKM_DES3_ECB), key: object, [UInt8](repeating: 0, count: 8))
            : try session.sign(CK_MECHANISM_TYPE(CKM_SHA256_HMAC), key: object, KeyCheckValue.hmacLabel)
        return KeyCheckValue.hex(Array(out.prefix(3)))
    }
}
