import ArgumentParser
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import STSMeterSimulator
import STSSupport

/// `stsvend sim dlms-keys`: gives a simulated meter its DLMS identity and keys.
struct SimDLMSKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlms-keys",
        abstract: "Give the meter a DLMS/COSEM system title and suite 0 keys; write the head-end's copy to --out (0600).",
        discussion: "Creates STATE.dlms beside the state file (refuses to replace one). The keys file is what 'stsvend meter connect' and third-party clients read.")
    @OptionGroup var stateOption: StateOption
    @Option(help: "Where to write the head-end's keys (JSON, mode 0600; refuses to overwrite).") var out: String

    func run() throws {
        try runReporting {
            _ = try StateFile.load(stateOption.state)
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists: choose another --out") }
            let keys = try DLMSMeter.setUp(statePath: stateOption.state)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do { try OwnerOnlyFile.create(out, contents: Array(try encoder.encode(keys)) + [0x0A]) } catch {
                // Without the head-end's copy the meter's keys are useless: start again.
                unlink(stateOption.state + ".dlms")
                throw error
            }
            printLine("DLMS keys set for \(stateOption.state); head-end keys in \(out) (system title \(keys.server_system_title))")
        }
    }
}

/// `stsvend sim serve`: the meter as a DLMS/COSEM server on TCP (IEC 62056-4-7 wrapper).
struct SimServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the meter over DLMS/COSEM (TCP wrapper): public client SAP 16, management client SAP 1 (HLS-GMAC, suite 0).",
        discussion: """
        Prints 'dlms listening on HOST:PORT' when ready; runs until SIGTERM or SIGINT. With --load-watts the meter \
        draws that load in real time, so credit, the energy register and the 15-minute load profile move. \
        Every object is listed in Specs/dlms.md.
        """)
    @OptionGroup var stateOption: StateOption
    @Option(name: .customLong("dlms-listen"), help: "HOST:PORT to listen on (port 0: a free one).") var dlmsListen = "127.0.0.1:4059"
    @Option(help: "The load the meter draws, in watts.") var loadWatts: Int64 = 0
    @Option(help: "How often (seconds) consumption is applied and saved.") var tick: Int64 = 10

    func validate() throws {
        guard (try? ListenAddress(dlmsListen)) != nil else { throw ValidationError("--dlms-listen takes HOST:PORT, e.g. 127.0.0.1:4059 (port 0: a free one)") }
        guard (1...3600).contains(tick) else { throw ValidationError("--tick takes 1 to 3600 seconds") }
        guard (0...1_000_000).contains(loadWatts) else { throw ValidationError("--load-watts takes 0 to 1000000") }
    }

    func run() throws {
        try runReporting {
            let address = try ListenAddress(dlmsListen)
            let meter = try DLMSMeter(statePath: stateOption.state)
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let channel = try BlockingTask.run { try await DLMSListener.start(meter, host: address.host, port: address.port, group: group) }
            printLine("dlms listening on \(address.host):\(channel.localAddress?.port ?? address.port)")
            let load = loadWatts, step = tick
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "sim.tick"))
            timer.schedule(deadline: .now() + .seconds(Int(step)), repeating: .seconds(Int(step)))
            timer.setEventHandler { try? meter.advance(seconds: step, loadWatts: load) }
            timer.resume()
            waitForTermination()
            timer.cancel()
            try? channel.close().wait()
            try? group.syncShutdownGracefully()
        }
    }
}

/// Blocks until SIGTERM or SIGINT.
func waitForTermination() {
    let done = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for s in [SIGTERM, SIGINT] {
        signal(s, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
        source.setEventHandler { done.signal() }
        source.resume()
        sources.append(source)
    }
    done.wait()
    sources.forEach { $0.cancel() }
}

