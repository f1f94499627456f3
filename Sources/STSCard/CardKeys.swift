import Crypto
import CryptoExtras
import STSCrypto
import STSTokenFormat

/// Why card keys or card data could not be used.
public enum CardError: CodedError, Equatable {
    /// An issuer master key that is not 16 bytes of hex, or a failed key derivation.
    case badKey(String)
    /// A card file or journal entry that is malformed or read back different, or a journal that cannot be written.
    case badRecord(String)
    /// A record whose MAC fails: the card was altered or was not issued under this issuer key.
    case macMismatch(String)
    /// The card refused a command with this status word while doing the named step.
    case card(StatusWord, String)
    /// The card is bound to another meter than the one being sold to.
    case wrongMeter(String)

    /// The stable error code scripts match on (`bad-key`, `bad-card-record`, `card-mac`, `card-status`, `wrong-meter`).
    public var code: String {
        switch self {
        case .badKey: return "bad-key"
        case .badRecord: return "bad-card-record"
        case .macMismatch: return "card-mac"
        case .card: return "card-status"
        case .wrongMeter: return "wrong-meter"
        }
    }

    /// The message shown to the operator.
    public var description: String {
        switch self {
        case let .badKey(why), let .badRecord(why), let .wrongMeter(why): return why
        case let .macMismatch(what): return "\(what) fails its MAC: the card was altered or is not from this issuer"
        case let .card(sw, what): return "\(what): the card answered \(sw)"
        }
    }
}

/// The issuer's AES-128 master key, from which every card's keys are diversified.
///
/// Held in memory that is wiped on release; `description` never shows it.
public final class IssuerMasterKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    /// A key from 16 bytes.
    public init(bytes: [UInt8]) throws(CardError) {
        guard bytes.count == 16 else { throw .badKey("the issuer key must be 16 bytes (32 hex digits) for AES-128; got \(bytes.count) bytes") }
        key = SymmetricKey(data: bytes)
    }

    /// A key from 32 hex digits; the decoded bytes are wiped afterwards.
    public convenience init(hex: String) throws(CardError) {
        guard var bytes = Hex.decode(hex) else { throw .badKey("the issuer key is not hexadecimal") }
        defer { wipe(&bytes) }
        try self.init(bytes: bytes)
    }

    /// A fixed text that never shows key material, so keys cannot leak into logs.
    public var description: String { "IssuerMasterKey(AES-128, redacted)" }
    /// The same redacted text as ``description``.
    public var debugDescription: String { description }

    /// The keys of one card: `AES-128_master(serial ‖ purpose ‖ 0…)` for each purpose.
    public func cardKeys(serial: [UInt8]) throws(CardError) -> CardKeys {
        guard serial.count == 8 else { throw .badRecord("a card serial is 8 bytes") }
        func derive(_ purpose: UInt8) throws(CardError) -> SymmetricKey {
            var block = serial + [purpose] + [UInt8](repeating: 0, count: 7)
            defer { wipe(&block) }
            do { try AES.permute(&block, key: key) } catch { throw .badKey("AES failed: \(error)") }
            return SymmetricKey(data: block)
        }
        return CardKeys(issuerWrite: try derive(0x01), meterWrite: try derive(0x02),
                        purchaseMAC: try derive(0x03), returnMAC: try derive(0x04))
    }
}

/// The four keys of one card, diversified from the issuer master key and the card serial.
public struct CardKeys: Sendable {
    /// Opens writes to CardInfo and Purchase (secure messaging by the vending station).
    let issuerWrite: SymmetricKey
    /// Opens writes to Return (secure messaging by the meter).
    let meterWrite: SymmetricKey
    /// Seals purchase records (the station signs, the meter verifies).
    let purchaseMAC: SymmetricKey
    /// Seals return records (the meter signs, the station verifies).
    let returnMAC: SymmetricKey

    /// The raw bytes of the two write keys, loaded into the card at personalisation.
    func writeKeyBytes() -> [UInt8] {
        issuerWrite.withUnsafeBytes { Array($0) } + meterWrite.withUnsafeBytes { Array($0) }
    }

    /// AES-CMAC (NIST SP 800-38B) truncated to 8 bytes.
    static func mac(_ key: SymmetricKey, _ data: [UInt8]) -> [UInt8] {
        var cmac = try! AES.CMAC(key: key)  // only fails for key sizes other than AES's
        cmac.update(data: data)
        return Array(cmac.finalize()).prefix(8).map { $0 }
    }
}

/// Compares MACs without an early exit.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var d: UInt8 = 0
    for i in 0..<a.count { d |= a[i] ^ b[i] }
    return d == 0
}
