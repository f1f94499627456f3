import Foundation
import STSStation
import STSTestFixtures
import Testing

/// TOTP and base32 against their RFCs' own tables (Fixtures/totp-rfc6238.json).
@Suite struct SecondFactorTests {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/totp-rfc6238.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    @Test func totpMatchesRFC6238() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        for row in Self.fixture["totp_sha1_8_digits"] as! [[String: Any]] {
            let time = (row["time"] as! NSNumber).int64Value
            #expect(totp.code(atUnixSeconds: time) == row["code"] as! String, "t=\(time)")
        }
    }

    @Test func hotpMatchesRFC4226() {
        let hotp = TOTP(secret: Array("12345678901234567890".utf8), digits: 6)
        for (counter, code) in (Self.fixture["hotp_6_digits"] as! [String]).enumerated() {
            #expect(hotp.code(counter: Int64(counter)) == code)
        }
    }

    @Test func codesAllowOneStepOfDrift() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let t: Int64 = 1_795_000_000
        #expect(totp.matchingStep(totp.code(atUnixSeconds: t - 30), atUnixSeconds: t) == t / 30 - 1)
        #expect(totp.matchingStep(totp.code(atUnixSeconds: t + 30), atUnixSeconds: t) == t / 30 + 1)
        #expect(totp.matchingStep(totp.code(atUnixSeconds: t - 90), atUnixSeconds: t) == nil)
    }

    @Test func base32MatchesRFC4648() {
        for row in Self.fixture["base32"] as! [[String: String]] {
            let padded = row["base32"]!
            #expect(Base32.encode(Array(row["text"]!.utf8)) == padded.replacingOccurrences(of: "=", with: ""))
            #expect(Base32.decode(padded) == Array(row["text"]!.utf8))
        }
        #expect(Base32.decode("MZ1W") == nil)
    }
}
