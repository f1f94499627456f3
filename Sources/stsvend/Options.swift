import ArgumentParser
import Foundation
import STSBatch
import STSCrypto
import STSMeter
import STSTokenFormat
import STSVending

/// The meter and its key attributes (the decoder key derivation inputs, plus KEN).
struct MeterOptions: ParsableArguments {
    @Option(help: "Meter PAN: 18 digits (or the 11/13-digit meter number, completed with the standard IIN).")
    var pan: String
    @Option(help: "Supply group code, 6 digits.")
    var sgc: String
    @Option(help: "Tariff index, 0–99.")
    var ti: Int
    @Option(help: "Key revision number, 1–15 (1–9 with DKGA04; Specs/tokens.md).")
    var krn: Int = 1
    @Option(help: "Key type: 0 DITK, 1 DDTK, 2 DUTK, 3 DCTK.")
    var kt: Int = 2
    @Option(help: "Key expiry number, 0–255 (255: no expiry).")
    var ken: Int = 255
    @Option(name: .customLong("base-date"), help: "Base date year of the key: 1993, 2014 or 2035.")
    var baseDate: Int
    @Option(help: "Decoder key generation algorithm: 2 (DKGA02) or 4 (DKGA04).")
    var dkga: Int
    @Option(help: "Encryption algorithm: 7 (STA), 11 (MISTY1), or 9 (DES, needs --allow-unverified-ea09).")
    var ea: Int

    func profile() throws -> MeterProfile {
        try Self.profile(pan: pan, sgc: sgc, ti: ti, krn: krn, kt: kt, ken: ken, baseDate: baseDate, dkga: dkga, ea: ea)
    }

    static func profile(pan: String, sgc: String, ti: Int, krn: Int, kt: Int, ken: Int, baseDate: Int, dkga: Int, ea: Int) throws -> MeterProfile {
        MeterProfile(
            pan: try MeterPAN(meterNumber: pan), supplyGroup: try SupplyGroupCode(sgc), tariffIndex: try TariffIndex(ti),
            revision: try KeyRevisionNumber(krn), keyType: try KeyType(kt), expiry: try KeyExpiryNumber(ken),
            baseDate: try BaseDate(year: baseDate), derivation: try KeyDerivationAlgorithm(code: dkga),
            encryption: try EncryptionAlgorithm(code: ea))
    }
}

/// Where the key comes from: a vending key (the decoder key is derived) or a decoder key.
struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("vending-key-file"), help: "File holding the vending key in hex (mode 0600), or '-' for stdin.")
    var vendingKeyFile: String?
    @Option(name: .customLong("decoder-key-file"), help: "File holding the meter's decoder key in hex (mode 0600), or '-' for stdin.")
    var decoderKeyFile: String?
    @Flag(name: .customLong("allow-unverified-ea09"), help: "Allow EA09 (DES), which has no public test vector.")
    var allowUnverified = false

    func vendingKey() throws -> VendingKey {
        guard let path = vendingKeyFile else { throw ValidationError("--vending-key-file is required here") }
        return try SecretFile.key(path) { try VendingKey(bytes: $0) }
    }

    func decoderKey(for meter: MeterProfile) throws -> DecoderKey {
        switch (vendingKeyFile, decoderKeyFile) {
        case (_?, nil): return try meter.decoderKey(vendingKey: vendingKey())
        case (nil, let path?):
            return try SecretFile.key(path) { try DecoderKey(bytes: $0) }
        default: throw ValidationError("give exactly one of --vending-key-file and --decoder-key-file")
        }
    }

    func issuer(for meter: MeterProfile) throws -> TokenIssuer {
        try TokenIssuer(meter: meter, decoderKey: decoderKey(for: meter), allowUnverified: allowUnverified)
    }
}

/// When the token is issued: an explicit TID or a time (default: now).
struct TimeOptions: ParsableArguments {
    @Option(help: "Token identifier (minutes since the base date), 0–16777215.")
    var tid: Int?
    @Option(name: .customLong("issued-at"), help: "Issue time, ISO 8601 with zone (e.g. 2024-01-01T10:00:00Z). Default: now.")
    var issuedAt: String?
    @Option(help: "TIDs already issued to this meter (comma-separated): the token gets the next free one.")
    var issued: String?

    func tid(baseDate: BaseDate) throws -> TokenIdentifier {
        if let tid {
            guard issuedAt == nil, issued == nil else { throw ValidationError("--tid fixes the TID: give --issued-at and --issued only without it") }
            return try TokenIdentifier(tid)
        }
        let seconds = try issuedAt.map { try CivilTime.parseISO8601($0) } ?? Int64(Date().timeIntervalSince1970)
        let previous = try (issued ?? "").split(separator: ",").map { part -> TokenIdentifier in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--issued must list TIDs as integers") }
            return try TokenIdentifier(v)
        }
        return try TokenIdentifierAllocator.next(atUnixSeconds: seconds, baseDate: baseDate, after: previous)
    }

    var given: Bool { tid != nil || issuedAt != nil }
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Machine-readable JSON on stdout.")
    var json = false
}

/// STSVEND_NOW: a fixed clock (Unix seconds) for the meter simulator, scripted tests and test
/// stations, bounded to the times a meter accepts so no later sum can overflow.
enum ClockOverride {
    static func value() throws -> Int64? {
        guard let text = ProcessInfo.processInfo.environment["STSVEND_NOW"] else { return nil }
        guard let v = Int64(text), MeterClock.range.contains(v) else {
            throw ValidationError("STSVEND_NOW must be whole seconds since 1970, from 0 to 253402300799 (the end of year 9999), not '\(text.prefix(40))'")
        }
        return v
    }
}

/// A usage error found while running (conflicting options, a malformed amount): one line in
/// the user's words and a pointer to the command's own help, exit 64.
func usageFailure(_ message: String) -> ExitCode {
    let words = CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.prefix(2)
    FileHandle.standardError.write(Data("error: \(message)\nSee 'stsvend \(words.joined(separator: " ")) --help'.\n".utf8))
    return ExitCode(64)
}

/// Prints a typed error the documented way and exits 1.
func fail(_ error: Error) -> ExitCode {
    let code = (error as? CodedError)?.code ?? "error"
    FileHandle.standardError.write(Data("error: [\(code)] \(error)\n".utf8))
    return ExitCode(1)
}

/// Runs `body`, turning domain errors into exit code 1 with a message on stderr.
func runReporting(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ValidationError { throw usageFailure(e.message) } catch let e as ExitCode { throw e } catch { throw fail(error) }
}

func printLine(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

func randomNibble() -> UInt8 { UInt8.random(in: 0...15) }
