import STSTokenFormat
import STSVending

/// The JSON fields of issued and decoded tokens, shared by the batch results and `--json`.
public enum TokenJSON {
    /// Every field of a decoded token under its own name. Key bits of key-change tokens are
    /// never written.
    public static func write(_ d: DecodedToken, baseDate: BaseDate?, to w: inout JSONLineWriter) {
        w.field("class", Int(d.tokenClass.rawValue))
        w.field("subclass", Int(d.subclass))
        switch d.content {
        case let .transferCredit(c):
            w.field("type", "credit")
            w.field("credit_type", c.kind.description)
            writeTID(c.tid, baseDate, &w)
            w.field("units", c.amount.units)
            w.field("amount", DecimalQuantity.format(Int128(c.amount.units), scale: 1))
            w.field("rnd", Int(c.rnd))
        case let .currencyCredit(c):
            w.field("type", "credit")
            w.field("credit_type", c.kind.description)
            writeTID(c.tid, baseDate, &w)
            w.field("units", c.amount.units)
            w.field("amount", c.amount.decimalString)
            w.field("sign_exponent", Int(c.amount.signAndExponent))
        case let .management(m):
            w.field("type", m.function.description)
            writeTID(m.tid, baseDate, &w)
            w.field("value", Int(m.value))
            if let watts = m.watts { w.field("watts", watts) }
            w.field("rnd", Int(m.rnd))
        case let .meterTest(t):
            w.field("type", "meter-test")
            w.field("control", t.control)
            w.field("manufacturer_code", Int(t.manufacturerCode))
        case let .keyChange(k):
            w.field("type", k.subclass.description)
            switch k {
            case let .first(kenHigh, krn, ro, three, kt, _):
                w.field("ken_high", Int(kenHigh)); w.field("krn", Int(krn)); w.field("rollover", ro)
                w.field("three_token_set", three); w.field("kt", Int(kt))
            case let .second(kenLow, ti, _):
                w.field("ken_low", Int(kenLow)); w.field("ti", Int(ti))
            case let .supplyGroup(sgc):
                w.field("sgc", sgc.description)
            case let .third(sgcLow, _):
                w.field("sgc_low12", Int(sgcLow))
            case let .fourth(sgcHigh, _):
                w.field("sgc_high12", Int(sgcHigh))
            }
        }
        // A key-change block's CRC and bits are functions of the new key: neither is shown.
        if case .keyChange = d.content { return }
        w.field("crc", Hex.encode(UInt64(d.dataBlock.crc), digits: 4))
        w.field("data_block", d.dataBlock.hex)
    }

    /// The TID and, when the base date is known, the UTC minute it stands for.
    static func writeTID(_ tid: TokenIdentifier, _ baseDate: BaseDate?, _ w: inout JSONLineWriter) {
        w.field("tid", UInt64(tid.value))
        if let baseDate { w.field("issued_at", tid.time(baseDate: baseDate)) }
    }
}

extension JSONLineWriter {
    /// Token numbers as an array of 20-digit strings, written without intermediate strings.
    public mutating func tokenDigits(_ k: String, _ tokens: [TokenNumber]) {
        key(k)
        appendRaw("[")
        for (n, t) in tokens.enumerated() {
            appendRaw(n > 0 ? ",\"" : "\"")
            appendInPlace(count: 20) { t.writeDigits(to: $0) }
            appendRaw("\"")
        }
        appendRaw("]")
    }
}
