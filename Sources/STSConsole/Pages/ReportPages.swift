import STSStation
import STSTariff

/// Takings and energy as pictures (server-drawn SVG), with the numbers behind each chart as CSV.
public enum ReportPages {
    /// The reports page for the days `from`…`to` (both "2026-12-01"); `allDays` lists every day
    /// of the period, so days without sales show as gaps.
    public static func reports(_ v: ConsoleViewer, from: String, to: String, allDays: [String], daily: [DailySales], report: SalesReport) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("reports.title")) { h in
            h.raw("<form method=\"get\" action=\"/reports\" class=\"inline\">")
            h.field(t("reports.from"), name: "from", type: "date", value: from)
            h.field(t("reports.to"), name: "to", type: "date", value: to)
            Layout.button(&h, t("reports.show"))
            h.raw("</form>")
            let days = allDays.count <= 400 ? allDays : Array(Set(daily.map(\.day))).sorted()
            let channels = Array(Set(daily.map(\.channel))).sorted()
            // One pass over the rows: (day, channel) → row, then a lookup per bar.
            var cell: [String: [String: DailySales]] = [:]
            for d in daily { cell[d.day, default: [:]][d.channel] = d }
            func series(_ value: (DailySales) -> Double) -> [BarChart.Series] {
                channels.map { c in BarChart.Series(name: c, values: days.map { d in cell[d]?[c].map(value) ?? 0 }) }
            }
            let csvQuery = "?from=\(from)&to=\(to)"
            chart(&h, t("reports.takings"), BarChart(title: t("reports.takings"), categories: days, series: series { Double($0.moneyCents) / 100 }, unit: t("reports.money")),
                  csv: "/reports/daily.csv" + csvQuery, t)
            chart(&h, t("reports.kwh-day"), BarChart(title: t("reports.kwh-day"), categories: days, series: series { Double($0.unitsTenths) / 10 }, unit: "kWh"),
                  csv: "/reports/daily.csv" + csvQuery, t)
            // Week (ISO-like: the Monday-based week of the day) and month totals of energy.
            let buckets: [(String, (String) -> String)] = [("reports.kwh-week", Self.week), ("reports.kwh-month", { (day: String) in String(day.prefix(7)) })]
            for (key, bucket) in buckets {
                var totals: [String: Double] = [:]
                for d in daily { totals[bucket(d.day), default: 0] += Double(d.unitsTenths) / 10 }
                let keys = totals.keys.sorted()
                chart(&h, t(key), BarChart(title: t(key), categories: keys, series: [BarChart.Series(name: "kWh", values: keys.map { totals[$0] ?? 0 })], unit: "kWh"),
                      csv: "/reports/daily.csv" + csvQuery, t)
            }
            let blocks = report.blocks.map { r in (r.group.first.map { $0 == "0" ? t("receipt.fbe") : t("receipt.block", $0) } ?? "") + " @ " + (r.group.dropFirst().first ?? "") }
            chart(&h, t("reports.blocks"), BarChart(title: t("reports.blocks"), categories: blocks,
                                                    series: [BarChart.Series(name: "kWh", values: report.blocks.map { Double($0.values.first ?? 0) / 10 })], unit: "kWh"),
                  csv: "/reports/sales.csv" + csvQuery, t)
        }
    }

    static func chart(_ h: inout HTML, _ title: String, _ chart: BarChart, csv: String, _ t: Catalog) {
        h.raw("<figure class=\"chart\">"); h.element("figcaption", title)
        h.append(chart.svg())
        h.raw("<p class=\"csv\">"); h.link(csv, t("reports.csv")); h.raw("</p></figure>")
    }

    /// "2026-W48"-style label: the Monday that starts the day's week.
    static func week(_ day: String) -> String {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return day }
        // Days since 1970-01-01 (civil from days, Howard Hinnant's algorithm), Thursday = 0 mod 7.
        let y = parts[1] <= 2 ? parts[0] - 1 : parts[0], m = parts[1], d = parts[2]
        let era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        let monday = days - ((days % 7 + 7 + 3) % 7)
        let z = monday + 719_468, e = (z >= 0 ? z : z - 146_096) / 146_097, doe = z - e * 146_097
        let yoe2 = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy2 = doe - (365 * yoe2 + yoe2 / 4 - yoe2 / 100), mp = (5 * doy2 + 2) / 153
        let dd = doy2 - (153 * mp + 2) / 5 + 1, mm = mp < 10 ? mp + 3 : mp - 9
        let yy = yoe2 + e * 400 + (mm <= 2 ? 1 : 0)
        return "\(yy)-\(String(mm).leftPadded(2))-\(String(dd).leftPadded(2))"
    }
}
