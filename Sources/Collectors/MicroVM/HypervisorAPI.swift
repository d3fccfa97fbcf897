// What the hypervisors of one scrape say over their control sockets, all asked at once under one
// timeout:
//
// - QEMU and stratovirt over QMP (`QMP.swift`);
// - cloud-hypervisor over its REST API on the unix socket, through libcurl:
//   `GET /api/v1/vm.info` (state, `config.cpus.boot_vcpus`, `config.memory.size` plus
//   `hotplugged_size`, `config.balloon.size`) and `GET /api/v1/vm.counters` (per device; the
//   block devices, `_disk0`…, carry `read_bytes`, `write_bytes`, `read_ops`, `write_ops`);
//   `vm.info` answers 404 while the VMM has no VM, which is an answer (`not_created`), not a fault;
// - Firecracker over its REST API: `GET /` (`state`) and `GET /machine-config` (`vcpu_count`,
//   `mem_size_mib`). Its IO counters come only from its metrics file (`FirecrackerMetrics.swift`).

import MetricModel
import Curl
import Dispatch
import FoundationEssentials
import Synchronization

/// One hypervisor's answer, whatever its protocol.
struct HypervisorReading: Sendable, Equatable {
    /// The VM's run state in lower case with `_` for spaces: `running`, `paused`, `shutdown`,
    /// `created`, `not_started`, `not_created`, QEMU's `guest-panicked`, …
    var status: String
    /// vCPUs the guest booted with.
    var vcpus: Int?
    /// Memory given to the guest, hot-plugged memory included.
    var guestMemoryBytes: UInt64?
    /// Memory the balloon holds back from the guest (cloud-hypervisor: its target size); nil
    /// without a balloon.
    var balloonBytes: UInt64?
    /// The guest's virtual disks, as the hypervisor counts their IO.
    var disks: [VirtualDiskCounters] = []
}

/// Asks hypervisors over their control sockets.
enum HypervisorQueries {
    /// Reads every socket at once: QMP conversations on this thread, HTTP requests through
    /// libcurl's multi interface beside them. Returns one result per socket, in order, after at
    /// most about `timeout`.
    static func read(_ sockets: [ControlSocket], timeout: Duration) -> [Result<HypervisorReading, HypervisorFailure>] {
        guard !sockets.isEmpty else { return [] }
        let qmp = sockets.indices.filter { sockets[$0].kind == .qmp }
        let http = sockets.indices.filter { sockets[$0].kind != .qmp }
        let httpRequests = http.flatMap { requests(for: sockets[$0]) }
        let responses = Mutex<[Result<HTTPResponse, TransferError>]?>(nil)
        let done = DispatchSemaphore(value: 0)
        if !httpRequests.isEmpty {
            // A queue of its own: it targets an overcommitting root queue, so the transfers start
            // now even when every worker of the global pool is busy (with this very scrape).
            DispatchQueue(label: "lookout.microvm.hypervisor-api").async {
                let answers = UnixSocketHTTP.get(httpRequests, timeout: timeout)
                responses.withLock { $0 = answers }
                done.signal()
            }
        }
        let qmpResults = QMPClient.read(qmp.map { sockets[$0].path }, timeout: timeout)
        if !httpRequests.isEmpty { _ = done.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000) + 1000)) }
        let late = TransferError(kind: .timeout, code: 28, message: "no answer within \(timeout)")
        let httpResults = responses.withLock { $0 } ?? Array(repeating: .failure(late), count: httpRequests.count)

        var results = [Result<HypervisorReading, HypervisorFailure>?](repeating: nil, count: sockets.count)
        for (index, result) in zip(qmp, qmpResults) { results[index] = result.map(HypervisorReading.init(qmp:)) }
        var answers = httpResults[...]
        for index in http {
            let socket = sockets[index]
            let count = requests(for: socket).count
            let mine = Array(answers.prefix(count))
            answers = answers.dropFirst(count)
            results[index] = socket.kind == .cloudHypervisor
                ? cloudHypervisorReading(socket: socket.path, info: mine[0], counters: mine[1])
                : firecrackerReading(socket: socket.path, instance: mine[0], machine: mine[1])
        }
        return results.map { $0! }
    }

    /// The GETs one HTTP socket gets, in the order the readings expect them.
    private static func requests(for socket: ControlSocket) -> [UnixSocketRequest] {
        let paths = socket.kind == .cloudHypervisor ? ["/api/v1/vm.info", "/api/v1/vm.counters"] : ["/", "/machine-config"]
        return paths.map { UnixSocketRequest(socketPath: socket.path, path: $0) }
    }

    /// Turns cloud-hypervisor's two answers into a reading. `vm.info` decides: without it there is
    /// no reading; `vm.counters` only adds the disks (it fails while the VM is not booted).
    static func cloudHypervisorReading(
        socket: String, info: Result<HTTPResponse, TransferError>, counters: Result<HTTPResponse, TransferError>
    ) -> Result<HypervisorReading, HypervisorFailure> {
        if case .success(let answer) = info, answer.status == 404 { return .success(HypervisorReading(status: "not_created")) }
        let vm: CloudHypervisorInfo
        switch decoded(info, as: CloudHypervisorInfo.self, schema: "VmInfo", api: "cloud-hypervisor", socket: socket, path: "/api/v1/vm.info") {
        case .failure(let failure): return .failure(failure)
        case .success(let value): vm = value
        }
        var reading = HypervisorReading(
            status: statusText(vm.state), vcpus: vm.config.cpus?.bootVcpus,
            guestMemoryBytes: vm.config.memory.flatMap { checkedSum($0.size, $0.hotpluggedSize ?? 0) },
            balloonBytes: vm.config.balloon?.size)
        if case .success(let answer) = counters, answer.status == 200,
           let devices = try? JSONDecoder().decode([String: [String: UInt64]].self, from: Data(answer.body)) {
            reading.disks = devices.keys.sorted().compactMap { device in
                let counters = devices[device]!
                guard let read = counters["read_bytes"], let written = counters["write_bytes"] else { return nil }  // a net device
                return VirtualDiskCounters(disk: device, readBytes: read, writtenBytes: written,
                                           reads: counters["read_ops"] ?? 0, writes: counters["write_ops"] ?? 0)
            }
        }
        return .success(reading)
    }

    /// Turns Firecracker's two answers into a reading: `GET /` decides, `/machine-config` adds
    /// the vCPUs and memory.
    static func firecrackerReading(
        socket: String, instance: Result<HTTPResponse, TransferError>, machine: Result<HTTPResponse, TransferError>
    ) -> Result<HypervisorReading, HypervisorFailure> {
        let info: FirecrackerInstance
        switch decoded(instance, as: FirecrackerInstance.self, schema: "InstanceInfo", api: "firecracker", socket: socket, path: "/") {
        case .failure(let failure): return .failure(failure)
        case .success(let value): info = value
        }
        var reading = HypervisorReading(status: statusText(info.state))
        if case .success(let answer) = machine, answer.status == 200,
           let config = try? JSONDecoder().decode(FirecrackerMachine.self, from: Data(answer.body)) {
            reading.vcpus = config.vcpuCount
            let (bytes, overflow) = config.memSizeMib.multipliedReportingOverflow(by: 1 << 20)
            reading.guestMemoryBytes = overflow ? nil : bytes
        }
        return .success(reading)
    }

    /// The JSON object (of the API's `schema`) a 200 answer to `GET path` carries, or why there is none.
    private static func decoded<Value: Decodable>(
        _ answer: Result<HTTPResponse, TransferError>, as type: Value.Type, schema: String, api: String, socket: String, path: String
    ) -> Result<Value, HypervisorFailure> {
        answer.mapError { HypervisorFailure(transfer: $0, socket: socket, path: path) }.flatMap { response in
            guard response.status == 200 else {
                return .failure(HypervisorFailure(errorType: .hypervisorStatus, message: "\(api) \(socket): GET \(path) answered \(response.status)"))
            }
            guard let value = try? JSONDecoder().decode(Value.self, from: Data(response.body)) else {
                return .failure(HypervisorFailure(errorType: .hypervisorProtocol, message: "\(api) \(socket): GET \(path) is not the documented \(schema) object"))
            }
            return .success(value)
        }
    }

    /// `Running` → `running`, `Not started` → `not_started`.
    static func statusText(_ state: String) -> String {
        String(state.lowercased().map { $0 == " " ? "_" : $0 })
    }
}

/// `a + b`, or nil where a hostile answer would overflow it.
func checkedSum(_ a: UInt64, _ b: UInt64) -> UInt64? {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? nil : sum
}

extension HypervisorReading {
    /// A QMP reading in the common shape: the balloon holds what it keeps from the guest's memory.
    init(qmp: QMPReading) {
        let balloon = qmp.balloonActualBytes.flatMap { actual in
            qmp.guestMemoryBytes.map { $0 > actual ? $0 - actual : 0 }
        }
        self.init(status: qmp.status, vcpus: qmp.vcpus, guestMemoryBytes: qmp.guestMemoryBytes, balloonBytes: balloon, disks: qmp.disks)
    }
}

extension HypervisorFailure {
    /// A libcurl failure on `path` of the API at `socket`.
    init(transfer error: TransferError, socket: String, path: String) {
        let errorType: ErrorType = switch error.kind {
        case .connection: .hypervisorConnect
        case .timeout: .hypervisorTimeout
        default: .hypervisorClosed
        }
        // curl names "localhost port 80" for a unix socket; the socket's path says more.
        self.init(errorType: errorType, message: "\(socket): GET \(path): \(error)")
    }
}

/// The parts of cloud-hypervisor's `VmInfo` the collector reads.
private struct CloudHypervisorInfo: Decodable {
    var state: String
    var config: Config

    struct Config: Decodable {
        var cpus: CPUs?
        var memory: Memory?
        var balloon: Balloon?
    }

    struct CPUs: Decodable {
        var bootVcpus: Int
        private enum CodingKeys: String, CodingKey { case bootVcpus = "boot_vcpus" }
    }

    struct Memory: Decodable {
        var size: UInt64
        var hotpluggedSize: UInt64?
        private enum CodingKeys: String, CodingKey { case size, hotpluggedSize = "hotplugged_size" }
    }

    struct Balloon: Decodable {
        var size: UInt64
    }
}

/// Firecracker's `InstanceInfo` (`GET /`).
private struct FirecrackerInstance: Decodable {
    var state: String
}

/// Firecracker's `MachineConfiguration` (`GET /machine-config`).
private struct FirecrackerMachine: Decodable {
    var vcpuCount: Int
    var memSizeMib: UInt64
    private enum CodingKeys: String, CodingKey { case vcpuCount = "vcpu_count", memSizeMib = "mem_size_mib" }
}
