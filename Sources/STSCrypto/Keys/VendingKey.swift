import COpenSSL
import Crypto
import STSTokenFormat

/// A supply group's vending key: the secret from which every meter's decoder key is derived.
///
/// 64 bits for DKGA02, 160 bits for DKGA04. The bytes live in memory that is wiped when the key
/// is released, and the per-key work of each derivation algorithm (the DES key schedule, the
/// keyed HMAC state) is done once here, so deriving a decoder key per token costs only the
/// per-meter part. `description` never shows the key.
public final class VendingKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // Immutable after init; the DES schedule is only read (OpenSSL takes it as non-const).
    let secret: SecretBytes
    let desSchedule: UnsafeMutablePointer<DES_key_schedule>?
    let hmac: HMAC<SHA256>?

    /// The key length in bits.
    public var bitCount: Int { secret.count * 8 }

    /// A key from its bytes in natural order: 8 bytes (DKGA02), 16 (DKGA03) or 20 (DKGA04).
    public init(bytes: some Collection<UInt8>) throws(KeyError) {
        let count = bytes.count
        guard count == 8 || count == 16 || count == 20 else {
            throw .wrongLength(what: "vending key", expectedBits: [64, 128, 160], gotBits: count * 8)
        }
        secret = SecretBytes(bytes)
        if count == 8 {
            let schedule = UnsafeMutablePointer<DES_key_schedule>.allocate(capacity: 1)
            schedule.initialize(to: DES_key_schedule())
            DataEncryptionStandard.prepare(schedule, key: secret.buffer.loadUnaligned(as: UInt64.self).bigEndian)
            desSchedule = schedule
        } else {
            desSchedule = nil
        }
        hmac = count == 20 ? HMAC<SHA256>(key: SymmetricKey(data: UnsafeRawBufferPointer(secret.buffer))) : nil
    }

    /// A key from hex digits (16, 32 or 40).
    public convenience init(hex: String) throws(KeyError) {
        guard var bytes = Hex.decode(hex) else { throw .notHex(what: "vending key") }
        defer { wipe(&bytes) }
        try self.init(bytes: bytes)
    }

    deinit {
        if let desSchedule {
            SecretBytes.wipe(UnsafeMutableRawBufferPointer(start: desSchedule, count: MemoryLayout<DES_key_schedule>.size))
            desSchedule.deallocate()
        }
    }

    /// The key as a 64-bit value (8-byte keys only).
    var value64: UInt64 { secret.buffer.loadUnaligned(as: UInt64.self).bigEndian }

    /// Redacted: says only the key length, never the key.
    public var description: String { "VendingKey(\(bitCount)-bit, redacted)" }
    /// Redacted, the same as ``description``.
    public var debugDescription: String { description }
    /// A mirror that shows only the key length, so `dump` and debuggers never reveal the key.
    public var customMirror: Mirror { Mirror(self, children: ["bits": bitCount]) }
}
