import COpenSSL

/// Single-block DES from OpenSSL's libcrypto: the primitive inside DKGA02 and EA09.
///
/// Keys and blocks are big-endian 64-bit values (the first byte is the most significant);
/// parity bits are ignored, as STS keys do not set them.
public enum DataEncryptionStandard {
    /// Encrypts one block.
    public static func encrypt(_ block: UInt64, key: UInt64) -> UInt64 {
        var schedule = DES_key_schedule()
        defer { withUnsafeMutableBytes(of: &schedule) { SecretBytes.wipe($0) } }
        prepare(&schedule, key: key)
        return crypt(block, &schedule, encrypt: true)
    }

    /// Decrypts one block.
    public static func decrypt(_ block: UInt64, key: UInt64) -> UInt64 {
        var schedule = DES_key_schedule()
        defer { withUnsafeMutableBytes(of: &schedule) { SecretBytes.wipe($0) } }
        prepare(&schedule, key: key)
        return crypt(block, &schedule, encrypt: false)
    }

    /// Fills a key schedule (no parity or weak-key check: STS keys are random bit strings).
    static func prepare(_ schedule: UnsafeMutablePointer<DES_key_schedule>, key: UInt64) {
        var cblock = DES_cblock(0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &cblock) { $0.storeBytes(of: key.bigEndian, as: UInt64.self) }
        DES_set_key_unchecked(&cblock, schedule)
        withUnsafeMutableBytes(of: &cblock) { SecretBytes.wipe($0) }
    }

    /// One ECB block under a prepared schedule.
    static func crypt(_ block: UInt64, _ schedule: UnsafeMutablePointer<DES_key_schedule>, encrypt: Bool) -> UInt64 {
        var input = DES_cblock(0, 0, 0, 0, 0, 0, 0, 0)
        var output = DES_cblock(0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &input) { $0.storeBytes(of: block.bigEndian, as: UInt64.self) }
        DES_ecb_encrypt(&input, &output, schedule, encrypt ? DES_ENCRYPT : DES_DECRYPT)
        return UInt64(bigEndian: withUnsafeBytes(of: &output) { $0.loadUnaligned(as: UInt64.self) })
    }
}
