import Foundation
import STSBatch
import STSTariff
import STSTokenFormat
import STSVending

/// How a meter takes its credit.
public enum MeterKind: String, Sendable, CaseIterable {
    /// Printed tokens keyed in on the meter.
    case keypad
    /// Purchases written to the customer's IC card, which the meter reads.
    case card
}

/// What a meter's credit register holds.
public enum MeterCredit: String, Sendable, CaseIterable {
    /// Energy: tokens carry tenths of a kWh, priced by the tariff's blocks.
    case energy
    /// Money (STS electricity-currency credit): tokens carry an amount the meter draws down by
    /// its own time-of-use rates.
    case currency
}

/// A new meter and the first account on it.
public struct MeterRegistration: Sendable {
    /// The meter's 18-digit PAN.
    public var pan: MeterPAN
    /// The vending key (by name) its decoder key is derived from.
    public var keyName: String
    /// The tariff (by name) its sales are priced by.
    public var tariff: String
    /// The customer on the first account (created if new).
    public var customer: String
    /// Where the meter is installed ("Block A, flat 3, 12 Garden Road"): it stays with the meter
    /// when tenants change; empty when not given. At most 200 bytes, no control characters.
    public var address: String
    /// Keypad or card meter.
    public var kind: MeterKind
    /// Energy (kWh) or currency credit.
    public var credit: MeterCredit
    /// Old debt, taken from each payment (as far as it covers) before any energy is bought.
    public var arrears: Money
    /// Debt recovered gradually: a share of what is left of each payment after arrears (``debtRecoveryBasisPoints``).
    public var debt: Money
    /// The share put toward ``debt``, in basis points (1500 = 15 %, at most 10 000).
    public var debtRecoveryBasisPoints: Int64
    /// The fixed charge due each month, taken from payments after arrears and debt recovery.
    public var fixedMonthly: Money

    /// A registration: a keypad energy meter with nothing owed unless told otherwise.
    public init(pan: MeterPAN, keyName: String, tariff: String, customer: String, kind: MeterKind = .keypad, credit: MeterCredit = .energy,
                arrears: Money = .zero, debt: Money = .zero, debtRecoveryBasisPoints: Int64 = 0, fixedMonthly: Money = .zero, address: String = "") {
        self.pan = pan
        self.keyName = keyName
        self.tariff = tariff
        self.customer = customer
        self.address = address
        self.kind = kind
        self.credit = credit
        self.arrears = arrears
        self.debt = debt
        self.debtRecoveryBasisPoints = debtRecoveryBasisPoints
        self.fixedMonthly = fixedMonthly
    }
}

/// A meter as the station holds it.
struct StationMeter {
    var profile: MeterProfile
    var keyName: String
    var kind: MeterKind
    var credit: MeterCredit
    var tariff: String
    var lastTID: UInt32
    var lastTIDBaseDate: Int
    /// Why a supervisor blocked the meter from sales; nil when it is not blocked.
    var blockedReason: String?
}

extension Station {
    /// Registers a meter under a vending key and tariff and opens its first account (operators
    /// and supervisors). The customer is created when new.
    @discardableResult
    public func addMeter(_ m: MeterRegistration, by actor: Actor) throws -> Int64 {
        try actor.require(sellers, to: "register meters")
        guard (0...10_000).contains(m.debtRecoveryBasisPoints) else { throw StationError.invalid(.debtRecovery, "debt recovery must be 0–100 %") }
        guard m.address.utf8.count <= 200, !m.address.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw StationError.invalid(.address, "an address is at most 200 bytes, on one line")
        }
        guard !(m.kind == .card && m.credit == .currency) else {
            throw StationError.refused(.currencyMeter("currency credit on card meters is not supported yet: register a keypad currency meter"))
        }
        return try write { tx in
            let key = try vendingKey(m.keyName, tx)
            _ = try tariff(m.tariff, tx)
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM meters WHERE pan = ?", arguments: [m.pan.description]) == nil else {
                throw StationError.alreadyExists("meter \(m.pan)")
            }
            let profile = key.attributes.meter(m.pan)
            try tx.db.execute(sql: """
                INSERT INTO meters (pan, key_name, sgc, ti, krn, kt, ken, base_date, dkga, ea, kind, tariff, created_at, credit, address)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [m.pan.description, m.keyName, profile.supplyGroup.description, Int(profile.tariffIndex.value),
                                 Int(profile.revision.value), Int(profile.keyType.rawValue), Int(profile.expiry.value),
                                 profile.baseDate.year, Int(profile.derivation.rawValue), Int(profile.encryption.rawValue),
                                 m.kind.rawValue, m.tariff, tx.now, m.credit.rawValue, m.address])
            try tx.log(.meterAdd, actor: actor.name) { w in
                w.object("meter") { MeterJSON.write(profile, vendingKey: m.keyName, to: &$0) }
                w.field("kind", m.kind.rawValue)
                w.field("credit", m.credit.rawValue)
                w.field("tariff", m.tariff)
                if !m.address.isEmpty { w.field("address", m.address) }
            }
            return try tx.openAccount(meter: m.pan.description, customer: m.customer, arrears: m.arrears, debt: m.debt,
                                      recovery: m.debtRecoveryBasisPoints, fixedMonthly: m.fixedMonthly, actor: actor)
        }
    }

    /// Moves a meter to another tariff (supervisor with second factor).
    public func assignTariff(meter pan: MeterPAN, tariff name: String, by actor: Actor) throws {
        try actor.require([.supervisor], to: "change a meter's tariff", secondFactor: true)
        try write { tx in
            _ = try tariff(name, tx)
            try tx.db.execute(sql: "UPDATE meters SET tariff = ? WHERE pan = ?", arguments: [name, pan.description])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("meter \(pan)") }
            try tx.log(.meterTariff, actor: actor.name) { w in
                w.field("pan", pan.description)
                w.field("tariff", name)
            }
        }
    }
}

extension StoreTransaction {
    func meter(_ pan: String) throws -> StationMeter {
        // Columns by position: every sale reads this row, and GRDB's lookup by name lowercases each name.
        guard let r = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT pan, sgc, ti, krn, kt, ken, base_date, dkga, ea, kind, credit, key_name, tariff, last_tid, last_tid_base_date, blocked_reason
            FROM meters WHERE pan = ?
            """), arguments: [pan]) else {
            throw StationError.notFound("meter \(pan)")
        }
        let profile = MeterProfile(
            pan: try MeterPAN(meterNumber: r[0]), supplyGroup: try SupplyGroupCode(r[1] as String),
            tariffIndex: try TariffIndex(r[2]), revision: try KeyRevisionNumber(r[3]), keyType: try KeyType(r[4]),
            expiry: try KeyExpiryNumber(r[5]), baseDate: try BaseDate(year: r[6]),
            derivation: try KeyDerivationAlgorithm(code: r[7]), encryption: try EncryptionAlgorithm(code: r[8]))
        guard let kind = MeterKind(rawValue: r[9] as String? ?? ""), let credit = MeterCredit(rawValue: r[10] as String? ?? "") else {
            throw StationError.tampered("meter \(pan): its kind or credit is not a known value")
        }
        guard let v = r[13] as Int64?, let lastTID = UInt32(exactly: v), lastTID <= TokenIdentifier.maximum else {
            throw StationError.tampered("meter \(pan): its last TID is not a 24-bit value")
        }
        return StationMeter(profile: profile, keyName: r[11], kind: kind, credit: credit, tariff: r[12], lastTID: lastTID, lastTIDBaseDate: r[14],
                            blockedReason: r[15])
    }

    /// The next TID for a meter, recorded as used in this transaction: after every TID the meter
    /// was given on its base date, never 00:01, never reused.
    func allocateTID(_ m: StationMeter) throws -> TokenIdentifier {
        let issued = m.lastTIDBaseDate == m.profile.baseDate.year ? [TokenIdentifier(field: m.lastTID)] : []
        let tid = try TokenIdentifierAllocator.next(atUnixSeconds: now, baseDate: m.profile.baseDate, after: issued)
        // A meter held by another station's offline lane gets its TIDs only there (no extra round trip: the update finds no row).
        try db.cachedStatement(sql: """
            UPDATE meters SET last_tid = ?, last_tid_base_date = ? WHERE pan = ?
            AND NOT EXISTS (SELECT 1 FROM offline_meters o WHERE o.pan = meters.pan AND o.station <> ?)
            """).execute(arguments: [Int64(tid.value), m.profile.baseDate.year, m.profile.pan.description, station.stationID])
        if db.changesCount != 1 { try refuseHeldMeter(pan: m.profile.pan.description) }
        return tid
    }

    func customerID(_ name: String, actor: Actor) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM customers WHERE name = ?", arguments: [name]) { return id }
        guard !name.isEmpty else { throw StationError.invalid(.customer, "a customer needs a name") }
        try db.execute(sql: "INSERT INTO customers (name, created_at) VALUES (?, ?)", arguments: [name, now])
        let id = try db.lastInsertedRowID
        try log(.customer, actor: actor.name) { w in
            w.field("customer", Int(id))
            w.field("name", name)
        }
        return id
    }

    func openAccount(meter: String, customer: String, arrears: Money, debt: Money, recovery: Int64, fixedMonthly: Money, actor: Actor) throws -> Int64 {
        let customerID = try customerID(customer, actor: actor)
        try db.execute(sql: """
            INSERT INTO accounts (meter_pan, customer_id, opened_at, arrears, debt, debt_recovery_bp, fixed_monthly)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [meter, customerID, now, arrears.cents, debt.cents, recovery, fixedMonthly.cents])
        let id = try db.lastInsertedRowID
        try log(.accountOpen, actor: actor.name) { w in
            w.field("account", Int(id))
            w.field("pan", meter)
            w.field("customer", Int(customerID))
            w.field("arrears", arrears.description)
            w.field("debt", debt.description)
            w.field("debt_recovery_bp", Int(recovery))
            w.field("fixed_monthly", fixedMonthly.description)
        }
        return id
    }
}
