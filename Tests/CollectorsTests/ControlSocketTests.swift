import MetricModel
import Testing
@testable import Collectors

@Suite struct ControlSocketTests {
    static func find(_ arguments: [String]) -> ControlSocket? {
        ControlSocket.find(in: arguments, directory: "/var/lib/microvms/web", root: { "/root" + $0 })
    }

    @Test func qmpSocketsRelativeAndAbsolute() {
        #expect(Self.find(["microvm@web", "-name", "web", "-qmp", "unix:web.sock,server,nowait"])
            == ControlSocket(kind: .qmp, path: "/var/lib/microvms/web/web.sock"))
        #expect(Self.find(["qemu", "-qmp", "unix:/run/web.sock,server=on,wait=off"]) == ControlSocket(kind: .qmp, path: "/root/run/web.sock"))
        #expect(Self.find(["qemu", "-qmp", "unix:bare.sock"]) == ControlSocket(kind: .qmp, path: "/var/lib/microvms/web/bare.sock"))
        // A TCP monitor, a flag without its value, or no socket at all: nothing to read.
        #expect(Self.find(["qemu", "-qmp", "tcp:127.0.0.1:4444,server"]) == nil)
        #expect(Self.find(["qemu", "-qmp"]) == nil)
        #expect(Self.find(["qemu", "-nographic"]) == nil)
    }

    @Test func cloudHypervisorAndFirecrackerFlags() {
        #expect(Self.find(["ch", "--api-socket", "db.sock"]) == ControlSocket(kind: .cloudHypervisor, path: "/var/lib/microvms/web/db.sock"))
        #expect(Self.find(["ch", "--api-socket", "path=db.sock,fd=3"]) == ControlSocket(kind: .cloudHypervisor, path: "/var/lib/microvms/web/db.sock"))
        #expect(Self.find(["ch", "--api-socket=db.sock"]) == ControlSocket(kind: .cloudHypervisor, path: "/var/lib/microvms/web/db.sock"))
        #expect(Self.find(["ch", "--api-socket", "fd=3"]) == nil)
        #expect(Self.find(["firecracker", "--config-file", "fc.json", "--api-sock", "fc.sock"])
            == ControlSocket(kind: .firecracker, path: "/var/lib/microvms/web/fc.sock", configFile: "/var/lib/microvms/web/fc.json"))
    }

    @Test func shellWordsAsBashSplitsThem() {
        #expect(ControlSocket.shellWords(#"exec -a "microvm@web" '/nix/store/q-qemu/bin/qemu' '-append' 'console=ttyS0 reboot=t' 'it'\''s' a\ b # comment"#)
            == ["exec", "-a", "microvm@web", "/nix/store/q-qemu/bin/qemu", "-append", "console=ttyS0 reboot=t", "it's", "a b"])
        #expect(ControlSocket.shellWords(#"x "a \"b\" c" ''"#) == ["x", #"a "b" c"#, ""])
        #expect(ControlSocket.shellWords("   ") == [])
    }

    @Test func theExecLineOfARunScript() {
        let script = """
            #!/nix/store/b-bash/bin/bash
            set -eou pipefail
            # exec is below
            if [ -e x ]; then exec 3<>x; fi

            exec -a "microvm@web" /nix/store/q-qemu/bin/qemu-system-x86_64 -name web -qmp 'unix:web.sock,server,nowait'
            """
        #expect(ControlSocket.execArguments(ofRunScript: script)
            == ["/nix/store/q-qemu/bin/qemu-system-x86_64", "-name", "web", "-qmp", "unix:web.sock,server,nowait"])
        #expect(ControlSocket.execArguments(ofRunScript: "#!/bin/sh\necho hi\n") == nil)
    }
}

@Suite struct UnitProcessTests {
    @Test func startTicksAfterACommandNameWithSpacesAndParentheses() throws {
        let stat = "4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 25301 0 0 0 1500 800 0 0 20 0 5 0 98765 1073741824 20000 18446744073709551615"
        #expect(try parseStartTicks(stat, path: "stat") == 98765)
        #expect(throws: CollectorError.malformed(path: "stat", reason: "no start time in field 22")) {
            try parseStartTicks("1 (a) S 1 2", path: "stat")
        }
        #expect(throws: CollectorError.self) { try parseStartTicks("", path: "stat") }
    }

    @Test func statFieldsStartAfterTheLastParenthesisByte() {
        // A command name of non-ASCII letters, a combining accent, spaces and parentheses.
        let stat = "77 (vm) (e\u{301}) ü) R 1 77 5"
        #expect(ProcText.statFields(stat, limit: 3) == ["R", "1", "77"])
        #expect(ProcText.statFields(stat, limit: 10) == ["R", "1", "77", "5"])
        #expect(ProcText.statFields("77 (vm", limit: 3) == nil)
    }

    @Test func commandLines() {
        #expect(parseCommandLine("microvm@web\0-qmp\0unix:web.sock,server,nowait\0") == ["microvm@web", "-qmp", "unix:web.sock,server,nowait"])
        #expect(parseCommandLine("a\0\0b\0") == ["a", "", "b"])
        #expect(parseCommandLine("") == [])
        // A NUL before a combining mark still separates (a Character split would not see it).
        #expect(parseCommandLine("a\0\u{301}b\0") == ["a", "\u{301}b"])
    }

    @Test func theMainProcessIsTheOneMicrovmNixNamed() throws {
        let root = Fixtures.scratch([
            "cg/cgroup.procs": "300\n200\n100\n",
            "proc/100/stat": "100 (socat) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0",
            "proc/100/cmdline": "socat\0VSOCK-LISTEN:8888\0",
            "proc/200/stat": "200 (.qemu-system-x) S 1 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 700 0 0",
            "proc/200/cmdline": "microvm@web\0-qmp\0unix:web.sock,server,nowait\0",
        ])  // 300 exited between the listing and the read
        defer { Fixtures.removeTree(root) }
        let process = try UnitProcess.read(cgroup: try #require(SourceDirectory(root + "/cg")),
                                           paths: HostPaths(procfs: root + "/proc", sysfs: root, rootfs: root))
        #expect(process == UnitProcess(pid: 200, startTicks: 700, arguments: ["microvm@web", "-qmp", "unix:web.sock,server,nowait"]))
        // A cgroup without cgroup.procs (being removed) has no main process.
        #expect(try UnitProcess.read(cgroup: try #require(SourceDirectory(root + "/proc")), paths: HostPaths(procfs: root + "/proc")) == nil)
    }
}
