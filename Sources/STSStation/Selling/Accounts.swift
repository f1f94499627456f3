import Foundation
import STSAuditLog
import STSTariff

/// The open account on a meter, with the month's counters brought up to date.
struct StationAccount {
    var id: Int64
    var customer: String
    var position: AccountPosition
    var fixedMonthly: Money
    var month: String
}

extension StoreTransaction {
    /// "2026-11" for the current UTC month.
    var month: String { String(AuditTime.format(now).prefix(7)) }

    func openAccount(meter pan: String) throws -> StationAccount {
        // Columns by position: every sale reads this row, and GRDB's lookup by name lowercases each name.
        guard let r = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT a.id, c.name, a.month, a.arrears, a.debt, a.fixed_due, a.carried, a.fixed_monthly, a.debt_recovery_bp,
                   a.month_purchased, a.month_free
            FROM accounts a JOIN customers c ON c.id = a.customer_id
            WHERE a.meter_pan = ? AND a.closed_at IS NULL
            """), arguments: [pan]) else { throw StationError.notFound("open account on meter \(pan)") }
        // Stored figures are checked before any arithmetic: an edited row is refused, not a trap.
        let names = ["arrears", "debt", "fixed_due", "carried", "fixed_monthly", "debt_recovery_bp", "month_purchased", "month_free"]
        let money: ClosedRange<Int64> = 0...Money.maximumCents, tenths: ClosedRange<Int64> = 0...10_000_000_000_000
        let ranges = [money, money, money, money, money, 0...10_000, tenths, tenths]
        var f = [Int64](repeating: 0, count: 8)
        for i in 0..<8 {
            guard let v = r[3 + i] as Int64?, ranges[i].contains(v) else {
                throw StationError.tampered("account on meter \(pan): its \(names[i]) is not a possible value")
            }
            f[i] = v
        }
        var a = StationAccount(
            id: r[0], customer: r[1],
            position: AccountPosition(arrears: Money(cents: f[0]), debt: Money(cents: f[1]),
                                      debtRecoveryBasisPoints: f[5], fixedChargesDue: Money(cents: f[2]),
                                      monthPurchasedTenths: f[6], monthFreeTenths: f[7],
                                      carriedCredit: Money(cents: f[3])),
            fixedMonthly: Money(cents: f[4]), month: r[2])
        let current = month
        if a.month != current {
            // A new month: block position and free units start again; the month's fixed charge falls due.
            a.position.monthPurchasedTenths = 0
            a.position.monthFreeTenths = 0
            // One fixed charge per month since the account's last sale (or its first month).
            let due = a.fixedMonthly.cents.multipliedReportingOverflow(by: Self.monthsBetween(a.month, current))
            let total = a.position.fixedChargesDue.cents.addingReportingOverflow(due.partialValue)
            guard !due.overflow, !total.overflow, total.partialValue <= Money.maximumCents else {
                throw StationError.tampered("account on meter \(pan): fixed charges due beyond any possible amount")
            }
            a.position.fixedChargesDue = Money(cents: total.partialValue)
            a.month = current
        }
        return a
    }

    /// Whole months from "YYYY-MM" `from` to `to`; 1 when `from` is empty (no sale yet) or
    /// not a month of years 1970–9999.
    static func monthsBetween(_ from: String, _ to: String) -> Int64 {
        func index(_ m: String) -> Int64? {
            let p = m.split(separator: "-")
            guard p.count == 2, p[0].count == 4, p[1].count == 2, let y = Int64(p[0]), let n = Int64(p[1]),
                  (1970...9999).contains(y), (1...12).contains(n) else { return nil }
            return y * 12 + n
        }
        guard let a = index(from), let b = index(to), b > a else { return 1 }
        return b - a
    }

    func save(_ a: StationAccount) throws {
        let p = a.position
        try db.cachedStatement(sql: """
            UPDATE accounts SET arrears = ?, debt = ?, fixed_due = ?, month = ?, month_purchased = ?, month_free = ?, carried = ?
            WHERE id = ? AND NOT EXISTS (SELECT 1 FROM offline_meters o WHERE o.pan = accounts.meter_pan AND o.station <> ?)
            """).execute(arguments: [p.arrears.cents, p.debt.cents, p.fixedChargesDue.cents, a.month,
                                     p.monthPurchasedTenths, p.monthFreeTenths, p.carriedCredit.cents, a.id, station.stationID])
        // A meter held by another station's offline lane: its account changes only there.
        if db.changesCount != 1 { try refuseHeldMeter(accountID: a.id) }
    }
}
