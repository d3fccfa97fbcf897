// Firecracker's metrics file (https://github.com/firecracker-microvm/firecracker, docs/metrics.md).
//
// microvm.nix configures none; a user adds one with
// `microvm.firecracker.extraConfig.metrics.metrics_path = "metrics.log"` (or a FIFO), which lands
// in the `--config-file` JSON as `metrics.metrics_path`, relative to the VM's directory.
// Firecracker writes one JSON object per line every 60 s (or on `FlushMetrics`), and every
// counter in a line is the change since the line before, so the collector must read each line
// once and add it up: it keeps, per file, how far it has read, the newest `utc_timestamp_ms`
// counted and the sums so far. Only the per-drive sections are used (`block_<drive id>`:
// `read_bytes`, `write_bytes`, `read_count`, `write_count`); network traffic comes from the tap.
//
// Firecracker opens a plain file without truncating or appending, so after a restart it
// overwrites the old lines from the start. When the VM's main process changes, the collector
// reads the file again from its start and counts only lines newer than the newest it counted;
// lines the new process writes inside the old file's length after that read are missed until
// the file grows past it. A FIFO (`metrics_path = "metrics.fifo"`) has no such gap and is the
// better choice; the collector keeps it open and drained.

#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import LookoutSupport
import MetricModel
import Synchronization

/// The running totals of the Firecracker metrics files seen so far.
final class FirecrackerMetrics: Sendable {
    /// Most bytes read from one file per scrape; a long backlog is worked off over several scrapes.
    static let readBudget = 4 << 20

    private struct Progress {
        var device: UInt64
        var inode: UInt64
        /// The writer's identity (its main process); a new one rewrites a plain file from 0.
        var writer: String?
        /// A FIFO stays open between scrapes, so that it keeps being drained.
        var fifo: Int32?
        var offset: Int64 = 0
        var partialLine: [UInt8] = []
        var newestTimestamp: UInt64 = 0
        var disks: [String: VirtualDiskCounters] = [:]
    }

    private let files = Mutex<[String: Progress]>([:])

    deinit {
        files.withLock { files in
            for progress in files.values { if let fifo = progress.fifo { close(fifo) } }
        }
    }

    /// The longest Firecracker configuration file read (its documented examples are under 2 KiB).
    static let maximumConfigBytes = 1 << 20

    /// The path of the metrics file named in the Firecracker `--config-file` at `path`; nil when
    /// the file does not exist or names none. Throws when it is longer than ``maximumConfigBytes``
    /// or not JSON.
    static func metricsPath(inConfigFile path: String) throws(CollectorError) -> String? {
        guard let text = try SourceFile.readIfPresent(path, maximumBytes: maximumConfigBytes) else { return nil }
        return try metricsPath(inConfig: text, path: path)
    }

    /// The path of the metrics file named in a Firecracker `--config-file`; nil when it names none.
    /// Throws when the configuration is not JSON.
    static func metricsPath(inConfig text: String, path: String) throws(CollectorError) -> String? {
        struct Config: Decodable {
            struct Metrics: Decodable {
                var metricsPath: String
                private enum CodingKeys: String, CodingKey { case metricsPath = "metrics_path" }
            }
            var metrics: Metrics?
        }
        do {
            return try JSONDecoder().decode(Config.self, from: Data(text.utf8)).metrics?.metricsPath
        } catch {
            throw .malformed(path: path, reason: "not a Firecracker configuration")
        }
    }

    /// Reads what was written to the metrics file (or FIFO) at `path` since the last call and
    /// returns the disk totals so far, sorted by drive. `writer` identifies the process writing
    /// it (nil when unknown); when it changes, a plain file is read again from its start. A file
    /// replaced by another inode is read from its start too. The totals only grow.
    func disks(metricsFile path: String, writer: String?) throws(CollectorError) -> [VirtualDiskCounters] {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .unreadable(path: path, reason: TextFile.errnoText(errno)) }
        let isFIFO = status.st_mode & S_IFMT == S_IFIFO
        let device = UInt64(status.st_dev), inode = UInt64(status.st_ino)

        return try files.withLock { (files: inout [String: Progress]) throws(CollectorError) -> [VirtualDiskCounters] in
            var progress = files[path] ?? Progress(device: device, inode: inode, writer: writer)
            if progress.device != device || progress.inode != inode {
                if let fifo = progress.fifo { close(fifo) }
                progress = Progress(device: device, inode: inode, writer: writer, newestTimestamp: progress.newestTimestamp,
                                    disks: progress.disks)
            } else if !isFIFO, writer != nil, progress.writer != writer || Int64(status.st_size) < progress.offset {
                progress.offset = 0
                progress.partialLine = []
                progress.writer = writer
            }
            defer { files[path] = progress }
            let descriptor = progress.fifo ?? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard descriptor >= 0 else { throw .unreadable(path: path, reason: TextFile.errnoText(errno)) }
            if isFIFO { progress.fifo = descriptor }
            defer { if !isFIFO { close(descriptor) } }
            if !isFIFO, lseek(descriptor, off_t(progress.offset), SEEK_SET) < 0 {
                throw .unreadable(path: path, reason: TextFile.errnoText(errno))
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var budget = Self.readBudget
            while budget > 0 {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, budget)) }
                if count < 0, errno == EINTR { continue }
                if count < 0, errno == EAGAIN { break }  // a FIFO with nothing more in it
                if count < 0 { throw .unreadable(path: path, reason: TextFile.errnoText(errno)) }
                if count == 0 { break }
                budget -= count
                progress.offset += Int64(count)
                progress.partialLine.append(contentsOf: chunk[..<count])
                var start = progress.partialLine.startIndex
                while let newline = progress.partialLine[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    Self.count(line: progress.partialLine[start..<newline], into: &progress)
                    start = newline + 1
                }
                progress.partialLine.removeFirst(start)
                // A megabyte without a newline is not Firecracker's: drop it rather than grow.
                if progress.partialLine.count > 1 << 20 { progress.partialLine.removeAll() }
            }
            return progress.disks.keys.sorted().map { progress.disks[$0]! }
        }
    }

    /// Forgets the files not in `paths` (their VMs are gone), closing their FIFOs.
    func keepOnly(_ paths: Set<String>) {
        files.withLock { files in
            for (path, progress) in files where !paths.contains(path) {
                if let fifo = progress.fifo { close(fifo) }
                files[path] = nil
            }
        }
    }

    /// Adds one line's deltas, unless it is not a metrics object (a torn write) or is not newer
    /// than the newest line counted (an old line read again after a restart).
    private static func count(line: ArraySlice<UInt8>, into progress: inout Progress) {
        guard let sections = try? JSONDecoder().decode([String: FirecrackerSection].self, from: Data(line)) else { return }
        let timestamp = sections["utc_timestamp_ms"]?.value ?? 0
        if timestamp != 0 {
            guard timestamp > progress.newestTimestamp else { return }
            progress.newestTimestamp = timestamp
        }
        add(sections, to: &progress.disks)
    }

    /// Adds the `block_<id>` sections of one line to the totals.
    private static func add(_ sections: [String: FirecrackerSection], to disks: inout [String: VirtualDiskCounters]) {
        for (key, section) in sections where key.hasPrefix("block_") {
            let drive = String(key.dropFirst("block_".count))
            var total = disks[drive] ?? VirtualDiskCounters(disk: drive, readBytes: 0, writtenBytes: 0, reads: 0, writes: 0)
            total.readBytes &+= section.counters["read_bytes"] ?? 0
            total.writtenBytes &+= section.counters["write_bytes"] ?? 0
            total.reads &+= section.counters["read_count"] ?? 0
            total.writes &+= section.counters["write_count"] ?? 0
            disks[drive] = total
        }
    }
}

/// One section of a metrics line: its integer counters, or its value when it is a number
/// (`utc_timestamp_ms`); anything else is ignored.
private struct FirecrackerSection: Decodable {
    var counters: [String: UInt64] = [:]
    /// The section's own value when it is a number (`utc_timestamp_ms`).
    var value: UInt64?

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: Key.self) else {
            value = try? decoder.singleValueContainer().decode(UInt64.self)
            return
        }
        for key in container.allKeys {
            if let value = try? container.decode(UInt64.self, forKey: key) { counters[key.stringValue] = value }
        }
    }
}
