// Where a microVM's hypervisor listens for control requests.
//
// microvm.nix does not record the socket anywhere: the runner passes it on the hypervisor's
// command line (lib/runners/*.nix), relative to the unit's WorkingDirectory, which is the VM's
// state directory. So the collector reads the command line, first from `/proc/PID/cmdline` of the
// processes in the VM's cgroup (what actually runs), else from the runner's `bin/microvm-run`
// shell script, whose last line is `exec -a "microvm@HOST" <hypervisor> <arguments…>`:
//
// - qemu and stratovirt: `-qmp unix:PATH,server,nowait` → QMP;
// - cloud-hypervisor: `--api-socket PATH` or `--api-socket path=PATH[,fd=N]` → REST over HTTP;
// - firecracker: `--api-sock PATH` → REST over HTTP, plus `--config-file FILE`, whose
//   `metrics.metrics_path` (when the user set one) names its metrics file.

/// The protocol a hypervisor's control socket speaks.
enum ControlProtocol: String, Sendable, Equatable {
    /// QEMU Machine Protocol: JSON lines (qemu, stratovirt).
    case qmp
    /// cloud-hypervisor's REST API under `/api/v1`.
    case cloudHypervisor = "cloud-hypervisor"
    /// Firecracker's REST API.
    case firecracker
}

/// A hypervisor's control socket and, for Firecracker, its configuration file.
struct ControlSocket: Sendable, Equatable {
    /// What the socket speaks.
    var kind: ControlProtocol
    /// The socket's path, absolute (already resolved against the VM's directory and the root).
    var path: String
    /// Firecracker's `--config-file`, resolved the same way; nil for other hypervisors.
    var configFile: String? = nil

    /// Finds the control socket in a hypervisor's argument vector (argv[0] included or not).
    /// Relative paths are resolved against `directory`, absolute ones under `root`.
    static func find(in arguments: [String], directory: String, root: (String) -> String) -> ControlSocket? {
        func resolved(_ path: String) -> String { path.hasPrefix("/") ? root(path) : directory + "/" + path }
        var socket: ControlSocket?
        var configFile: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let (flag, inlineValue) = split(arguments[index])
            guard flagsWithValues.contains(flag) else {
                index += 1
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
                index += 1
            } else if index + 1 < arguments.endIndex {
                value = arguments[index + 1]
                index += 2
            } else {
                break
            }
            switch flag {
            case "-qmp", "--qmp":
                // `unix:PATH[,server=on|,server][,wait=off|,nowait]`; a TCP QMP is not ours to read.
                guard value.hasPrefix("unix:") else { continue }
                let path = value.dropFirst("unix:".count).split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
                if socket == nil, !path.isEmpty { socket = ControlSocket(kind: .qmp, path: resolved(path)) }
            case "--api-socket":
                // cloud-hypervisor: a bare path or `path=PATH,fd=N` (an inherited fd has no path).
                let path = value.contains("=")
                    ? value.split(separator: ",").first { $0.hasPrefix("path=") }.map { String($0.dropFirst("path=".count)) }
                    : value
                if socket == nil, let path, !path.isEmpty { socket = ControlSocket(kind: .cloudHypervisor, path: resolved(path)) }
            case "--api-sock":
                if socket == nil, !value.isEmpty { socket = ControlSocket(kind: .firecracker, path: resolved(value)) }
            default:  // --config-file
                configFile = resolved(value)
            }
        }
        if socket?.kind == .firecracker { socket?.configFile = configFile }
        return socket
    }

    /// The flags whose value the collector wants.
    private static let flagsWithValues: Set<String> = ["-qmp", "--qmp", "--api-socket", "--api-sock", "--config-file"]

    /// `--flag=value` → (`--flag`, `value`); anything else → (argument, nil).
    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// The words of the `exec` line of a `microvm-run` script, as the shell would split them:
    /// single quotes (nixpkgs' `escapeShellArg` and its `'\''`), double quotes and backslashes.
    /// Nil when the script has no `exec` line. The `-a NAME` of `exec -a` is dropped.
    static func execArguments(ofRunScript script: String) -> [String]? {
        for line in script.split(separator: "\n").reversed() {
            let words = shellWords(line)
            guard words.first == "exec" else { continue }
            var arguments = Array(words.dropFirst())
            if arguments.first == "-a", arguments.count >= 2 { arguments.removeFirst(2) }
            return arguments
        }
        return nil
    }

    /// Splits one line of shell into words. Variables and globs are left as written: the runner
    /// scripts quote every argument that could contain them.
    static func shellWords(_ line: Substring) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for character in line {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case ("'", _):
                word.append(character)
            case ("\"", "\\"), (nil, "\\"):
                escaped = true
                inWord = true
            case ("\"", _):
                word.append(character)
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case (nil, " "), (nil, "\t"):
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case (nil, "#") where !inWord:
                return words
            default:
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
