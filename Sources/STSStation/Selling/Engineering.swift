import Foundation
import STSAuditLog
import STSBatch
import STSTokenFormat
import STSVending

/// Engineering tokens a station issues to a meter.
public enum EngineeringFunction: Sendable, Equatable {
    /// Maximum power limit, watts.
    case maximumPower(UInt64)
    /// Clear the meter's tamper condition.
    case clearTamper
    /// Clear credit: a register 0–7, or 65535 for all.
    case clearCredit(UInt64)
    /// Set tariff rate (time-of-use and currency meters): the raw 16-bit rate.
    case tariffRate(UInt64)
    /// A class 1 meter test (no key, no TID): subclass, control bits, manufacturer code.
    case test(subclass: UInt8, control: UInt64, manufacturer: UInt16)

    var name: String {
        switch self {
        case .maximumPower: "max_power"
        case .clearTamper: "clear_tamper"
        case .clearCredit: "clear_credit"
        case .tariffRate: "tariff_rate"
        case .test: "test"
        }
    }
}

extension Station {
    /// Issues an engineering token (supervisors), recorded like a sale (reprintable, logged).
    public func engineering(_ function: EngineeringFunction, meter pan: MeterPAN, by actor: Actor) throws -> SaleReceipt {
        try actor.require([.supervisor], to: "issue engineering tokens")
        return try write { tx in
            let meter = try tx.meter(pan.description)
            let token: IssuedToken
            var value: UInt64 = 0
            if case let .test(subclass, control, manufacturer) = function {
                token = try TokenIssuer.meterTest(subclass: subclass, control: control, manufacturerCode: manufacturer)
                value = control
            } else {
                let key = try vendingKey(meter.keyName, tx)
                let issuer = try TokenIssuer(meter: meter.profile, vendingKey: key.key)
                let tid = try tx.allocateTID(meter)
                let (f, v): (ManagementFunction, UInt64) = switch function {
                case let .maximumPower(w): (.setMaximumPowerLimit, w)
                case .clearTamper: (.clearTamperCondition, 0)
                case let .clearCredit(r): (.clearCredit, r)
                case let .tariffRate(r): (.setTariffRate, r)
                case .test: fatalError("handled above")
                }
                value = v
                do { token = try issuer.management(f, value: v, tid: tid, rnd: randomNibble()) } catch VendingError.keyExpired {
                    throw StationError.keyExpired(name: meter.keyName)
                }
            }
            return try tx.record("engineering", meter: meter, tokens: [token], actor: actor) { w in
                w.field("function", function.name)
                w.field("value", value)
            }
        }
    }

    /// Issues the key-change set that moves a meter to another vending key (supervisor with
    /// second factor). From then on the station sells to the meter under the new key.
    public func changeKey(meter pan: MeterPAN, to keyName: String, by actor: Actor) throws -> SaleReceipt {
        try actor.require([.supervisor], to: "change meter keys", secondFactor: true)
        return try write { tx in try changeKey(meter: pan.description, to: keyName, actor: actor, campaign: nil, tx) }
    }

    func changeKey(meter pan: String, to keyName: String, actor: Actor, campaign: String?, _ tx: StoreTransaction) throws -> SaleReceipt {
        let meter = try tx.meter(pan)
        let old = try vendingKey(meter.keyName, tx)
        let new = try vendingKey(keyName, tx)
        let newProfile = new.attributes.meter(meter.profile.pan)
        let issuer = try TokenIssuer(meter: meter.profile, vendingKey: old.key)
        let rollover = newProfile.baseDate != meter.profile.baseDate
        let at = try? TokenIdentifier.forVending(atUnixSeconds: tx.now, baseDate: newProfile.baseDate)
        let tokens: [IssuedToken]
        do {
            tokens = try issuer.keyChange(to: newProfile, newVendingKey: new.key, rollover: rollover, at: at)
        } catch let e as VendingError { throw StationError.vending(e.description) }
        try tx.db.execute(sql: """
            UPDATE meters SET key_name = ?, sgc = ?, ti = ?, krn = ?, kt = ?, ken = ?, base_date = ?, dkga = ?, ea = ? WHERE pan = ?
            """, arguments: [keyName, newProfile.supplyGroup.description, Int(newProfile.tariffIndex.value), Int(newProfile.revision.value),
                             Int(newProfile.keyType.rawValue), Int(newProfile.expiry.value), newProfile.baseDate.year,
                             Int(newProfile.derivation.rawValue), Int(newProfile.encryption.rawValue), pan])
        return try tx.record("key_change", meter: meter, tokens: tokens, actor: actor) { w in
            w.object("new_meter") { MeterJSON.write(newProfile, vendingKey: keyName, to: &$0) }
            w.field("rollover", rollover)
            if let campaign { w.field("campaign", campaign) }
        }
    }
}

extension StoreTransaction {
    /// Records tokens the station issues without a payment (engineering, key change) the way a
    /// sale is recorded: a receipt (sale number, kind, time, meter, operator, `details`, tokens),
    /// a `sales` row so it can be reprinted, and a log entry of type `kind` holding the receipt.
    func record(_ kind: String, meter: StationMeter, tokens: [IssuedToken], actor: Actor,
                details: (inout JSONLineWriter) -> Void) throws -> SaleReceipt {
        let id = try nextSaleID()
        var w = JSONLineWriter()
        w.begin()
        w.field("sale", Int(id))
        w.field("kind", kind)
        w.field("time", AuditTime.format(now))
        w.object("meter") { MeterJSON.write(meter.profile, vendingKey: meter.keyName, to: &$0) }
        w.field("operator", actor.name)
        details(&w)
        writeTokens(tokens, to: &w)
        w.close()
        let receipt = SaleReceipt(json: w.bytes, saleID: id, tokens: tokens.map { $0.number.description },
                                  tid: tokens.first?.content.tid.map { Int64($0.value) }, unitsTenths: 0)
        _ = try insertSale(id: id, request: nil, kind: kind, meter: meter.profile.pan.description, account: nil, actor: actor,
                       sale: nil, receipt: receipt, logType: kind == "engineering" ? .engineering : .keyChange)
        return receipt
    }
}
