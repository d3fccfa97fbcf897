import Glibc
import MetricModel
import Testing
@testable import Collectors

/// The rtnetlink dump of interface counters: against sysfs on this machine's own interfaces (the
/// kernel fills both from one function, so a reading lies between a sysfs reading before and one
/// after), through the microvm collector, and on answers no kernel sends.
@Suite struct LinkStatisticsTests {
    /// Every interface of this network namespace, as sysfs lists it.
    static func sysfsInterfaces() throws -> [String] {
        try SourceFile.list("/sys/class/net")
    }

    /// One interface's counters from sysfs.
    static func sysfsCounters(_ interface: String) throws -> [String: UInt64] {
        var counters: [String: UInt64] = [:]
        for name in LinkStatistics.counterNames {
            let path = "/sys/class/net/\(interface)/statistics/\(name)"
            counters[name] = try parseSingleValue(try SourceFile.read(path), path: path)
        }
        return counters
    }

    /// Sends one UDP datagram to 127.0.0.1, so that lo's byte and packet counters differ from
    /// each other and from zero whatever ran before.
    static func sendLoopbackDatagram() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(9).bigEndian  // discard
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let payload = [UInt8](repeating: 0x2A, count: 100)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(sent == payload.count)
    }

    @Test func everyInterfaceMatchesSysfs() throws {
        try Self.sendLoopbackDatagram()
        let interfaces = try Self.sysfsInterfaces()
        #expect(interfaces.contains("lo"))
        let before = try Dictionary(uniqueKeysWithValues: interfaces.map { ($0, try Self.sysfsCounters($0)) })
        let dumped = try LinkStatistics.read(keeping: Set(interfaces), timeout: .seconds(1))
        let after = try Dictionary(uniqueKeysWithValues: interfaces.map { ($0, try Self.sysfsCounters($0)) })
        #expect(Set(dumped.keys) == Set(interfaces))
        for interface in interfaces {
            for name in LinkStatistics.counterNames {
                let value = try #require(dumped[interface]?[name])
                #expect(before[interface]![name]! <= value && value <= after[interface]![name]!, "\(interface) \(name)")
            }
        }
    }

    @Test func onlyTheWantedInterfacesThatExistAreKept() throws {
        let dumped = try LinkStatistics.read(keeping: ["lo", "lookout-none0"], timeout: .seconds(1))
        #expect(Array(dumped.keys) == ["lo"])
        #expect(dumped["lo"]?.count == LinkStatistics.counterNames.count)
    }

    @Test func theMicroVMCollectorReportsATapFromTheDump() throws {
        let runner = "/nix/store/2222bbbb-microvm-qemu-web"
        let host = Fixtures.scratch([
            "state/web/.keep": "",
            String(runner.dropFirst()) + "/share/microvm/tap-interfaces": "lo\nlookout-none0\n",
        ])
        defer { Fixtures.removeTree(host) }
        symlink(runner, host + "/state/web/current")
        let collector = MicroVMCollector(paths: HostPaths(procfs: host + "/proc", sysfs: host + "/sys", rootfs: host),
                                         stateDirectory: host + "/state")
        try Self.sendLoopbackDatagram()
        let before = try Self.sysfsCounters("lo")
        #expect(before["tx_bytes"]! > before["tx_packets"]!)
        let families = try collector.collect()
        let after = try Self.sysfsCounters("lo")
        for (family, counter, _) in MicroVMFamilies.networkCounters {
            let samples = try #require(families.first { $0.name == family }?.samples, "\(family)")
            #expect(samples.map(\.labels) == [[Label("interface", "lo"), Label("vm", "web")]])
            let value = UInt64(samples[0].value)
            #expect(before[counter]! <= value && value <= after[counter]!, "\(family)")
        }
    }

    // Answers no kernel sends, built here byte by byte.

    /// A netlink message: header, then `payload`, padded to 4 bytes.
    static func message(type: UInt16, flags: UInt16 = 0x2, sequence: UInt32 = 7, payload: [UInt8], length: UInt32? = nil) -> [UInt8] {
        var bytes = withUnsafeBytes(of: (length ?? UInt32(16 + payload.count)).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: type.littleEndian, Array.init) + withUnsafeBytes(of: flags.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: sequence.littleEndian, Array.init) + [0, 0, 0, 0] + payload
        return bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// A netlink attribute, padded to 4 bytes.
    static func attribute(_ type: UInt16, _ value: [UInt8], length: UInt16? = nil) -> [UInt8] {
        let bytes = withUnsafeBytes(of: (length ?? UInt16(4 + value.count)).littleEndian, Array.init)
            + withUnsafeBytes(of: type.littleEndian, Array.init) + value
        return bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// An RTM_NEWLINK message for `name` with counters 1…24 (when `counters` says so).
    static func link(_ name: String, counters: Int = 24) -> [UInt8] {
        let statistics = (0..<counters).flatMap { withUnsafeBytes(of: UInt64($0 + 1).littleEndian, Array.init) }
        return message(type: 16, payload: [UInt8](repeating: 0, count: 16)
            + attribute(3, Array(name.utf8) + [0]) + attribute(23, statistics))
    }

    static let done = message(type: 3, payload: [0, 0, 0, 0])

    static func parse(_ datagrams: [UInt8]...) throws -> LinkStatistics.DumpReply {
        var reply = LinkStatistics.DumpReply(sequence: 7, wanted: ["tap0", "tap1"])
        for datagram in datagrams {
            try datagram.withUnsafeBytes { try reply.parse($0) }
        }
        return reply
    }

    @Test func aWellFormedDumpKeepsTheWantedInterfaces() throws {
        let reply = try Self.parse(Self.link("tap0") + Self.link("eth0"), Self.link("tap1") + Self.message(type: 1, payload: []) + Self.done)
        #expect(reply.done && !reply.interrupted)
        // struct rtnl_link_stats64 of <linux/if_link.h>, its first eight fields in order.
        let expected: [String: UInt64] = [
            "rx_packets": 1, "tx_packets": 2, "rx_bytes": 3, "tx_bytes": 4, "rx_errors": 5, "tx_errors": 6, "rx_dropped": 7, "tx_dropped": 8,
        ]
        #expect(reply.counters == ["tap0": expected, "tap1": expected])
    }

    @Test func aDumpTheKernelEndedWithAnErrorIsNotComplete() {
        let ended = Self.message(type: 3, payload: withUnsafeBytes(of: (-EMSGSIZE).littleEndian, Array.init))
        #expect(throws: CollectorError.unreadable(path: LinkStatistics.sourceName, reason: "Message too long")) {
            try Self.parse(Self.link("tap0") + ended)
        }
    }

    @Test func interruptedDumpsAreAskedAgainAndLongDatagramsGetABiggerBuffer() throws {
        var asked: [(bufferBytes: Int, sequence: UInt32)] = []
        func reading(_ outcomes: [LinkStatistics.Outcome]) throws(CollectorError) -> [String: [String: UInt64]] {
            asked = []
            var remaining = outcomes[...]
            return try LinkStatistics.read { bufferBytes, sequence in
                asked.append((bufferBytes, sequence))
                return remaining.popFirst()!
            }
        }
        let counters = ["tap0": ["rx_bytes": UInt64(1)]]
        #expect(try reading([.interrupted, .interrupted, .complete(counters)]) == counters)
        #expect(asked.map(\.sequence) == [1, 2, 3])
        #expect(throws: CollectorError.unreadable(path: LinkStatistics.sourceName, reason: "the interfaces changed during each of 3 dumps")) {
            try reading([.interrupted, .interrupted, .interrupted, .complete(counters)])
        }
        #expect(try reading([.datagramTooLong(100_000), .interrupted, .complete(counters)]) == counters)
        #expect(asked.map(\.bufferBytes) == [LinkStatistics.initialBufferBytes, 100_000, 100_000])
        #expect(throws: CollectorError.malformed(
            path: LinkStatistics.sourceName, reason: "a datagram of 4194305 bytes did not fit (at most 4194304 are taken)")
        ) { try reading([.datagramTooLong(LinkStatistics.maximumDatagramBytes + 1)]) }
    }

    @Test func theReceiveTimeoutRoundsUpAndIsNeverZero() {
        func parts(_ value: timeval) -> [Int] { [value.tv_sec, value.tv_usec] }
        #expect(parts(LinkStatistics.receiveTimeout(.seconds(1))) == [1, 0])
        #expect(parts(LinkStatistics.receiveTimeout(.milliseconds(1500))) == [1, 500_000])
        #expect(parts(LinkStatistics.receiveTimeout(.nanoseconds(1))) == [0, 1])
        #expect(parts(LinkStatistics.receiveTimeout(.nanoseconds(999_999_999))) == [1, 0])
        #expect(parts(LinkStatistics.receiveTimeout(.zero)) == [0, 1])
    }

    @Test func anInterruptedDumpIsMarked() throws {
        let reply = try Self.parse(Self.message(type: 16, flags: 0x12, payload: [UInt8](repeating: 0, count: 16)) + Self.done)
        #expect(reply.done && reply.interrupted)
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 8), "message 1: 8 bytes left, too few for a header"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16), length: 400), "message 1: length 400 with 32 bytes left"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16), length: 8), "message 1: length 8 with 32 bytes left"),
        (message(type: 16, sequence: 8, payload: [UInt8](repeating: 0, count: 16)), "message 1: sequence 8, expected 7"),
        (message(type: 16, payload: [0, 0, 0, 0]), "message 1: an interface message of 4 bytes"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16) + attribute(3, [0x74, 0], length: 2)),
         "message 1: attribute 3 of length 2 with 8 bytes left"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16) + attribute(3, [0x74, 0], length: 40)),
         "message 1: attribute 3 of length 40 with 8 bytes left"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16) + attribute(3, [0])), "message 1: an empty interface name"),
        (link("eth0") + link("tap0", counters: 7), "message 2: IFLA_STATS64 of 56 bytes, fewer than 64"),
        (message(type: 16, payload: [UInt8](repeating: 0, count: 16) + attribute(3, Array("tap1".utf8) + [0])),
         "message 1: interface tap1 without IFLA_STATS64"),
        (message(type: 2, payload: [1, 0]), "message 1: an error message of 2 bytes"),
    ])
    func aMalformedAnswerIsNamed(datagram: [UInt8], reason: String) {
        #expect(throws: CollectorError.malformed(path: LinkStatistics.sourceName, reason: reason)) { try Self.parse(datagram) }
    }

    @Test func anErrorAnswerNamesTheSystemsReason() {
        let refused = Self.message(type: 2, payload: withUnsafeBytes(of: (-EPERM).littleEndian, Array.init) + [UInt8](repeating: 0, count: 16))
        #expect(throws: CollectorError.unreadable(path: LinkStatistics.sourceName, reason: "Operation not permitted")) { try Self.parse(refused) }
        let odd = Self.message(type: 2, payload: withUnsafeBytes(of: Int32.min.littleEndian, Array.init))
        #expect(throws: CollectorError.unreadable(path: LinkStatistics.sourceName, reason: "error code -2147483648")) { try Self.parse(odd) }
        let overrun = Self.message(type: 4, payload: [])
        #expect(throws: CollectorError.unreadable(path: LinkStatistics.sourceName, reason: "the kernel dropped answers (NLMSG_OVERRUN)")) {
            try Self.parse(overrun)
        }
    }

    @Test func theRequestIsAnRTMGetLinkDump() {
        #expect(LinkStatistics.request(sequence: 3) == Self.message(type: 18, flags: 0x301, sequence: 3, payload: [UInt8](repeating: 0, count: 16)))
    }
}
