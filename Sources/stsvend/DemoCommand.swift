import ArgumentParser
import Foundation
import STSBatch
import STSCrypto
import STSTokenFormat
import STSVending

/// The main job for a first run: derive a key, issue a credit token, decode it, show both.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Derive a decoder key, issue a credit token and decode it again (public test key).",
        discussion: "Uses the public STS 531-1 test vending key and meter 600727000000000009, so nothing secret is involved.")
    @Option(help: "kWh to sell.") var kwh: String = "25.5"
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            // The public compliance-test vending key (STS 531-1); never a production key.
            let vendingKey = try VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
            let meter = try MeterOptions.profile(pan: "600727000000000009", sgc: "201457", ti: 1, krn: 1, kt: 2, ken: 255,
                                                 baseDate: 2014, dkga: 4, ea: 7)
            let decoderKey = try meter.decoderKey(vendingKey: vendingKey)
            let issuer = try TokenIssuer(meter: meter, decoderKey: decoderKey)
            let units = try DecimalQuantity.units(kwh, scale: 1)
            guard units > 0, units <= Int128(TransferAmount.maximumUnits) else {
                throw FieldError.amountOutOfRange(value: kwh, range: "0.1 – 1820162.4 kWh")
            }
            let tid = try TokenIdentifierAllocator.next(atUnixSeconds: Int64(Date().timeIntervalSince1970), baseDate: meter.baseDate)
            let token = try issuer.credit(.electricity, units: UInt64(units), tid: tid, rnd: randomNibble())
            let decoded = try TokenDecoder(key: decoderKey, algorithm: meter.encryption).decode(token.number.digits)
            var w = JSONLineWriter()
            w.begin()
            TokenJSON.write(decoded, baseDate: meter.baseDate, to: &w)
            w.end()
            if output.json {
                printLine("{\"meter\":\"\(meter.pan)\",\"decoder_key_check_value\":\"\(decoderKey.checkValue)\",\"token\":\"\(token.number.digits)\",\"decoded\":\(String(decoding: w.bytes.dropLast(), as: UTF8.self))}")
                return
            }
            printLine("Meter         \(meter.pan)  (SGC \(meter.supplyGroup), TI \(meter.tariffIndex), KRN \(meter.revision), DKGA04, EA07, base date 2014)")
            printLine("Decoder key   derived with DKGA04; check value \(decoderKey.checkValue) (the key itself is never printed)")
            printLine("Credit token  \(token.number.grouped)   \(kwh) kWh asked, \(DecimalQuantity.format(Int128(token.encodedUnits!), scale: 1)) kWh encoded")
            printLine("Decoded       \(String(decoding: w.bytes.dropLast(), as: UTF8.self))")
        }
    }
}
