// QEMU Machine Protocol conversations with the hypervisors of one scrape (qemu qapi/*.json,
// https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html).
//
// QMP serves one client at a time, and microvm.nix's own `microvm-shutdown` and
// `microvm-balloon` use the same socket, so a conversation is short: connect, read the greeting,
// `qmp_capabilities`, then `query-status`, `query-cpus-fast`, `query-blockstats`,
// `query-balloon` and `query-memory-size-summary`, one at a time (stratovirt's QMP reads one
// line per wake-up and answers an unknown command with an error that has no `id`, so a reply
// belongs to the command in flight; event lines are skipped), close. While another client holds the socket, QEMU leaves our
// connection in the listen backlog and sends no greeting: that, a silent socket and one that
// answers garbage all end as a failed reading when the shared deadline passes or the garbage
// arrives. All conversations of a scrape run on one thread with poll(2), so a scrape waits at
// most one timeout however many sockets hang.

#if canImport(Glibc)
import LookoutSupport
import MetricModel
import Glibc
#endif
import FoundationEssentials

/// What one QMP conversation learned about a VM.
struct QMPReading: Sendable, Equatable {
    /// `query-status`'s RunState: `running`, `paused`, `shutdown`, `guest-panicked`, …
    var status: String
    /// How many vCPUs `query-cpus-fast` lists; nil when QEMU does not answer it (stratovirt).
    var vcpus: Int?
    /// The guest's virtual disks (`query-blockstats`).
    var disks: [VirtualDiskCounters]
    /// The guest's memory as the balloon leaves it (`query-balloon` `actual`); nil without a balloon.
    var balloonActualBytes: UInt64?
    /// Boot plus hot-plugged memory (`query-memory-size-summary`); nil when QEMU does not answer it.
    var guestMemoryBytes: UInt64?
}

/// IO counters of one virtual disk as its hypervisor counts them.
struct VirtualDiskCounters: Sendable, Equatable {
    /// The disk's id: QEMU's drive id (`store`, `vda`), cloud-hypervisor's device id (`_disk0`),
    /// Firecracker's drive id.
    var disk: String
    /// Bytes read by the guest.
    var readBytes: UInt64
    /// Bytes written by the guest.
    var writtenBytes: UInt64
    /// Read requests.
    var reads: UInt64
    /// Write requests.
    var writes: UInt64
}

/// Why a hypervisor's control socket gave no reading; `errorType` is the bounded metric label.
struct HypervisorFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A bounded name: `connect`, `timeout`, `closed`, `protocol`, `status`.
    var errorType: ErrorType
    /// One line saying what happened and where.
    var message: String

    var description: String { message }
}

/// Runs QMP conversations.
enum QMPClient {
    /// The commands sent after `qmp_capabilities`, in order, each with its name as `id`.
    static let queries = ["query-status", "query-cpus-fast", "query-blockstats", "query-balloon", "query-memory-size-summary"]

    /// Longest reply line accepted; `query-blockstats` of a VM with a few disks is a few KiB.
    static let maximumLineBytes = 1 << 20

    /// Talks to every socket at once and returns one result per socket, in order, within about
    /// `timeout` of the call however many sockets hang.
    static func read(_ sockets: [String], timeout: Duration) -> [Result<QMPReading, HypervisorFailure>] {
        let deadline = ContinuousClock.now + timeout
        var conversations = sockets.map(QMPConversation.init(socket:))
        while true {
            var polled: [pollfd] = []
            var owners: [Int] = []
            for index in conversations.indices where conversations[index].result == nil {
                polled.append(pollfd(fd: conversations[index].descriptor, events: conversations[index].events, revents: 0))
                owners.append(index)
            }
            if polled.isEmpty { break }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                for index in owners { conversations[index].fail(.hypervisorTimeout, "no answer within \(timeout)") }
                break
            }
            let milliseconds = Int32(clamping: max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            let ready = poll(&polled, nfds_t(polled.count), milliseconds)
            if ready < 0, errno != EINTR {
                for index in owners { conversations[index].fail(.hypervisorConnect, "poll failed: \(TextFile.errnoText(errno))") }
                break
            }
            for (slot, index) in owners.enumerated() where polled[slot].revents != 0 {
                conversations[index].handle(polled[slot].revents)
            }
        }
        return conversations.map { $0.result! }
    }
}

/// One conversation's state. Owns its socket until it has a result.
private struct QMPConversation {
    let socket: String
    private(set) var descriptor: Int32 = -1
    private(set) var result: Result<QMPReading, HypervisorFailure>?
    private var stage = Stage.greeting
    private var received: [UInt8] = []
    private var unsent: [UInt8] = []
    private var unasked = QMPClient.queries[...]
    private var replies: [String: [UInt8]] = [:]
    private var skippedLines = 0

    private enum Stage { case greeting, capabilities, queries }

    init(socket: String) {
        self.socket = socket
        connect()
    }

    /// The poll events this conversation waits for.
    var events: Int16 { Int16(POLLIN) | (unsent.isEmpty ? 0 : Int16(POLLOUT)) }

    mutating func fail(_ errorType: ErrorType, _ reason: String) {
        finish(.failure(HypervisorFailure(errorType: errorType, message: "QMP \(socket): \(reason)")))
    }

    private mutating func finish(_ outcome: Result<QMPReading, HypervisorFailure>) {
        guard result == nil else { return }
        result = outcome
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private mutating func connect() {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard socket.utf8.count < capacity else { return fail(.hypervisorConnect, "socket path longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: socket.utf8)
            bytes[socket.utf8.count] = 0
        }
        descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return fail(.hypervisorConnect, "socket: \(TextFile.errnoText(errno))") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // A unix stream connect either completes at once or fails: EAGAIN means the backlog is full.
        if connected < 0 { fail(.hypervisorConnect, "connect: \(TextFile.errnoText(errno))") }
    }

    mutating func handle(_ revents: Int16) {
        if revents & Int16(POLLNVAL) != 0 { return fail(.hypervisorClosed, "the socket was closed under the conversation") }
        if revents & Int16(POLLOUT) != 0 { flush() }
        if result == nil, revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { receive() }
    }

    private mutating func send(_ line: String) {
        unsent.append(contentsOf: line.utf8)
        unsent.append(UInt8(ascii: "\n"))
        flush()
    }

    private mutating func flush() {
        while !unsent.isEmpty {
            let written = unsent.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return }
                return fail(.hypervisorClosed, "send: \(TextFile.errnoText(errno))")
            }
            unsent.removeFirst(written)
        }
    }

    /// One read per wake-up, so that the poll loop checks the deadline between reads however fast
    /// the peer writes.
    private mutating func receive() {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var count: Int
        repeat {
            count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        } while count < 0 && errno == EINTR
        if count < 0 {
            if errno == EAGAIN { return }
            return fail(.hypervisorClosed, "recv: \(TextFile.errnoText(errno))")
        }
        if count == 0 { return fail(.hypervisorClosed, "the hypervisor closed the connection") }
        received.append(contentsOf: chunk[..<count])
        var start = received.startIndex
        while result == nil, let newline = received[start...].firstIndex(of: UInt8(ascii: "\n")) {
            consume(Array(received[start..<newline]))
            start = newline + 1
        }
        received.removeFirst(start - received.startIndex)
        if result == nil, received.count > QMPClient.maximumLineBytes {
            fail(.hypervisorProtocol, "a line longer than \(QMPClient.maximumLineBytes) bytes")
        }
    }

    private mutating func consume(_ line: [UInt8]) {
        if line.allSatisfy({ $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") }) || line.isEmpty { return skip() }
        guard let envelope = try? JSONDecoder().decode(QMPEnvelope.self, from: Data(line)) else {
            return fail(.hypervisorProtocol, "not a QMP message: \(preview(line))")
        }
        if envelope.isEvent { return skip() }
        switch stage {
        case .greeting:
            guard envelope.isGreeting else { return fail(.hypervisorProtocol, "expected the QMP greeting, got \(preview(line))") }
            stage = .capabilities
            send(#"{"execute":"qmp_capabilities"}"#)
        case .capabilities:
            if let error = envelope.error { return fail(.hypervisorProtocol, "qmp_capabilities failed: \(error.desc)") }
            guard envelope.hasReturn else { return fail(.hypervisorProtocol, "unexpected reply to qmp_capabilities: \(preview(line))") }
            stage = .queries
            askNext()
        case .queries:
            // QMP answers in-band commands in order: a reply is the one in flight's, whether it
            // carries our id or, like stratovirt's errors, none.
            let asked = QMPClient.queries[unasked.startIndex - 1]
            guard envelope.hasReturn || envelope.error != nil, envelope.id == nil || envelope.id == asked else {
                return fail(.hypervisorProtocol, "unexpected reply to \(asked): \(preview(line))")
            }
            replies[asked] = line
            if unasked.isEmpty { finish(reading()) } else { askNext() }
        }
    }

    /// Sends the next query.
    private mutating func askNext() {
        let command = unasked.removeFirst()
        send(#"{"execute":"\#(command)","id":"\#(command)"}"#)
    }

    /// Counts a line that carries nothing for us (an event, a blank line); a peer that sends
    /// nothing else is not a QMP server worth waiting for.
    private mutating func skip() {
        skippedLines += 1
        if skippedLines > 1000 { fail(.hypervisorProtocol, "more than 1000 lines without a reply") }
    }

    /// Decodes the collected replies. `query-status` must succeed; the others may fail (an old
    /// QEMU, no balloon) and leave their part empty.
    private func reading() -> Result<QMPReading, HypervisorFailure> {
        func decoded<Value: Decodable>(_ id: String, as type: Value.Type) -> Value? {
            replies[id].flatMap { try? JSONDecoder().decode(QMPReply<Value>.self, from: Data($0)).value }
        }
        guard let status = decoded("query-status", as: QMPRunStatus.self) else {
            let error = replies["query-status"].flatMap { try? JSONDecoder().decode(QMPEnvelope.self, from: Data($0)).error }
            return .failure(HypervisorFailure(errorType: .hypervisorProtocol, message: "QMP \(socket): query-status failed: \(error?.desc ?? "unreadable reply")"))
        }
        let disks = (decoded("query-blockstats", as: [QMPBlockStats].self) ?? []).compactMap { entry -> VirtualDiskCounters? in
            guard let name = [entry.device, entry.qdev, entry.nodeName].compactMap({ $0 }).first(where: { !$0.isEmpty }) else { return nil }
            return VirtualDiskCounters(disk: name, readBytes: entry.stats.rdBytes, writtenBytes: entry.stats.wrBytes,
                                       reads: entry.stats.rdOperations, writes: entry.stats.wrOperations)
        }
        let memory = decoded("query-memory-size-summary", as: QMPMemorySummary.self)
        return .success(QMPReading(
            status: status.status,
            vcpus: decoded("query-cpus-fast", as: [QMPIgnored].self)?.count,
            disks: disks,
            balloonActualBytes: decoded("query-balloon", as: QMPBalloon.self)?.actual,
            guestMemoryBytes: memory.flatMap { checkedSum($0.baseMemory, $0.pluggedMemory ?? 0) }))
    }

    /// The start of a bad line, printable, for the one-line error.
    private func preview(_ line: [UInt8]) -> String {
        let text = String(decoding: line.prefix(80), as: UTF8.self).map { $0.isASCII && $0 >= " " ? String($0) : "?" }.joined()
        return "\"\(text)\"" + (line.count > 80 ? "…" : "")
    }
}

/// What kind of QMP message a line is, without decoding its payload.
private struct QMPEnvelope: Decodable {
    var isGreeting: Bool
    var isEvent: Bool
    var hasReturn: Bool
    var id: String?
    var error: QMPError?

    private enum Keys: String, CodingKey { case QMP, event, `return`, id, error }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        isGreeting = container.contains(.QMP)
        isEvent = container.contains(.event)
        hasReturn = container.contains(.return)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        error = try container.decodeIfPresent(QMPError.self, forKey: .error)
    }
}

/// `{"error": {"class": …, "desc": …}}`.
private struct QMPError: Decodable {
    var desc: String
}

/// A successful reply's `return` value.
private struct QMPReply<Value: Decodable>: Decodable {
    var value: Value
    private enum Keys: String, CodingKey { case `return` }
    init(from decoder: any Decoder) throws {
        value = try decoder.container(keyedBy: Keys.self).decode(Value.self, forKey: .return)
    }
}

/// An array element whose content does not matter (counting `query-cpus-fast` entries).
private struct QMPIgnored: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// `query-status`.
private struct QMPRunStatus: Decodable {
    var status: String
}

/// `query-balloon`.
private struct QMPBalloon: Decodable {
    var actual: UInt64
}

/// `query-memory-size-summary`.
private struct QMPMemorySummary: Decodable {
    var baseMemory: UInt64
    var pluggedMemory: UInt64?
    private enum CodingKeys: String, CodingKey {
        case baseMemory = "base-memory", pluggedMemory = "plugged-memory"
    }
}

/// One `query-blockstats` entry: `device` is the legacy drive id (`-drive id=…`, what microvm.nix
/// uses), empty for `-blockdev` disks, which have `qdev` or `node-name` instead.
private struct QMPBlockStats: Decodable {
    var device: String?
    var qdev: String?
    var nodeName: String?
    var stats: Stats

    struct Stats: Decodable {
        var rdBytes: UInt64
        var wrBytes: UInt64
        var rdOperations: UInt64
        var wrOperations: UInt64
        private enum CodingKeys: String, CodingKey {
            case rdBytes = "rd_bytes", wrBytes = "wr_bytes", rdOperations = "rd_operations", wrOperations = "wr_operations"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case device, qdev, nodeName = "node-name", stats
    }
}
