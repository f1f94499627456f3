import STSStation
import STSSupport
import STSTariff
import STSTokenFormat

/// The utility a point of sale's answers name (the interface's `Utility`, printed on slips).
public struct PUSIUtility: Sendable {
    /// Its name (at most 40 characters), address (80), VAT registration number (10), and a message for receipts (80).
    public var name: String, address: String, vatRegistration: String, message: String

    /// A utility; empty members are left out of answers.
    public init(name: String, address: String = "", vatRegistration: String = "", message: String = "") {
        self.name = String(name.prefix(40))
        self.address = String(address.prefix(80))
        self.vatRegistration = String(vatRegistration.prefix(10))
        self.message = String(message.prefix(80))
    }
}

/// Writing the v3 answers (Specs/prepaid-utility.md §4): every answer to a request echoes the
/// request's envelope; amounts are minor units with the client's currency code.
public enum PUSIResponse {
    /// `MeterLookupResponse`.
    public static func meterLookup(_ r: PUSIMeterRequest, view: POSMeterView, client: POSClient, utility: PUSIUtility) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        envelope(r.envelope, &w)
        meter(r.meter, view, &w)
        customer(view, &w)
        self.utility(utility, &w)
        w.object("minAmount") { ledger(client.minimum.cents, client, &$0) }
        w.object("maxAmount") { ledger(client.maximum.cents, client, &$0) }
        w.object("arrearsAmount") { ledger((view.arrears + view.debt).cents, client, &$0) }
        w.field("bsstDue", view.freeTenthsDue > 0)
        w.end()
        return w.bytes
    }

    /// `PurchaseResponse` of a sale (tokens, units, the itemised lines and a slip), or of a
    /// trial (`sale` nil: the same figures from `breakdown`, no token, marked on the slip).
    public static func purchase(_ r: PUSIPurchaseRequest, view: POSMeterView, breakdown b: SaleBreakdown, vatBasisPoints: Int64,
                                sale: POSSale?, client: POSClient, utility: PUSIUtility, time: String) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        envelope(r.envelope, &w)
        w.object("purchaseTotal") { ledger(b.energy.cents, client, &$0) }
        w.object("taxTotal") { ledger(b.deducted(.vat).cents, client, &$0) }
        w.object("amounts") { a in
            a.object("requestAmount") { ledger(r.amount, client, &$0) }
            a.object("approvedAmount") { ledger(b.paid.cents, client, &$0) }
            a.object("feeAmount") { ledger(b.deducted(.channelFee).cents, client, &$0) }
        }
        meter(r.meter, view, &w)
        customer(view, &w)
        self.utility(utility, &w)
        if let u = r.utilityType { w.field("utilityType", u) }
        let receiptNum = sale.map { "\($0.receipt.saleID)" }
        w.array("tokens") { a in
            for t in sale?.tokens ?? [] {
                a.element { e in
                    e.field("tokenType", t.free ? "BSST" : "STD")
                    e.rawText("units", Array(EnergyAmount.text(tenths: t.tenths).utf8))
                    e.object("amount") { m in
                        ledger(t.free ? 0 : b.energy.cents, client, &m)
                        if !t.free, b.deducted(.vat).cents > 0 {
                            m.field("tax", Int(b.deducted(.vat).cents))
                            m.field("taxType", "VAT")
                            m.rawText("taxRate", Array(DecimalQuantity.format(Int128(vatBasisPoints), scale: 2).utf8))
                        }
                    }
                    if let receiptNum { e.field("receiptNum", receiptNum) }
                    e.field("token", t.number)
                    e.array("tariffCalc") { c in
                        for block in b.blocks where (block.block == 0) == t.free && block.tenths > 0 {
                            c.element { x in
                                x.rawText("units", Array(EnergyAmount.text(tenths: block.tenths).utf8))
                                // The rate in the minor denomination per kWh (cents): ten-thousandths / 100.
                                x.rawText("rate", Array(DecimalQuantity.format(Int128(block.price.perKWhTenThousandths), scale: 2).utf8))
                            }
                        }
                    }
                }
            }
        }
        let recovered: [(DeductionKind, String, Int64)] = [(.arrears, "Arrears", view.arrears.cents), (.debtRecovery, "Debt recovery", view.debt.cents)]
        w.array("debtRecoveryCharges") { a in
            for (kind, text, balance) in recovered where b.deducted(kind).cents > 0 {
                a.element { e in
                    e.object("amount") { ledger(b.deducted(kind).cents, client, &$0) }
                    e.field("description", text)
                    e.object("balance") { ledger(sale == nil ? max(0, balance - b.deducted(kind).cents) : balance, client, &$0) }
                    if let receiptNum { e.field("receiptNum", receiptNum) }
                }
            }
        }
        w.array("serviceCharges") { a in
            for (kind, text) in [(DeductionKind.channelFee, "Point-of-sale fee"), (.fixedCharges, "Fixed monthly charge")] where b.deducted(kind).cents > 0 {
                a.element { e in
                    e.object("amount") { ledger(b.deducted(kind).cents, client, &$0) }
                    e.field("description", text)
                }
            }
        }
        if let receiptNum { w.field("vatInvoiceNumber", receiptNum) }
        w.object("slipData") { slip(r, view: view, b: b, sale: sale, client: client, utility: utility, time: time, &$0) }
        w.end()
        return w.bytes
    }

    /// `KeyChangeTokenResponse`: the meter's pending key change tokens (`KC`), none when none is pending.
    public static func keyChange(_ r: PUSIMeterRequest, view: POSMeterView, tokens: [String], client: POSClient) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        envelope(r.envelope, &w)
        meter(r.meter, view, &w)
        w.array("tokens") { a in
            for t in tokens {
                a.element { e in
                    e.field("tokenType", "KC")
                    e.rawText("units", Array("0".utf8))
                    e.object("amount") { ledger(0, client, &$0) }
                    e.field("token", t)
                }
            }
        }
        w.object("slipData") { s in
            s.array("messageLines") { a in
                line(tokens.isEmpty ? "No key change is pending for this meter" : "Key change: enter these tokens in order", &a)
                for t in tokens { line(grouped(t), &a) }
            }
            s.field("slipWidth", 40)
        }
        w.end()
        return w.bytes
    }

    /// `FaultReportResponse`: the fault's reference and what was recorded.
    public static func faultReport(_ r: PUSIFaultReport, reference: Int64) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        envelope(r.envelope, &w)
        w.field("reference", "\(reference)")
        w.field("description", String("Fault \(r.faultType) on meter \(r.meter.meterID) recorded as \(reference)".prefix(160)))
        w.end()
        return w.bytes
    }

    /// `BasicAdviceResponse`: the advice echoed.
    public static func advice(_ a: PUSIAdvice) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.field("id", a.id)
        w.field("requestId", a.requestID)
        w.field("time", a.time)
        w.raw("thirdPartyIdentifiers", a.thirdPartyIdentifiers)
        if let reason = a.reversalReason { w.field("reversalReason", reason) }
        w.end()
        return w.bytes
    }

    /// A stored answer under another request's envelope (a reprint): the envelope members
    /// replaced, every other member as first sent.
    public static func reenveloped(_ stored: [UInt8], with e: PUSIEnvelope) -> [UInt8]? {
        guard let parsed = try? stored.withUnsafeBufferPointer({ b throws(JSONSyntaxError) in try JSON.parse(b) }), let o = parsed.object else { return nil }
        var w = JSONLineWriter()
        w.begin()
        envelope(e, &w)
        let replaced: Set<String> = ["id", "time", "originator", "client", "settlementEntity", "receiver", "thirdPartyIdentifiers"]
        for (k, v) in o where !replaced.contains(k) { w.raw(k, v) }
        w.end()
        return w.bytes
    }

    static func envelope(_ e: PUSIEnvelope, _ w: inout JSONLineWriter) {
        w.field("id", e.id)
        w.field("time", e.time)
        w.raw("originator", e.originator)
        w.raw("client", e.client)
        if let s = e.settlementEntity { w.raw("settlementEntity", s) }
        if let r = e.receiver { w.raw("receiver", r) }
        w.raw("thirdPartyIdentifiers", e.thirdPartyIdentifiers)
    }

    static func meter(_ m: PUSIMeter, _ v: POSMeterView, _ w: inout JSONLineWriter) {
        w.object("meter") { o in
            o.field("meterId", m.meterID)
            o.field("supplyGroupCode", v.supplyGroup)
            o.field("keyRevisionNum", v.keyRevision)
            o.field("tariffIndex", v.tariffIndex)
            // STS token carrier codes: 02 numeric (keypad), 01 magnetic card; IC cards report 02 here.
            o.field("tokenTechCode", "02")
            o.field("algorithmCode", v.algorithmCode)
            o.field("serviceType", "Electricity")
        }
    }

    static func customer(_ v: POSMeterView, _ w: inout JSONLineWriter) {
        w.object("customer") { c in
            let parts = v.customer.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { c.field("firstName", String(parts[0].prefix(40))); c.field("lastName", String(parts[1].prefix(40))) } else {
                c.field("lastName", String(v.customer.prefix(40)))
            }
            if !v.address.isEmpty { c.field("address", String(v.address.prefix(80))) }
        }
    }

    static func utility(_ u: PUSIUtility, _ w: inout JSONLineWriter) {
        w.object("utility") { o in
            o.field("name", u.name)
            if !u.address.isEmpty { o.field("address", u.address) }
            if !u.vatRegistration.isEmpty { o.field("vatRegNum", u.vatRegistration) }
            if !u.message.isEmpty { o.field("message", u.message) }
        }
    }

    static func ledger(_ cents: Int64, _ client: POSClient, _ w: inout JSONLineWriter) {
        w.field("amount", Int(cents))
        w.field("currency", client.currency)
    }

    static func line(_ text: String, _ a: inout JSONLineWriter) { a.element { $0.field("text", text) } }

    static func grouped(_ token: String) -> String {
        var out = ""
        for (i, c) in token.enumerated() { if i > 0, i % 4 == 0 { out.append(" ") }; out.append(c) }
        return out
    }

    static func slip(_ r: PUSIPurchaseRequest, view: POSMeterView, b: SaleBreakdown, sale: POSSale?, client: POSClient,
                     utility: PUSIUtility, time: String, _ s: inout JSONLineWriter) {
        s.array("messageLines") { a in
            line(utility.name, &a)
            if sale == nil { line("TRIAL - NOT A SALE, NO TOKEN", &a) }
            line("Meter: \(r.meter.meterID)", &a)
            if !view.customer.isEmpty { line(String(view.customer.prefix(40)), &a) }
            line(time, &a)
            for t in sale?.tokens ?? [] {
                line(t.free ? "Free basic electricity token:" : "Token:", &a)
                a.element { $0.field("text", grouped(t.number)); $0.rawText("fontHeightScaleFactor", Array("2".utf8)) }
                line("Units: \(EnergyAmount.text(tenths: t.tenths)) kWh", &a)
            }
            line("Paid: \(b.paid)", &a)
            for d in b.deductions { line("\(d.kind.rawValue.replacingOccurrences(of: "_", with: " ")): \(d.amount)", &a) }
            line("Energy: \(b.energy)", &a)
            if b.carriedOut.cents > 0 { line("Carried to next purchase: \(b.carriedOut)", &a) }
            if let sale { line("Receipt: \(sale.receipt.saleID)", &a) }
            if !utility.message.isEmpty { line(utility.message, &a) }
        }
        s.field("slipWidth", 40)
        if let sale { s.field("issuerReference", "STS\(sale.receipt.saleID)") }
    }
}
