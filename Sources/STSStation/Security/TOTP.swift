import Crypto

/// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
/// six digits, as authenticator apps generate them from the enrolled base32 secret.
public struct TOTP: Sendable {
    /// The shared secret the user's authenticator app holds (the station stores it sealed under the KEK).
    public let secret: [UInt8]
    /// Digits per code (6).
    public let digits: Int
    /// Seconds per time step (30).
    public let step: Int64

    /// A generator for `secret`, six digits every 30 seconds unless told otherwise.
    public init(secret: [UInt8], digits: Int = 6, step: Int64 = 30) {
        self.secret = secret
        self.digits = digits
        self.step = step
    }

    /// The code for time step `counter` (RFC 4226 dynamic truncation).
    public func code(counter: Int64) -> String {
        var c = UInt64(bitPattern: counter).bigEndian
        let mac = withUnsafeBytes(of: &c) { Array(HMAC<Insecure.SHA1>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
        let offset = Int(mac[19] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | UInt32(mac[offset + 1]) << 16 | UInt32(mac[offset + 2]) << 8 | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(binary % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The code for a Unix time.
    public func code(atUnixSeconds t: Int64) -> String { code(counter: t / step) }

    /// The step `code` matches at `t`, allowing one step of clock drift either way.
    public func matchingStep(_ code: String, atUnixSeconds t: Int64) -> Int64? {
        let now = t / step
        for s in [now, now - 1, now + 1] where constantTimeEqual(Array(self.code(counter: s).utf8), Array(code.utf8)) {
            return s
        }
        return nil
    }
}

/// RFC 4648 base32 (upper case, no padding on output), the form authenticator apps take secrets in.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// The secret as base32 text, as it is shown or written to the user's secret file.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = [], buffer: UInt32 = 0, bits = 0
        for b in bytes {
            buffer = buffer << 8 | UInt32(b)
            bits += 8
            while bits >= 5 { out.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)]); bits -= 5 }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of base32 text (any case, padding and spaces ignored); nil for a character outside the alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], buffer: UInt32 = 0, bits = 0
        for c in text.uppercased().utf8 where c != 61 && c != 32 {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = buffer << 5 | UInt32(v)
            bits += 5
            if bits >= 8 { out.append(UInt8(buffer >> UInt32(bits - 8) & 0xFF)); bits -= 8 }
        }
        return out
    }
}
