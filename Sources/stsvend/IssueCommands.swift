import ArgumentParser
import STSBatch
import STSCrypto
import STSTokenFormat
import STSVending

/// Prints issued tokens: grouped digits for people, plain digits in JSON.
func report(_ tokens: [IssuedToken], meter: MeterProfile?, json: Bool, extra: [String: String] = [:]) {
    if json {
        var w = JSONLineWriter()
        w.begin()
        w.field("ok", true)
        w.field("tokens", tokens.map(\.number.digits))
        if let meter { w.field("meter", meter.pan.description) }
        if let tid = tokens.first?.content.tid {
            w.field("tid", UInt64(tid.value))
            if let meter { w.field("issued_at", tid.time(baseDate: meter.baseDate)) }
        }
        if let units = tokens.first?.encodedUnits { w.field("units", units) }
        if let units = tokens.first?.encodedCurrencyUnits {
            w.field("units", units)
            w.field("amount", DecimalQuantity.format(units, scale: 5))
        }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
        w.end()
        printLine(String(decoding: w.bytes.dropLast(), as: UTF8.self))
        return
    }
    for (n, t) in tokens.enumerated() {
        printLine(tokens.count > 1 ? "Token \(n + 1)/\(tokens.count)  \(t.number.grouped)" : "Token  \(t.number.grouped)")
    }
    if let meter { printLine("Meter  \(meter.pan)") }
    if let tid = tokens.first?.content.tid, let meter { printLine("TID    \(tid.value) (\(tid.time(baseDate: meter.baseDate)))") }
    for (k, v) in extra.sorted(by: { $0.key < $1.key }) {
        let label = (k.prefix(1).uppercased() + k.dropFirst()).replacingOccurrences(of: "_", with: " ")
        printLine("\(label)  \(v)")
    }
}

struct CreditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit", abstract: "Issue a credit token (class 0).",
        discussion: """
        Give --units (tenths of kWh, kl, m³ or minutes) or --amount (a decimal in main units: kWh, \
        or money for the -currency subclasses). Amounts that cannot be encoded exactly are rounded \
        up; the output shows the amount actually encoded.
        """)
    @OptionGroup var meter: MeterOptions
    @OptionGroup var key: KeyOptions
    @OptionGroup var time: TimeOptions
    @Option(help: "electricity, water, gas, time, electricity-currency, water-currency, gas-currency, time-currency.")
    var subclass: String = "electricity"
    @Option(help: "Credit in transfer units (tenths of the main unit).")
    var units: UInt64?
    @Option(help: "Credit as a decimal in main units (kWh, kl, m³, minutes) or currency.")
    var amount: String?
    @Option(help: "The 4-bit random number, 0–15 (default: random).")
    var rnd: UInt8?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            guard let kind = CreditKind(name: subclass) else { throw ValidationError("unknown --subclass '\(subclass)'") }
            guard (units == nil) != (amount == nil) else { throw ValidationError("give exactly one of --units and --amount") }
            if let rnd, rnd > 15 { throw ValidationError("--rnd must be 0–15") }
            let profile = try meter.profile()
            let tid = try time.tid(baseDate: profile.baseDate)
            let issuer = try key.issuer(for: profile)
            let token: IssuedToken
            var extra: [String: String] = ["credit": kind.description]
            if kind.isCurrency {
                guard let amount else { throw ValidationError("currency credit takes --amount") }
                token = try issuer.currencyCredit(kind, units: DecimalQuantity.units(amount, scale: 5), tid: tid)
                extra["asked"] = amount
            } else {
                let asked: UInt64
                if let units { asked = units } else {
                    let u = try DecimalQuantity.units(amount!, scale: 1)
                    guard u > 0, u <= Int128(TransferAmount.maximumUnits) else {
                        throw FieldError.amountOutOfRange(value: amount!, range: "0.1 – 1820162.4")
                    }
                    asked = UInt64(u)
                }
                token = try issuer.credit(kind, units: asked, tid: tid, rnd: rnd ?? randomNibble())
                extra["asked"] = "\(asked) units"
                if !output.json { extra["encoded"] = "\(token.encodedUnits!) units of \(kind.unitName)" }
            }
            report([token], meter: profile, json: output.json, extra: extra)
        }
    }
}

struct ManagementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "management", abstract: "Issue a meter management token (class 2).",
        discussion: """
        Functions and their --value: set-max-power-limit and set-max-phase-unbalance (watts, rounded \
        up to the next encodable value), clear-credit (register 0–7, or 65535 for all), clear-tamper \
        (none), set-tariff-rate and set-water-meter-factor (the raw 16-bit value).
        """)
    @OptionGroup var meter: MeterOptions
    @OptionGroup var key: KeyOptions
    @OptionGroup var time: TimeOptions
    @Option(help: "set-max-power-limit, clear-credit, set-tariff-rate, clear-tamper, set-max-phase-unbalance, set-water-meter-factor.")
    var function: String
    @Option(help: "The function's value (see above).")
    var value: UInt64 = 0
    @Option(help: "The 4-bit random number, 0–15 (default: random).")
    var rnd: UInt8?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            guard let f = ManagementFunction(name: function) else { throw ValidationError("unknown --function '\(function)'") }
            if let rnd, rnd > 15 { throw ValidationError("--rnd must be 0–15") }
            let profile = try meter.profile()
            let token = try key.issuer(for: profile).management(f, value: value, tid: time.tid(baseDate: profile.baseDate), rnd: rnd ?? randomNibble())
            var extra = ["function": f.description]
            if let watts = token.encodedUnits { extra["watts"] = "\(watts)" }
            report([token], meter: profile, json: output.json, extra: extra)
        }
    }
}

struct KeyChangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-change", abstract: "Issue the key-change token set that moves a meter to a new key.",
        discussion: """
        The meter options describe the key the meter holds now; the --new-* options the key to \
        load (each defaults to the current value). A base date change needs --rollover.
        """)
    @OptionGroup var meter: MeterOptions
    @OptionGroup var key: KeyOptions
    @Option(name: .customLong("new-vending-key-file"), help: "File with the new key's vending key (default: the current one).")
    var newVendingKeyFile: String?
    @Option(name: .customLong("new-sgc")) var newSGC: String?
    @Option(name: .customLong("new-ti")) var newTI: Int?
    @Option(name: .customLong("new-krn")) var newKRN: Int?
    @Option(name: .customLong("new-kt")) var newKT: Int?
    @Option(name: .customLong("new-ken")) var newKEN: Int?
    @Option(name: .customLong("new-base-date")) var newBaseDate: Int?
    @Option(name: .customLong("new-dkga")) var newDKGA: Int?
    @Option(name: .customLong("new-ea")) var newEA: Int?
    @Flag(help: "Set the rollover bit: the meter clears its TID memory (required for a base date change).")
    var rollover = false
    @Option(help: "Number of tokens: 2 or 3 for 64-bit keys, 4 for 128-bit keys (default 2 or 4).")
    var tokens: Int?
    @Option(name: .customLong("issued-at"), help: "Issue time (ISO 8601); the new key must not be expired then.")
    var issuedAt: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let current = try meter.profile()
            var new = current
            if let newSGC { new.supplyGroup = try SupplyGroupCode(newSGC) }
            if let newTI { new.tariffIndex = try TariffIndex(newTI) }
            if let newKRN { new.revision = try KeyRevisionNumber(newKRN) }
            if let newKT { new.keyType = try KeyType(newKT) }
            if let newKEN { new.expiry = try KeyExpiryNumber(newKEN) }
            if let newBaseDate { new.baseDate = try BaseDate(year: newBaseDate) }
            if let newDKGA { new.derivation = try KeyDerivationAlgorithm(code: newDKGA) }
            if let newEA { new.encryption = try EncryptionAlgorithm(code: newEA) }
            guard key.vendingKeyFile == nil || key.decoderKeyFile == nil else {
                throw ValidationError("give exactly one of --vending-key-file and --decoder-key-file")
            }
            // Standard input can be read once: the current vending key is read a single time.
            let currentVendingKey = key.vendingKeyFile != nil ? try key.vendingKey() : nil
            let issuer = try currentVendingKey.map {
                try TokenIssuer(meter: current, vendingKey: $0, allowUnverified: key.allowUnverified)
            } ?? key.issuer(for: current)
            let newKey: VendingKey
            if let path = newVendingKeyFile {
                newKey = try SecretFile.key(path) { try VendingKey(bytes: $0) }
            } else if let currentVendingKey {
                newKey = currentVendingKey
            } else {
                throw ValidationError("give --new-vending-key-file (the new key is derived from a vending key)")
            }
            let at = try issuedAt.map { try TokenIdentifier.forExpiryCheck(atUnixSeconds: CivilTime.parseISO8601($0), baseDate: new.baseDate) }
            let set = try issuer.keyChange(to: new, newVendingKey: newKey, rollover: rollover, tokenCount: tokens, at: at)
            report(set, meter: current, json: output.json,
                   extra: ["new_key": "KRN \(new.revision) KT \(new.keyType.rawValue) TI \(new.tariffIndex) SGC \(new.supplyGroup) KEN \(new.expiry) base date \(new.baseDate) EA\(new.encryption)"])
        }
    }
}

struct MeterTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meter-test", abstract: "Issue a meter test/display token (class 1, not encrypted, no key).")
    @Option(help: "0 for 2-digit manufacturer codes (36 control bits), 1 for 4-digit codes (28 control bits).")
    var subclass: UInt8 = 0
    @Option(help: "The control bits (which tests/displays; manufacturer-defined).")
    var control: UInt64
    @Option(name: .customLong("manufacturer-code"), help: "Manufacturer code (from the DRN).")
    var manufacturerCode: UInt16 = 0
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let token = try TokenIssuer.meterTest(subclass: subclass, control: control, manufacturerCode: manufacturerCode)
            report([token], meter: nil, json: output.json)
        }
    }
}
