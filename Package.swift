// swift-tools-version:6.1
// The STS (IEC 62055-41) prepaid-metering toolkit.
//
// Arrows point one way:
//   STSTokenFormat (pure values, 66-bit codec)  <-  STSCrypto (ciphers, key derivation)
//   <-  STSVending (issue and verify tokens)  <-  STSBatch (JSON-lines bulk vending)
//   <-  STSBenchmark (measurements)  <-  stsvend (CLI)
//   STSTariff (pure pricing)  <-  STSStation (store, people, selling)  ->  STSAuditLog (hash chain, verifier)
import PackageDescription

let package = Package(
    name: "sts-toolkit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "STSTokenFormat", targets: ["STSTokenFormat"]),
        .library(name: "STSCrypto", targets: ["STSCrypto"]),
        .library(name: "STSVending", targets: ["STSVending"]),
        .library(name: "STSSupport", targets: ["STSSupport"]),
        .library(name: "STSBatch", targets: ["STSBatch"]),
        .library(name: "STSMeter", targets: ["STSMeter"]),
        .library(name: "STSDLMS", targets: ["STSDLMS"]),
        .library(name: "STSHeadEnd", targets: ["STSHeadEnd"]),
        .library(name: "STSNotify", targets: ["STSNotify"]),
        .library(name: "STSCard", targets: ["STSCard"]),
        .library(name: "STSTariff", targets: ["STSTariff"]),
        .library(name: "STSAuditLog", targets: ["STSAuditLog"]),
        .library(name: "STSStation", targets: ["STSStation"]),
        .library(name: "STSConsole", targets: ["STSConsole"]),
        .library(name: "STSServer", targets: ["STSServer"]),
        .executable(name: "stsvend", targets: ["stsvend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // `swift package generate-documentation`: the DocC catalogs in Sources/*/*.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The station server (HTTP/1.1, TLS, graceful shutdown) and its in-process test client.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // The HTTP load generator of `stsvend station bench-http` (keep-alive clients).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The station's PostgreSQL store (many stations, one database).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // OpenSSL's libcrypto (DES for DKGA02 and EA09), found through pkg-config, never vendored.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // PKCS#11 (hardware security modules), p11-kit's header through pkg-config; the module is loaded at run time.
        .systemLibrary(
            name: "CPKCS11",
            pkgConfig: "p11-kit-1",
            providers: [.apt(["libp11-kit-dev"])]
        ),
        // pcsc-lite (PC/SC smart-card readers), found through pkg-config, never vendored.
        .systemLibrary(
            name: "CPCSCLite",
            pkgConfig: "libpcsclite",
            providers: [.apt(["libpcsclite-dev"])]
        ),
        .target(name: "STSTokenFormat", dependencies: ["STSSupport"]),
        // The bottom of the house: strict JSON (RFC 8259: a tape reader for high-volume lines, a tree
        // for small files, a line writer), one Hex, owner-only files, the coded-error protocol.
        .target(name: "STSSupport"),
        .target(
            name: "STSCrypto",
            dependencies: [
                "STSTokenFormat",
                "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "STSVending", dependencies: ["STSTokenFormat", "STSCrypto"]),
        .target(name: "STSBatch", dependencies: ["STSSupport", "STSTokenFormat", "STSCrypto", "STSVending"]),
        // IC cards for card-type meters: APDUs, card records, per-card keys, the card application,
        // the sales journal (it issues the credit tokens it writes: STSVending).
        .target(
            name: "STSCard",
            dependencies: ["STSTokenFormat", "STSCrypto", "STSVending", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")]
        ),
        // PC/SC readers: context, reader selection, transmit, errors, APDU trace.
        // Vending keys in a hardware security module over PKCS#11: sessions, PIN login, objects, derivation inside the module.
        .target(name: "STSHSM", dependencies: ["CPKCS11", "STSCrypto", "STSTokenFormat", "STSSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "STSPCSC", dependencies: ["CPCSCLite", "STSCard", "STSTokenFormat"]),
        // Our card application as a virtual card behind vsmartcard's vpcd (tests, demos).
        .target(name: "STSCardEmulator", dependencies: ["STSCard", "STSTokenFormat", .product(name: "Crypto", package: "swift-crypto")]),
        // The meter side: applies tokens to a meter's state (no I/O).
        .target(name: "STSMeter", dependencies: ["STSTokenFormat", "STSCrypto"]),
        // DLMS/COSEM (IEC 62056): wrapper frames, A-XDR, AARQ/AARE, suite 0 ciphering, GET/SET/ACTION,
        // the meter's and the head-end's sessions as I/O-free state machines.
        .target(name: "STSDLMS", dependencies: ["COpenSSL"]),
        // The head-end: talks DLMS/COSEM to connected meters (delivery, readings, remote switching).
        .target(name: "STSHeadEnd", dependencies: ["STSDLMS", "STSStation", "STSSupport", "STSTokenFormat"]),
        // Alerts to people: signed webhooks, email over SMTP, an SMS gateway by HTTP template.
        .target(name: "STSNotify", dependencies: ["STSStation", "STSSupport",
                                                  .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                  .product(name: "NIOCore", package: "swift-nio"),
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // A meter on a desk: persistent state file, consumption, keypad.
        .target(
            name: "STSMeterSimulator",
            dependencies: ["STSTokenFormat", "STSCrypto", "STSMeter", "STSCard", "STSTariff", "STSDLMS", "STSSupport",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // Prices: money in, deductions in a fixed order, units out (no I/O).
        .target(name: "STSTariff", dependencies: ["STSTokenFormat"]),
        // The station's tamper-evident log: entry lines, hash chain, signed checkpoints, offline verifier.
        .target(
            name: "STSAuditLog",
            dependencies: ["STSTokenFormat", "STSCrypto", "STSVending", "STSBatch", "STSTariff",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The vending station: SQLite store, users and second factor, keys at rest, sales, campaigns, reports.
        .target(
            name: "STSStation",
            dependencies: ["STSTokenFormat", "STSCrypto", "STSVending", "STSBatch", "STSTariff", "STSAuditLog", "STSCard",
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")]
        ),
        // The operator console's pages: HTML templates, EN / 简体中文 catalogs, SVG charts (no I/O).
        // The Electrum Prepaid Utility Service Interface v3: its messages read and written, I/O-free.
        .target(name: "STSPrepaidUtility", dependencies: ["STSStation", "STSSupport", "STSTariff", "STSTokenFormat"]),
        .target(name: "STSConsole", dependencies: ["STSStation", "STSSupport", "STSTokenFormat", "STSTariff"],
                resources: [.copy("Catalogs")]),
        // The station as a service: /api/v1 (OpenAPI 3.1), sessions, group-committed sales, the console.
        .target(
            name: "STSServer",
            dependencies: ["STSStation", "STSConsole", "STSSupport", "STSTokenFormat", "STSTariff", "STSAuditLog", "STSHeadEnd", "STSDLMS", "STSNotify",
                           "STSPrepaidUtility",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("OpenAPI")]
        ),
        // Durable sales over HTTP, measured with keep-alive clients against an in-process server.
        .target(name: "STSServerBenchmark", dependencies: ["STSServer", "STSBenchmark", "STSStation", "STSTariff",
                                                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                           .product(name: "NIOCore", package: "swift-nio")]),
        // The head-end against a simulated fleet: reading, delivery and switching rounds.
        .target(name: "STSHeadEndBenchmark", dependencies: ["STSHeadEnd", "STSMeterSimulator", "STSStation", "STSDLMS", "STSCrypto", "STSMeter",
                                                            "STSTariff", "STSTokenFormat", "STSSupport"]),
        // Throughput and latency measurements behind `stsvend bench`.
        .target(name: "STSBenchmark", dependencies: ["STSTokenFormat", "STSCrypto", "STSVending", "STSSupport", "STSBatch", "STSMeter", "STSMeterSimulator", "STSStation", "STSAuditLog", "STSTariff", "STSCard", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "stsvend",
            dependencies: [
                "STSTokenFormat", "STSCrypto", "STSVending", "STSBatch", "STSBenchmark", "STSMeter", "STSMeterSimulator",
                "STSHSM", "STSPrepaidUtility", "STSCard", "STSPCSC", "STSCardEmulator", "STSTariff", "STSAuditLog", "STSStation", "STSServer", "STSServerBenchmark",
                "STSDLMS", "STSSupport", "STSHeadEnd", "STSNotify", "STSHeadEndBenchmark",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The parsers of untrusted input as fuzz targets (libFuzzer and a property harness).
        .target(name: "STSFuzzTargets", dependencies: ["STSPrepaidUtility", "STSTokenFormat", "STSCrypto", "STSVending", "STSBatch", "STSAuditLog", "STSMeter", "STSTariff",
                                                       "STSMeterSimulator", "STSCard", "STSCardEmulator", "STSDLMS",
                                                       .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "stsfuzz", dependencies: ["STSFuzzTargets"]),
        // Loads Fixtures/ for the table tests.
        .target(name: "STSTestFixtures", path: "Tests/STSTestFixtures"),
        .testTarget(name: "STSTokenFormatTests", dependencies: ["STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSHSMTests", dependencies: ["STSHSM", "CPKCS11", "STSCrypto", "STSTokenFormat", "STSTestFixtures",
                                                        .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "STSCryptoTests", dependencies: ["STSCrypto", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSVendingTests", dependencies: ["STSVending", "STSCrypto", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSJSONTests", dependencies: ["STSSupport", "STSTestFixtures"]),
        .testTarget(name: "STSBatchTests", dependencies: ["STSBatch", "STSSupport", "STSVending", "STSCrypto", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSMeterTests", dependencies: ["STSMeter", "STSMeterSimulator", "STSTariff", "STSVending", "STSCrypto", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSCardTests", dependencies: ["STSCard", "STSMeterSimulator", "STSMeter", "STSVending", "STSCrypto", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSDLMSTests", dependencies: ["STSDLMS", "STSTestFixtures"]),
        .testTarget(name: "STSTariffTests", dependencies: ["STSTariff", "STSTokenFormat", "STSTestFixtures"]),
        .testTarget(name: "STSAuditLogTests", dependencies: ["STSAuditLog", "STSBatch", "STSTariff", "STSVending", "STSCrypto", "STSTokenFormat",
                                                              .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "STSStationTests", dependencies: ["STSStation", "STSCard", "STSMeterSimulator", "STSAuditLog", "STSTariff", "STSMeter", "STSVending", "STSCrypto", "STSTokenFormat", "STSBatch", "STSTestFixtures",
                                                             .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "STSServerTests", dependencies: ["STSServer", "STSConsole", "STSPrepaidUtility", "STSStation", "STSSupport", "STSMeter", "STSMeterSimulator",
                                                            "STSTokenFormat", "STSCrypto", "STSVending", "STSTariff", "STSAuditLog", "STSTestFixtures",
                                                            "STSDLMS", "STSHeadEnd",
                                                            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                            .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "STSFuzzTargetsTests", dependencies: ["STSFuzzTargets", "STSTestFixtures"]),
        .testTarget(name: "stsvendTests", dependencies: ["STSTestFixtures", "STSStation", "STSTariff", "STSTokenFormat", "STSVending", "STSMeter", "STSCrypto",
                                                          .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                          .product(name: "GRDB", package: "GRDB.swift"),
                                                          .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
