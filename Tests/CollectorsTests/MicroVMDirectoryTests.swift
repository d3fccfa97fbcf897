import Foundation
import MetricModel
import Testing
@testable import Collectors

/// Reading a microvm.nix state directory: runners, restart pending, hypervisor, interfaces.
@Suite struct MicroVMDirectoryTests {
    @Test(arguments: [
        ("/nix/store/0a1b2c-microvm-qemu-web", "qemu"),
        ("/nix/store/0a1b2c-microvm-cloud-hypervisor-db", "cloud-hypervisor"),
        ("/nix/store/0a1b2c-microvm-cloud-hypervisor-my-host", "cloud-hypervisor"),
        ("/nix/store/0a1b2c-microvm-firecracker-fc", "firecracker"),
        ("/nix/store/0a1b2c-nixos-system-web", nil),
        ("/nix/store/0a1b2c-microvm-unknownvisor-x", nil),
    ] as [(String, String?)])
    func hypervisorFromTheRunnerPath(path: String, hypervisor: String?) {
        #expect(MicroVMDirectory.hypervisor(inRunnerPath: path) == hypervisor)
    }

    @Test func interfaceFilesGiveTheFirstFieldOfEachLine() {
        #expect(MicroVMDirectory.interfaces("vm-web\nvm-web2\n\n") == ["vm-web", "vm-web2"])
        #expect(MicroVMDirectory.interfaces("vm-mv 02:00:00:00:00:01 eth0 bridge\n") == ["vm-mv"])
        #expect(MicroVMDirectory.interfaces("") == [])
    }

    @Test func aStateDirectoryTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-microvms-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let manager = FileManager.default
        let state = root.appendingPathComponent("var/lib/microvms")
        func runner(_ name: String, files: [String: String]) throws -> String {
            let path = "/nix/store/\(name)"
            let share = root.appendingPathComponent(path + "/share/microvm")
            try manager.createDirectory(at: share, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(to: share.appendingPathComponent(file), atomically: true, encoding: .utf8) }
            return path
        }
        func vm(_ name: String, current: String?, booted: String?, extra: [String: String] = [:]) throws {
            let directory = state.appendingPathComponent(name)
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            if let current { try manager.createSymbolicLink(atPath: directory.appendingPathComponent("current").path, withDestinationPath: current) }
            if let booted { try manager.createSymbolicLink(atPath: directory.appendingPathComponent("booted").path, withDestinationPath: booted) }
            for (file, text) in extra { try text.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        }
        let web = try runner("1111-microvm-qemu-web", files: ["tap-interfaces": "vm-web\n"])
        let dbOld = try runner("2222-microvm-cloud-hypervisor-db", files: ["tap-interfaces": "vm-db\n", "hypervisor": "cloud-hypervisor\n"])
        let dbNew = try runner("3333-microvm-cloud-hypervisor-db", files: ["tap-interfaces": "vm-db-new\n"])
        let idle = try runner("4444-microvm-firecracker-idle", files: ["macvtap-interfaces": "vm-idle 02:00:00:00:00:09 eth0 bridge\n"])
        try vm("web", current: web, booted: web, extra: ["toplevel": ""])
        try vm("db", current: dbNew, booted: dbOld)
        try vm("idle", current: idle, booted: nil, extra: ["flake": "git+https://example.org/vms#idle\n"])
        let paths = HostPaths(procfs: "/proc", sysfs: "/sys", rootfs: root.path)

        let webEntry = try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths)
        #expect(webEntry == MicroVMDirectory(name: "web", currentRunner: web, bootedRunner: web, hypervisor: "qemu",
                                             declarative: true, flake: nil, tapInterfaces: ["vm-web"], macvtapInterfaces: []))
        #expect(!webEntry.restartPending)

        let dbEntry = try MicroVMDirectory.read(name: "db", stateDirectory: state.path, paths: paths)
        #expect(dbEntry.restartPending)
        #expect(dbEntry.hypervisor == "cloud-hypervisor")
        #expect(dbEntry.tapInterfaces == ["vm-db"], "the running runner's interfaces, not the next one's")

        let idleEntry = try MicroVMDirectory.read(name: "idle", stateDirectory: state.path, paths: paths)
        #expect(idleEntry.bootedRunner == nil && !idleEntry.restartPending)
        #expect(idleEntry.hypervisor == "firecracker")
        #expect(idleEntry.flake == "git+https://example.org/vms#idle")
        #expect(idleEntry.macvtapInterfaces == ["vm-idle"])
        #expect(!idleEntry.declarative)

        #expect(throws: CollectorError.self) { try MicroVMDirectory.read(name: "gone", stateDirectory: state.path, paths: paths) }

        // A runner in the store is read once: what it says cannot change under the same path
        // (here the file is changed behind the store's back to show it is not read again); a
        // new runner is a new path, read when the link moves to it.
        let runners = RunnerFacts.Cache()
        #expect(try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths, runners: runners).tapInterfaces == ["vm-web"])
        try "vm-changed\n".write(to: root.appendingPathComponent(web + "/share/microvm/tap-interfaces"), atomically: true, encoding: .utf8)
        #expect(try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths, runners: runners).tapInterfaces == ["vm-web"])
        #expect(try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths).tapInterfaces == ["vm-changed"])
        #expect(try MicroVMDirectory.read(name: "db", stateDirectory: state.path, paths: paths, runners: runners).tapInterfaces == ["vm-db"])
        let booted = state.appendingPathComponent("db/booted").path
        try manager.removeItem(atPath: booted)
        try manager.createSymbolicLink(atPath: booted, withDestinationPath: dbNew)
        #expect(try MicroVMDirectory.read(name: "db", stateDirectory: state.path, paths: paths, runners: runners).tapInterfaces == ["vm-db-new"])

        // bin/microvm-run, a link into the store as writeShellScript makes it, is resolved under
        // the root and its exec line kept with the runner's other facts: read once, like them.
        let script = "/nix/store/5555-microvm-run"
        try "#!/bin/bash\nexec -a \"microvm@web\" qemu-kvm -qmp 'unix:web.sock,server,nowait'\n"
            .write(to: root.appendingPathComponent(script), atomically: true, encoding: .utf8)
        try manager.createDirectory(at: root.appendingPathComponent(web + "/bin"), withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: root.appendingPathComponent(web + "/bin/microvm-run").path, withDestinationPath: script)
        let withScript = try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths, runners: RunnerFacts.Cache())
        #expect(withScript.runArguments == ["qemu-kvm", "-qmp", "unix:web.sock,server,nowait"])
        #expect(try MicroVMDirectory.read(name: "web", stateDirectory: state.path, paths: paths, runners: runners).runArguments == nil,
                "the cache read the runner before it had a script")
        #expect(idleEntry.runArguments == nil)

        // Runner files are bounded: a run script over the limit names no command line, an
        // interface list over it is an error naming the file.
        let huge = String(repeating: "#", count: RunnerFacts.maximumFileBytes + 1)
        try huge.write(to: root.appendingPathComponent(script), atomically: true, encoding: .utf8)
        #expect(try RunnerFacts.read(runner: root.path + web, paths: paths).runArguments == nil)
        try huge.write(to: root.appendingPathComponent(web + "/share/microvm/tap-interfaces"), atomically: true, encoding: .utf8)
        #expect(throws: CollectorError.unreadable(path: root.path + web + "/share/microvm/tap-interfaces",
                                                  reason: "larger than \(RunnerFacts.maximumFileBytes) bytes")) {
            try RunnerFacts.read(runner: root.path + web, paths: paths)
        }

        // A toplevel that is a dangling link still marks a declarative VM.
        try manager.createSymbolicLink(atPath: state.appendingPathComponent("db/toplevel").path, withDestinationPath: "/nix/store/gone")
        #expect(try MicroVMDirectory.read(name: "db", stateDirectory: state.path, paths: paths).declarative)
    }

    @Test func filesInADirectoryAreReadWhole() throws {
        // Larger than the first read's buffer: reads go on until the file ends.
        let text = String(repeating: "rbytes=1 wbytes=2\n", count: 4_000)
        let root = Fixtures.scratch(["large": text, "small": "7\n"])
        defer { Fixtures.removeTree(root) }
        let directory = try #require(SourceDirectory(root))
        #expect(try directory.readIfPresent("large") == text)
        #expect(try directory.readIfPresent("small") == "7\n")
        #expect(try directory.readIfPresent("absent") == nil)
        #expect(directory.hasEntry("small") && !directory.hasEntry("absent"))
        #expect(SourceDirectory(root + "/small") == nil, "not a directory")
    }
}
