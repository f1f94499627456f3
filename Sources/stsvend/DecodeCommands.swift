#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import STSBatch
import STSCrypto
import STSTokenFormat
import STSVending

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Decode a 20-digit token into its fields with the meter's key.",
        discussion: "Class 1 (meter test) tokens need no key: give only the token. Errors: format, crc, unknown-class, unknown-subclass.")
    @Argument(help: "The token: 20 digits, spaces or hyphens between groups allowed.")
    var token: String
    @Option(help: "Meter PAN (with the other meter options, to derive the key).") var pan: String?
    @Option var sgc: String?
    @Option var ti: Int?
    @Option var krn: Int = 1
    @Option var kt: Int = 2
    @Option var ken: Int = 255
    @Option(name: .customLong("base-date")) var baseDate: Int?
    @Option var dkga: Int?
    @Option var ea: Int?
    @OptionGroup var key: KeyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let number = try TokenNumber(token)
            let decoded: DecodedToken
            var baseDateValue: BaseDate? = nil
            if number.tokenClass == .meterTest && key.vendingKeyFile == nil && key.decoderKeyFile == nil {
                decoded = try TokenDecoder.decodeMeterTest(number)
            } else if let pan, let sgc, let ti, let bd = baseDate, let dkga, let ea {
                let profile = try MeterOptions.profile(pan: pan, sgc: sgc, ti: ti, krn: krn, kt: kt, ken: ken, baseDate: bd, dkga: dkga, ea: ea)
                baseDateValue = profile.baseDate
                decoded = try TokenDecoder(key: key.decoderKey(for: profile), algorithm: profile.encryption,
                                           allowUnverified: key.allowUnverified).decode(number)
            } else if key.decoderKeyFile != nil, let ea {
                decoded = try TokenDecoder(key: key.decoderKey(for: placeholderMeter()), algorithm: EncryptionAlgorithm(code: ea),
                                           allowUnverified: key.allowUnverified).decode(number)
                baseDateValue = try baseDate.map { try BaseDate(year: $0) }
            } else {
                throw ValidationError("give the meter options (--pan --sgc --ti --base-date --dkga --ea, with --vending-key-file or --decoder-key-file), or --decoder-key-file with --ea")
            }
            var w = JSONLineWriter()
            w.begin()
            w.field("ok", true)
            w.field("token", number.digits)
            TokenJSON.write(decoded, baseDate: baseDateValue, to: &w)
            w.end()
            let line = String(decoding: w.bytes.dropLast(), as: UTF8.self)
            if output.json { printLine(line); return }
            guard case let .object(fields) = try JSON.parse(line) else { return }
            printLine("Token  \(number.grouped)")
            for (k, v) in fields.pairs where k != "ok" && k != "token" {
                let text: String
                switch v {
                case let .string(s): text = s
                case let .integer(i): text = "\(i)"
                case let .bool(b): text = b ? "yes" : "no"
                default: text = "\(v)"
                }
                printLine("  \(k.padding(toLength: 18, withPad: " ", startingAt: 0)) \(text)")
            }
        }
    }

    /// Decoding with a raw decoder key needs no meter identity; only the EA matters.
    func placeholderMeter() throws -> MeterProfile {
        MeterProfile(pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("000000"), tariffIndex: try TariffIndex(0),
                     revision: try KeyRevisionNumber(1), keyType: .unique, expiry: try KeyExpiryNumber(255), baseDate: .y1993,
                     derivation: .dkga02, encryption: try EncryptionAlgorithm(code: ea ?? 7))
    }
}

struct DeriveKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "derive-key", abstract: "Derive a meter's decoder key into a key file (mode 0600).",
        discussion: "The key is written only to --out, never printed; the output shows a check value (first 3 bytes of SHA-256 of the key) to compare keys without revealing them.")
    @OptionGroup var meter: MeterOptions
    @Option(name: .customLong("vending-key-file"), help: "File holding the vending key in hex (mode 0600), or '-' for stdin.")
    var vendingKeyFile: String
    @Option(help: "Where to write the decoder key (hex). Refuses to overwrite an existing file.")
    var out: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let profile = try meter.profile()
            let dk = try profile.decoderKey(vendingKey: SecretFile.key(vendingKeyFile) { try VendingKey(bytes: $0) })
            var key = dk.revealBytes()
            defer { wipe(&key) }
            try SecretFile.create(out, hexKey: key)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("ok", true); w.field("meter", profile.pan.description); w.field("bits", dk.bitCount)
                    w.field("check_value", dk.checkValue); w.field("file", out)
                })
            } else {
                printLine("Decoder key for \(profile.pan) (\(dk.bitCount)-bit) written to \(out); check value \(dk.checkValue)")
            }
        }
    }
}

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Vend from a JSON-lines request file (schema: Specs/batch.md).",
        discussion: """
        Each input line is one request; each gets one result line, in order. A bad line gets an \
        error line and the batch goes on. Results are written to OUT.partial and renamed to OUT \
        when complete. Exit 0 when every request succeeded, 2 when some failed, 1 when the batch \
        could not run.
        """)
    @Option(help: "JSON object of key names to hex vending keys (mode 0600).")
    var keys: String
    @Option(name: .customLong("in"), help: "Request file (JSON lines), or '-' for stdin.")
    var input: String
    @Option(help: "Result file (JSON lines).")
    var out: String
    @Flag(name: .customLong("allow-unverified-ea09"), help: "Allow EA09 (DES), which has no public test vector.")
    var allowUnverified = false
    @Flag(name: .customLong("no-progress"), help: "Do not show progress even on a terminal.")
    var noProgress = false

    func run() throws {
        var summary = BatchRunner.Summary()
        try runReporting {
            summary = try BatchRunner.run(keysPath: keys, inputPath: input, outputPath: out, allowUnverified: allowUnverified,
                                          showProgress: !noProgress && isatty(2) == 1,
                                          now: { Int64(Date().timeIntervalSince1970) })
        }
        if summary.failed > 0 {
            FileHandle.standardError.write(Data("\(summary.failed) of \(summary.total) requests failed (see \(out))\n".utf8))
            throw ExitCode(2)
        }
    }
}
