import STSBatch
import STSCrypto
import STSTariff
import STSTokenFormat
import STSVending

/// A token's identity for the no-TID-twice rule: a meter may see a TID once per base date
/// (a rollover key change clears its memory and restarts TIDs on the next base date).
struct TIDKey: Hashable {
    var pan: String
    var baseDate: Int
    var tid: Int64
}

/// What the sequential pass needs from one line, extracted (in parallel) from its bytes.
struct EntryFacts {
    var line = 0
    var seq: Int64?
    var prev: [UInt8] = []
    var hash: [UInt8] = []
    var type = ""
    var problems: [AuditProblem] = []

    // station
    var stationID: String?
    var stationKey: String?
    // checkpoint
    var through: Int64?
    var head: String?
    var signature: String?
    // sale, reversal, reprint
    var saleID: Int64?
    var account: Int64?
    var carriedIn: Int64 = 0
    var carriedOut: Int64 = 0
    var paid: Int64 = 0
    var units: Int64 = 0
    var tids: [TIDKey] = []
    var tokenCount = 0
    var decrypted = 0
    var refundedSale: Int64?

    mutating func problem(_ code: String, _ message: String) {
        problems.append(AuditProblem(line: line, seq: seq, code: code, message: message))
    }
}

extension EntryFacts {
    /// Reads and checks one line on its own: layout, hash, JSON, and for sales the money sum,
    /// the units and (with keys) every token.
    init(line number: Int, bytes: UnsafeBufferPointer<UInt8>, keys: [String: VendingKey]?) {
        line = number
        guard let header = AuditEntryLine.header(bytes) else {
            problem("format", "not an entry line (a torn or edited line; the layout is {\"seq\":…,\"prev\":\"…\",\"hash\":\"…\"})")
            return
        }
        seq = header.seq
        prev = header.prev
        hash = header.hash
        if AuditEntryLine.computedHash(bytes) != header.hash {
            problem("hash", "the entry's bytes do not hash to its stated hash: the entry was altered")
        }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            problem("format", "not valid JSON: \(error)")
            return
        }
        guard let t = json["type"]?.string, let data = json["data"], data.object != nil,
              json["time"]?.string != nil, json["actor"]?.string != nil else {
            problem("format", "an entry needs string time, type and actor and an object data")
            return
        }
        type = t
        switch t {
        case "station":
            stationID = data["station_id"]?.string
            stationKey = data["public_key"]?.string
        case Checkpoint.type:
            through = data["through"]?.integer
            head = data["head"]?.string
            signature = data["signature"]?.string
        case "sale":
            readSale(data, keys: keys)
        case "engineering", "key_change":
            saleID = data["sale"]?.integer
            readTokens(data, keys: keys, expectedUnits: nil)
        case "reversal":
            refundedSale = data["sale"]?.integer
            if refundedSale == nil { problem("format", "a reversal names the sale it reverses") }
            account = data["account"]?.integer
            carriedIn = money(data["carried_restored"], "carried_restored") ?? 0
            paid = money(data["refund"], "refund") ?? 0
        case "reprint":
            saleID = data["sale"]?.integer
            if saleID == nil { problem("format", "a reprint names the sale it reprints") }
        default:
            break
        }
    }

    private mutating func money(_ v: JSON?, _ name: String) -> Int64? {
        guard let s = v?.string else { problem("format", "\"\(name)\" must be a money string"); return nil }
        let negative = s.hasPrefix("-")
        guard let m = try? Money(negative ? String(s.dropFirst()) : s) else {
            problem("format", "\"\(name)\" is not a money amount: \(s)")
            return nil
        }
        return negative ? -m.cents : m.cents
    }

    private mutating func readSale(_ data: JSON, keys: [String: VendingKey]?) {
        saleID = data["sale"]?.integer
        account = data["account"]?.integer
        guard saleID != nil, account != nil else { problem("format", "a sale needs integer sale and account"); return }
        paid = money(data["money"], "money") ?? 0
        carriedIn = money(data["carried_in"], "carried_in") ?? 0
        carriedOut = money(data["carried_out"], "carried_out") ?? 0
        var spent: Int64 = 0
        for d in data["deductions"]?.array ?? [] {
            spent += money(d["amount"], "deductions.amount") ?? 0
        }
        var tenths: Int64 = 0
        for b in data["blocks"]?.array ?? [] {
            guard let n = b["tenths"]?.integer, let p = b["price"]?.string, let price = try? EnergyPrice(p) else {
                problem("format", "a tariff block needs integer tenths and a price")
                continue
            }
            let cost = money(b["cost"], "blocks.cost") ?? 0
            if cost != (n * price.perKWhTenThousandths + 500) / 1_000 {
                problem("money", "block cost \(Money(cents: cost)) is not \(n) tenths of a kWh at \(price) (rounded half up)")
            }
            tenths += n
            spent += cost
        }
        if paid + carriedIn != spent + carriedOut {
            problem("money", "money in (\(Money(cents: paid)) paid + \(Money(cents: carriedIn)) carried) is not deductions and energy (\(Money(cents: spent))) + carried out (\(Money(cents: carriedOut)))")
        }
        units = data["units_tenths"]?.integer ?? -1
        if units != tenths {
            problem("units", "units \(units) is not the sum of the tariff blocks (\(tenths) tenths of a kWh)")
        }
        readTokens(data, keys: keys, expectedUnits: units)
    }

    private mutating func readTokens(_ data: JSON, keys: [String: VendingKey]?, expectedUnits: Int64?) {
        guard let meter = data["meter"], let pan = meter["pan"]?.string, let baseDate = meter["base_date"]?.integer else {
            problem("format", "a token entry needs its meter (pan, base_date, …)")
            return
        }
        var decoder: TokenDecoder?
        if let keys {
            do {
                let (profile, key) = try MeterJSON.profile(meter, keys: keys)
                decoder = try TokenDecoder(meter: profile, vendingKey: key)
            } catch {
                problem("token", "cannot derive the meter's key to check its tokens: \(error)")
            }
        }
        var creditUnits: Int64 = 0
        for t in data["tokens"]?.array ?? [] {
            tokenCount += 1
            guard let digits = t["token"]?.string, digits.utf8.count == 20, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                problem("token", "a token must be 20 digits")
                continue
            }
            let tid = t["tid"]?.integer
            if let tid { tids.append(TIDKey(pan: pan, baseDate: Int(baseDate), tid: tid)) }
            guard let decoder else { continue }
            do {
                let d = try decoder.decode(digits)
                if let tid, d.content.tid?.value != UInt32(truncatingIfNeeded: tid) {
                    problem("token", "token \(digits) carries TID \(d.content.tid.map { "\($0.value)" } ?? "none"), the entry says \(tid)")
                }
                if case let .transferCredit(c) = d.content { creditUnits += Int64(c.amount.units) }
                decrypted += 1
            } catch {
                problem("token", "token \(digits) does not decrypt under the meter's key: \(error)")
            }
        }
        if let expectedUnits, decoder != nil, creditUnits != expectedUnits {
            problem("units", "the tokens carry \(creditUnits) tenths of a kWh, the entry says \(expectedUnits)")
        }
    }
}
