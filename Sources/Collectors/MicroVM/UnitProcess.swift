// The main process of a microVM's unit, found from its cgroup and /proc rather than asked of
// systemd over D-Bus (the README says why): `cgroup.procs` lists the unit's processes, and
// `/proc/PID/cmdline` and `/proc/PID/stat` (proc(5)) say which one is the hypervisor and when it
// started.
//
// microvm.nix starts the hypervisor with `exec -a "microvm@HOST"` (its `prettyProcnames`, on by
// default), so the process whose argv[0] starts with `microvm@` is the main one; failing that, one
// whose arguments name a control socket; failing that, the oldest. Helpers such as
// cloud-hypervisor's notify `socat` share the cgroup.

import MetricModel

/// A unit's main process.
struct UnitProcess: Sendable, Equatable {
    /// Its PID.
    var pid: Int32
    /// When it started, in clock ticks after boot (`/proc/PID/stat` field 22); with the PID, this
    /// tells a restarted process from the one seen before.
    var startTicks: UInt64
    /// Its argument vector (`/proc/PID/cmdline`).
    var arguments: [String]

    /// The kernel's USER_HZ, the unit of `startTicks` (fixed at 100 on every architecture Linux
    /// exports it for, as in procps).
    static let ticksPerSecond: UInt64 = 100

    /// The main process of the unit whose cgroup directory is open as `cgroup`; nil when the
    /// cgroup is gone or empty. A process that exits while being read is skipped.
    static func read(cgroup: SourceDirectory, paths: HostPaths) throws(CollectorError) -> UnitProcess? {
        guard let list = try cgroup.readIfPresent("cgroup.procs") else { return nil }
        var processes: [UnitProcess] = []
        for line in ProcText.lines(list) {
            guard let pid = Int32(ProcText.trimmed(line)) else {
                throw .malformed(path: cgroup.path + "/cgroup.procs", reason: "\"\(line)\" is not a PID")
            }
            guard let stat = try? SourceFile.readIfPresent(paths.proc("\(pid)/stat")),
                  let commandLine = try? SourceFile.readIfPresent(paths.proc("\(pid)/cmdline")) else { continue }
            processes.append(UnitProcess(pid: pid, startTicks: try parseStartTicks(stat, path: paths.proc("\(pid)/stat")),
                                         arguments: parseCommandLine(commandLine)))
        }
        return processes.first { $0.arguments.first?.hasPrefix("microvm@") == true }
            ?? processes.first { process in
                ControlSocket.find(in: process.arguments, directory: "", root: { $0 }) != nil
            }
            ?? processes.min { ($0.startTicks, $0.pid) < ($1.startTicks, $1.pid) }
    }
}

/// The start time of a process from its `/proc/PID/stat` line: field 22, counted after the
/// command name, which is in parentheses and may itself hold spaces and parentheses.
func parseStartTicks(_ text: String, path: String) throws(CollectorError) -> UInt64 {
    // After ")": field 3 (state) onwards, so field 22 is the 20th.
    guard let fields = ProcText.statFields(text, limit: 20) else {
        throw .malformed(path: path, reason: "no \")\" after the command name")
    }
    guard fields.count >= 20, let ticks = UInt64(fields[19]) else {
        throw .malformed(path: path, reason: "no start time in field 22")
    }
    return ticks
}

/// The arguments in a `/proc/PID/cmdline`: NUL-terminated strings, split by byte.
func parseCommandLine(_ text: String) -> [String] {
    guard !text.isEmpty else { return [] }  // a zombie or kernel thread
    let arguments = text.utf8.split(separator: 0, omittingEmptySubsequences: false).map { String(Substring($0)) }
    return Array(arguments.dropLast(text.utf8.last == 0 ? 1 : 0))
}
