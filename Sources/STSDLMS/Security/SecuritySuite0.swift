/// The global unicast keys of one client's security context (security suite 0: AES-GCM-128).
public struct SecurityKeys: Equatable, Sendable {
    /// The global unicast encryption key (block cipher key), 16 bytes.
    public var blockCipherKey: [UInt8]
    /// The authentication key, 16 bytes, part of the AAD of every APDU.
    public var authenticationKey: [UInt8]

    /// Keys from their bytes (each must be 16 bytes).
    public init?(blockCipherKey: [UInt8], authenticationKey: [UInt8]) {
        guard blockCipherKey.count == 16, authenticationKey.count == 16 else { return nil }
        self.blockCipherKey = blockCipherKey
        self.authenticationKey = authenticationKey
    }
}

/// The security control byte: which protections an APDU carries (suite 0, unicast key).
public enum SecurityControl: UInt8, Sendable {
    /// Authenticated only: the plaintext travels in clear, its tag covers it.
    case authenticated = 0x10
    /// Authenticated and encrypted: what the management client uses.
    case authenticatedEncrypted = 0x30
}

/// Suite 0 protection of an xDLMS APDU (Green Book 9.2.7): the ciphered content is
/// SC ‖ IC(4) ‖ ciphertext ‖ tag(12); the IV is the sender's system title ‖ IC; the AAD is
/// SC ‖ AK (‖ plaintext when only authenticated).
public enum SecuritySuite0 {
    /// Protects `apdu` as `sender` with invocation counter `counter`.
    public static func protect(_ apdu: [UInt8], control: SecurityControl, senderTitle: [UInt8], counter: UInt32,
                               keys: SecurityKeys) throws(DLMSError) -> [UInt8] {
        let iv = senderTitle + counterBytes(counter)
        var out: [UInt8] = [control.rawValue] + counterBytes(counter)
        switch control {
        case .authenticatedEncrypted:
            let sealed = try GCM.seal(key: keys.blockCipherKey, iv: iv, aad: [control.rawValue] + keys.authenticationKey, plaintext: apdu)
            out += sealed.ciphertext + sealed.tag
        case .authenticated:
            let sealed = try GCM.seal(key: keys.blockCipherKey, iv: iv, aad: [control.rawValue] + keys.authenticationKey + apdu, plaintext: [])
            out += apdu + sealed.tag
        }
        return out
    }

    /// Checks and opens ciphered content sent by `senderTitle`; returns its counter and plaintext.
    /// Content with no authentication (SC 0x20 or 0x00) or another suite is refused.
    public static func unprotect(_ content: [UInt8], senderTitle: [UInt8], keys: SecurityKeys) throws(DLMSError) -> (counter: UInt32, apdu: [UInt8]) {
        guard content.count >= 5 + GCM.tagLength else { throw .truncated }
        guard senderTitle.count == 8 else { throw .malformed("system title of \(senderTitle.count) bytes") }
        guard let control = SecurityControl(rawValue: content[0]) else { throw .unsupported("security control byte \(content[0])") }
        let counter = UInt32(content[1]) << 24 | UInt32(content[2]) << 16 | UInt32(content[3]) << 8 | UInt32(content[4])
        let iv = senderTitle + Array(content[1..<5])
        let body = Array(content[5..<(content.count - GCM.tagLength)])
        let tag = Array(content.suffix(GCM.tagLength))
        switch control {
        case .authenticatedEncrypted:
            let plain = try GCM.open(key: keys.blockCipherKey, iv: iv, aad: [control.rawValue] + keys.authenticationKey, ciphertext: body, tag: tag)
            return (counter, plain)
        case .authenticated:
            _ = try GCM.open(key: keys.blockCipherKey, iv: iv, aad: [control.rawValue] + keys.authenticationKey + body, ciphertext: [], tag: tag)
            return (counter, body)
        }
    }

    /// The HLS-GMAC (mechanism 5) answer to a challenge: SC 0x10 ‖ IC ‖ GMAC(SC ‖ AK ‖ challenge).
    public static func challengeResponse(_ challenge: [UInt8], senderTitle: [UInt8], counter: UInt32, keys: SecurityKeys) throws(DLMSError) -> [UInt8] {
        let sc = SecurityControl.authenticated.rawValue
        let sealed = try GCM.seal(key: keys.blockCipherKey, iv: senderTitle + counterBytes(counter),
                                  aad: [sc] + keys.authenticationKey + challenge, plaintext: [])
        return [sc] + counterBytes(counter) + sealed.tag
    }

    /// Checks an HLS-GMAC answer `reply` to `challenge` from `senderTitle`.
    public static func verifyChallengeResponse(_ reply: [UInt8], challenge: [UInt8], senderTitle: [UInt8], keys: SecurityKeys) throws(DLMSError) {
        guard reply.count == 5 + GCM.tagLength, reply[0] == SecurityControl.authenticated.rawValue, senderTitle.count == 8 else {
            throw .authenticationFailed
        }
        _ = try GCM.open(key: keys.blockCipherKey, iv: senderTitle + Array(reply[1..<5]),
                         aad: [reply[0]] + keys.authenticationKey + challenge, ciphertext: [], tag: Array(reply.suffix(GCM.tagLength)))
    }

    static func counterBytes(_ c: UInt32) -> [UInt8] { [UInt8(c >> 24), UInt8((c >> 16) & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)] }
}
