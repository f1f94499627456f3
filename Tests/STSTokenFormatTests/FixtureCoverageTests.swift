import STSTestFixtures
import Testing

/// Guards against a vector silently dropping out of the table tests.
struct FixtureCoverageTests {
    @Test("all 169 public vectors are of a kind some table test consumes")
    func kinds() {
        #expect(PublicVectors.all.count == 169)
        let consumed: [String: Int] = [
            "des_kat": 2, "misty1_kat": 2, "crc16": 3, "sta_block_sample_tables": 1, "luhn": 2, "pan_check": 3,
            "decoder_key": 1, "token": 141, "key_change": 10, "decode": 4,
        ]
        var seen: [String: Int] = [:]
        for v in PublicVectors.all { seen[v.kind, default: 0] += 1 }
        #expect(seen == consumed)
        #expect(Set(PublicVectors.all.map(\.id)).count == 169, "ids are unique")
    }
}
