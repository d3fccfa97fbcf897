import Foundation
import Pipeline
import Testing
@testable import Collectors

/// The microvm collector on the committed fixture host (Tests/Fixtures/microvms): web (qemu,
/// running, declarative, io and pressure accounting on, a virtiofsd unit), db (cloud-hypervisor,
/// running the old runner while a new one is installed, cpu and memory controllers only, one OOM
/// kill, no memory limit), idle (firecracker, stopped), and a directory that is not a VM.
@Suite struct MicroVMTests {
    static let host = Fixtures.root + "/microvms"
    static let collector = MicroVMCollector(
        paths: HostPaths(procfs: host + "/proc", sysfs: host + "/sys", rootfs: host),
        stateDirectory: host + "/var/lib/microvms")

    @Test func fixtureHostGolden() throws {
        try Fixtures.expectGolden(Fixtures.render(try Self.collector.collect()), "microvm.prom")
    }

    @Test func aHostWithoutMicroVMsHasNoData() {
        let none = MicroVMCollector(paths: Fixtures.paths, stateDirectory: "/nonexistent/microvms")
        #expect(throws: CollectorError.noData("no microvm state directory /nonexistent/microvms")) { try none.collect() }
    }

    @Test func aVMWhoseDirectoryDisappearsDisappearsFromTheOutput() throws {
        let scratch = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(scratch) }
        let state = scratch + "/microvms"
        mkdir(state, 0o755)
        for vm in ["web", "db"] {
            mkdir(state + "/" + vm, 0o755)
            symlink(SourceFile.linkTarget(Self.host + "/var/lib/microvms/\(vm)/current")!, state + "/\(vm)/current")
        }
        let collector = MicroVMCollector(paths: Self.collector.paths, stateDirectory: state)
        let before = Fixtures.render(try collector.collect())
        #expect(before.contains("microvm_up{vm=\"db\"}"))
        unlink(state + "/db/current")
        rmdir(state + "/db")
        let after = Fixtures.render(try collector.collect())
        #expect(!after.contains("vm=\"db\""))
        #expect(after.contains("vm=\"web\""))
    }
}
