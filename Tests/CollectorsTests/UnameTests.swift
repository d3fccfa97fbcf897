#if canImport(Glibc)
import Glibc
#endif
import Testing
import MetricModel
@testable import Collectors

@Suite struct UnameTests {
    @Test func labelsAreAlphabetical() {
        let family = unameFamily(KernelIdentity(
            sysname: "Linux", nodename: "vm", release: "6.1.0", version: "#1 SMP", machine: "x86_64",
            domainname: "(none)"))
        #expect(family == MetricFamily(
            name: "node_uname_info", help: "Labeled system information as provided by the uname system call.",
            type: .gauge,
            samples: [Sample(labels: [
                Label("domainname", "(none)"), Label("machine", "x86_64"), Label("nodename", "vm"),
                Label("release", "6.1.0"), Label("sysname", "Linux"), Label("version", "#1 SMP"),
            ], value: 1)]))
    }

    /// uname values belong to the host, so they are compared with the host's own answer.
    @Test func reportsThisHost() throws {
        let families = try UnameCollector().collect()
        let labels = try #require(families.first?.samples.first?.labels)
        #expect(labels.map(\.name) == ["domainname", "machine", "nodename", "release", "sysname", "version"])
        #expect(labels[4].value == "Linux")
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        #expect(labels[2].value == String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
