import Collectors
import Testing
@testable import Exporter

/// The collector catalog is where each collector and option is declared; ArgumentParser needs
/// the flags of `lookout serve` spelled out besides. These tests hold the two together: every
/// collector has its switch, every option its flag, and a flag sets what its file key sets.
@Suite struct CollectorFlagsTests {
    @Test func everyCollectorHasItsSwitch() throws {
        // One parse each way for all collectors: an unoptimised argument parser takes a good part
        // of a second per parse, and this test runs on a thread the other tests share.
        let off = try ServeFlags.parse(HostCollectors.catalog.map { "--no-collector.\($0.name)" }).resolve().collectorChoices
        let on = try ServeFlags.parse(HostCollectors.catalog.map { "--collector.\($0.name)" }).resolve().collectorChoices
        for spec in HostCollectors.catalog {
            #expect(off[spec.name] == false, "\(spec.name)")
            #expect(on[spec.name] == true, "\(spec.name)")
        }
        #expect(try ServeFlags.parse([]).collectorChoices.keys.sorted() == HostCollectors.names)
    }

    /// A flag's command-line words and the same setting as a YAML value.
    static func example(_ spec: HostCollectorSpec, _ option: CollectorOption) -> (arguments: [String], yaml: String) {
        let flag = "--collector.\(spec.name).\(option.name)"
        return switch option.kind {
        case .boolean: (["--no-collector.\(spec.name).\(option.name)"], "false")
        case .text, .pattern: ([flag, "^x$"], "\"^x$\"")
        case .texts: ([flag, "/a", flag, "/b"], "[/a, /b]")
        case .duration: ([flag, "300ms"], "300ms")
        }
    }

    @Test func everyOptionHasItsFlagAndSetsWhatTheFileSets() throws {
        for spec in HostCollectors.catalog {
            for option in spec.options {
                let (arguments, yaml) = Self.example(spec, option)
                let fromFlags = try ServeFlags.parse(arguments).resolve()
                let fromFile = try ConfigurationFile.apply(
                    yaml: "collector:\n  \(spec.name):\n    \(option.name): \(yaml)\n", onto: ExporterConfiguration())
                #expect(fromFlags.host == fromFile.host, "\(arguments)")
                #expect(fromFlags.host != ExporterConfiguration().host, "\(arguments) changed nothing")
            }
        }
    }

    @Test func noFlagNamesAnOptionTheCatalogLacks() throws {
        let every = HostCollectors.catalog.flatMap { spec in
            spec.options.filter { !(spec.name == "netdev" && $0.name == "device-include") }.flatMap { Self.example(spec, $0).arguments }
        }
        let given = try ServeFlags.parse(every).collectorOptions()
        #expect(given.allSatisfy { HostCollectors.spec(named: $0.collector)?.option(named: $0.option) != nil })
        #expect(given.count == HostCollectors.catalog.map(\.options.count).reduce(0, +) - 1)
    }
}
