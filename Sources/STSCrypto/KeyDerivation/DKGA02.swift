import STSTokenFormat

/// DKGA02: the DES-based decoder key generation for 64-bit vending keys.
///
/// `X = PANBlock ⊕ ControlBlock`, `DK = DES(VK, X) ⊕ X ⊕ VK`, where both blocks are 16 decimal
/// digits read as BCD nibbles:
/// - PANBlock: PAN digits 1–16 (drop the IIN's first digit and the check digit); for the
///   common key type (DCTK) the DRN part is zeros.
/// - ControlBlock: KT, SGC (6), TI (2), KRN (1 hex digit), then `FFFFFF`.
public enum DKGA02 {
    /// The meter's 64-bit decoder key from a 64-bit vending key. Throws when the vending key is not
    /// 64 bits or the meter's EA needs a 128-bit key (EA11).
    public static func derive(_ p: DecoderKeyParameters, vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        guard let schedule = vendingKey.desSchedule else {
            throw .wrongLength(what: "DKGA02 vending key", expectedBits: [64], gotBits: vendingKey.bitCount)
        }
        guard p.encryption.keyBits == 64 else { throw .keyAlgorithmMismatch(keyBits: 64, algorithm: p.encryption) }
        let x = panBlock(p.pan, keyType: p.keyType) ^ controlBlock(p)
        let e = DataEncryptionStandard.crypt(x, schedule, encrypt: true)
        return DecoderKey(e ^ x ^ vendingKey.value64)
    }

    /// The PAN block as a 64-bit value.
    public static func panBlock(_ pan: MeterPAN, keyType: KeyType) -> UInt64 {
        var digits = pan.panBlockDigits
        if keyType == .common {
            // Keep only the IIN digits that are in the block (5 of 6, or 3 of 4).
            let keep = pan.iinLength - 1
            var scale: UInt64 = 1
            for _ in 0..<(16 - keep) { scale *= 10 }
            digits = digits / scale * scale
        }
        return bcd(digits, count: 16)
    }

    /// The control block as a 64-bit value.
    public static func controlBlock(_ p: DecoderKeyParameters) -> UInt64 {
        UInt64(p.keyType.rawValue) << 60
            | bcd(UInt64(p.supplyGroup.value), count: 6) << 36
            | bcd(UInt64(p.tariffIndex.value), count: 2) << 28
            | UInt64(p.revision.value & 0xF) << 24
            | 0xFF_FFFF
    }

    /// The low `count` decimal digits of `value` as BCD nibbles.
    @inline(__always) static func bcd(_ value: UInt64, count: Int) -> UInt64 {
        var v = value
        var out: UInt64 = 0
        for i in 0..<count {
            out |= (v % 10) << UInt64(4 * i)
            v /= 10
        }
        return out
    }
}
