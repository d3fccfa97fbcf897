import Foundation
import PeerSupport
import MetricModel
import Testing
@testable import Collectors

/// A microVM host in a scratch directory: a state directory whose VMs have runners with a
/// `bin/microvm-run` script, as microvm.nix builds them, so the collector finds each control
/// socket the way it does on a host whose cgroups it cannot see.
final class ScratchMicroVMHost {
    let directory = Fixtures.temporaryDirectory()
    var state: String { directory + "/state" }
    private var processes: [Process] = []
    private var servers: [UnixSocketServer] = []

    init() {
        mkdir(state, 0o755)
        mkdir(directory + "/sys", 0o755)
    }

    /// Adds VM `name` whose runner runs `command` (words, shell-quoted as nixpkgs'
    /// escapeShellArgs does) from the VM's directory.
    @discardableResult
    func addVM(_ name: String, hypervisor: String, command: [String]) -> String {
        let runner = directory + "/runner-" + name
        for path in [runner, runner + "/bin", runner + "/share", runner + "/share/microvm", state + "/" + name] { mkdir(path, 0o755) }
        Fixtures.write(hypervisor + "\n", to: runner + "/share/microvm/hypervisor")
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        Fixtures.write("#!/bin/bash\nset -eou pipefail\n\nexec -a \"microvm@\(name)\" \(quoted)\n", to: runner + "/bin/microvm-run")
        chmod(runner + "/bin/microvm-run", 0o755)
        symlink(runner, state + "/" + name + "/current")
        symlink(runner, state + "/" + name + "/booted")
        return state + "/" + name
    }

    /// Starts VM `name`'s runner script as systemd would: from its directory.
    func start(_ name: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: directory + "/runner-" + name + "/bin/microvm-run")
        process.currentDirectoryURL = URL(fileURLWithPath: state + "/" + name)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        return process
    }

    /// Serves `reply` on `path`.
    func serve(_ path: String, _ reply: UnixSocketServer.Reply) throws {
        servers.append(try UnixSocketServer(path: path, reply: reply))
    }

    /// Waits up to ten seconds for a QMP server on `path` to greet a client. The socket file
    /// exists from QEMU's bind(2), a moment before its listen(2), so its mere presence is not
    /// enough: a connection before then is refused.
    func waitForQMP(_ path: String) throws {
        for _ in 0..<500 {
            if let probe = try? UnixClient(path: path) {
                let greeting = probe.readLine()
                probe.close()
                if greeting.contains("\"QMP\"") { return }
            }
            usleep(20_000)
        }
        throw PeerError("no QMP greeting on \(path): is qemu-system-x86_64 installed (scripts/bootstrap --test)?")
    }

    func collector(timeout: Duration, errors: ComponentErrors = ComponentErrors()) -> MicroVMCollector {
        MicroVMCollector(paths: HostPaths(procfs: "/proc", sysfs: directory + "/sys", rootfs: "/"), stateDirectory: state,
                         socketTimeout: timeout, componentErrors: errors)
    }

    deinit {
        for server in servers { server.stop() }
        // SIGKILL: QEMU started from the test process inherits its blocked SIGTERM.
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        Fixtures.removeTree(directory)
    }
}

/// The lines of the families a control socket feeds, for exact comparison.
private func hypervisorLines(_ families: [MetricFamily]) -> String {
    let prefixes = ["microvm_hypervisor", "microvm_vcpus", "microvm_guest_memory", "microvm_balloon", "microvm_disk_"]
    return Fixtures.render(families).split(separator: "\n")
        .filter { line in !line.hasPrefix("#") && prefixes.contains { line.hasPrefix($0) } }
        .joined(separator: "\n")
}

/// The control-socket half of the microvm collector against a real QEMU (QMP) and, for the
/// faults QEMU does not produce and for cloud-hypervisor and Firecracker, which Debian does not
/// package, scripted servers speaking their documented protocols.
@Suite(.serialized) struct HypervisorSocketTests {
    /// QEMU as microvm.nix's qemu runner starts it, minus kernel and KVM: stopped before the
    /// first instruction (`-S`), with 2 vCPUs, 256 MiB, a balloon and the read-only store disk.
    static func qemuCommand(socket: String) -> [String] {
        ["qemu-system-x86_64", "-name", "web", "-M", "microvm", "-S", "-nodefaults", "-no-user-config", "-display", "none",
         "-smp", "2", "-m", "256M",
         "-drive", "id=store,format=raw,read-only=on,file=store.img,if=none", "-device", "virtio-blk-device,drive=store",
         "-device", "virtio-balloon-device,id=balloon0",
         "-qmp", "unix:\(socket),server,nowait"]
    }

    static func startQEMU(on host: ScratchMicroVMHost, name: String = "web") throws {
        let directory = host.addVM(name, hypervisor: "qemu", command: qemuCommand(socket: name + ".sock"))
        Fixtures.write(String(repeating: "\0", count: 65_536), to: directory + "/store.img")
        _ = try host.start(name)
        try host.waitForQMP(directory + "/" + name + ".sock")
    }

    @Test func aLiveQEMUAnswersOverQMP() throws {
        let host = ScratchMicroVMHost()
        try Self.startQEMU(on: host)
        // A tap the rtnetlink dump finds, read beside the QMP conversation.
        Fixtures.write("lo\n", to: host.directory + "/runner-web/share/microvm/tap-interfaces")
        let families = try host.collector(timeout: .seconds(5)).collect()
        #expect(Fixtures.render(families).contains(#"microvm_network_receive_bytes_total{interface="lo",vm="web"} "#))
        #expect(hypervisorLines(families) == """
            microvm_balloon_bytes{vm="web"} 0
            microvm_disk_read_bytes_total{disk="store",vm="web"} 0
            microvm_disk_reads_total{disk="store",vm="web"} 0
            microvm_disk_write_bytes_total{disk="store",vm="web"} 0
            microvm_disk_writes_total{disk="store",vm="web"} 0
            microvm_guest_memory_bytes{vm="web"} 2.68435456e+08
            microvm_hypervisor_status{status="prelaunch",vm="web"} 1
            microvm_hypervisor_up{vm="web"} 1
            microvm_vcpus{vm="web"} 2
            """)
    }

    @Test func aSecondClientHoldingQMPGivesHypervisorDownUntilItLetsGo() throws {
        let host = ScratchMicroVMHost()
        try Self.startQEMU(on: host)
        let socket = host.state + "/web/web.sock"
        // QEMU serves one QMP client; the next waits in the listen backlog without a greeting.
        let holder = try UnixClient(path: socket)
        #expect(holder.readLine().contains("\"QMP\""))
        let errors = ComponentErrors()
        let collector = host.collector(timeout: .milliseconds(500), errors: errors)
        #expect(hypervisorLines(try collector.collect()) == #"microvm_hypervisor_up{vm="web"} 0"#)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_timeout") == 1)
        holder.close()
        // A patient collector for the recovery: TCG QEMU on a loaded machine may take a while.
        let patient = host.collector(timeout: .seconds(5), errors: errors)
        #expect(hypervisorLines(try patient.collect()).contains(#"microvm_hypervisor_up{vm="web"} 1"#))
    }

    @Test func silentAndGarbageSocketsCostOneTimeoutTogether() throws {
        let host = ScratchMicroVMHost()
        try Self.startQEMU(on: host)
        let holder = try UnixClient(path: host.state + "/web/web.sock")
        defer { holder.close() }
        for name in ["quiet1", "quiet2"] {
            let directory = host.addVM(name, hypervisor: "qemu", command: ["qemu-system-x86_64", "-qmp", "unix:\(name).sock,server,nowait"])
            try host.serve(directory + "/" + name + ".sock", .silence)
        }
        let quietAPI = host.addVM("quiet3", hypervisor: "cloud-hypervisor", command: ["cloud-hypervisor", "--api-socket", "path=api.sock"])
        try host.serve(quietAPI + "/api.sock", .silence)
        let garbage = host.addVM("garbage", hypervisor: "qemu", command: ["qemu-system-x86_64", "-qmp", "unix:garbage.sock,server,nowait"])
        try host.serve(garbage + "/garbage.sock", .greeting(Array("\u{1b}[31mthis is not QMP\r\n".utf8)))
        host.addVM("gone", hypervisor: "qemu", command: ["qemu-system-x86_64", "-qmp", "unix:gone.sock,server,nowait"])

        let errors = ComponentErrors()
        let started = ContinuousClock.now
        let families = try host.collector(timeout: .seconds(1), errors: errors).collect()
        let elapsed = ContinuousClock.now - started
        #expect(hypervisorLines(families) == """
            microvm_hypervisor_up{vm="garbage"} 0
            microvm_hypervisor_up{vm="gone"} 0
            microvm_hypervisor_up{vm="quiet1"} 0
            microvm_hypervisor_up{vm="quiet2"} 0
            microvm_hypervisor_up{vm="quiet3"} 0
            microvm_hypervisor_up{vm="web"} 0
            """)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_timeout") == 4)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_protocol") == 1)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_connect") == 1)
        // Four sockets hang; asked one after another they would take four seconds.
        #expect(elapsed < .seconds(3), "the hung sockets were waited for one after another: \(elapsed)")
    }

    /// A QMP peer that interleaves events, splits its replies across reads, and answers like
    /// stratovirt: an error without an `id` for a command it does not know.
    @Test func qmpFramingEventsAndRepliesWithoutIds() throws {
        let host = ScratchMicroVMHost()
        let directory = host.addVM("strato", hypervisor: "stratovirt", command: ["stratovirt", "-qmp", "unix:strato.sock,server,nowait"])
        let greeting = #"{"QMP":{"version":{"qemu":{"micro":1,"minor":0,"major":2},"package":"StratoVirt-2.4.0"},"capabilities":[]}}"# + "\r\n"
        try host.serve(directory + "/strato.sock", .conversation(greeting: Array(greeting.utf8)) { line in
            let event = #"{"event":"STOP","data":{},"timestamp":{"seconds":1,"microseconds":2}}"# + "\r\n"
            let reply: String
            switch line {
            case #"{"execute":"qmp_capabilities"}"#: reply = #"{"return":{}}"#
            case #"{"execute":"query-status","id":"query-status"}"#: reply = #"{"return":{"running":false,"singlestep":false,"status":"paused"},"id":"query-status"}"#
            case #"{"execute":"query-balloon","id":"query-balloon"}"#: reply = #"{"return":{"actual":1073741824},"id":"query-balloon"}"#
            case #"{"execute":"query-blockstats","id":"query-blockstats"}"#: reply = #"{"return":[]}"#
            default: reply = #"{"error":{"class":"CommandNotFound","desc":"The command is not found"}}"#
            }
            let bytes = Array((reply + "\r\n").utf8)
            return [Array(event.utf8), Array(bytes[..<(bytes.count / 2)]), Array(bytes[(bytes.count / 2)...])]
        })
        #expect(hypervisorLines(try host.collector(timeout: .seconds(5)).collect()) == """
            microvm_hypervisor_status{status="paused",vm="strato"} 1
            microvm_hypervisor_up{vm="strato"} 1
            """)
    }

    @Test func aQMPReplyForAnotherCommandIsAProtocolError() throws {
        let host = ScratchMicroVMHost()
        let directory = host.addVM("odd", hypervisor: "qemu", command: ["qemu-system-x86_64", "-qmp", "unix:odd.sock,server,nowait"])
        let greeting = #"{"QMP":{"version":{},"capabilities":[]}}"# + "\n"
        try host.serve(directory + "/odd.sock", .conversation(greeting: Array(greeting.utf8)) { line in
            line.contains("qmp_capabilities") ? [Array(#"{"return":{}}"#.utf8) + [10]] : [Array(#"{"return":{},"id":"someone-else"}"#.utf8) + [10]]
        })
        let errors = ComponentErrors()
        #expect(hypervisorLines(try host.collector(timeout: .seconds(5), errors: errors).collect()) == #"microvm_hypervisor_up{vm="odd"} 0"#)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_protocol") == 1)
    }

    @Test func cloudHypervisorAnswersOverItsAPI() throws {
        let host = ScratchMicroVMHost()
        let directory = host.addVM("db", hypervisor: "cloud-hypervisor", command: [
            "/nix/store/9c1l8gq0-cloud-hypervisor-48.0/bin/cloud-hypervisor", "--cpus", "boot=2", "--memory", "size=512M,mergeable=on,shared=on",
            "--api-socket", "db.sock", "--balloon", "size=128M,deflate_on_oom=on,free_page_reporting=on"])
        let info = try Fixtures.read("cloud-hypervisor/vm.info.json")
        let counters = try Fixtures.read("cloud-hypervisor/vm.counters.json")
        try host.serve(directory + "/db.sock", .routes([
            "/api/v1/vm.info": .init(200, info), "/api/v1/vm.counters": .init(200, counters)]))
        #expect(hypervisorLines(try host.collector(timeout: .seconds(5)).collect()) == """
            microvm_balloon_bytes{vm="db"} 1.34217728e+08
            microvm_disk_read_bytes_total{disk="_disk0",vm="db"} 7.340032e+07
            microvm_disk_read_bytes_total{disk="_disk1",vm="db"} 2.097152e+06
            microvm_disk_reads_total{disk="_disk0",vm="db"} 4480
            microvm_disk_reads_total{disk="_disk1",vm="db"} 128
            microvm_disk_write_bytes_total{disk="_disk0",vm="db"} 0
            microvm_disk_write_bytes_total{disk="_disk1",vm="db"} 1.048576e+07
            microvm_disk_writes_total{disk="_disk0",vm="db"} 0
            microvm_disk_writes_total{disk="_disk1",vm="db"} 1250
            microvm_guest_memory_bytes{vm="db"} 5.36870912e+08
            microvm_hypervisor_status{status="running",vm="db"} 1
            microvm_hypervisor_up{vm="db"} 1
            microvm_vcpus{vm="db"} 2
            """)
    }

    @Test func cloudHypervisorWithoutAVMAndWithBadAnswers() throws {
        let host = ScratchMicroVMHost()
        let empty = host.addVM("empty", hypervisor: "cloud-hypervisor", command: ["cloud-hypervisor", "--api-socket", "path=empty.sock,fd=3"])
        try host.serve(empty + "/empty.sock", .routes([:]))  // 404: the VMM has no VM yet
        let broken = host.addVM("broken", hypervisor: "cloud-hypervisor", command: ["cloud-hypervisor", "--api-socket=broken.sock"])
        try host.serve(broken + "/broken.sock", .routes(["/api/v1/vm.info": .init(200, "{\"state\":")]))
        let failing = host.addVM("failing", hypervisor: "cloud-hypervisor", command: ["cloud-hypervisor", "--api-socket", "failing.sock"])
        try host.serve(failing + "/failing.sock", .routes(["/api/v1/vm.info": .init(500, "{}")]))
        let errors = ComponentErrors()
        #expect(hypervisorLines(try host.collector(timeout: .seconds(5), errors: errors).collect()) == """
            microvm_hypervisor_status{status="not_created",vm="empty"} 1
            microvm_hypervisor_up{vm="broken"} 0
            microvm_hypervisor_up{vm="empty"} 1
            microvm_hypervisor_up{vm="failing"} 0
            """)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_protocol") == 1)
        #expect(errors.count(component: "collector.microvm", errorType: "hypervisor_status") == 1)
    }

    @Test func firecrackerAnswersOverItsAPIAndItsMetricsFileAddsUp() throws {
        let host = ScratchMicroVMHost()
        let directory = host.addVM("idle", hypervisor: "firecracker", command: [
            "firecracker", "--api-sock", "idle.sock", "--config-file", host.directory + "/state/idle/config.json"])
        Fixtures.write(#"{"boot-source":{"kernel_image_path":"/nix/store/x/vmlinux"},"machine-config":{"vcpu_count":1,"mem_size_mib":256},"metrics":{"metrics_path":"metrics.log"}}"#,
                       to: directory + "/config.json")
        try host.serve(directory + "/idle.sock", .routes([
            "/": .init(200, #"{"id":"idle","state":"Running","vmm_version":"1.12.0","app_name":"Firecracker"}"#),
            "/machine-config": .init(200, #"{"vcpu_count":1,"mem_size_mib":256,"smt":false,"track_dirty_pages":false}"#)]))
        let line1 = #"{"utc_timestamp_ms":1764200000000,"block":{"read_bytes":4096},"block_store":{"read_bytes":4096,"write_bytes":0,"read_count":1,"write_count":0,"flush_count":0},"net_vm-idle":{"rx_bytes_count":100},"latencies_us":{"diff_create_snapshot":0}}"#
        let line2 = #"{"utc_timestamp_ms":1764200060000,"block_store":{"read_bytes":8192,"write_bytes":512,"read_count":2,"write_count":1}}"#
        Fixtures.write(line1 + "\n" + String(line2.prefix(40)), to: directory + "/metrics.log")
        let collector = host.collector(timeout: .seconds(5))
        #expect(hypervisorLines(try collector.collect()) == """
            microvm_disk_read_bytes_total{disk="store",vm="idle"} 4096
            microvm_disk_reads_total{disk="store",vm="idle"} 1
            microvm_disk_write_bytes_total{disk="store",vm="idle"} 0
            microvm_disk_writes_total{disk="store",vm="idle"} 0
            microvm_guest_memory_bytes{vm="idle"} 2.68435456e+08
            microvm_hypervisor_status{status="running",vm="idle"} 1
            microvm_hypervisor_up{vm="idle"} 1
            microvm_vcpus{vm="idle"} 1
            """)
        // The rest of the half-written line arrives, and garbage after it.
        let file = FileHandle(forWritingAtPath: directory + "/metrics.log")!
        file.seekToEndOfFile()
        file.write(Data((String(line2.dropFirst(40)) + "\nnot json\n").utf8))
        try file.close()
        #expect(hypervisorLines(try collector.collect()).hasPrefix("""
            microvm_disk_read_bytes_total{disk="store",vm="idle"} 12288
            microvm_disk_reads_total{disk="store",vm="idle"} 3
            microvm_disk_write_bytes_total{disk="store",vm="idle"} 512
            microvm_disk_writes_total{disk="store",vm="idle"} 1
            """))
    }
}

/// A plain blocking unix-socket client, to hold QEMU's one QMP connection.
final class UnixClient {
    private var descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: path.utf8)
            bytes[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close()
            throw PeerError("cannot connect to \(path): \(reason)")
        }
    }

    /// What the server sends up to the end of its first line.
    func readLine() -> String {
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while byte != UInt8(ascii: "\n"), recv(descriptor, &byte, 1, 0) == 1 { received.append(byte) }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }
}
