// What a microvm.nix state directory says about one VM (microvm.nix, https://github.com/astro/microvm.nix:
// nixos-modules/host, lib/runner.nix):
//
// - `<state-dir>/NAME/current` → the runner to start next, `booted` → the runner running now
//   (absent when the VM is stopped); they differ when a restart is pending.
// - `toplevel` marks a fully declarative VM, `flake` holds the flake reference of a flake VM.
// - In the runner, `share/microvm/tap-interfaces` (one id per line), `macvtap-interfaces`
//   (`id mac link mode` per line) and, on newer runners, `hypervisor`; older runners name the
//   hypervisor only in their store path, `/nix/store/<hash>-microvm-<hypervisor>-<hostName>`.
//
// Runner links are absolute store paths; they are resolved under the root filesystem
// (`--path.rootfs`), so the whole directory can be a fixture tree.

import MetricModel
import Synchronization

/// One VM's entry in the state directory.
struct MicroVMDirectory: Equatable, Sendable {
    /// The directory name, which is the VM's name (`microvm@NAME.service`).
    var name: String
    /// Where `current` points: the runner to start next.
    var currentRunner: String?
    /// Where `booted` points: the runner running now; nil when the VM is stopped.
    var bootedRunner: String?
    /// The hypervisor (`qemu`, `cloud-hypervisor`, `firecracker`, …), when the runner names it.
    var hypervisor: String?
    /// Whether `toplevel` exists: a fully declarative VM.
    var declarative: Bool
    /// The flake reference in `flake`, for VMs built from a flake.
    var flake: String?
    /// Host tap interfaces of the VM, from the running (else the current) runner.
    var tapInterfaces: [String]
    /// Host macvtap interfaces of the VM.
    var macvtapInterfaces: [String]
    /// The words of the `exec` line of the runner's `bin/microvm-run`: the hypervisor's command
    /// line as the runner starts it; nil when the runner has no such script.
    var runArguments: [String]? = nil

    /// A new runner is installed but the VM still runs the old one.
    var restartPending: Bool {
        guard let currentRunner, let bootedRunner else { return false }
        return currentRunner != bootedRunner
    }

    /// The hypervisors microvm.nix knows (lib/default.nix), longest first so that
    /// `cloud-hypervisor` is not read as a host name ending in `-hypervisor`.
    static let knownHypervisors = ["cloud-hypervisor", "stratovirt", "firecracker", "kvmtool", "crosvm", "alioth",
                                   "vfkit", "qemu"]

    /// The hypervisor a runner's store path names: `/nix/store/<hash>-microvm-<hypervisor>-<host>`.
    static func hypervisor(inRunnerPath path: String) -> String? {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard let dash = base.firstIndex(of: "-") else { return nil }
        let name = base[base.index(after: dash)...]
        guard name.hasPrefix("microvm-") else { return nil }
        let rest = name.dropFirst("microvm-".count)
        return knownHypervisors.first { rest.hasPrefix($0 + "-") }
    }

    /// The interface ids in a `tap-interfaces` or `macvtap-interfaces` file: the first field of
    /// each non-empty line.
    static func interfaces(_ text: String) -> [String] {
        ProcText.lines(text).compactMap { ProcText.fields($0).first.map(String.init) }
    }

    /// Reads the entry `name` of the state directory `stateDirectory`, resolving runner links
    /// under `rootfs`; what a runner in the Nix store says comes from `runners` once it has been
    /// read. Throws `CollectorError.noData` when the directory is gone.
    static func read(name: String, stateDirectory: String, paths: HostPaths, runners: RunnerFacts.Cache? = nil)
        throws(CollectorError) -> MicroVMDirectory
    {
        let path = stateDirectory + "/" + name
        guard let directory = SourceDirectory(path) else { throw .noData("\(path) is gone") }
        let current = directory.linkTarget("current")
        let booted = directory.linkTarget("booted")
        let facts = try (booted ?? current).map { (target: String) throws(CollectorError) -> RunnerFacts in
            let runner = target.hasPrefix("/") ? paths.rootfs(target) : path + "/" + target
            guard let runners, target.hasPrefix("/nix/store/") else { return try RunnerFacts.read(runner: runner, paths: paths) }
            return try runners.facts(of: runner, paths: paths)
        }
        let flake = try directory.readIfPresent("flake", maximumBytes: RunnerFacts.maximumFileBytes)
            .map { String(ProcText.trimmed(Substring($0))) }
        return MicroVMDirectory(
            name: name,
            currentRunner: current,
            bootedRunner: booted,
            hypervisor: facts?.hypervisor ?? (booted ?? current).flatMap(hypervisor(inRunnerPath:)),
            declarative: directory.hasEntry("toplevel"),
            flake: flake,
            tapInterfaces: facts?.tapInterfaces ?? [],
            macvtapInterfaces: facts?.macvtapInterfaces ?? [],
            runArguments: facts?.runArguments)
    }
}

/// What a runner says: its hypervisor and its interfaces (`share/microvm`), and the command line
/// its `bin/microvm-run` starts.
struct RunnerFacts: Sendable, Equatable {
    /// The `hypervisor` file's name, when it has one.
    var hypervisor: String?
    /// The ids in `tap-interfaces`.
    var tapInterfaces: [String]
    /// The ids in `macvtap-interfaces`.
    var macvtapInterfaces: [String]
    /// The words of `bin/microvm-run`'s `exec` line; nil when there is no such script (or it
    /// cannot be read).
    var runArguments: [String]?

    /// The most a runner's file, or a state directory's `flake`, may hold: these are written by
    /// whoever deploys a VM, and microvm.nix's are a few kilobytes at most.
    static let maximumFileBytes = 1 << 20

    /// Reads the runner at `runner` (a path under the root filesystem); its `bin/microvm-run`, a
    /// link into the store, is resolved under `paths`' root filesystem too.
    static func read(runner: String, paths: HostPaths) throws(CollectorError) -> RunnerFacts {
        func share(_ file: String) throws(CollectorError) -> String? {
            try SourceFile.readIfPresent(runner + "/share/microvm/" + file, maximumBytes: maximumFileBytes)
        }
        let script = SourceFile.linkTarget(runner + "/bin/microvm-run").map { $0.hasPrefix("/") ? paths.rootfs($0) : runner + "/bin/" + $0 }
            ?? runner + "/bin/microvm-run"
        return RunnerFacts(
            hypervisor: try share("hypervisor").map { String(ProcText.trimmed(Substring($0))) }.flatMap { $0.isEmpty ? nil : $0 },
            tapInterfaces: try share("tap-interfaces").map(MicroVMDirectory.interfaces) ?? [],
            macvtapInterfaces: try share("macvtap-interfaces").map(MicroVMDirectory.interfaces) ?? [],
            runArguments: (try? SourceFile.readIfPresent(script, maximumBytes: maximumFileBytes)).flatMap { $0 }
                .flatMap(ControlSocket.execArguments(ofRunScript:)))
    }

    /// Runners already read. A path in the Nix store never changes (a new runner is a new path),
    /// so its files are read once rather than on every scrape: five file reads a VM.
    final class Cache: Sendable {
        private let known = Mutex<[String: RunnerFacts]>([:])

        /// An empty cache.
        init() {}

        /// The facts of the runner at `runner`, read the first time it is asked for.
        func facts(of runner: String, paths: HostPaths) throws(CollectorError) -> RunnerFacts {
            if let facts = known.withLock({ $0[runner] }) { return facts }
            let facts = try RunnerFacts.read(runner: runner, paths: paths)
            known.withLock { known in
                // Old runners go when garbage is collected; a full cache starts again.
                if known.count >= 1024 { known.removeAll() }
                known[runner] = facts
            }
            return facts
        }
    }
}
