import Crypto
import STSTokenFormat

/// DKGA04: the HMAC-SHA-256 decoder key generation of IEC 62055-41:2018 (160-bit vending keys).
///
/// `DK` = the first 8 (EA07/EA09) or 16 (EA11) bytes of HMAC-SHA-256(VK, message), where the
/// message is a counter-less NIST SP 800-108 style input: a label list (DKGA "04", base date
/// year "93"/"14"/"35", EA "07"/"09"/"11", TI "01"), a zero byte, a context list (SGC "201457",
/// KT "2", KRN "1", the 18-digit PAN) and the key length in bits as 4 big-endian bytes. Every
/// item is one length byte and ASCII; each list starts with its item count. 49 bytes in all.
public enum DKGA04 {
    /// The message length.
    public static let messageLength = 49

    /// The meter's decoder key (64 or 128 bits, as its EA needs) from a 160-bit vending key. Throws for
    /// another key length, and for inputs with no verified encoding (a KRN above 9).
    public static func derive(_ p: DecoderKeyParameters, vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        guard var mac = vendingKey.hmac else {
            throw .wrongLength(what: "DKGA04 vending key", expectedBits: [160], gotBits: vendingKey.bitCount)
        }
        guard p.revision.value <= 9 else {
            // The KRN is written as one character; which case the letters A–F take is not public.
            throw .unsupportedInput("DKGA04 with KRN \(p.revision.value) has no verified encoding (KRN 1–9 only)")
        }
        let bits = p.encryption.keyBits
        var message = Message()
        withUnsafeMutableBytes(of: &message) { fill($0, p, bits: bits) }
        withUnsafeBytes(of: &message) { mac.update(data: UnsafeRawBufferPointer(rebasing: $0[0..<messageLength])) }
        let tag = mac.finalize()
        return tag.withUnsafeBytes { d in
            let first = UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            guard bits == 128 else { return DecoderKey(first) }
            return DecoderKey(high: first, low: UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The message bytes, for inspection and tests.
    public static func message(_ p: DecoderKeyParameters) -> [UInt8] {
        var message = Message()
        withUnsafeMutableBytes(of: &message) { fill($0, p, bits: p.encryption.keyBits) }
        return withUnsafeBytes(of: &message) { Array($0[0..<messageLength]) }
    }

    /// 64 bytes of stack storage (the message is 49).
    struct Message { var a: SIMD32<UInt8> = .zero; var b: SIMD32<UInt8> = .zero }

    static func fill(_ m: UnsafeMutableRawBufferPointer, _ p: DecoderKeyParameters, bits: Int) {
        var i = 0
        func byte(_ v: UInt8) { m[i] = v; i += 1 }
        func decimal(_ v: UInt64, digits: Int) {
            var x = v
            for k in stride(from: digits - 1, through: 0, by: -1) { m[i + k] = UInt8(x % 10) + 48; x /= 10 }
            i += digits
        }
        let hex: (UInt8) -> UInt8 = { $0 < 10 ? $0 + 48 : $0 + 55 }
        byte(4)                                              // label items
        byte(2); decimal(4, digits: 2)                       // DKGA "04"
        byte(2); decimal(UInt64(p.baseDate.twoDigitYear), digits: 2)
        byte(2); decimal(UInt64(p.encryption.rawValue), digits: 2)
        byte(2); decimal(UInt64(p.tariffIndex.value), digits: 2)
        byte(0)                                              // separator
        byte(4)                                              // context items
        byte(6); decimal(UInt64(p.supplyGroup.value), digits: 6)
        byte(1); byte(hex(p.keyType.rawValue))
        byte(1); byte(hex(p.revision.value))
        byte(18); decimal(p.pan.value, digits: 18)
        byte(0); byte(0); byte(UInt8(bits >> 8)); byte(UInt8(bits & 0xFF))
    }
}
