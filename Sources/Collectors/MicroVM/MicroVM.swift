// The `microvm` collector: per-VM state, CPU, memory, block IO, tasks, pressure and network of
// the microVMs of a microvm.nix host (https://github.com/astro/microvm.nix).
//
// Reads, for every directory NAME under the state directory (`--collector.microvm.state-dir`):
// - the directory itself (``MicroVMDirectory``): runners, restart pending, hypervisor, interfaces;
// - the cgroup of `microvm@NAME.service`,
//   `<sysfs>/fs/cgroup/system.slice/system-microvm.slice/microvm@NAME.service/`, and of
//   `microvm-virtiofsd@NAME.service` under `system-microvm\x2dvirtiofsd.slice` (``CgroupStats``);
//   the unit is up while its cgroup has processes (`cgroup.events` `populated 1`);
// - the unit's main process from its cgroup and /proc (``UnitProcess``): start time, restarts
//   (a new main process), and the hypervisor's command line, which names its control socket;
// - the counters of its tap and macvtap interfaces, reported from the guest's side (what the host
//   transmits on a tap, the guest receives): for all VMs at once from one rtnetlink dump
//   (``LinkStatistics``), or with `--no-collector.microvm.netlink` from
//   `<sysfs>/class/net/ID/statistics/*` (which a fixture tree can stand in for);
// - the hypervisor's control socket (``ControlSocket``), when the VM runs: QMP, or
//   cloud-hypervisor's and Firecracker's REST APIs, all VMs at once under one timeout
//   (``HypervisorQueries``), and Firecracker's metrics file when one is configured.
// Emits the `microvm_*` families documented in the README; a VM whose directory disappears
// disappears from the output, and a controller that is off gives no samples for its families.

import Dispatch
import Logging
import MetricModel
import Synchronization

/// The `microvm` collector.
struct MicroVMCollector: MetricCollector {
    /// The collector's name, as in `--collector.microvm`.
    package let name = "microvm"
    /// The roots read under.
    package let paths: HostPaths
    /// microvm.nix's `microvm.stateDir`.
    let stateDirectory: String
    /// How long one scrape waits for the hypervisors' control sockets, all of them together, and
    /// for the interface counters' dump beside them.
    let socketTimeout: Duration
    /// Where the interface counters are read.
    let interfaceCounters: InterfaceCounterSource
    private let componentErrors: ComponentErrors
    private let logger: Logger
    private let observations = MicroVMObservations()

    /// The default state directory of microvm.nix.
    static let defaultStateDirectory = "/var/lib/microvms"
    /// The default of `--collector.microvm.socket-timeout`.
    static let defaultSocketTimeout = Duration.seconds(1)

    /// The `memory.stat` keys reported as `microvm_memory_stat_bytes{kind}`: the byte-valued ones
    /// that explain a VM's memory (guest RAM is `anon`, or `shmem`/`file` with shared memory). In
    /// name order, the order their samples are written in.
    static let memoryKinds = ["anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock",
                              "vmalloc", "shmem", "file_mapped", "file_dirty", "file_writeback", "swapcached", "anon_thp",
                              "file_thp", "shmem_thp", "slab_reclaimable", "slab_unreclaimable", "zswap", "zswapped"].sorted()
    /// ``memoryKinds`` as the keys memory.stat is parsed for.
    static let memoryStatKeys = FlatKeys(memoryKinds)
    /// The `cgroup.events` key that says whether the unit has processes.
    static let cgroupEventKeys = FlatKeys(["populated"])

    /// Creates the collector. Control-socket failures are counted in `componentErrors` (component
    /// `collector.microvm`, error type `hypervisor_<why>`) and logged when a VM's socket starts or
    /// stops failing.
    package init(
        paths: HostPaths, stateDirectory: String = MicroVMCollector.defaultStateDirectory,
        socketTimeout: Duration = MicroVMCollector.defaultSocketTimeout, interfaceCounters: InterfaceCounterSource = .netlink,
        componentErrors: ComponentErrors = ComponentErrors(), logger: Logger = Logger(label: "lookout.collector.microvm")
    ) {
        self.paths = paths
        self.stateDirectory = stateDirectory
        self.socketTimeout = socketTimeout
        self.interfaceCounters = interfaceCounters
        self.componentErrors = componentErrors
        self.logger = logger
    }

    /// The cgroup directory of a unit of VM `name`.
    func cgroup(of unit: MicroVMUnit, vm name: String) -> String {
        switch unit {
        case .vm: paths.sys("fs/cgroup/system.slice/system-microvm.slice/microvm@\(name).service")
        case .virtiofsd: paths.sys("fs/cgroup/system.slice/system-microvm\\x2dvirtiofsd.slice/microvm-virtiofsd@\(name).service")
        }
    }

    /// The families of every VM under the state directory; a VM whose directory is gone is no longer reported.
    package func collect() throws -> [MetricFamily] {
        guard SourceFile.exists(stateDirectory) else { throw CollectorError.noData("no microvm state directory \(stateDirectory)") }
        let names = try SourceFile.list(stateDirectory)
        // Each VM is some twenty small file reads; read the VMs on all cores, then merge in order.
        let readings = Mutex([Result<VMReading?, CollectorError>](repeating: .success(nil), count: names.count))
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            let reading = Result { () throws(CollectorError) -> VMReading? in try read(vm: names[index]) }
            readings.withLock { $0[index] = reading }
        }
        let vms = try readings.withLock { $0 }.compactMap { try $0.get() }
        // /proc/stat is read only when a start time needs its btime.
        let bootTime = vms.contains { $0.process != nil }
            ? (try? SourceFile.readIfPresent(paths.proc("stat"))).flatMap { $0 }.flatMap { try? parseStat($0, path: paths.proc("stat")).bootTime }
            : nil

        // The interface counters' dump and the control sockets: side by side when there are
        // both, so that the two together wait at most one socket timeout.
        let sockets = vms.compactMap(\.socket)
        let wanted = interfaceCounters == .netlink ? Set(vms.flatMap { $0.interfaces.map(\.0) }) : []
        let links: [String: [String: UInt64]]
        let socketAnswers: [Result<HypervisorReading, HypervisorFailure>]
        if sockets.isEmpty || wanted.isEmpty {
            links = linkCounters(wanted)
            socketAnswers = HypervisorQueries.read(sockets, timeout: socketTimeout)
        } else {
            let dumped = Mutex<[String: [String: UInt64]]?>(nil)
            let dumping = DispatchGroup()
            DispatchQueue.global().async(group: dumping) { dumped.withLock { $0 = linkCounters(wanted) } }
            socketAnswers = HypervisorQueries.read(sockets, timeout: socketTimeout)
            // The dump gives up at the timeout itself; the grace covers a thread started late.
            _ = dumping.wait(timeout: .now() + .milliseconds(Int(socketTimeout.seconds * 1000) + 100))
            links = dumped.withLock { $0 } ?? [:]
        }
        // One answer per VM with a socket, in order.
        var answers = socketAnswers.makeIterator()
        let hypervisors = vms.map { $0.socket == nil ? nil : answers.next() }

        var families = MicroVMFamilies()
        for (vm, hypervisor) in zip(vms, hypervisors) {
            let name = vm.entry.name
            families.add(vm.entry)
            families.addUp(vm: name, up: vm.up)
            families.addRestarts(vm: name, count: observations.restarts(vm: name, process: vm.process))
            if let process = vm.process, let bootTime {
                families.addStartTime(vm: name, seconds: Double(bootTime) + Double(process.startTicks) / Double(UnitProcess.ticksPerSecond))
            }
            if let stats = vm.cgroup { families.add(stats, vm: name, unit: .vm) }
            if let stats = vm.virtiofsd { families.add(stats, vm: name, unit: .virtiofsd) }
            for (interface, counters) in vm.interfaces {
                families.addNetwork(counters ?? links[interface], vm: name, interface: interface)
            }
            if let hypervisor {
                let failure = hypervisor.failure.map { ($0.errorType, $0.message) }
                report(failure, vm: name, source: .controlSocket)
                families.add(hypervisor: try? hypervisor.get(), vm: name)
            }
            if let metrics = vm.firecrackerMetrics {
                report(metrics.failure.map { (.firecrackerMetrics, $0.description) }, vm: name, source: .metricsFile)
                if let disks = try? metrics.get() { families.add(disks: disks, vm: name) }
            }
        }
        observations.keepOnly(Set(vms.map(\.entry.name)))
        observations.firecracker.keepOnly(Set(vms.compactMap(\.firecrackerMetricsFile)))
        return families.all
    }

    /// The counters of the interfaces in `wanted` from one rtnetlink dump, by interface name;
    /// empty when none are wanted or the dump failed (reported; the other families stay).
    private func linkCounters(_ wanted: Set<String>) -> [String: [String: UInt64]] {
        guard !wanted.isEmpty else { return [:] }
        let result = Result { () throws(CollectorError) in try LinkStatistics.read(keeping: wanted, timeout: socketTimeout) }
        report(result.failure.map { ($0.errorType, $0.description) }, vm: nil, source: .interfaceCounters)
        return (try? result.get()) ?? [:]
    }

    /// Counts a failure of one of the optional sources (`errorType`, `message`) of VM `vm`, or of
    /// all VMs when nil, and logs once when the source starts failing, fails differently or
    /// recovers.
    private func report(_ failure: (errorType: ErrorType, message: String)?, vm: String?, source: MicroVMSource) {
        if let failure { componentErrors.record(.collector("microvm"), failure.errorType) }
        let about: Logger.Metadata = vm.map { ["vm": "\($0)"] } ?? [:]
        switch observations.changedFailure(vm: vm, source: source, to: failure?.errorType.name) {
        case .some(.some):
            logger.warning("microVM \(source.rawValue) gives no reading", metadata: about.merging(["error": "\(failure!.message)"]) { $1 })
        case .some(.none):
            logger.info("microVM \(source.rawValue) answers again", metadata: about)
        case .none:
            break
        }
    }

    /// Everything read for one VM from files.
    struct VMReading: Sendable {
        var entry: MicroVMDirectory
        var up: Bool
        var process: UnitProcess?
        var socket: ControlSocket?
        var cgroup: CgroupStats?
        var virtiofsd: CgroupStats?
        /// Its interfaces with their counters, nil when the interface is gone or when the counters
        /// come from the scrape's rtnetlink dump.
        var interfaces: [(String, [String: UInt64]?)]
        /// The Firecracker metrics file named in the hypervisor's configuration, if any.
        var firecrackerMetricsFile: String?
        /// Its disk totals, or why they could not be read.
        var firecrackerMetrics: Result<[VirtualDiskCounters], CollectorError>?
    }

    /// Reads VM `name`; nil when its directory is gone or is not a VM's.
    func read(vm name: String) throws(CollectorError) -> VMReading? {
        let entry: MicroVMDirectory
        do {
            entry = try MicroVMDirectory.read(name: name, stateDirectory: stateDirectory, paths: paths, runners: observations.runners)
        } catch {
            if case .noData = error { return nil }  // removed while we listed
            throw error
        }
        guard entry.currentRunner != nil || entry.bootedRunner != nil else { return nil }  // not a VM directory
        let vmCgroup = SourceDirectory(cgroup(of: .vm, vm: name))
        let stats = vmCgroup.flatMap { try? CgroupStats.read($0) }
        let populated = vmCgroup.flatMap { try? $0.readIfPresent("cgroup.events") }
            .map { (try? parseFlatKeyed($0, path: "cgroup.events", keeping: Self.cgroupEventKeys))?["populated"] == 1 }
        let up = stats != nil && populated != false
        let process = up ? try vmCgroup.flatMap { cgroup throws(CollectorError) in try UnitProcess.read(cgroup: cgroup, paths: paths) } : nil
        var interfaces: [(String, [String: UInt64]?)] = []
        for interface in entry.tapInterfaces + entry.macvtapInterfaces {
            interfaces.append((interface, interfaceCounters == .sysfs ? try readInterface(interface) : nil))
        }
        // Ask the hypervisor only while the VM runs; without a cgroup to tell (cgroup v1, a
        // fixture), a `booted` link says it does.
        let running = stats == nil ? entry.bootedRunner != nil : up
        let socket = running ? controlSocket(of: entry, process: process) : nil
        var reading = VMReading(entry: entry, up: up, process: process, socket: socket, cgroup: stats,
                                virtiofsd: try? CgroupStats.read(cgroup(of: .virtiofsd, vm: name), .usage), interfaces: interfaces)
        if let configFile = socket?.configFile {
            // A bad configuration or metrics file costs this VM's disk counters, not the scrape.
            do throws(CollectorError) {
                if let metrics = try FirecrackerMetrics.metricsPath(inConfigFile: configFile) {
                    let file = metrics.hasPrefix("/") ? paths.rootfs(metrics) : stateDirectory + "/" + name + "/" + metrics
                    reading.firecrackerMetricsFile = file
                    let writer = process.map { "\($0.pid)/\($0.startTicks)" }
                    reading.firecrackerMetrics = Result { () throws(CollectorError) in
                        try observations.firecracker.disks(metricsFile: file, writer: writer)
                    }
                }
            } catch {
                reading.firecrackerMetrics = .failure(error)
            }
        }
        return reading
    }

    /// The control socket named on the hypervisor's command line: the running process's, else the
    /// one in the runner's `bin/microvm-run`.
    func controlSocket(of entry: MicroVMDirectory, process: UnitProcess?) -> ControlSocket? {
        let directory = stateDirectory + "/" + entry.name
        let root = { (path: String) in paths.rootfs(path) }
        if let arguments = process?.arguments, let socket = ControlSocket.find(in: arguments, directory: directory, root: root) {
            return socket
        }
        return entry.runArguments.flatMap { ControlSocket.find(in: $0, directory: directory, root: root) }
    }

    /// The statistics of a host network interface; nil when it does not exist (the VM's tap unit
    /// is not up).
    func readInterface(_ interface: String) throws(CollectorError) -> [String: UInt64]? {
        guard let directory = SourceDirectory(paths.sys("class/net/\(interface)/statistics")) else { return nil }
        var values: [String: UInt64] = [:]
        for file in LinkStatistics.counterNames {
            values[file] = try directory.parseIfPresent(file, parseSingleValue)
        }
        return values
    }
}

/// What the collector remembers between scrapes: each VM's main process (to count restarts),
/// the state of its control socket (to log changes once), and Firecracker's metric sums.
final class MicroVMObservations: Sendable {
    private struct VMState {
        var process: (pid: Int32, startTicks: UInt64)?
        var restarts: UInt64 = 0
        var failures: [MicroVMSource: String] = [:]
    }

    private let vms = Mutex<[String: VMState]>([:])
    /// The failing sources that serve all VMs at once (the interface counters' dump).
    private let sharedFailures = Mutex<[MicroVMSource: String]>([:])
    /// The running totals of Firecracker metrics files.
    let firecracker = FirecrackerMetrics()
    /// What the runners in the Nix store say (they never change).
    let runners = RunnerFacts.Cache()

    /// How many times VM `name` has had a new main process since Lookout first saw it: a restart
    /// by systemd (`Restart=always`) or by hand. A VM seen stopped in between still counts once.
    func restarts(vm name: String, process: UnitProcess?) -> UInt64 {
        vms.withLock { vms in
            var state = vms[name] ?? VMState()
            if let process {
                if let seen = state.process, seen.pid != process.pid || seen.startTicks != process.startTicks { state.restarts += 1 }
                state.process = (process.pid, process.startTicks)
            }
            vms[name] = state
            return state.restarts
        }
    }

    /// Records the error type of one of VM `name`'s sources, or of a source of all VMs when
    /// `name` is nil (`failure` nil: it answered). Returns the new value when it changed, nil
    /// when it did not.
    func changedFailure(vm name: String?, source: MicroVMSource, to failure: String?) -> String?? {
        func change(_ failures: inout [MicroVMSource: String]) -> String?? {
            let before = failures[source]
            failures[source] = failure
            return before == failure ? nil : .some(failure)
        }
        guard let name else { return sharedFailures.withLock { change(&$0) } }
        return vms.withLock { vms in change(&vms[name, default: VMState()].failures) }
    }

    /// Forgets the VMs not in `names`.
    func keepOnly(_ names: Set<String>) {
        vms.withLock { vms in vms = vms.filter { names.contains($0.key) } }
    }
}

/// The sources that can fail without failing the collector.
enum MicroVMSource: String, Sendable {
    /// A VM's hypervisor control socket.
    case controlSocket = "control socket"
    /// A VM's Firecracker metrics file.
    case metricsFile = "metrics file"
    /// The rtnetlink dump of all VMs' interface counters.
    case interfaceCounters = "interface counter dump"
}

/// Where the microvm collector reads the VMs' interface counters.
package enum InterfaceCounterSource: Sendable, Equatable {
    /// One rtnetlink dump per scrape, in Lookout's network namespace (``LinkStatistics``).
    case netlink
    /// `<sysfs>/class/net/ID/statistics/*`, under `--path.sysfs`.
    case sysfs
}

/// The two units microvm.nix runs per VM.
enum MicroVMUnit {
    /// `microvm@NAME.service`: the hypervisor.
    case vm
    /// `microvm-virtiofsd@NAME.service`: the virtiofsd processes of its shares.
    case virtiofsd
}

/// The families of one scrape, filled VM by VM (VMs come in name order, so samples do too).
struct MicroVMFamilies {
    private var info = MetricFamily(name: "microvm_info", help: "A microVM of this host: its hypervisor and the runner it runs (or will run).", type: .gauge)
    private var up = MetricFamily(name: "microvm_up", help: "1 when the microVM's unit has running processes.", type: .gauge)
    private var restartPending = MetricFamily(name: "microvm_restart_pending", help: "1 when a new runner is installed but the microVM still runs the old one.", type: .gauge)
    private var declarative = MetricFamily(name: "microvm_declarative", help: "1 for a fully declarative microVM (a toplevel link in its state directory).", type: .gauge)
    private var cpu = MetricFamily(name: "microvm_cpu_usage_seconds_total", help: "CPU time of the microVM's unit (hypervisor and vCPU threads), by mode.", type: .counter)
    private var memory = MetricFamily(name: "microvm_memory_bytes", help: "Memory charged to the microVM's unit (memory.current): guest RAM it has touched and the hypervisor's own.", type: .gauge)
    private var memoryPeak = MetricFamily(name: "microvm_memory_peak_bytes", help: "Most memory the microVM's unit has used since it started (memory.peak).", type: .gauge)
    private var memoryLimit = MetricFamily(name: "microvm_memory_limit_bytes", help: "Memory limit of the microVM's unit (memory.max); absent when unlimited.", type: .gauge)
    private var memoryStat = MetricFamily(name: "microvm_memory_stat_bytes", help: "Memory of the microVM's unit by kind (memory.stat).", type: .gauge)
    private var oomKills = MetricFamily(name: "microvm_oom_kills_total", help: "Processes of the microVM's unit killed by the OOM killer.", type: .counter)
    private var blockReadBytes = MetricFamily(name: "microvm_block_read_bytes_total", help: "Bytes the microVM's unit read from a block device.", type: .counter)
    private var blockWrittenBytes = MetricFamily(name: "microvm_block_write_bytes_total", help: "Bytes the microVM's unit wrote to a block device.", type: .counter)
    private var blockReads = MetricFamily(name: "microvm_block_reads_total", help: "Read operations of the microVM's unit on a block device.", type: .counter)
    private var blockWrites = MetricFamily(name: "microvm_block_writes_total", help: "Write operations of the microVM's unit on a block device.", type: .counter)
    private var tasks = MetricFamily(name: "microvm_tasks", help: "Tasks (threads) in the microVM's unit.", type: .gauge)
    private var cpuWaiting = MetricFamily(name: "microvm_pressure_cpu_waiting_seconds_total", help: "Time tasks of the microVM's unit waited for a CPU.", type: .counter)
    private var memoryWaiting = MetricFamily(name: "microvm_pressure_memory_waiting_seconds_total", help: "Time some tasks of the microVM's unit waited for memory.", type: .counter)
    private var memoryStalled = MetricFamily(name: "microvm_pressure_memory_stalled_seconds_total", help: "Time all tasks of the microVM's unit stalled on memory.", type: .counter)
    private var ioWaiting = MetricFamily(name: "microvm_pressure_io_waiting_seconds_total", help: "Time some tasks of the microVM's unit waited for IO.", type: .counter)
    private var ioStalled = MetricFamily(name: "microvm_pressure_io_stalled_seconds_total", help: "Time all tasks of the microVM's unit stalled on IO.", type: .counter)
    private var virtiofsdCPU = MetricFamily(name: "microvm_virtiofsd_cpu_usage_seconds_total", help: "CPU time of the microVM's virtiofsd unit, by mode.", type: .counter)
    private var virtiofsdMemory = MetricFamily(name: "microvm_virtiofsd_memory_bytes", help: "Memory charged to the microVM's virtiofsd unit.", type: .gauge)
    private var restarts = MetricFamily(name: "microvm_unit_restarts_total", help: "Times the microVM's unit got a new main process since Lookout started watching it.", type: .counter)
    private var startTime = MetricFamily(name: "microvm_start_time_seconds", help: "When the microVM's hypervisor process started, in seconds since the epoch.", type: .gauge)
    private var hypervisorUp = MetricFamily(name: "microvm_hypervisor_up", help: "1 when the microVM's hypervisor answered on its control socket in this scrape.", type: .gauge)
    private var hypervisorStatus = MetricFamily(name: "microvm_hypervisor_status", help: "The run state the hypervisor reports for the microVM (1 for the current state).", type: .gauge)
    private var vcpus = MetricFamily(name: "microvm_vcpus", help: "vCPUs of the microVM, as its hypervisor reports them.", type: .gauge)
    private var guestMemory = MetricFamily(name: "microvm_guest_memory_bytes", help: "Memory given to the microVM's guest, hot-plugged memory included.", type: .gauge)
    private var balloon = MetricFamily(name: "microvm_balloon_bytes", help: "Guest memory the balloon device currently holds back from the microVM.", type: .gauge)
    private var diskReadBytes = MetricFamily(name: "microvm_disk_read_bytes_total", help: "Bytes the microVM's guest read from a virtual disk, as its hypervisor counts them.", type: .counter)
    private var diskWrittenBytes = MetricFamily(name: "microvm_disk_write_bytes_total", help: "Bytes the microVM's guest wrote to a virtual disk.", type: .counter)
    private var diskReads = MetricFamily(name: "microvm_disk_reads_total", help: "Read requests of the microVM's guest on a virtual disk.", type: .counter)
    private var diskWrites = MetricFamily(name: "microvm_disk_writes_total", help: "Write requests of the microVM's guest on a virtual disk.", type: .counter)
    private var network: [String: MetricFamily] = [:]

    /// The guest-side names of the tap counters: the host's tx is the guest's receive.
    static let networkCounters: [(family: String, file: String, help: String)] = [
        ("microvm_network_receive_bytes_total", "tx_bytes", "Bytes the microVM received on a host interface (the host's transmit side)."),
        ("microvm_network_transmit_bytes_total", "rx_bytes", "Bytes the microVM sent on a host interface (the host's receive side)."),
        ("microvm_network_receive_packets_total", "tx_packets", "Packets the microVM received on a host interface."),
        ("microvm_network_transmit_packets_total", "rx_packets", "Packets the microVM sent on a host interface."),
        ("microvm_network_receive_errors_total", "tx_errors", "Errors on packets towards the microVM on a host interface."),
        ("microvm_network_transmit_errors_total", "rx_errors", "Errors on packets from the microVM on a host interface."),
        ("microvm_network_receive_drops_total", "tx_dropped", "Packets towards the microVM dropped on a host interface."),
        ("microvm_network_transmit_drops_total", "rx_dropped", "Packets from the microVM dropped on a host interface."),
    ]

    mutating func add(_ entry: MicroVMDirectory) {
        info.samples.append(Sample(labels: [
            Label("hypervisor", entry.hypervisor ?? ""), Label("runner", entry.bootedRunner ?? entry.currentRunner ?? ""),
            Label("vm", entry.name),
        ], value: 1))
        restartPending.samples.append(Sample(labels: [Label("vm", entry.name)], value: entry.restartPending ? 1 : 0))
        declarative.samples.append(Sample(labels: [Label("vm", entry.name)], value: entry.declarative ? 1 : 0))
    }

    mutating func addUp(vm: String, up isUp: Bool) {
        up.samples.append(Sample(labels: [Label("vm", vm)], value: isUp ? 1 : 0))
    }

    /// Adds the restarts seen for `vm`.
    mutating func addRestarts(vm: String, count: UInt64) {
        restarts.samples.append(Sample(labels: [Label("vm", vm)], value: Double(count)))
    }

    /// Adds when `vm`'s main process started.
    mutating func addStartTime(vm: String, seconds: Double) {
        startTime.samples.append(Sample(labels: [Label("vm", vm)], value: seconds))
    }

    /// A control socket's reading; nil when it gave none (`microvm_hypervisor_up` 0).
    mutating func add(hypervisor reading: HypervisorReading?, vm: String) {
        let label = Label("vm", vm)
        hypervisorUp.samples.append(Sample(labels: [label], value: reading == nil ? 0 : 1))
        guard let reading else { return }
        hypervisorStatus.samples.append(Sample(labels: [Label("status", reading.status), label], value: 1))
        if let count = reading.vcpus { vcpus.samples.append(Sample(labels: [label], value: Double(count))) }
        if let bytes = reading.guestMemoryBytes { guestMemory.samples.append(Sample(labels: [label], value: Double(bytes))) }
        if let bytes = reading.balloonBytes { balloon.samples.append(Sample(labels: [label], value: Double(bytes))) }
        add(disks: reading.disks, vm: vm)
    }

    /// Adds the virtual disks' counters of `vm`.
    mutating func add(disks: [VirtualDiskCounters], vm: String) {
        for disk in disks {
            let labels = [Label("disk", disk.disk), Label("vm", vm)]
            diskReadBytes.samples.append(Sample(labels: labels, value: Double(disk.readBytes)))
            diskWrittenBytes.samples.append(Sample(labels: labels, value: Double(disk.writtenBytes)))
            diskReads.samples.append(Sample(labels: labels, value: Double(disk.reads)))
            diskWrites.samples.append(Sample(labels: labels, value: Double(disk.writes)))
        }
    }

    mutating func add(_ stats: CgroupStats, vm: String, unit: MicroVMUnit) {
        let label = Label("vm", vm)
        func seconds(_ microseconds: UInt64) -> Double { Double(microseconds) / 1e6 }
        let cpuSamples = [("system", "system_usec"), ("user", "user_usec")].compactMap { mode, key in
            stats.cpu[key].map { Sample(labels: [Label("mode", mode), label], value: seconds($0)) }
        }
        if unit == .virtiofsd {
            virtiofsdCPU.samples += cpuSamples
            if let current = stats.memoryCurrent { virtiofsdMemory.samples.append(Sample(labels: [label], value: Double(current))) }
            return
        }
        cpu.samples += cpuSamples
        if let current = stats.memoryCurrent { memory.samples.append(Sample(labels: [label], value: Double(current))) }
        if let peak = stats.memoryPeak { memoryPeak.samples.append(Sample(labels: [label], value: Double(peak))) }
        if case .some(.some(let limit)) = stats.memoryMax { memoryLimit.samples.append(Sample(labels: [label], value: Double(limit))) }
        if let stat = stats.memoryStat {
            for kind in MicroVMCollector.memoryKinds {
                if let value = stat[kind] { memoryStat.samples.append(Sample(labels: [Label("kind", kind), label], value: Double(value))) }
            }
        }
        if let killed = stats.memoryEvents?["oom_kill"] { oomKills.samples.append(Sample(labels: [label], value: Double(killed))) }
        for device in stats.io ?? [] {
            let labels = [Label("device", device.device), label]
            blockReadBytes.samples.append(Sample(labels: labels, value: Double(device.readBytes)))
            blockWrittenBytes.samples.append(Sample(labels: labels, value: Double(device.writtenBytes)))
            blockReads.samples.append(Sample(labels: labels, value: Double(device.reads)))
            blockWrites.samples.append(Sample(labels: labels, value: Double(device.writes)))
        }
        if let count = stats.tasks { tasks.samples.append(Sample(labels: [label], value: Double(count))) }
        if let some = stats.cpuPressure?.some { cpuWaiting.samples.append(Sample(labels: [label], value: seconds(some))) }
        if let some = stats.memoryPressure?.some { memoryWaiting.samples.append(Sample(labels: [label], value: seconds(some))) }
        if let full = stats.memoryPressure?.full { memoryStalled.samples.append(Sample(labels: [label], value: seconds(full))) }
        if let some = stats.ioPressure?.some { ioWaiting.samples.append(Sample(labels: [label], value: seconds(some))) }
        if let full = stats.ioPressure?.full { ioStalled.samples.append(Sample(labels: [label], value: seconds(full))) }
    }

    mutating func addNetwork(_ counters: [String: UInt64]?, vm: String, interface: String) {
        guard let counters else { return }
        for (family, file, help) in Self.networkCounters {
            guard let value = counters[file] else { continue }
            network[family, default: MetricFamily(name: family, help: help, type: .counter)].samples
                .append(Sample(labels: [Label("interface", interface), Label("vm", vm)], value: Double(value)))
        }
    }

    /// Every family with at least one sample, in name order.
    var all: [MetricFamily] {
        ([info, up, restartPending, declarative, cpu, memory, memoryPeak, memoryLimit, memoryStat, oomKills,
          blockReadBytes, blockWrittenBytes, blockReads, blockWrites, tasks, cpuWaiting, memoryWaiting, memoryStalled,
          ioWaiting, ioStalled, virtiofsdCPU, virtiofsdMemory, restarts, startTime, hypervisorUp, hypervisorStatus,
          vcpus, guestMemory, balloon, diskReadBytes, diskWrittenBytes, diskReads, diskWrites] + Array(network.values))
            .filter { !$0.samples.isEmpty }
            .sorted { $0.name < $1.name }
    }
}

extension Result {
    /// The error, when this is a failure.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}

extension MicroVMCollector {
    /// The `microvm` collector's entry in the catalog. On by default: on a host without
    /// microvm.nix it reports no data and costs one access(2).
    package static let spec = HostCollectorSpec(
        name: "microvm", readsProcfs: false,
        options: [
            CollectorOption("state-dir", .text, help: "microvm.nix's state directory (default /var/lib/microvms).") { $0.microvmStateDirectory = $1.text },
            CollectorOption("socket-timeout", .duration, help: "How long a scrape waits for the hypervisors' control sockets, all together (default 1s).") {
                $0.microvmSocketTimeout = $1.duration
            },
            CollectorOption(
                "netlink", .boolean,
                help: "Read the VMs' interface counters with one rtnetlink dump, not from sysfs (default: on when --path.sysfs is /sys)."
            ) {
                $0.microvmNetlink = $1.boolean
            },
        ]
    ) { settings, errors in
        MicroVMCollector(paths: settings.paths, stateDirectory: settings.microvmStateDirectory,
                         socketTimeout: settings.microvmSocketTimeout, interfaceCounters: settings.microvmInterfaceCounters,
                         componentErrors: errors)
    }
}
