// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lookout",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lookout", targets: ["Exporter"]),
    ],
    // Exact versions, so that every clone builds what CI built. Package.resolved stays out of git:
    // the machines' package mirror gives revision ids of its own that would not resolve elsewhere.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    ],
    targets: [
        // The only C interop, installed by scripts/bootstrap: libsystemd's headers plus the SIGBUS
        // handler a journal reader needs (C, because a signal handler must be async-signal-safe),
        // libcurl's, imported only by the Curl target below, zlib, libcrypt for the bcrypt hashes of
        // --web.config.file, and the glibc headers Swift's Glibc module leaves out (CGlibcExtras:
        // malloc.h, sys/vfs.h). libsystemd and libcurl are loaded with dlopen(3) on first use
        // (CSystemd/lazy_systemd.c, CCurl/lazy_curl.c), so a daemon that reads no journal, ships
        // nothing, notifies no Alertmanager and asks no hypervisor socket maps neither them nor
        // the libraries they pull in.
        .target(name: "CSystemd"),
        .target(name: "CCurl"),
        .systemLibrary(
            name: "CCrypt", pkgConfig: "libcrypt",
            providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGlibcExtras"),

        // The core, one module per concept under Sources/Pipeline; each imports only modules
        // listed above it (README, Layout).
        .target(name: "LookoutSupport", path: "Sources/Pipeline/Support"),
        .target(
            name: "MetricModel", dependencies: ["LookoutSupport", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Pipeline/MetricModel"),
        .target(name: "Shipping", dependencies: ["MetricModel"], path: "Sources/Pipeline/Shipping"),
        // The one reader of YAML nodes: configuration, rule files, rule test files, gate policies.
        .target(
            name: "YAMLFiles", dependencies: ["LookoutSupport", .product(name: "Yams", package: "Yams")],
            path: "Sources/Pipeline/YAMLFiles"),
        .target(name: "PromQL", dependencies: ["LookoutSupport", "MetricModel"], path: "Sources/Pipeline/PromQL"),
        .target(name: "SeriesHistory", dependencies: ["MetricModel", "PromQL"], path: "Sources/Pipeline/History"),
        .target(
            name: "Rules",
            dependencies: [
                "LookoutSupport", "MetricModel", "Shipping", "PromQL", "SeriesHistory", "YAMLFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Pipeline/Rules",
            // The default alert rules, compiled in (rules/lookout.rules.yml links here).
            resources: [.embedInCode("Resources/lookout.rules.yml")]),
        .target(name: "PipelineEvents", dependencies: ["LookoutSupport", "MetricModel"], path: "Sources/Pipeline/Events"),
        .target(
            name: "Gate",
            dependencies: [
                "LookoutSupport", "MetricModel", "PromQL", "Rules", "PipelineEvents", "YAMLFiles",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Pipeline/Gate"),
        .target(
            name: "DaemonSummary", dependencies: ["LookoutSupport", "MetricModel", "Shipping", "PipelineEvents"],
            path: "Sources/Pipeline/Summary"),

        // libcurl's easy and multi interfaces behind one Swift file: the shippers' and the CLI
        // clients' HTTP(S) requests, and the microVM collector's GETs over unix-domain sockets.
        .target(name: "Curl", dependencies: ["CCurl"]),
        // zlib's deflate behind one Swift file: gzip for bulk bodies and scrape responses.
        .target(name: "Zlib", dependencies: ["CZlib"]),
        .target(
            name: "Collectors",
            dependencies: [
                "LookoutSupport", "MetricModel", "Shipping", "PipelineEvents", "CSystemd", "Curl", "CGlibcExtras",
                .product(name: "Logging", package: "swift-log"),
                // The pipeline-event store (SQLite; libsqlite3-dev from scripts/bootstrap).
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .target(
            name: "Shippers",
            dependencies: [
                "LookoutSupport", "MetricModel", "Shipping", "Curl", "Zlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "Exporter",
            dependencies: [
                "LookoutSupport", "MetricModel", "Shipping", "PromQL", "SeriesHistory", "Rules", "PipelineEvents",
                "Gate", "DaemonSummary", "YAMLFiles", "Collectors", "Shippers", "Curl", "Zlib", "CCrypt", "CGlibcExtras",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            // What the dynamic loader reads at start-up stays in the daemon's RSS: relative
            // relocations packed (DT_RELR: glibc 2.36; the toolchain's default gold cannot) and no
            // symbol exported, as no library Lookout loads binds to its symbols. Together 5.8 MiB
            // less RSS (bench/RESULTS.md). The toolchain's lld also lays out the functions a
            // running daemon calls first, in linker/lookout.order (scripts/function-order), which
            // takes effect where every function has a section of its own (the Makefile's release
            // flags). BinaryLayoutTests reads these back.
            linkerSettings: [.unsafeFlags([
                "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
                "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/linker/lookout.order",
                "-Xlinker", "--no-warn-symbol-ordering",
            ])]),

        // The rules benchmark (bench/rules.sh), built apart from the `lookout` binary.
        .executableTarget(
            name: "RulesBenchmark",
            dependencies: [
                "MetricModel", "PromQL", "Rules", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/RulesBenchmark"),
        // The scrape benchmark's stage breakdown (bench/scrape.sh), built apart from `lookout`.
        .executableTarget(
            name: "ScrapeBenchmark",
            dependencies: [
                "Collectors", "MetricModel", "Zlib", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/ScrapeBenchmark"),

        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "LookoutSupport", "MetricModel", "Shipping", "YAMLFiles", "PromQL", "SeriesHistory", "Rules",
                "PipelineEvents", "Gate", "DaemonSummary", "PeerSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "PeerSupport"]),
        // GRDB to write a store as an older release left it, for the migration tests.
        .testTarget(
            name: "CollectorsTests",
            dependencies: [
                "Collectors", "MetricModel", "PipelineEvents", "PeerSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        // Real peers the test targets share (osmem-server), started on loopback per test, and the
        // fuzz tests' seeded randomness.
        .target(name: "PeerSupport", path: "Tests/PeerSupport"),
        .testTarget(
            name: "ShippersTests",
            dependencies: [
                "Shippers", "LookoutSupport", "MetricModel", "Shipping", "Zlib", "PeerSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ExporterTests",
            dependencies: [
                "Exporter", "LookoutSupport", "MetricModel", "PromQL", "Rules", "PipelineEvents", "DaemonSummary", "Gate",
                "YAMLFiles", "PeerSupport",
                "Collectors", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["LookoutSupport", "MetricModel", "PromQL", "PeerSupport", .product(name: "Yams", package: "Yams")]),
    ]
)
