import Foundation
import MetricModel
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
        stateDirectory: host + "/var/lib/microvms", interfaceCounters: .sysfs)

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
        let collector = MicroVMCollector(paths: Self.collector.paths, stateDirectory: state, interfaceCounters: .sysfs)
        let before = Fixtures.render(try collector.collect())
        #expect(before.contains("microvm_up{vm=\"db\"}"))
        unlink(state + "/db/current")
        rmdir(state + "/db")
        let after = Fixtures.render(try collector.collect())
        #expect(!after.contains("vm=\"db\""))
        #expect(after.contains("vm=\"web\""))
    }

    @Test func aNewMainProcessCountsAsARestart() throws {
        let cgroup = "sys/fs/cgroup/system.slice/system-microvm.slice/microvm@web.service"
        let host = Fixtures.scratch([
            cgroup + "/cpu.stat": "usage_usec 10\nuser_usec 6\nsystem_usec 4\n",
            cgroup + "/cgroup.procs": "700\n",
            "proc/700/stat": "700 (qemu) S 1 700 700 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1000 0 0",
            "proc/700/cmdline": "microvm@web\0",
            "proc/stat": "btime 1000\n",
            "state/web/.keep": "",
        ])
        defer { Fixtures.removeTree(host) }
        symlink("/nix/store/1111aaaa-microvm-qemu-web", host + "/state/web/current")
        let collector = MicroVMCollector(paths: HostPaths(procfs: host + "/proc", sysfs: host + "/sys", rootfs: host),
                                         stateDirectory: host + "/state")
        func restartsAndStart() throws -> [String] {
            Fixtures.render(try collector.collect()).split(separator: "\n")
                .filter { $0.hasPrefix("microvm_unit_restarts_total{") || $0.hasPrefix("microvm_start_time_seconds{") }.map(String.init)
        }
        #expect(try restartsAndStart() == [#"microvm_start_time_seconds{vm="web"} 1010"#, #"microvm_unit_restarts_total{vm="web"} 0"#])
        #expect(try restartsAndStart() == [#"microvm_start_time_seconds{vm="web"} 1010"#, #"microvm_unit_restarts_total{vm="web"} 0"#])
        // systemd restarted it: the same PID (reused) but a later start.
        Fixtures.write("700 (qemu) S 1 700 700 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3000 0 0", to: host + "/proc/700/stat")
        #expect(try restartsAndStart() == [#"microvm_start_time_seconds{vm="web"} 1030"#, #"microvm_unit_restarts_total{vm="web"} 1"#])
        // Stopped (no processes), then started again with another PID: one more.
        Fixtures.write("", to: host + "/" + cgroup + "/cgroup.procs")
        #expect(try restartsAndStart() == [#"microvm_unit_restarts_total{vm="web"} 1"#])
        Fixtures.write("701\n", to: host + "/" + cgroup + "/cgroup.procs")
        mkdir(host + "/proc/701", 0o755)
        Fixtures.write("701 (qemu) S 1 701 701 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0", to: host + "/proc/701/stat")
        Fixtures.write("microvm@web\0", to: host + "/proc/701/cmdline")
        #expect(try restartsAndStart() == [#"microvm_start_time_seconds{vm="web"} 1050"#, #"microvm_unit_restarts_total{vm="web"} 2"#])
    }
}
