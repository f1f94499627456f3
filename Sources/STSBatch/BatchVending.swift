import STSCrypto
import STSTokenFormat
import STSVending

/// Processes batch requests: one JSON object in, one result line out, a bad line never stops
/// the batch. The request and result formats are specified in Specs/batch.md.
public struct BatchVending {
    let keys: [String: VendingKey]
    let now: @Sendable () -> Int64
    let allowUnverified: Bool
    var random = SystemRandomNumberGenerator()
    /// Reused for every line: reading a request allocates no tree.
    var tape = JSONTape()
    let requestCursor = MemberCursor(), meterCursor = MemberCursor()

    /// - Parameters:
    ///   - keys: vending keys by the names requests use.
    ///   - now: the clock for requests with neither `tid` nor `issued_at` (seconds since 1970 UTC).
    ///   - allowUnverified: allow EA09 (DES), which has no public test vector.
    public init(keys: [String: VendingKey], now: @escaping @Sendable () -> Int64, allowUnverified: Bool = false) {
        self.keys = keys
        self.now = now
        self.allowUnverified = allowUnverified
    }

    /// Handles one line and appends its result line to `out`. Returns whether it succeeded.
    /// `lineNumber` (1-based, 0 when unknown) goes into the message of a line that is not JSON.
    @discardableResult
    public mutating func process(line: UnsafeBufferPointer<UInt8>, lineNumber: Int = 0, into out: inout JSONLineWriter) -> Bool {
        var id: UnsafeBufferPointer<UInt8>? = nil
        do {
            do { try tape.parse(line) } catch {
                throw BatchError.badRequest(lineNumber > 0 ? "line \(lineNumber), \(error)" : "\(error)")
            }
            guard tape.kind(tape.root) == .object else { throw BatchError.badRequest("a request must be a JSON object") }
            id = tape.member(tape.root, "id").map { tape.rawBytes($0) }
            try handle(RequestFields(tape: tape, node: tape.root, cursor: requestCursor), id: id, out: &out)
            return true
        } catch {
            out.begin()
            writeID(id, &out)
            out.field("ok", false)
            out.object("error") { w in
                w.field("code", (error as? CodedError)?.code ?? "error")
                w.field("message", "\(error)")
            }
            out.end()
            return false
        }
    }

    /// The request's `id`, echoed exactly as it was written (it is already valid JSON).
    func writeID(_ id: UnsafeBufferPointer<UInt8>?, _ out: inout JSONLineWriter) {
        if let id { out.key("id"); out.appendRaw(id) } else { out.null("id") }
    }

    mutating func handle(_ r: RequestFields, id: UnsafeBufferPointer<UInt8>?, out: inout JSONLineWriter) throws {
        guard let typeNode = tape.member(r.node, "type") else { throw BatchError.badRequest("missing \"type\"") }
        guard tape.kind(typeNode) == .string else { throw BatchError.badRequest("\"type\" must be a string") }
        if tape.stringEquals(typeNode, "meter-test") {
            func exact<T: FixedWidthInteger>(_ v: Int64, _ field: String) throws -> T {
                guard let x = T(exactly: v) else { throw FieldError.outOfRange(field: field, value: "\(v)", range: "0–\(T.max)") }
                return x
            }
            let token = try TokenIssuer.meterTest(subclass: try exact(try r.int("subclass"), "subclass"),
                                                  control: try exact(try r.int("control"), "control"),
                                                  manufacturerCode: try exact(r.optionalInt("manufacturer_code") ?? 0, "manufacturer code"))
            return writeIssued([token], id: id, out: &out)
        }
        let (meter, vendingKey) = try r.object("meter", cursor: meterCursor).meter(keys: keys)
        if tape.stringEquals(typeNode, "credit") {
            let issuer = try TokenIssuer(meter: meter, vendingKey: vendingKey, allowUnverified: allowUnverified)
            let name = try r.string("subclass")
            guard let kind = CreditKind(name: name) else {
                throw BatchError.badRequest("unknown credit subclass '\(name)' (electricity, water, gas, time, or one of them with -currency)")
            }
            let tid = try self.tid(r, meter: meter)
            let token: IssuedToken
            if kind.isCurrency {
                token = try issuer.currencyCredit(kind, units: DecimalQuantity.units(try r.string("amount"), scale: 5), tid: tid)
            } else if let units = try r.optionalInt("units") {
                guard units > 0 else { throw VendingError.zeroCredit }
                token = try issuer.credit(kind, units: UInt64(units), tid: tid, rnd: try rnd(r))
            } else {
                let units = try DecimalQuantity.units(try r.string("amount"), scale: 1)
                guard units > 0 else { throw VendingError.zeroCredit }
                guard units <= Int128(TransferAmount.maximumUnits) else {
                    throw FieldError.amountOutOfRange(value: try r.string("amount"), range: "at most 1820162.4")
                }
                token = try issuer.credit(kind, units: UInt64(units), tid: tid, rnd: try rnd(r))
            }
            writeIssued([token], id: id, out: &out)
        } else if tape.stringEquals(typeNode, "decode") {
            let decoder = try TokenDecoder(meter: meter, vendingKey: vendingKey, allowUnverified: allowUnverified)
            let decoded = try decoder.decode(try r.string("token"))
            out.begin()
            writeID(id, &out)
            out.field("ok", true)
            TokenJSON.write(decoded, baseDate: meter.baseDate, to: &out)
            out.end()
        } else if tape.stringEquals(typeNode, "key-change") {
            let issuer = try TokenIssuer(meter: meter, vendingKey: vendingKey, allowUnverified: allowUnverified)
            let (newMeter, newKey) = try r.object("new_meter").meter(keys: keys)
            var at: TokenIdentifier? = nil
            if let t = try r.optionalInt("tid") {
                guard (0...Int64(TokenIdentifier.maximum)).contains(t) else {
                    throw FieldError.outOfRange(field: "token identifier", value: "\(t)", range: "0–16777215 (24 bits)")
                }
                at = TokenIdentifier(field: UInt32(t))
            } else if r.has("issued_at") {
                at = try TokenIdentifier.forExpiryCheck(atUnixSeconds: CivilTime.parseISO8601(try r.string("issued_at")), baseDate: newMeter.baseDate)
            }
            let rollover: Bool
            switch tape.member(r.node, "rollover").map({ tape.kind($0) }) {
            case nil, .null?: rollover = false
            case .true?: rollover = true
            case .false?: rollover = false
            default: throw BatchError.badRequest("\"rollover\" must be true or false")
            }
            let count = try r.optionalInt("tokens")
            let tokens = try issuer.keyChange(
                to: newMeter, newVendingKey: newKey, rollover: rollover,
                tokenCount: count.map { Int(clamping: $0) }, at: at)
            writeIssued(tokens, id: id, out: &out)
        } else {
            let type = try r.string("type")
            guard let function = ManagementFunction(name: type) else {
                throw BatchError.badRequest("unknown request type '\(type)'")
            }
            let issuer = try TokenIssuer(meter: meter, vendingKey: vendingKey, allowUnverified: allowUnverified)
            let value = try r.optionalInt("value") ?? 0
            guard value >= 0 else { throw VendingError.invalidValue("\"value\" must not be negative") }
            let token = try issuer.management(function, value: UInt64(value), tid: try tid(r, meter: meter), rnd: try rnd(r))
            writeIssued([token], id: id, out: &out)
        }
    }

    func tid(_ r: RequestFields, meter: MeterProfile) throws -> TokenIdentifier {
        if let t = try r.optionalInt("tid") {
            guard t >= 0, t <= Int64(TokenIdentifier.maximum) else {
                throw FieldError.outOfRange(field: "token identifier", value: "\(t)", range: "0–16777215 (24 bits)")
            }
            return try TokenIdentifier(Int(t))
        }
        let seconds = r.has("issued_at") ? try CivilTime.parseISO8601(try r.string("issued_at")) : now()
        return try TokenIdentifier.forVending(atUnixSeconds: seconds, baseDate: meter.baseDate)
    }

    mutating func rnd(_ r: RequestFields) throws -> UInt8 {
        guard let v = try r.optionalInt("rnd") else { return UInt8.random(in: 0...15, using: &random) }
        guard (0...15).contains(v) else { throw FieldError.outOfRange(field: "rnd", value: "\(v)", range: "0–15") }
        return UInt8(v)
    }

    func writeIssued(_ tokens: [IssuedToken], id: UnsafeBufferPointer<UInt8>?, out: inout JSONLineWriter) {
        out.begin()
        writeID(id, &out)
        out.field("ok", true)
        out.tokenDigits("tokens", tokens.map(\.number))
        if let tid = tokens.first?.content.tid { out.field("tid", UInt64(tid.value)) }
        if let units = tokens.first?.encodedUnits { out.field("units", units) }
        if let units = tokens.first?.encodedCurrencyUnits {
            out.field("units", units)
            out.field("amount", DecimalQuantity.format(units, scale: 5))
        }
        // Plain key-change blocks hold the new decoder key: never written out.
        if case .keyChange = tokens.first?.content {} else { out.hexBlocks("data_blocks", tokens.map(\.dataBlock.rawValue)) }
        out.end()
    }
}
