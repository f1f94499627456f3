import Foundation
import STSDLMS
import STSTestFixtures
import Testing

/// One vector of `Fixtures/dlms/gcm-vectors.json` (hex fields, full 16-byte tags).
struct GCMVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let key: String
    let iv: String
    let aad: String
    let plaintext: String
    let ciphertext: String
    let tag: String
    var testDescription: String { name }

    struct File: Decodable, Sendable {
        let source: String
        let vectors: [GCMVector]
    }

    static let file: File? = {
        let url = PublicVectors.root.appendingPathComponent("Fixtures/dlms/gcm-vectors.json")
        return try? JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()
    static let all: [GCMVector] = file?.vectors ?? []
}

@Suite("AES-128-GCM with the 96-bit tag of suite 0, against the GCM specification")
struct GCMTests {
    @Test("the fixture file is there, cites the paper and holds full tags")
    func fixtureLoaded() throws {
        let file = try #require(GCMVector.file, "Fixtures/dlms/gcm-vectors.json parses")
        #expect(file.source.contains("McGrew") && file.source.contains("Viega"))
        #expect(file.vectors.count == 4)
        for v in file.vectors {
            #expect(hex(v.key).count == 16 && hex(v.iv).count == 12 && hex(v.tag).count == 16, "\(v.name)")
            #expect(hex(v.plaintext).count == hex(v.ciphertext).count, "\(v.name)")
        }
    }

    @Test("seal gives the ciphertext and the first 12 bytes of the tag", arguments: GCMVector.all)
    func seal(_ v: GCMVector) throws {
        let sealed = try GCM.seal(key: hex(v.key), iv: hex(v.iv), aad: hex(v.aad), plaintext: hex(v.plaintext))
        #expect(sealed.ciphertext == hex(v.ciphertext))
        #expect(sealed.tag == Array(hex(v.tag).prefix(12)))
        #expect(sealed.tag.count == GCM.tagLength)
    }

    @Test("open accepts the vector and refuses a flipped tag bit, a flipped ciphertext bit, other AAD", arguments: GCMVector.all)
    func open(_ v: GCMVector) throws {
        let key = hex(v.key), iv = hex(v.iv), aad = hex(v.aad), ciphertext = hex(v.ciphertext)
        let tag = Array(hex(v.tag).prefix(12))
        #expect(try GCM.open(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: tag) == hex(v.plaintext))

        let flips: [(index: Int, bit: UInt8)] = [(0, 0x01), (5, 0x10), (11, 0x80)]
        for (index, bit) in flips {
            var bad = tag
            bad[index] ^= bit
            #expect(throws: DLMSError.authenticationFailed, "tag byte \(index)") {
                try GCM.open(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: bad)
            }
        }
        for index in ciphertext.isEmpty ? Set<Int>() : Set([0, ciphertext.count / 2, ciphertext.count - 1]) {
            var bad = ciphertext
            bad[index] ^= 0x01
            #expect(throws: DLMSError.authenticationFailed, "ciphertext byte \(index)") {
                try GCM.open(key: key, iv: iv, aad: aad, ciphertext: bad, tag: tag)
            }
        }
        var otherAAD = [aad + [0x00]]
        if !aad.isEmpty {
            var flipped = aad
            flipped[flipped.count - 1] ^= 0x01
            otherAAD += [flipped, Array(aad.dropLast()), []]
        }
        for a in otherAAD {
            #expect(throws: DLMSError.authenticationFailed, "AAD \(a)") {
                try GCM.open(key: key, iv: iv, aad: a, ciphertext: ciphertext, tag: tag)
            }
        }
        var otherIV = iv
        otherIV[11] ^= 0x01
        var otherKey = key
        otherKey[0] ^= 0x01
        #expect(throws: DLMSError.authenticationFailed) { try GCM.open(key: key, iv: otherIV, aad: aad, ciphertext: ciphertext, tag: tag) }
        #expect(throws: DLMSError.authenticationFailed) { try GCM.open(key: otherKey, iv: iv, aad: aad, ciphertext: ciphertext, tag: tag) }
        #expect(throws: DLMSError.authenticationFailed, "suite 0 takes the 12-byte tag only") {
            try GCM.open(key: key, iv: iv, aad: aad, ciphertext: ciphertext, tag: hex(v.tag))
        }
    }

    @Test("a key or IV of the wrong size is refused")
    func sizes() {
        let key = [UInt8](repeating: 0, count: 16), iv = [UInt8](repeating: 0, count: 12)
        #expect(throws: DLMSError.malformed("GCM key or IV size")) { try GCM.seal(key: Array(key.dropLast()), iv: iv, aad: [], plaintext: []) }
        #expect(throws: DLMSError.malformed("GCM key or IV size")) { try GCM.seal(key: key, iv: iv + [0], aad: [], plaintext: []) }
        #expect(throws: DLMSError.authenticationFailed) {
            try GCM.open(key: key, iv: Array(iv.dropLast()), aad: [], ciphertext: [], tag: [UInt8](repeating: 0, count: 12))
        }
    }
}

@Suite("Security suite 0 framing: SC ‖ IC ‖ ciphertext ‖ tag, IV = system title ‖ IC")
struct SecuritySuite0Tests {
    static let keys = TestKeys.meter
    static let title = TestKeys.headEndTitle
    static let apdu = hex("C0 01 C1 00 03 01 00 01 08 00 FF 02 00")

    @Test("authenticated and encrypted: the layout is GCM over the APDU with AAD SC ‖ AK")
    func authenticatedEncrypted() throws {
        let counter: UInt32 = 0x0102_0304
        let out = try SecuritySuite0.protect(Self.apdu, control: .authenticatedEncrypted, senderTitle: Self.title, counter: counter, keys: Self.keys)
        let sealed = try GCM.seal(key: Self.keys.blockCipherKey, iv: Self.title + be32(counter),
                                  aad: [0x30] + Self.keys.authenticationKey, plaintext: Self.apdu)
        #expect(out == [0x30] + be32(counter) + sealed.ciphertext + sealed.tag)
        let opened = try SecuritySuite0.unprotect(out, senderTitle: Self.title, keys: Self.keys)
        #expect(opened.counter == counter && opened.apdu == Self.apdu)
    }

    @Test("authenticated only: the APDU travels in clear, the tag covers SC ‖ AK ‖ APDU")
    func authenticatedOnly() throws {
        let out = try SecuritySuite0.protect(Self.apdu, control: .authenticated, senderTitle: Self.title, counter: 7, keys: Self.keys)
        let sealed = try GCM.seal(key: Self.keys.blockCipherKey, iv: Self.title + be32(7),
                                  aad: [0x10] + Self.keys.authenticationKey + Self.apdu, plaintext: [])
        #expect(sealed.ciphertext.isEmpty)
        #expect(out == [0x10] + be32(7) + Self.apdu + sealed.tag)
        let opened = try SecuritySuite0.unprotect(out, senderTitle: Self.title, keys: Self.keys)
        #expect(opened.counter == 7 && opened.apdu == Self.apdu)
        var changed = out
        changed[6] ^= 0x01 // a byte of the clear APDU
        #expect(throws: DLMSError.authenticationFailed) { try SecuritySuite0.unprotect(changed, senderTitle: Self.title, keys: Self.keys) }
    }

    @Test("unprotect refuses another sender's title, other keys, no authentication, short content")
    func refusals() throws {
        let out = try SecuritySuite0.protect(Self.apdu, control: .authenticatedEncrypted, senderTitle: Self.title, counter: 9, keys: Self.keys)
        #expect(throws: DLMSError.authenticationFailed) { try SecuritySuite0.unprotect(out, senderTitle: TestKeys.meterTitle, keys: Self.keys) }
        #expect(throws: DLMSError.authenticationFailed) { try SecuritySuite0.unprotect(out, senderTitle: Self.title, keys: TestKeys.wrongAuthentication) }
        #expect(throws: DLMSError.authenticationFailed) { try SecuritySuite0.unprotect(out, senderTitle: Self.title, keys: TestKeys.wrongBlockCipher) }
        #expect(throws: DLMSError.malformed("system title of 7 bytes")) { try SecuritySuite0.unprotect(out, senderTitle: Array(Self.title.prefix(7)), keys: Self.keys) }
        var encryptedOnly = out
        encryptedOnly[0] = 0x20
        #expect(throws: DLMSError.unsupported("security control byte 32")) {
            try SecuritySuite0.unprotect(encryptedOnly, senderTitle: Self.title, keys: Self.keys)
        }
        #expect(throws: DLMSError.truncated) { try SecuritySuite0.unprotect(Array(out.prefix(16)), senderTitle: Self.title, keys: Self.keys) }
    }

    @Test("HLS-GMAC: f(challenge) = SC 0x10 ‖ IC ‖ GMAC, checked against the challenge and title")
    func challengeResponse() throws {
        let challenge = TestKeys.meterChallenge
        let reply = try SecuritySuite0.challengeResponse(challenge, senderTitle: Self.title, counter: 2, keys: Self.keys)
        let gmac = try GCM.seal(key: Self.keys.blockCipherKey, iv: Self.title + be32(2), aad: [0x10] + Self.keys.authenticationKey + challenge, plaintext: [])
        #expect(reply == [0x10] + be32(2) + gmac.tag)
        try SecuritySuite0.verifyChallengeResponse(reply, challenge: challenge, senderTitle: Self.title, keys: Self.keys)
        #expect(throws: DLMSError.authenticationFailed) {
            try SecuritySuite0.verifyChallengeResponse(reply, challenge: TestKeys.headEndChallenge, senderTitle: Self.title, keys: Self.keys)
        }
        #expect(throws: DLMSError.authenticationFailed) {
            try SecuritySuite0.verifyChallengeResponse(reply, challenge: challenge, senderTitle: TestKeys.meterTitle, keys: Self.keys)
        }
        #expect(throws: DLMSError.authenticationFailed) {
            try SecuritySuite0.verifyChallengeResponse(reply, challenge: challenge, senderTitle: Self.title, keys: TestKeys.wrongAuthentication)
        }
        #expect(throws: DLMSError.authenticationFailed) {
            try SecuritySuite0.verifyChallengeResponse(Array(reply.dropLast()), challenge: challenge, senderTitle: Self.title, keys: Self.keys)
        }
    }
}
