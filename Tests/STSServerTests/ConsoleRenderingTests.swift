import Foundation
@testable import STSConsole
import STSStation
import STSSupport
import STSTariff
import Testing

/// The console's pure parts: catalogs, escaping, form decoding, charts.
@Suite struct ConsoleRenderingTests {
    @Test("English and Simplified Chinese catalogs have the same keys, and every key the pages use exists")
    func catalogs() throws {
        let en = Catalog.named("en"), zh = Catalog.named("zh-Hans")
        #expect(en.keys.count > 150)
        #expect(en.keys == zh.keys, "keys only in one catalog: \(en.keys.symmetricDifference(zh.keys).sorted())")
        #expect(zh("nav.sell") == "售电" && en("nav.sell") == "Sell")
        #expect(en("receipt.block", "2") == "Block 2")
        #expect(Catalog.choose(explicit: nil, acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8").language == "zh-Hans")
        #expect(Catalog.choose(explicit: "en", acceptLanguage: "zh-CN").language == "en")
        #expect(Catalog.choose(explicit: "fr", acceptLanguage: "fr-FR").language == "en")
        // Every literal key in the console's sources is in the catalog.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var used: Set<String> = []
        for folder in ["Sources/STSConsole", "Sources/STSServer"] {
            let files = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            for f in files {
                let text = try String(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(f), encoding: .utf8)
                for m in text.matches(of: /\bt\("([a-z0-9]+\.[a-z0-9.\-]+)"/) { used.insert(String(m.1)) }
            }
        }
        #expect(used.count > 80)
        #expect(used.subtracting(en.keys).isEmpty, "keys used but not in the catalog: \(used.subtracting(en.keys).sorted())")
    }

    @Test("outside text is escaped in pages; forms decode + and %XX and drop bad escapes; the first of a repeated name wins")
    func escapingAndForms() {
        #expect(HTML.escape("<script>alert('x')</script> & \"q\"") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        #expect(HTML.escape("a\u{0}b\u{7}c\nd") == "abc\nd")
        let f = FormFields.parse(Array("user=li+wei&money=50%2E00&bad=%ZZ&money=999&empty=&%E2%82%AC=euro&csrf".utf8))
        #expect(f["user"] == "li wei" && f["money"] == "50.00" && f["bad"] == nil && f["empty"] == "" && f["€"] == "euro" && f["csrf"] == "")
        #expect(FormFields.parse(Array("a=%C3%28".utf8))["a"] == nil, "invalid UTF-8 is dropped")
        #expect(FormFields.parse(Array("a=%4".utf8))["a"] == nil, "a cut escape is dropped")
        #expect(HTML.urlComponent("li wei/ü") == "li%20wei%2F%C3%BC")
    }

    @Test("a chart draws one bar per category and series, with its numbers in titles, and nothing for an empty period")
    func charts() {
        let c = BarChart(title: "Takings", categories: ["2026-12-01", "2026-12-02"],
                         series: [.init(name: "counter", values: [100, 50]), .init(name: "mobile", values: [0, 25])], unit: "money")
        let svg = String(decoding: c.svg().bytes, as: UTF8.self)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<rect").count - 1 == 3 + 2, "three bars and two legend keys")
        #expect(svg.contains("2026-12-02 · mobile: 25 money"))
        #expect(BarChart.niceCeiling(150) == 200 && BarChart.niceCeiling(0.7) == 1 && BarChart.niceCeiling(5_001) == 10_000)
        let empty = String(decoding: BarChart(title: "None", categories: [], series: [], unit: "kWh").svg().bytes, as: UTF8.self)
        #expect(!empty.contains("<rect"))
    }
}
