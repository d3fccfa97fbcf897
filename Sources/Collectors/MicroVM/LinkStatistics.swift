// The counters of every network interface from one rtnetlink dump (rtnetlink(7), netlink(7)):
// an RTM_GETLINK request with NLM_F_DUMP, answered by one RTM_NEWLINK message per interface
// carrying IFLA_IFNAME and IFLA_STATS64 (`struct rtnl_link_stats64`, <linux/if_link.h>). The
// kernel fills IFLA_STATS64 (net/core/rtnetlink.c, rtnl_fill_stats) and the files of
// /sys/class/net/NAME/statistics (net/core/net-sysfs.c, netstat_show) from the same
// dev_get_stats() call, so both give the same counters; the dump costs a handful of system calls
// for all interfaces where sysfs costs three per counter and interface. node_exporter's netdev
// collector reads the same dump by default (`--collector.netdev.netlink`).
//
// The answer is input like any other: every length is checked against what was received, and a
// message that does not fit, an error answer (NLMSG_ERROR, or NLMSG_DONE carrying one), a dump
// the kernel marks interrupted three times or no answer within the timeout is a one-line
// `CollectorError`. A kernel that builds the dump under its network configuration lock (RTNL)
// may keep send(2) or recv(2) waiting for that lock beyond SO_RCVTIMEO; the registry's scrape
// deadline still bounds the scrape then, as it does for any read that hangs.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LookoutSupport
import MetricModel

/// Network interface counters read with one rtnetlink dump.
enum LinkStatistics {
    /// How errors name the source.
    static let sourceName = "rtnetlink RTM_GETLINK dump"
    /// The counters kept, by their sysfs file names, in `struct rtnl_link_stats64` order: its
    /// first eight fields.
    static let counterNames = ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped"]
    /// How many times a dump the interface list changed under is asked again.
    static let attempts = 3
    /// The receive buffer to start with; a datagram longer than it restarts the dump with a
    /// buffer its size, up to ``maximumDatagramBytes``.
    static let initialBufferBytes = 64 * 1024
    /// The longest datagram taken.
    static let maximumDatagramBytes = 4 * 1024 * 1024

    // <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>: kernel ABI, the same everywhere.
    private static let netlinkRoute: Int32 = 0
    private static let addressFamily: Int32 = 16  // AF_NETLINK
    private static let messageError: UInt16 = 2  // NLMSG_ERROR
    private static let messageDone: UInt16 = 3  // NLMSG_DONE
    private static let messageOverrun: UInt16 = 4  // NLMSG_OVERRUN
    private static let newLink: UInt16 = 16  // RTM_NEWLINK
    private static let getLink: UInt16 = 18  // RTM_GETLINK
    private static let flagRequest: UInt16 = 0x1  // NLM_F_REQUEST
    private static let flagDump: UInt16 = 0x300  // NLM_F_DUMP
    private static let flagDumpInterrupted: UInt16 = 0x10  // NLM_F_DUMP_INTR
    private static let attributeName: UInt16 = 3  // IFLA_IFNAME
    private static let attributeStats64: UInt16 = 23  // IFLA_STATS64
    private static let attributeTypeMask: UInt16 = 0x3FFF  // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
    private static let headerBytes = 16  // struct nlmsghdr
    private static let interfaceInfoBytes = 16  // struct ifinfomsg

    /// The counters of the interfaces named in `wanted` that exist in this process's network
    /// namespace, by name; an interface that does not exist is absent. Waits at most `timeout`.
    static func read(keeping wanted: Set<String>, timeout: Duration) throws(CollectorError) -> [String: [String: UInt64]] {
        let deadline = ContinuousClock.now + timeout
        return try read { (bufferBytes, sequence) throws(CollectorError) in
            try dump(keeping: wanted, bufferBytes: bufferBytes, sequence: sequence, timeout: timeout, deadline: deadline)
        }
    }

    /// The dumps of one reading: `dump(bufferBytes, sequence)` is asked again with a new
    /// sequence number while the kernel marks it interrupted (at most ``attempts`` times in all),
    /// and with a buffer the size of a datagram that did not fit (up to ``maximumDatagramBytes``).
    static func read(dump: (Int, UInt32) throws(CollectorError) -> Outcome) throws(CollectorError) -> [String: [String: UInt64]] {
        var bufferBytes = initialBufferBytes
        var attempt = 1
        var sequence: UInt32 = 1
        while true {
            let outcome = try dump(bufferBytes, sequence)
            sequence &+= 1
            switch outcome {
            case .complete(let counters):
                return counters
            case .interrupted where attempt < attempts:
                attempt += 1
            case .interrupted:
                throw .unreadable(path: sourceName, reason: "the interfaces changed during each of \(attempts) dumps")
            case .datagramTooLong(let bytes) where bytes > bufferBytes && bytes <= maximumDatagramBytes:
                bufferBytes = bytes
            case .datagramTooLong(let bytes):
                throw .malformed(path: sourceName, reason: "a datagram of \(bytes) bytes did not fit (at most \(maximumDatagramBytes) are taken)")
            }
        }
    }

    /// How one dump ended.
    enum Outcome {
        /// Every interface's answer arrived.
        case complete([String: [String: UInt64]])
        /// The kernel marked an answer `NLM_F_DUMP_INTR`: the interfaces changed meanwhile.
        case interrupted
        /// A datagram of this many bytes did not fit the buffer.
        case datagramTooLong(Int)
    }

    /// One dump on a socket of its own.
    private static func dump(keeping wanted: Set<String>, bufferBytes: Int, sequence: UInt32, timeout: Duration,
                             deadline: ContinuousClock.Instant) throws(CollectorError) -> Outcome {
        let descriptor = socket(addressFamily, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkRoute)
        guard descriptor >= 0 else { throw .unreadable(path: sourceName, reason: "socket: \(TextFile.errnoText(errno))") }
        defer { close(descriptor) }
        try submit(request(sequence: sequence), on: descriptor)

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 8)
        defer { buffer.deallocate() }
        var reply = DumpReply(sequence: sequence, wanted: wanted)
        while !reply.done {
            // Each receive waits at most what is left of the whole reading's time.
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw .unreadable(path: sourceName, reason: "no complete answer within \(timeout)") }
            var wait = receiveTimeout(left)
            guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw .unreadable(path: sourceName, reason: "setsockopt SO_RCVTIMEO: \(TextFile.errnoText(errno))")
            }
            let received = recv(descriptor, buffer.baseAddress, bufferBytes, Int32(MSG_TRUNC))
            if received < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .unreadable(path: sourceName, reason: "no answer within \(timeout)") }
                throw .unreadable(path: sourceName, reason: "recv: \(TextFile.errnoText(errno))")
            }
            guard received <= bufferBytes else { return .datagramTooLong(received) }
            guard received > 0 else { throw .malformed(path: sourceName, reason: "an empty datagram before NLMSG_DONE") }
            try reply.parse(UnsafeRawBufferPointer(rebasing: buffer[..<received]))
        }
        return reply.interrupted ? .interrupted : .complete(reply.counters)
    }

    /// `duration` as SO_RCVTIMEO takes it, rounded up to whole microseconds and at least one:
    /// a zero `timeval` would mean no timeout at all (socket(7)).
    static func receiveTimeout(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        var microseconds = (attoseconds + 999_999_999_999) / 1_000_000_000_000
        var wholeSeconds = max(seconds, 0)
        if microseconds >= 1_000_000 { wholeSeconds += 1; microseconds -= 1_000_000 }
        if wholeSeconds == 0, microseconds < 1 { microseconds = 1 }
        return timeval(tv_sec: Int(wholeSeconds), tv_usec: Int(microseconds))
    }

    /// An RTM_GETLINK dump request: `struct nlmsghdr` and a zeroed `struct ifinfomsg`.
    static func request(sequence: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerBytes + interfaceInfoBytes)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(headerBytes + interfaceInfoBytes), toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: getLink, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: flagRequest | flagDump, toByteOffset: 6, as: UInt16.self)
            raw.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
        }
        return bytes
    }

    private static func submit(_ request: [UInt8], on descriptor: Int32) throws(CollectorError) {
        while true {
            let sent = request.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            if sent == request.count { return }
            if sent < 0, errno == EINTR { continue }
            throw .unreadable(path: sourceName, reason: sent < 0 ? "send: \(TextFile.errnoText(errno))" : "send: \(sent) of \(request.count) bytes")
        }
    }

    /// The answers to one dump request, datagram by datagram.
    struct DumpReply {
        /// The request's sequence number, which every answer carries.
        let sequence: UInt32
        /// The interfaces whose counters are kept.
        let wanted: Set<String>
        /// The kept counters by interface name.
        private(set) var counters: [String: [String: UInt64]] = [:]
        /// Whether NLMSG_DONE has arrived.
        private(set) var done = false
        /// Whether an answer was marked `NLM_F_DUMP_INTR`.
        private(set) var interrupted = false
        /// Messages parsed so far, to name the bad one.
        private var messages = 0

        /// Answers to request `sequence`, keeping the interfaces in `wanted`.
        init(sequence: UInt32, wanted: Set<String>) {
            self.sequence = sequence
            self.wanted = wanted
        }

        /// Takes one received datagram: netlink messages back to back, each 4-byte aligned.
        mutating func parse(_ datagram: UnsafeRawBufferPointer) throws(CollectorError) {
            var offset = 0
            while offset < datagram.count, !done {
                messages += 1
                guard datagram.count - offset >= LinkStatistics.headerBytes else {
                    throw malformed("\(datagram.count - offset) bytes left, too few for a header")
                }
                let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                let flags = datagram.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self)
                let sequence = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                guard length >= LinkStatistics.headerBytes, length <= datagram.count - offset else {
                    throw malformed("length \(length) with \(datagram.count - offset) bytes left")
                }
                guard sequence == self.sequence else { throw malformed("sequence \(sequence), expected \(self.sequence)") }
                if flags & LinkStatistics.flagDumpInterrupted != 0 { interrupted = true }
                let payload = UnsafeRawBufferPointer(rebasing: datagram[(offset + LinkStatistics.headerBytes)..<(offset + length)])
                switch type {
                case LinkStatistics.messageDone:
                    // The dump's own result (netlink_dump() puts it here): negative when the
                    // kernel ended the dump early, so what came before is not all interfaces.
                    if payload.count >= 4 {
                        let code = payload.loadUnaligned(as: Int32.self)
                        guard code >= 0 else { throw ended(code) }
                    }
                    done = true
                case LinkStatistics.messageError:
                    guard payload.count >= 4 else { throw malformed("an error message of \(payload.count) bytes") }
                    let code = payload.loadUnaligned(as: Int32.self)
                    guard code == 0 else { throw ended(code) }
                case LinkStatistics.messageOverrun:
                    throw .unreadable(path: LinkStatistics.sourceName, reason: "the kernel dropped answers (NLMSG_OVERRUN)")
                case LinkStatistics.newLink:
                    try parseLink(payload)
                default:
                    break  // NLMSG_NOOP and anything newer: nothing to keep
                }
                offset += (length + 3) & ~3
            }
        }

        /// One RTM_NEWLINK payload: `struct ifinfomsg`, then attributes.
        private mutating func parseLink(_ payload: UnsafeRawBufferPointer) throws(CollectorError) {
            guard payload.count >= LinkStatistics.interfaceInfoBytes else { throw malformed("an interface message of \(payload.count) bytes") }
            var offset = LinkStatistics.interfaceInfoBytes
            var name: String?
            var statistics: UnsafeRawBufferPointer?
            while payload.count - offset >= 4 {
                let length = Int(payload.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
                let type = payload.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & LinkStatistics.attributeTypeMask
                guard length >= 4, length <= payload.count - offset else {
                    throw malformed("attribute \(type) of length \(length) with \(payload.count - offset) bytes left")
                }
                let value = UnsafeRawBufferPointer(rebasing: payload[(offset + 4)..<(offset + length)])
                switch type {
                case LinkStatistics.attributeName:
                    let bytes = value.prefix { $0 != 0 }
                    guard !bytes.isEmpty else { throw malformed("an empty interface name") }
                    name = String(decoding: bytes, as: UTF8.self)
                case LinkStatistics.attributeStats64:
                    guard value.count >= 8 * LinkStatistics.counterNames.count else {
                        throw malformed("IFLA_STATS64 of \(value.count) bytes, fewer than \(8 * LinkStatistics.counterNames.count)")
                    }
                    statistics = value
                default:
                    break
                }
                offset += (length + 3) & ~3
            }
            guard let name, wanted.contains(name) else { return }
            guard let statistics else { throw malformed("interface \(name) without IFLA_STATS64") }
            var values: [String: UInt64] = [:]
            for (index, counter) in LinkStatistics.counterNames.enumerated() {
                values[counter] = statistics.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)
            }
            counters[name] = values
        }

        /// The kernel's answer that the dump failed with error `code` (a negative errno).
        private func ended(_ code: Int32) -> CollectorError {
            .unreadable(path: LinkStatistics.sourceName, reason: code < 0 && code > -4096 ? TextFile.errnoText(-code) : "error code \(code)")
        }

        private func malformed(_ reason: String) -> CollectorError {
            .malformed(path: LinkStatistics.sourceName, reason: "message \(messages): \(reason)")
        }
    }
}
