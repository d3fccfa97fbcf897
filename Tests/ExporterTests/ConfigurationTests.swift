@testable import Collectors
import Testing
@testable import Exporter

@Suite struct ConfigurationFileTests {
    private func apply(_ yaml: String) throws(ConfigurationError) -> ExporterConfiguration {
        try ConfigurationFile.apply(yaml: yaml, onto: ExporterConfiguration())
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try apply("""
            web:
              listen-address: "127.0.0.1:9999"
              telemetry-path: /probe
              max-requests: 3
            scrape:
              timeout: 1500ms
            log:
              level: debug
            path:
              procfs: /host/proc/
              sysfs: /host/sys
              rootfs: /host
              udev:
                data: /host/run/udev/data
            collector:
              disable-defaults: true
              cpu:
                enabled: true
                guest: false
              meminfo: true
              textfile:
                directory: [/var/lib/a, /var/lib/b]
              filesystem:
                mount-points-exclude: "^/boot"
                fs-types-exclude: "^tmpfs$"
              diskstats:
                device-exclude: "^loop"
              netdev:
                device-include: "^eth"
              microvm:
                state-dir: /srv/microvms
                socket-timeout: 250ms
                netlink: false
            """)
        #expect(configuration.listenAddress == "127.0.0.1:9999")
        #expect(configuration.telemetryPath == "/probe")
        #expect(configuration.maxRequests == 3)
        #expect(configuration.scrapeTimeout == .milliseconds(1500))
        #expect(configuration.logLevel == .debug)
        #expect(configuration.host.paths == HostPaths(procfs: "/host/proc", sysfs: "/host/sys", rootfs: "/host"))
        #expect(configuration.host.udevData == "/host/run/udev/data")
        #expect(configuration.enabledCollectors == ["cpu", "meminfo"])
        #expect(configuration.host.cpuGuest == false)
        #expect(configuration.host.textfileDirectories == ["/var/lib/a", "/var/lib/b"])
        #expect(configuration.host.filesystemMountPointsExclude == "^/boot")
        #expect(configuration.host.filesystemFSTypesExclude == "^tmpfs$")
        #expect(configuration.host.diskstatsDeviceExclude == "^loop")
        #expect(configuration.host.netdevDeviceInclude == "^eth")
        #expect(configuration.host.microvmStateDirectory == "/srv/microvms")
        #expect(configuration.host.microvmSocketTimeout == .milliseconds(250))
        #expect(configuration.host.microvmInterfaceCounters == .sysfs)
    }

    @Test func ruleAndAlertmanagerKeysAreRead() throws {
        let configuration = try apply("""
            web:
              external-url: https://host:10100
            rules:
              file: [/etc/lookout/a.yml, /etc/lookout/b/*.yml]
              defaults: false
              evaluation-interval: 30s
              history-retention: 2h
            alertmanager:
              url: http://am:9093
              resend-delay: 2m
              timeout: 5s
            query:
              timeout: 30s
              max-concurrency: 4
              max-samples: 1000
            """)
        var expected = RuleSettings()
        expected.files = ["/etc/lookout/a.yml", "/etc/lookout/b/*.yml"]
        expected.defaults = false
        expected.evaluationInterval = .seconds(30)
        expected.historyRetention = .seconds(7200)
        expected.externalURL = "https://host:10100"
        expected.alertmanagerURLs = ["http://am:9093"]
        expected.resendDelay = .seconds(120)
        expected.alertmanagerTimeout = .seconds(5)
        expected.queryTimeout = .seconds(30)
        expected.queryMaxConcurrency = 4
        expected.queryMaxSamples = 1000
        #expect(configuration.rules == expected)
        var off = RuleSettings()
        off.defaults = false
        #expect(ExporterConfiguration().rules.evaluates && expected.evaluates && !off.evaluates)
    }

    @Test func emptyFileKeepsDefaults() throws {
        #expect(try apply("") == ExporterConfiguration())
        #expect(try apply("# only a comment\n") == ExporterConfiguration())
    }

    @Test(arguments: [
        ("web:\n  listen_address: \":1\"\n", "2: web.listen_address: unknown key"),
        ("web:\n  max-requests: many\n", "2: web.max-requests: expected a non-negative integer, got \"many\""),
        ("web:\n  max-requests: -1\n", "2: web.max-requests: expected a non-negative integer, got \"-1\""),
        ("web:\n  telemetry-path: metrics\n", "2: web.telemetry-path: must start with /, got \"metrics\""),
        ("web:\n  listen-address: \"localhost\"\n", "2: web.listen-address: expected host:port or :port, got \"localhost\""),
        ("web:\n  listen-address: \":70000\"\n", "2: web.listen-address: invalid port \"70000\" in \":70000\""),
        ("collector:\n  cpus: true\n", "2: collector.cpus: unknown collector; known: cpu, diskstats, filefd, filesystem, loadavg, meminfo, microvm, netdev, os, pressure, stat, textfile, time, uname"),
        ("collector:\n  cpu:\n    enabled: maybe\n", "3: collector.cpu.enabled: expected true or false, got \"maybe\""),
        ("collector:\n  cpu:\n    colour: red\n", "3: collector.cpu.colour: unknown key"),
        ("collector:\n  diskstats:\n    device-exclude: \"(unclosed\"\n", "3: collector.diskstats.device-exclude: error parsing regexp: missing closing ): `(unclosed`"),
        ("collector:\n  microvm:\n    socket-timeout: 0s\n", "3: collector.microvm.socket-timeout: '0s' is not a duration like 500ms, 10s or 1m"),
        ("scrape:\n  timeout: soon\n", "2: scrape.timeout: expected a positive duration up to 24h like 10s or 500ms, got \"soon\""),
        ("scrape:\n  timeout: 1e300s\n", "2: scrape.timeout: expected a positive duration up to 24h like 10s or 500ms, got \"1e300s\""),
        ("scrape:\n  timeout: 25h\n", "2: scrape.timeout: expected a positive duration up to 24h like 10s or 500ms, got \"25h\""),
        ("query:\n  max-concurrency: 0\n", "2: query.max-concurrency: expected an integer from 1 to 1000, got \"0\""),
        ("query:\n  max-samples: lots\n", "2: query.max-samples: expected a positive integer, got \"lots\""),
        ("query:\n  deadline: 1s\n", "2: query.deadline: unknown key"),
        ("log:\n  level: loud\n", "2: log.level: expected one of debug, info, warn, error, got \"loud\""),
        ("web: 3\n", "1: web: expected a mapping of keys to values"),
        ("web:\n  max-requests: 1\n  max-requests: 2\n", "2: invalid YAML: duplicate key 'max-requests'"),
        // Quoted or not, a key is its text, as for Go's YAML decoding (plain scalars are not typed).
        ("true: 1\n\"true\": 2\n", "1: invalid YAML: duplicate key 'true'"),
        ("nonsense: true\n", "1: nonsense: unknown key"),
        ("collector:\n  netdev:\n    device-include: a\n    device-exclude: b\n", "3: collector.netdev: device-include and device-exclude are mutually exclusive"),
        ("rules:\n  evaluation-interval: 500ms\n", "2: rules.evaluation-interval: must be at least 1s"),
        ("rules:\n  evaluation-interval: 1m\n  history-retention: 30s\n", "2: rules.history-retention: must be at least the evaluation interval"),
        ("rules:\n  files: a.yml\n", "2: rules.files: unknown key"),
        ("alertmanager:\n  url: alertmanager:9093\n", "2: alertmanager.url: \"alertmanager:9093\" is not an http:// or https:// URL"),
    ])
    func badInputNamesKeyAndLine(yaml: String, expected: String) {
        #expect(throws: ConfigurationError.self) { try apply(yaml) }
        do {
            _ = try apply(yaml)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func invalidYAMLReportsItsLine() {
        do {
            _ = try apply("web:\n  listen-address: [unclosed\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("3: invalid YAML"))
        }
    }

    @Test func missingFileIsOneLine() {
        do {
            _ = try ConfigurationFile.load(path: "/nonexistent/lookout.yml", onto: ExporterConfiguration())
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/lookout.yml: cannot read: No such file or directory")
        }
    }
}

@Suite struct ServeFlagsTests {
    @Test func flagsOverrideDefaults() throws {
        let flags = try ServeFlags.parse([
            "--web.listen-address", "127.0.0.1:0", "--collector.disable-defaults", "--collector.meminfo",
            "--collector.textfile.directory", "/a", "--collector.textfile.directory", "/b",
            "--path.procfs", "/fixtures/proc", "--no-collector.cpu.guest", "--scrape.timeout", "2s",
        ])
        let configuration = try flags.resolve()
        #expect(configuration.listenAddress == "127.0.0.1:0")
        #expect(configuration.enabledCollectors == ["meminfo"])
        #expect(configuration.host.textfileDirectories == ["/a", "/b"])
        #expect(configuration.host.paths.procfs == "/fixtures/proc")
        #expect(configuration.host.cpuGuest == false)
        #expect(configuration.scrapeTimeout == .seconds(2))
    }

    @Test func ruleFlagsOverrideTheFile() throws {
        let settings = try ServeFlags.parse([
            "--rules.file", "a.yml", "--no-rules.defaults", "--rules.evaluation-interval", "5s", "--alertmanager.url", "http://am:9093",
        ]).resolve().rules
        #expect(settings.files == ["a.yml"] && !settings.defaults && settings.evaluationInterval == .seconds(5))
        #expect(settings.alertmanagerURLs == ["http://am:9093"])
        #expect(throws: ConfigurationError.self) { try ServeFlags.parse(["--rules.history-retention", "1s"]).resolve() }
    }

    @Test func microVMSocketTimeoutFlag() throws {
        #expect(try ServeFlags.parse(["--collector.microvm.socket-timeout", "300ms"]).resolve().host.microvmSocketTimeout
            == .milliseconds(300))
        #expect(try ServeFlags.parse([]).resolve().enabledCollectors.contains("microvm"))
        #expect(try ServeFlags.parse([]).resolve().host.microvmInterfaceCounters == .netlink)
        #expect(try ServeFlags.parse(["--no-collector.microvm.netlink"]).resolve().host.microvmInterfaceCounters == .sysfs)
        // Another sysfs than the process's own: the dump would not see the taps there.
        #expect(try ServeFlags.parse(["--path.sysfs", "/host/sys"]).resolve().host.microvmInterfaceCounters == .sysfs)
        #expect(try ServeFlags.parse(["--path.sysfs", "/host/sys", "--collector.microvm.netlink"]).resolve().host
            .microvmInterfaceCounters == .netlink)
        #expect(throws: ConfigurationError.self) {
            try ServeFlags.parse(["--collector.microvm.socket-timeout", "forever"]).resolve()
        }
        #expect(throws: ConfigurationError(
            key: "collector.microvm.socket-timeout", line: nil, message: "must be shorter than scrape.timeout (2.0 seconds), got 2.0 seconds")
        ) { try ServeFlags.parse(["--collector.microvm.socket-timeout", "2s", "--scrape.timeout", "2s"]).resolve() }
    }

    @Test func noCollectorFlagDisablesOne() throws {
        let configuration = try ServeFlags.parse(["--no-collector.textfile"]).resolve()
        #expect(!configuration.enabledCollectors.contains("textfile"))
        #expect(configuration.enabledCollectors.contains("cpu"))
    }

    @Test func everyCatalogCollectorHasAFlag() throws {
        let flags = try ServeFlags.parse([])
        #expect(Set(flags.collectorChoices.keys) == Set(HostCollectors.names))
    }

    @Test func includeAndExcludeTogetherIsAnError() throws {
        let flags = try ServeFlags.parse([
            "--collector.netdev.device-include", "^eth", "--collector.netdev.device-exclude", "^lo$",
        ])
        #expect(throws: ConfigurationError(
            key: "collector.netdev", line: nil, message: "device-include and device-exclude are mutually exclusive")
        ) { try flags.resolve() }
    }

    @Test(arguments: [
        (":10100", "0.0.0.0", 10100), ("127.0.0.1:9100", "127.0.0.1", 9100), ("[::1]:80", "::1", 80),
        ("localhost:0", "localhost", 0),
    ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
    }
}
