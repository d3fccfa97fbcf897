#if canImport(Glibc)
import Glibc
#endif
import CGlibcExtras
import LookoutSupport
import Synchronization

/// Descriptors of the kernel's pseudo-files (procfs, sysfs, cgroupfs) held open from one scrape to
/// the next and read again from offset 0 with pread(2). The kernel makes such a file's text anew
/// on every read from its start (seq_file and kernfs start over at offset 0), so a scrape reads the
/// kernel as it is at that moment, as through a fresh open; what is kept is the open file, never
/// its text. That saves the path walk, open(2) and close(2) of each file on each scrape: about
/// 12% of a 12-collector scrape's CPU in a profile (bench/RESULTS.md).
///
/// Only files on procfs, sysfs and cgroupfs are held, decided by fstatfs(2) at the first open. Any
/// other file (the textfile collector's, udev's database, an `--path.procfs` fixture tree) is
/// opened for every read, because a regular file replaced by rename would otherwise be read stale.
/// A held file that fails (its device or cgroup removed: ENODEV, ESRCH) is closed and opened again
/// by path, so a name that now stands for something else is read as that. A descriptor unused for
/// ``idleLimit`` is closed (a stopped VM's cgroup is not pinned for long), and at most
/// ``capacity`` are held. A descriptor is taken out while it is read, so two scrapes never share
/// one; the second opens its own.
package final class HeldFiles: Sendable {
    /// The files every collector reads through ``SourceFile``.
    package static let shared = HeldFiles()

    /// How long a descriptor stays open without a read: longer than any usual scrape interval.
    package let idleLimit: Duration
    /// The most descriptors held at once.
    package let capacity: Int

    private struct Held {
        var descriptor: Int32
        var lastUsed: ContinuousClock.Instant
    }

    private struct State {
        var held: [String: Held] = [:]
        var lastSweep: ContinuousClock.Instant
    }

    private let state: Mutex<State>

    /// A cache holding at most `capacity` descriptors (but never more than a quarter of the
    /// process's soft RLIMIT_NOFILE, which connections need too), each closed after `idleLimit`
    /// unused.
    package init(idleLimit: Duration = .seconds(300), capacity: Int = 4096) {
        self.idleLimit = idleLimit
        var limit = rlimit()
        let descriptorLimit = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur < rlim_t(Int.max)
            ? Int(limit.rlim_cur) : Int.max
        self.capacity = max(0, min(capacity, descriptorLimit / 4))
        state = Mutex(State(lastSweep: .now))
    }

    deinit {
        state.withLock { state in
            for held in state.held.values { close(held.descriptor) }
        }
    }

    /// How many descriptors are held now.
    package var count: Int { state.withLock { $0.held.count } }

    /// The whole text of the file at `path`, or nil when it does not exist and `missingIsNil`; a
    /// file longer than `maximumBytes`, when given, is an error. Read through a held descriptor
    /// when there is one, else opened (and held, when it is a kernel pseudo-file).
    package func read(_ path: String, missingIsNil: Bool = false, maximumBytes: Int? = nil) throws(TextFile.ReadError) -> String? {
        try read(path, missingIsNil: missingIsNil, maximumBytes: maximumBytes, shortReadIsEnd: false) {
            open(path, O_RDONLY | O_CLOEXEC)
        }
    }

    /// The file `name` of the directory open as `directory`, held under its full `path`, read as
    /// ``read(_:missingIsNil:maximumBytes:)`` reads a path; a miss opens it with openat(2). With
    /// `shortReadIsEnd`, a read that returns less than asked ends the file (true of a sysfs or
    /// cgroupfs attribute, see ``TextFile``). When the directory is known not to be on a kernel
    /// pseudo-file system (not `holdable`, see ``isKernelPseudoFile(_:)``), the file is opened,
    /// read and closed, and `path` is made only for an error.
    package func read(_ name: String, inDirectory directory: Int32, path: @autoclosure () -> String, holdable: Bool = true,
                      missingIsNil: Bool = false, maximumBytes: Int? = nil, shortReadIsEnd: Bool = false)
        throws(TextFile.ReadError) -> String?
    {
        guard holdable else {
            return try TextFile.read(opened: openat(directory, name, O_RDONLY | O_CLOEXEC), path: path(), missingIsNil: missingIsNil,
                                     maximumBytes: maximumBytes, shortReadIsEnd: shortReadIsEnd)
        }
        return try read(path(), missingIsNil: missingIsNil, maximumBytes: maximumBytes, shortReadIsEnd: shortReadIsEnd) {
            openat(directory, name, O_RDONLY | O_CLOEXEC)
        }
    }

    /// Reads `path` through its held descriptor or one `openFile` returns.
    private func read(_ path: String, missingIsNil: Bool, maximumBytes: Int?, shortReadIsEnd: Bool,
                      openFile: () -> Int32) throws(TextFile.ReadError) -> String? {
        if let descriptor = take(path) {
            // A failure (the object behind the file gone) falls through to a fresh open by path,
            // which reports what the path holds now.
            if let text = try? TextFile.readToEnd(descriptor, path: path, maximumBytes: maximumBytes, shortReadIsEnd: shortReadIsEnd,
                                                  fromStart: true) {
                give(path, descriptor)
                return text
            }
            close(descriptor)
        }
        let descriptor = openFile()
        guard descriptor >= 0, Self.isKernelPseudoFile(descriptor) else {
            // A failed open (nil or the error) or a file not to hold: read once and closed.
            return try TextFile.read(opened: descriptor, path: path, missingIsNil: missingIsNil, maximumBytes: maximumBytes,
                                     shortReadIsEnd: shortReadIsEnd)
        }
        do {
            let text = try TextFile.readToEnd(descriptor, path: path, maximumBytes: maximumBytes, shortReadIsEnd: shortReadIsEnd, fromStart: true)
            give(path, descriptor)
            return text
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// Removes and returns the descriptor held for `path`.
    private func take(_ path: String) -> Int32? {
        state.withLock { $0.held.removeValue(forKey: path)?.descriptor }
    }

    /// Holds `descriptor` for `path` (or closes it, when another read already gave one back or the
    /// cache is full), and closes the descriptors idle for longer than ``idleLimit``, looked for
    /// at most once a tenth of that.
    private func give(_ path: String, _ descriptor: Int32) {
        let now = ContinuousClock.now
        var surplus: [Int32] = []
        state.withLock { state in
            if state.held[path] == nil, state.held.count < capacity {
                state.held[path] = Held(descriptor: descriptor, lastUsed: now)
            } else {
                surplus.append(descriptor)
            }
            if now - state.lastSweep >= idleLimit / 10 {
                state.lastSweep = now
                let idle = state.held.filter { now - $0.value.lastUsed > idleLimit }
                for (idlePath, held) in idle {
                    state.held[idlePath] = nil
                    surplus.append(held.descriptor)
                }
            }
        }
        for descriptor in surplus { close(descriptor) }
    }

    /// Whether the open file or directory is on procfs, sysfs or cgroupfs (statfs(2) magic
    /// numbers of linux/magic.h), whose files make their text anew on each read from the start.
    package static func isKernelPseudoFile(_ descriptor: Int32) -> Bool {
        var status = statfs()
        guard fstatfs(descriptor, &status) == 0 else { return false }
        switch UInt64(truncatingIfNeeded: status.f_type) {
        case 0x9fa0, 0x6265_6572, 0x6367_7270, 0x0027_e0eb: return true  // PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC
        default: return false
        }
    }
}
