/// A stacked bar chart drawn as SVG by the server: readable without JavaScript, printable, and
/// each bar carries its numbers in a `<title>` (hover) and in the CSV beside the chart.
public struct BarChart: Sendable {
    /// One stacked series (a channel, a tariff block…).
    public struct Series: Sendable {
        /// The legend's name.
        public var name: String
        /// One value per category (same order as ``categories``).
        public var values: [Double]
        /// A series.
        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    /// The chart's accessible title.
    public var title: String
    /// The x-axis labels (days, weeks, blocks).
    public var categories: [String]
    /// The stacked series.
    public var series: [Series]
    /// The unit shown on the axis ("kWh", "money").
    public var unit: String

    /// A chart.
    public init(title: String, categories: [String], series: [Series], unit: String) {
        self.title = title
        self.categories = categories
        self.series = series
        self.unit = unit
    }

    static let palette = ["#2f6db5", "#e08a1e", "#3a9a5b", "#b5442f", "#7b57b0", "#5a7d8c", "#c2a22b", "#8c5a3c"]

    /// The chart as an `<svg>` element (role img, with a title and a legend).
    public func svg(width: Int = 720, height: Int = 260) -> HTML {
        var h = HTML()
        let left = 64.0, bottom = 40.0, top = 28.0, right = 12.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let totals = categories.indices.map { i in series.reduce(0.0) { $0 + (i < $1.values.count ? max(0, $1.values[i]) : 0) } }
        let peak = Self.niceCeiling(totals.max() ?? 0)
        h.raw("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 \(width) \(height)\" width=\"100%\" aria-label=\"\(HTML.escape(title))\">")
        h.raw("<title>"); h.text(title); h.raw("</title>")
        // Axis and four grid lines with their values.
        for step in 0...4 {
            let y = top + plotH - plotH * Double(step) / 4
            h.raw("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>")
            h.raw("<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\">"); h.text(Self.label(peak * Double(step) / 4)); h.raw("</text>")
        }
        h.raw("<text x=\"4\" y=\"12\" font-size=\"11\">"); h.text(unit); h.raw("</text>")
        if categories.isEmpty || peak <= 0 {
            h.raw("<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"13\">—</text>")
        }
        let slot = categories.isEmpty ? plotW : plotW / Double(categories.count)
        let barW = max(2, slot * 0.7)
        let labelEvery = max(1, Int((Double(categories.count) * 48 / plotW).rounded(.up)))
        for (i, category) in categories.enumerated() {
            let x = left + slot * Double(i) + (slot - barW) / 2
            var y = top + plotH
            for (k, s) in series.enumerated() where i < s.values.count && s.values[i] > 0 && peak > 0 {
                let hgt = plotH * s.values[i] / peak
                y -= hgt
                h.raw("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barW))\" height=\"\(f(hgt))\" fill=\"\(Self.palette[k % Self.palette.count])\"><title>")
                h.text("\(category) · \(s.name): \(Self.label(s.values[i])) \(unit)")
                h.raw("</title></rect>")
            }
            if i % labelEvery == 0 {
                h.raw("<text x=\"\(f(x + barW / 2))\" y=\"\(f(top + plotH + 14))\" text-anchor=\"middle\" font-size=\"10\">"); h.text(category); h.raw("</text>")
            }
        }
        // Legend.
        var lx = left
        for (k, s) in series.enumerated() {
            h.raw("<rect x=\"\(f(lx))\" y=\"\(f(Double(height) - 14))\" width=\"10\" height=\"10\" fill=\"\(Self.palette[k % Self.palette.count])\"/>")
            h.raw("<text x=\"\(f(lx + 14))\" y=\"\(f(Double(height) - 5))\" font-size=\"11\">"); h.text(s.name); h.raw("</text>")
            lx += 24 + Double(s.name.count) * 7
        }
        h.raw("</svg>")
        return h
    }

    private func f(_ d: Double) -> String {
        let tenths = Int((d * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// 1, 2 or 5 times a power of ten, at least `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 0 }
        var p = 1.0
        while p * 10 <= v { p *= 10 }
        while p > v { p /= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where m * p >= v { return m * p }
        return 10 * p
    }

    static func label(_ v: Double) -> String {
        if v >= 1_000_000 { return "\(Int(v / 100_000) / 10).\(Int(v / 100_000) % 10)M" }
        if v >= 10_000 { return "\(Int(v / 1_000))k" }
        if v == v.rounded() { return "\(Int(v))" }
        return "\(Int((v * 10).rounded()) / 10).\(Int((v * 10).rounded()) % 10)"
    }
}
