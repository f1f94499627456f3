import Crypto
import CryptoExtras
import Foundation

/// Passwords stored as scrypt hashes (memory-hard: N = 2¹⁵, r = 8, p = 1, 32 MiB per try):
/// `scrypt$15$8$1$<salt base64>$<hash base64>`. Comparison is constant time.
enum PasswordHash {
    static func make(_ password: [UInt8], logN: Int = 15) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        let hash = try derive(password, salt: salt, logN: logN)
        return "scrypt$\(logN)$8$1$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    static func verify(_ password: [UInt8], against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), (10...16).contains(logN),
              parts[2] == "8", parts[3] == "1",
              let salt = Data(base64Encoded: String(parts[4])), let expected = Data(base64Encoded: String(parts[5])),
              let actual = try? derive(password, salt: Array(salt), logN: logN)
        else { return false }
        return constantTimeEqual(actual, Array(expected))
    }

    static func derive(_ password: [UInt8], salt: [UInt8], logN: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: 32, rounds: 1 << logN, blockSize: 8, parallelism: 1)
        return key.withUnsafeBytes { Array($0) }
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var d: UInt8 = 0
    for i in a.indices { d |= a[i] ^ b[i] }
    return d == 0
}
