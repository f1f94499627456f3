import ArgumentParser

/// `stsvend`: STS prepaid token vending from the command line.
@main
struct Stsvend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stsvend",
        abstract: "Issue, decode and check STS (IEC 62055-41) prepaid meter tokens.",
        discussion: """
        Keys are read only from files (mode 0600; others are refused) or standard input ('-'), \
        never from arguments or the environment.

        Exit codes: 0 success; 1 the request was refused (the reason is printed on stderr as \
        'error: [code] message'); 2 a batch finished but some requests failed; 64 a usage error.
        """,
        version: "0.1.0",
        subcommands: [StationCommand.self, StationKeyCommand.self, TariffCommand.self, SellCommand.self, SellBatchCommand.self, ReprintCommand.self,
                      ReverseCommand.self, TenantCommand.self, EngineeringCommand.self, CampaignCommand.self, ReportCommand.self, AuditCommand.self,
                      TokenCommand.self, SimCommand.self, MeterCommand.self, CardCommand.self, POSCommand.self, ServeCommand.self,
                      TopLevelAlias<DemoCommand>.self, TopLevelAlias<BenchCommand>.self]
    )
}

/// `stsvend token …`: one command per thing an operator does with tokens.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue and decode tokens.",
        subcommands: [CreditCommand.self, ManagementCommand.self, KeyChangeCommand.self, MeterTestCommand.self,
                      DecodeCommand.self, DeriveKeyCommand.self, BatchCommand.self, DemoCommand.self, BenchCommand.self]
    )
}

/// A command under its old top-level name (`stsvend demo` for `stsvend token demo`): not listed.
struct TopLevelAlias<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Command.configuration.commandName, abstract: "Same as 'stsvend token \(Command.configuration.commandName ?? "")'.",
                             shouldDisplay: false)
    }
    @OptionGroup var command: Command
    mutating func run() throws { try command.run() }
}
