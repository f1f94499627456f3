import Testing
import STSCrypto
import STSTokenFormat
import STSTestFixtures

/// Known-answer tests for the three block ciphers, straight from the fixture file.
struct CipherVectorTests {
    static func hex64(_ s: String?) -> UInt64 { UInt64(s!, radix: 16)! }

    @Test("DES known answers (FIPS 81 / textbook)", arguments: PublicVectors.kind("des_kat"))
    func des(_ v: PublicVector) {
        let key = Self.hex64(v.inputs["key"]?.string)
        let plain = Self.hex64(v.inputs["plaintext"]?.string)
        let cipher = Self.hex64(v.expected["ciphertext"]?.string)
        #expect(DataEncryptionStandard.encrypt(plain, key: key) == cipher)
        #expect(DataEncryptionStandard.decrypt(cipher, key: key) == plain)
    }

    @Test("MISTY1 known answers (RFC 2994)", arguments: PublicVectors.kind("misty1_kat"))
    func misty1(_ v: PublicVector) {
        let key = v.inputs["key"]!.string!
        let hi = Self.hex64(String(key.prefix(16))), lo = Self.hex64(String(key.suffix(16)))
        let plain = Self.hex64(v.inputs["plaintext"]?.string)
        let cipher = Self.hex64(v.expected["ciphertext"]?.string)
        #expect(MISTY1.encrypt(plain, keyHigh: hi, keyLow: lo) == cipher)
        #expect(MISTY1.decrypt(cipher, keyHigh: hi, keyLow: lo) == plain)
    }

    @Test("EA07 with the sample tables reproduces the published worked example")
    func staSampleTables() throws {
        let v = try #require(PublicVectors.kind("sta_block_sample_tables").first)
        let key = Self.hex64(v.inputs["decoder_key"]?.string)
        let block = Self.hex64(v.inputs["data_block"]?.string)
        let encrypted = StandardTransferAlgorithm.encrypt(block, key: key, tables: .sample)
        let token = TokenNumber(block: encrypted, tokenClass: .transferCredit)
        let hex66 = String(token.high, radix: 16).uppercased() + Hex.encode(token.low)
        #expect(hex66 == v.expected["token_66bit_hex"]?.string)
        #expect(StandardTransferAlgorithm.decrypt(encrypted, key: key, tables: .sample) == block)
    }

    @Test("EA07 inverse tables match the published inverses")
    func staInverseTables() {
        let t = StandardTransferAlgorithm.Tables.standard
        #expect(t.s1Inverse == [9, 11, 6, 5, 12, 7, 14, 2, 13, 3, 1, 15, 4, 8, 0, 10])
        #expect(t.s2Inverse == [12, 6, 2, 7, 13, 9, 5, 4, 1, 10, 14, 8, 0, 3, 15, 11])
        #expect(t.pInverse == [55, 54, 8, 25, 27, 47, 16, 26, 59, 14, 2, 51, 18, 46, 61, 52, 23, 53, 3, 37, 29, 5, 9, 42,
                               4, 31, 63, 12, 45, 39, 43, 41, 28, 35, 57, 7, 17, 20, 21, 50, 48, 44, 1, 11, 6, 62, 38, 60,
                               40, 36, 15, 32, 33, 22, 34, 0, 10, 56, 13, 58, 49, 19, 24, 30])
    }

    /// Every token vector that lists its plain and encrypted block checks the cipher alone.
    static let blockVectors = PublicVectors.kind("token").filter {
        $0.intermediate["encrypted_block_hex"] != nil && $0.intermediate["decoder_key"] != nil
            && $0.inputs["class"]?.int != 1
    }

    @Test("token vectors: data block ↔ encrypted block under the listed decoder key", arguments: blockVectors)
    func tokenBlocks(_ v: PublicVector) throws {
        let key = try DecoderKey(hex: v.intermediate["decoder_key"]!.string!)
        let ea = try EncryptionAlgorithm(code: v.inputs["ea"]!.int!)
        let cipher = try TokenCipher(key: key, algorithm: ea)
        let plain = Self.hex64(v.intermediate["data_block_hex"]?.string)
        let encrypted = Self.hex64(v.intermediate["encrypted_block_hex"]?.string)
        #expect(cipher.encrypt(plain) == encrypted)
        #expect(cipher.decrypt(encrypted) == plain)
    }

    @Test("random blocks round-trip through every cipher (100 000 each)")
    func roundTrips() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let block = rng.next() as UInt64, k1 = rng.next() as UInt64, k2 = rng.next() as UInt64
            #expect(StandardTransferAlgorithm.decrypt(StandardTransferAlgorithm.encrypt(block, key: k1), key: k1) == block)
            #expect(MISTY1.decrypt(MISTY1.encrypt(block, keyHigh: k1, keyLow: k2), keyHigh: k1, keyLow: k2) == block)
        }
        for _ in 0..<10_000 {
            let block = rng.next() as UInt64, k1 = rng.next() as UInt64
            #expect(DataEncryptionStandard.decrypt(DataEncryptionStandard.encrypt(block, key: k1), key: k1) == block)
        }
    }

    @Test("a key of the wrong length for the EA is refused; EA09 needs an explicit opt-in")
    func cipherKeyChecks() throws {
        #expect(throws: KeyError.keyAlgorithmMismatch(keyBits: 64, algorithm: .misty1)) {
            try TokenCipher(key: DecoderKey(1), algorithm: .misty1)
        }
        #expect(throws: KeyError.unverifiedAlgorithm(.dea)) { try TokenCipher(key: DecoderKey(1), algorithm: .dea) }
        _ = try TokenCipher(key: DecoderKey(1), algorithm: .dea, allowUnverified: true)
    }
}
