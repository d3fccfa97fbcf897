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
    /// under `rootfs`. Throws `CollectorError.noData` when the directory is gone.
    static func read(name: String, stateDirectory: String, paths: HostPaths) throws(CollectorError) -> MicroVMDirectory {
        let directory = stateDirectory + "/" + name
        guard SourceFile.exists(directory) else { throw .noData("\(directory) is gone") }
        let current = SourceFile.linkTarget(directory + "/current")
        let booted = SourceFile.linkTarget(directory + "/booted")
        let runner = (booted ?? current).map { target in
            target.hasPrefix("/") ? paths.rootfs(target) : directory + "/" + target
        }
        func share(_ file: String) throws(CollectorError) -> String? {
            guard let runner else { return nil }
            return try SourceFile.readIfPresent(runner + "/share/microvm/" + file)
        }
        let named = try share("hypervisor").map { String(ProcText.trimmed(Substring($0))) }.flatMap { $0.isEmpty ? nil : $0 }
        let flake = try SourceFile.readIfPresent(directory + "/flake").map { String(ProcText.trimmed(Substring($0))) }
        return MicroVMDirectory(
            name: name,
            currentRunner: current,
            bootedRunner: booted,
            hypervisor: named ?? (booted ?? current).flatMap(hypervisor(inRunnerPath:)),
            declarative: SourceFile.exists(directory + "/toplevel") || SourceFile.linkTarget(directory + "/toplevel") != nil,
            flake: flake,
            tapInterfaces: try share("tap-interfaces").map(interfaces) ?? [],
            macvtapInterfaces: try share("macvtap-interfaces").map(interfaces) ?? [])
    }
}
