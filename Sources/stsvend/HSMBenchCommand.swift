import ArgumentParser
import Foundation
import STSHSM

/// `stsvend key bench-hsm`: decoder-key derivations through a PKCS#11 module.
struct HSMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-hsm",
        abstract: "Measure decoder-key derivations per second through a PKCS#11 module (one thread) beside the same in software.",
        discussion: "Stores two throw-away benchmark keys (labels bench-dkga04-…, bench-dkga02-…) on the token. Use a release build. The PIN is read from --hsm-pin-file (mode 0600), never an argument.")
    @Option(help: "The PKCS#11 module library (e.g. /usr/lib/softhsm/libsofthsm2.so).") var hsmModule: String
    @Option(help: "The token's label.") var hsmToken: String
    @Option(help: "File holding the token's user PIN (mode 0600).") var hsmPinFile: String
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds is 0…600") }
        do {
            let module = try PKCS11Module(path: hsmModule)
            let r = try ModuleDerivationBenchmark.run(session: try module.session(token: hsmToken, pinFile: hsmPinFile), seconds: seconds)
            if output.json {
                printLine(#"{"module_dkga04_per_second":\#(Int(r.modulePerSecond)),"module_des_per_second":\#(Int(r.moduleDESPerSecond)),"software_dkga04_per_second":\#(Int(r.softwarePerSecond)),"p50_us":\#(String(format: "%.1f", r.p50)),"p99_us":\#(String(format: "%.1f", r.p99))}"#)
            } else {
                printLine("DKGA04 in the module: \(Int(r.modulePerSecond)) derivations/s (p50 \(String(format: "%.1f", r.p50)) µs, p99 \(String(format: "%.1f", r.p99)) µs)")
                printLine("DES (DKGA02's part) in the module: \(Int(r.moduleDESPerSecond))/s")
                printLine("DKGA04 in software: \(Int(r.softwarePerSecond)) derivations/s")
            }
        } catch let e as PKCS11Error {
            FileHandle.standardError.write(Data("error: [\(e.code)] \(e)\n".utf8))
            throw ExitCode(6)
        }
    }
}
