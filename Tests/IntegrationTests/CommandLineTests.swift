import Foundation
import Testing

/// The `lookout` command as a user meets it: help, version, config checks, and the one-line
/// errors for bad input (never a Swift backtrace).
@Suite(.serialized) struct CommandLineTests {
    let binary = Harness.lookoutBinary

    @Test func versionAndHelp() throws {
        let version = try Harness.run(binary, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")

        let help = try Harness.run(binary, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("serve"))
        #expect(help.stdout.contains("check-config"))

        let serveHelp = try Harness.run(binary, ["serve", "--help"])
        #expect(serveHelp.status == 0)
        for flag in ["--web.listen-address", "--web.telemetry-path", "--web.max-requests", "--path.procfs",
                     "--path.sysfs", "--path.rootfs", "--collector.disable-defaults", "--collector.cpu/--no-collector.cpu",
                     "--collector.textfile.directory", "--config.file"] {
            #expect(serveHelp.stdout.contains(flag), "serve --help lacks \(flag)")
        }
    }

    @Test func checkConfigAcceptsAGoodFileAndNamesTheBadKey() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.yml")
        try "web:\n  listen-address: \":9999\"\ncollector:\n  textfile: false\n".write(to: good, atomically: true, encoding: .utf8)
        let accepted = try Harness.run(binary, ["check-config", good.path])
        #expect(accepted.status == 0)
        #expect(accepted.stdout.hasPrefix("\(good.path): OK"))

        let bad = directory.appendingPathComponent("bad.yml")
        try "web:\n  listen-address: \":9999\"\n  max-requests: lots\n".write(to: bad, atomically: true, encoding: .utf8)
        let rejected = try Harness.run(binary, ["check-config", bad.path])
        #expect(rejected.status == 1)
        #expect(rejected.stderr == "lookout: error: \(bad.path):3: web.max-requests: expected a non-negative integer, got \"lots\"\n")
    }

    /// Every problem of a file, one line each, in the file's order; then, for a file whose keys
    /// are right, every file it names that cannot serve, at the line of the key naming it.
    @Test func checkConfigReportsEveryProblemAndTheFilesItNames() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys.yml")
        try """
            web:
              max-requests: many
            scrape:
              timeout: soon
            bogus: 1
            collector:
              cpu: maybe
              netdev:
                device-include: "^eth"
                device-exclude: "^lo"
            """.write(to: keys, atomically: true, encoding: .utf8)
        let keyProblems = try Harness.run(binary, ["check-config", keys.path])
        #expect(keyProblems.status == 1)
        #expect(keyProblems.stderr.split(separator: "\n").map(String.init) == [
            "lookout: error: \(keys.path):2: web.max-requests: expected a non-negative integer, got \"many\"",
            "lookout: error: \(keys.path):4: scrape.timeout: expected a positive duration up to 24h like 10s or 500ms, got \"soon\"",
            "lookout: error: \(keys.path):5: bogus: unknown key",
            "lookout: error: \(keys.path):7: collector.cpu: expected true or false, got \"maybe\"",
            "lookout: error: \(keys.path):9: collector.netdev: device-include and device-exclude are mutually exclusive",
        ], "\(keyProblems.stderr)")

        let files = directory.appendingPathComponent("files.yml")
        try """
            web:
              events-token-file: \(directory.path)/missing-token
              config:
                file: \(directory.path)/missing-web.yml
            elasticsearch:
              url: http://127.0.0.1:9200
              ca-file: \(directory.path)/missing-ca.pem
            rules:
              file: \(directory.path)/missing.rules.yml
            """.write(to: files, atomically: true, encoding: .utf8)
        let fileProblems = try Harness.run(binary, ["check-config", files.path])
        #expect(fileProblems.status == 1)
        #expect(fileProblems.stderr.split(separator: "\n").map(String.init) == [
            "lookout: error: \(files.path):2: web.events-token-file: the events token file \(directory.path)/missing-token cannot be read: No such file or directory",
            "lookout: error: \(files.path):6: elasticsearch: the TLS CA file \(directory.path)/missing-ca.pem cannot be read",
            "lookout: error: \(files.path):9: rules.file: no file matches \(directory.path)/missing.rules.yml",
            "lookout: error: \(directory.path)/missing-web.yml: cannot read: No such file or directory",
        ], "\(fileProblems.stderr)")
    }

    @Test func serveRefusesBadInputWithOneLine() async throws {
        let unreadable = try Harness.run(binary, ["serve", "--path.procfs", "/nonexistent-procfs", "--web.listen-address", "127.0.0.1:0"])
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr == "lookout: error: path.procfs: cannot read /nonexistent-procfs: No such file or directory; is --path.procfs right?\n")

        let onlyMeminfo = try Harness.run(binary, ["serve", "--collector.disable-defaults", "--collector.meminfo", "--path.procfs", "/nonexistent-procfs", "--web.listen-address", "127.0.0.1:0"])
        #expect(onlyMeminfo.status == 1)
        #expect(onlyMeminfo.stderr == unreadable.stderr)

        let badRegex = try Harness.run(binary, ["serve", "--collector.diskstats.device-exclude", "(", "--web.listen-address", "127.0.0.1:0"])
        #expect(badRegex.status == 1)
        #expect(badRegex.stderr.hasPrefix("lookout: error: collector.diskstats:"))
        #expect(badRegex.stderr.split(separator: "\n").count == 1)

        let unknownFlag = try Harness.run(binary, ["serve", "--web.listen-adress", ":1"])
        #expect(unknownFlag.status == 64)
        #expect(unknownFlag.stderr == "lookout: error: Unknown option '--web.listen-adress'. Did you mean '--web.listen-address'? (see lookout --help)\n")

        let badValue = try Harness.run(binary, ["serve", "--web.max-requests", "many"])
        #expect(badValue.status == 64)
        #expect(badValue.stderr.hasPrefix("lookout: error: "))
        #expect(badValue.stderr.split(separator: "\n").count == 1)

        // A flag's malformed value is a usage error, as ArgumentParser's own are.
        let badTimeout = try Harness.run(binary, ["serve", "--scrape.timeout", "1e300s"])
        #expect(badTimeout.status == 64)
        #expect(badTimeout.stderr == "lookout: error: --scrape.timeout: expected a positive duration up to 24h like 10s or 500ms, got \"1e300s\"\n")

        for result in [unreadable, badRegex, unknownFlag, badValue, badTimeout] {
            #expect(!result.stderr.contains("Fatal error"))
            #expect(!result.stderr.contains("Stack dump"))
        }
    }

    @Test func badShippingSettingsAreOneLineAtStartUp() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [([String], String, Int32)] = [
            (["--elasticsearch.url", "ftp://example"], "lookout: error: elasticsearch: ", 1),
            (["--elasticsearch.url", "http://127.0.0.1:1", "--elasticsearch.api-key-file", directory.path + "/missing"],
             "lookout: error: elasticsearch: ", 1),
            (["--elasticsearch.url", "http://127.0.0.1:1", "--data.dir", "/proc/lookout"], "lookout: error: data.dir: cannot create /proc/lookout", 1),
            (["--journal.priority", "loud"], "lookout: error: --journal.priority: 'loud' is not a priority", 64),
        ]
        for (arguments, prefix, status) in cases {
            let result = try Harness.run(binary, ["serve", "--web.listen-address", "127.0.0.1:0", "--data.dir", directory.path] + arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderr.hasPrefix(prefix), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
    }

    /// A start that fails after making the data directory (a bad rule file, a bad web
    /// configuration, a taken port) leaves nothing behind: no directory, no event store.
    @Test func aFailedStartLeavesNoDirectories() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = directory.appendingPathComponent("token").path
        try "t\n".write(toFile: token, atomically: true, encoding: .utf8)
        let badRules = directory.appendingPathComponent("bad.rules.yml").path
        try "groups: [{name: g, rules: [{alert: A, expr: 'up =='}]}]\n".write(toFile: badRules, atomically: true, encoding: .utf8)
        let badWeb = directory.appendingPathComponent("web.yml").path
        try "basic_auth_users: {john: doe}\n".write(toFile: badWeb, atomically: true, encoding: .utf8)
        let port = try Harness.freePort()
        let holder = try ServerProcess(name: "lookout-holder", executable: binary,
                                       arguments: ["serve", "--web.listen-address", "127.0.0.1:\(port)", "--collector.disable-defaults"])
        defer { holder.stop() }
        try await holder.waitUntilServing("http://127.0.0.1:\(port)/metrics")
        for (name, arguments) in [
            ("rules", ["--rules.file", badRules, "--web.listen-address", "127.0.0.1:0"]),
            ("web", ["--web.config.file", badWeb, "--web.listen-address", "127.0.0.1:0"]),
            ("port", ["--web.listen-address", "127.0.0.1:\(port)"]),
        ] {
            let data = directory.appendingPathComponent("new-\(name)/data").path
            let result = try await Harness.runDetached(binary, ["serve", "--collector.disable-defaults", "--data.dir", data,
                                                                "--web.events-token-file", token] + arguments)
            #expect(result.status == 1, "\(name): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("new-\(name)").path), "\(name)")
        }
    }

    @Test func portInUseIsOneLine() async throws {
        let port = try Harness.freePort()
        let first = try ServerProcess(name: "lookout-first", executable: binary, arguments: ["serve", "--web.listen-address", "127.0.0.1:\(port)"])
        defer { first.stop() }
        try await first.waitUntilServing("http://127.0.0.1:\(port)/metrics")
        let second = try Harness.run(binary, ["serve", "--web.listen-address", "127.0.0.1:\(port)"])
        #expect(second.status == 1)
        #expect(second.stderr.hasSuffix("lookout: error: cannot listen on 127.0.0.1:\(port): address already in use\n"))
    }
}
