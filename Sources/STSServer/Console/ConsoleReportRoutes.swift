import Foundation
import Hummingbird
import STSAuditLog
import STSConsole
import STSStation
import STSTariff

extension StationServer {
    func addReportPages(to router: Router<StationRequestContext>) {
        router.get("/reports") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)):
                do {
                    let (from, to) = try Self.period(request, now: self.station.now())
                    let station = self.station
                    let (daily, report) = try await blocking { (try station.dailySales(from: from, to: to), try station.report(from: from, to: to)) }
                    let allDays = stride(from: from, to: to, by: 86_400).prefix(401).map { String(AuditTime.format($0).prefix(10)) }
                    return self.html(ReportPages.reports(v, from: String(AuditTime.format(from).prefix(10)), to: String(AuditTime.format(to - 86_400).prefix(10)),
                                                         allDays: allDays, daily: daily, report: report), request)
                } catch { return self.problem(v, request, error, back: "/reports") }
            }
        }
        // The numbers behind the charts.
        router.get("/reports/daily.csv") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case .success:
                let (from, to) = try Self.period(request, now: self.station.now())
                let station = self.station
                let daily = try await blocking { try station.dailySales(from: from, to: to) }
                var text = "day,channel,sales,money,kwh\n"
                for d in daily {
                    text += CSVCell.row([d.day, CSVCell.text(d.channel), "\(d.count)", Money(cents: d.moneyCents).description, EnergyAmount.text(tenths: d.unitsTenths)]) + "\n"
                }
                return Self.csv(text, name: "daily-sales.csv")
            }
        }
        router.get("/reports/sales.csv") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case .success:
                let (from, to) = try Self.period(request, now: self.station.now())
                let station = self.station
                let report = try await blocking { try station.report(from: from, to: to) }
                return Self.csv(report.csv(), name: "report.csv")
            }
        }
    }
}
