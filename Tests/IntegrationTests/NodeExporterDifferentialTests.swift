import Foundation
import MetricModel
import Testing

/// Runs Debian's node_exporter and `lookout serve` on the same committed fixture tree with the
/// same collectors, and checks that every family both emit has the same type, HELP, label sets
/// and values. Documented exceptions:
/// - the scrape meta families are named for each exporter (`node_scrape_collector_*` vs
///   `lookout_scrape_collector_*`), and `lookout_*` / `node_exporter_build_info` are each one's own;
/// - `node_time_seconds` is a live clock: equal within 5 s;
/// - the fixture mount points are plain directories on the checkout's disk, so free space moves
///   between the two reads: `node_filesystem_{free,avail}_bytes` within 256 MiB and
///   `node_filesystem_files_free` within 4096.
@Suite(.serialized) struct NodeExporterDifferentialTests {
    static let collectors = ["cpu", "diskstats", "filefd", "filesystem", "loadavg", "meminfo", "netdev", "os",
                             "pressure", "stat", "textfile", "time", "uname"]

    /// Flags both exporters understand identically.
    static var sharedFlags: [String] {
        let fixtures = Harness.fixtures.path
        return ["--path.procfs=\(fixtures)/proc", "--path.sysfs=\(fixtures)/sys", "--path.rootfs=\(fixtures)/rootfs",
                "--path.udev.data=\(fixtures)/udev/data", "--collector.disable-defaults",
                "--collector.textfile.directory=\(fixtures)/textfile"]
            + collectors.map { "--collector.\($0)" }
    }

    @Test func everySharedFamilyMatches() async throws {
        let nodeExporterBinary = try Harness.tool("prometheus-node-exporter")
        let nodePort = try Harness.freePort()
        let nodeExporter = try ServerProcess(
            name: "node_exporter", executable: nodeExporterBinary,
            arguments: Self.sharedFlags + [
                "--web.listen-address=127.0.0.1:\(nodePort)",
                // Debian's build reads netdev over netlink and patches the excludes; make it read
                // the fixture's /proc/net/dev with upstream defaults, as Lookout does.
                "--no-collector.netdev.netlink", "--collector.netdev.device-exclude=",
                #"--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"#,
                "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
                "--web.disable-exporter-metrics",
            ])
        defer { nodeExporter.stop() }
        let lookoutPort = try Harness.freePort()
        let lookout = try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address=127.0.0.1:\(lookoutPort)", "--no-rules.defaults", "--web.disable-exporter-metrics"]
                + Self.sharedFlags)
        defer { lookout.stop() }
        try await nodeExporter.waitUntilServing("http://127.0.0.1:\(nodePort)/metrics")
        try await lookout.waitUntilServing("http://127.0.0.1:\(lookoutPort)/metrics")

        let before = Date()
        let theirs = try ExpositionParser.parse(try await Harness.get("http://127.0.0.1:\(nodePort)/metrics").body)
        let ours = try ExpositionParser.parse(try await Harness.get("http://127.0.0.1:\(lookoutPort)/metrics").body)
        // The clocks read may differ by as much as the time between the two reads, which a
        // loaded machine stretches (6 s seen under make test).
        let betweenReads = Date().timeIntervalSince(before)
        let theirsByName = Dictionary(uniqueKeysWithValues: theirs.map { ($0.name, $0) })
        let oursByName = Dictionary(uniqueKeysWithValues: ours.map { ($0.name, $0) })

        let ownFamilies: (String) -> Bool = {
            $0.hasPrefix("node_scrape_collector_") || $0 == "node_exporter_build_info" || $0.hasPrefix("promhttp_")
                || $0.hasPrefix("lookout_")
        }
        let onlyTheirs = theirsByName.keys.filter { oursByName[$0] == nil && !ownFamilies($0) }.sorted()
        let onlyOurs = oursByName.keys.filter { theirsByName[$0] == nil && !ownFamilies($0) }.sorted()
        #expect(onlyTheirs == [], "families node_exporter emits and Lookout does not")
        #expect(onlyOurs == [], "families Lookout emits and node_exporter does not")

        var compared = 0
        for (name, their) in theirsByName.sorted(by: { $0.key < $1.key }) {
            guard let our = oursByName[name], !ownFamilies(name) else { continue }
            compared += 1
            #expect(our.type == their.type, "\(name): type")
            #expect(our.help == their.help, "\(name): HELP")
            let theirSamples = Self.keyed(their), ourSamples = Self.keyed(our)
            #expect(Set(ourSamples.keys) == Set(theirSamples.keys), "\(name): label sets")
            for (key, theirValue) in theirSamples {
                guard let ourValue = ourSamples[key] else { continue }
                let tolerance = name == "node_time_seconds" ? betweenReads + 1 : Self.tolerance[name] ?? 0
                let equal = ourValue == theirValue || (ourValue.isNaN && theirValue.isNaN)
                    || abs(ourValue - theirValue) <= tolerance
                #expect(equal, "\(name)\(key): lookout \(ourValue), node_exporter \(theirValue)")
            }
        }
        #expect(compared >= 60, "only \(compared) families were compared")
    }

    /// The exporter's own `process_*` families, as client_golang writes them for node_exporter:
    /// the same families, types and HELP texts, in every scrape (a `collect[]` selection too), with
    /// values of the daemon's own process (the limits both inherit are equal).
    @Test func processFamiliesAsNodeExporterWritesThem() async throws {
        let nodePort = try Harness.freePort()
        let nodeExporter = try ServerProcess(
            name: "node_exporter", executable: try Harness.tool("prometheus-node-exporter"),
            arguments: ["--web.listen-address=127.0.0.1:\(nodePort)", "--collector.disable-defaults", "--collector.loadavg"])
        defer { nodeExporter.stop() }
        let lookoutPort = try Harness.freePort()
        let lookout = try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address=127.0.0.1:\(lookoutPort)", "--collector.disable-defaults", "--collector.loadavg"])
        defer { lookout.stop() }
        try await nodeExporter.waitUntilServing("http://127.0.0.1:\(nodePort)/metrics")
        try await lookout.waitUntilServing("http://127.0.0.1:\(lookoutPort)/metrics")
        func processFamilies(_ url: String) async throws -> [String: MetricFamily] {
            let families = try ExpositionParser.parse(try await Harness.get(url).body).filter { $0.name.hasPrefix("process_") }
            return Dictionary(uniqueKeysWithValues: families.map { ($0.name, $0) })
        }
        let theirs = try await processFamilies("http://127.0.0.1:\(nodePort)/metrics")
        let ours = try await processFamilies("http://127.0.0.1:\(lookoutPort)/metrics?collect[]=loadavg")
        #expect(theirs.count == 7)
        #expect(Set(ours.keys) == Set(theirs.keys))
        for (name, their) in theirs {
            #expect(ours[name]?.type == their.type && ours[name]?.help == their.help, "\(name)")
            #expect(ours[name]?.samples.map(\.labels) == their.samples.map(\.labels), "\(name)")
        }
        func value(_ families: [String: MetricFamily], _ name: String) -> Double { families[name]?.samples.first?.value ?? -1 }
        #expect(value(ours, "process_max_fds") == value(theirs, "process_max_fds"))
        #expect(value(ours, "process_virtual_memory_max_bytes") == value(theirs, "process_virtual_memory_max_bytes"))
        #expect(value(ours, "process_open_fds") > 3 && value(ours, "process_resident_memory_bytes") > 1_000_000)
        #expect(value(ours, "process_cpu_seconds_total") >= 0)
        let now = Date().timeIntervalSince1970
        #expect(abs(value(ours, "process_start_time_seconds") - value(theirs, "process_start_time_seconds")) < 120)
        #expect(value(ours, "process_start_time_seconds") <= now + 1)
        // node_exporter's flag leaves them out.
        let quietPort = try Harness.freePort()
        let quiet = try ServerProcess(
            name: "lookout-quiet", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address=127.0.0.1:\(quietPort)", "--collector.disable-defaults", "--web.disable-exporter-metrics"])
        defer { quiet.stop() }
        try await quiet.waitUntilServing("http://127.0.0.1:\(quietPort)/metrics")
        #expect(try await processFamilies("http://127.0.0.1:\(quietPort)/metrics").isEmpty)
    }

    /// Allowed absolute differences for values that move between the two reads.
    static let tolerance: [String: Double] = [
        "node_filesystem_free_bytes": 256 * 1024 * 1024,
        "node_filesystem_avail_bytes": 256 * 1024 * 1024,
        "node_filesystem_files_free": 4096,
    ]

    /// Samples keyed by suffix and sorted label pairs.
    static func keyed(_ family: MetricFamily) -> [String: Double] {
        var samples: [String: Double] = [:]
        for sample in family.samples {
            let labels = sample.labels.sorted { $0.name < $1.name }.map { "\($0.name)=\"\($0.value)\"" }
            samples["\(sample.suffix){\(labels.joined(separator: ","))}"] = sample.value
        }
        return samples
    }
}
