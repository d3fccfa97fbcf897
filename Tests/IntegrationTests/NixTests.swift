import Foundation
import Testing

/// The offline checks of nix/ with Debian's Nix (nix-bin, from scripts/bootstrap --test), run with
/// a store and state directory under a temporary directory: every .nix file parses, and
/// nix/render.nix (builtins only) turns option combinations into the expected command lines and
/// into configuration files the real `lookout check-config` accepts, and refuses bad option
/// values with a message naming the option; nix/module.nix, evaluated with a shim of the few
/// nixpkgs `lib` functions it uses, declares the unit it should. Building the package and the
/// VM test need nixpkgs
/// and a networked Nix ≥ 2.18, which this machine does not have (README, NixOS).
@Suite(.serialized) struct NixTests {
    static let nixDirectory = Harness.repositoryRoot.appendingPathComponent("nix")

    /// Runs a Nix command with its store, state and configuration under `scratch`.
    static func nix(_ tool: String, _ arguments: [String], scratch: URL) async throws -> (status: Int32, stdout: String, stderr: String) {
        let variables = ["store", "state", "conf", "log"].map { name in
            "NIX_\(name.uppercased())_DIR=\(scratch.appendingPathComponent(name).path)"
        }
        return try await Harness.runDetached("/usr/bin/env", variables + ["HOME=\(scratch.path)", try Harness.tool(tool)] + arguments)
    }

    @Test func everyNixFileParses() async throws {
        let scratch = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root = Harness.repositoryRoot
        var files = [root.appendingPathComponent("flake.nix").path].filter { FileManager.default.fileExists(atPath: $0) }
        let enumerator = FileManager.default.enumerator(atPath: Self.nixDirectory.path)
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".nix") { files.append(Self.nixDirectory.appendingPathComponent(name).path) }
        }
        #expect(files.count >= 3, "\(files)")
        for file in files {
            let parsed = try await Self.nix("nix-instantiate", ["--parse", file], scratch: scratch)
            #expect(parsed.status == 0, "\(file): \(parsed.stderr)")
        }
    }

    @Test func optionsRenderToTheExpectedFlagsAndToConfigurationsLookoutAccepts() async throws {
        let scratch = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let evaluated = try await Self.nix(
            "nix-instantiate", ["--eval", "--strict", "--json", Self.nixDirectory.appendingPathComponent("tests/render.nix").path],
            scratch: scratch)
        try #require(evaluated.status == 0, "\(evaluated.stderr)")
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: [String: Any]])
        func flags(_ name: String) -> [String] { cases[name]?["flags"] as? [String] ?? [] }
        func credentials(_ name: String) -> [String] { cases[name]?["credentials"] as? [String] ?? [] }

        #expect(flags("defaults") == ["--web.listen-address=127.0.0.1:10100", "--data.dir=/var/lib/lookout"])
        #expect(flags("microvmHost") == ["--web.listen-address=127.0.0.1:10100", "--data.dir=/var/lib/lookout",
                                         "--collector.microvm", "--collector.microvm.state-dir=/var/lib/microvms"])
        #expect(flags("shipping") == [
            "--web.listen-address=[::1]:9101", "--data.dir=/var/lib/lookout",
            "--journal.directory=/var/log/journal", "--journal.directory=/var/lib/microvms/web/journal",
            "--elasticsearch.url=https://es-1:9200", "--elasticsearch.url=https://es-2:9200",
            "--elasticsearch.api-key-file=%d/elasticsearch-api-key", "--web.events-token-file=%d/events-token",
        ])
        #expect(credentials("shipping") == ["elasticsearch-api-key", "events-token"])
        #expect(flags("rulesAndAlertmanager").suffix(3) == [
            "--web.config.file=/etc/lookout/web.yml", "--rules.file=/etc/lookout/rules/host.rules.yml",
            "--alertmanager.url=http://127.0.0.1:9093",
        ])
        #expect(flags("everythingOff") == [
            "--web.listen-address=127.0.0.1:10100", "--data.dir=/var/lib/lookout", "--no-collector.cpu", "--no-collector.diskstats",
            "--no-collector.filesystem", "--no-collector.netdev", "--no-collector.microvm", "--no-collector.textfile",
            "--no-rules.defaults", "--log.level=warn",
        ])
        #expect((cases["journalCountersOnly"]?["settings"] as? [String: Any])?["journal"] as? [String: Bool] == ["enabled": true])

        // Every configuration rendered is one the real lookout accepts, the bad one excepted,
        // which is refused with its key named.
        for (name, rendered) in cases.sorted(by: { $0.key < $1.key }) {
            let file = scratch.appendingPathComponent("\(name).yml")
            try (rendered["configText"] as? String ?? "").write(to: file, atomically: true, encoding: .utf8)
            let checked = try await Harness.runDetached(Harness.lookoutBinary, ["check-config", file.path])
            if name == "badSetting" {
                #expect(checked.status == 1 && checked.stderr.contains("web.max-requests: expected a non-negative integer, got \"many\""),
                        "\(checked.stderr)")
            } else {
                #expect(checked.status == 0, "\(name): \(checked.stderr)")
            }
        }
    }

    /// services.lookout evaluated with nix/tests/lib-shim.nix (a few lib functions in builtins):
    /// the unit, users, firewall and files it declares for each set of options.
    @Test func theModuleDeclaresTheUnitItShould() async throws {
        let scratch = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = Self.nixDirectory.appendingPathComponent("tests/module.nix").path
        func evaluate(_ attribute: String) async throws -> [String: Any] {
            let evaluated = try await Self.nix("nix-instantiate", ["--eval", "--strict", "--json", "-A", attribute, file], scratch: scratch)
            try #require(evaluated.status == 0, "\(attribute): \(evaluated.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        }
        func unit(_ result: [String: Any]) -> [String: Any] {
            (((result["systemd"] as? [String: Any])?["services"] as? [String: Any])?["lookout"] as? [String: Any])?["serviceConfig"]
                as? [String: Any] ?? [:]
        }
        let binary = "/nix/store/00000000000000000000000000000000-lookout-0.1.0/bin/lookout serve"

        #expect(try await evaluate("disabled").isEmpty)
        let defaults = unit(try await evaluate("defaults"))
        #expect(defaults["ExecStart"] as? String == "\(binary) --web.listen-address=127.0.0.1:10100 --data.dir=/var/lib/lookout")
        #expect(defaults["User"] as? String == "lookout" && defaults["StateDirectory"] as? String == "lookout")
        #expect(defaults["RestrictAddressFamilies"] as? [String] == ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"])
        #expect(defaults["ProtectSystem"] as? String == "strict" && defaults["PrivateUsers"] == nil && defaults["ProtectProc"] == nil)
        #expect(defaults["SupplementaryGroups"] as? [String] == [])

        let microvm = unit(try await evaluate("microvmHost"))
        #expect((microvm["ExecStart"] as? String)?.hasSuffix("--collector.microvm --collector.microvm.state-dir=/var/lib/microvms") == true)
        #expect(microvm["ReadOnlyPaths"] as? [String] == ["/var/lib/microvms"])
        #expect(microvm["SupplementaryGroups"] as? [String] == ["kvm"])

        let shipping = unit(try await evaluate("shipping"))
        #expect(shipping["LoadCredential"] as? [String] == ["elasticsearch-api-key:/run/keys/elasticsearch", "events-token:/run/keys/lookout-events"])
        #expect(shipping["SupplementaryGroups"] as? [String] == ["systemd-journal"])
        #expect(shipping["ExecStart"] as? String == "\(binary) --web.listen-address=127.0.0.1:10100 --data.dir=/var/lib/lookout "
                + "--journal.directory=/var/log/journal --elasticsearch.url=https://es:9200 "
                + "--elasticsearch.api-key-file=%d/elasticsearch-api-key --web.events-token-file=%d/events-token "
                + "--config.file=/nix/store/11111111111111111111111111111111-lookout.yml")

        let iptables = (try await evaluate("firewallIptables"))["networking"] as? [String: Any]
        #expect((iptables?["firewall"] as? [String: String])?["extraCommands"]
                == "ip46tables -A nixos-fw -p tcp -m tcp --dport 9110 -m comment --comment lookout -j nixos-fw-accept")
        let nftables = (try await evaluate("firewallNftables"))["networking"] as? [String: Any]
        #expect((nftables?["firewall"] as? [String: String])?["extraInputRules"] == "tcp dport 10100 accept comment \"lookout\"")
        let policies = (try await evaluate("policies"))["environment"] as? [String: Any]
        #expect(((policies?["etc"] as? [String: Any])?["lookout/policies/prod.yml"] as? [String: String])?["source"]
                == "/etc/lookout-policies/prod.yml")

        for (attribute, message) in [
            ("badPort", "A definition for option `services.lookout.port' is not of type `16 bit unsigned integer"),
            ("badKind", "A definition for option `services.lookout.elasticsearch.credentialKind' is not of type `one of"),
            ("typo", "The option `services.lookout.prot' does not exist."),
            ("tokenInStore", "services.lookout.eventsTokenFile must not be in the Nix store"),
            ("credentialWithoutUrls", "services.lookout.elasticsearch.credentialFile is set without any elasticsearch.urls"),
        ] {
            let refused = try await Self.nix("nix-instantiate", ["--eval", "--strict", "--json", "-A", attribute, file], scratch: scratch)
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(attribute): \(refused.stderr)")
        }
    }

    @Test func badOptionValuesFailEvaluationNamingTheOption() async throws {
        let scratch = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = Self.nixDirectory.appendingPathComponent("tests/refusals.nix").path
        for (attribute, message) in [
            ("port", "services.lookout.port: expected a port from 1 to 65535, got 70000"),
            ("collector", "services.lookout.enabledCollectors/disabledCollectors: a collector name is lower-case letters, digits and _"),
            ("both", "services.lookout: a collector cannot be both enabled and disabled"),
            ("credentialKind", "services.lookout.elasticsearch.credential: expected one of basic-auth, api-key, bearer-token"),
            ("credentialWithoutUrls", "services.lookout.elasticsearch.credential: set without any elasticsearch.urls"),
            ("dataDir", "services.lookout.dataDir: expected an absolute path, got relative"),
        ] {
            let evaluated = try await Self.nix("nix-instantiate", ["--eval", "--strict", "--json", "-A", attribute, file], scratch: scratch)
            #expect(evaluated.status != 0 && evaluated.stderr.contains(message), "\(attribute): \(evaluated.stderr)")
        }
    }
}
