import Foundation
import LookoutSupport
import Testing
@testable import Collectors

/// Pseudo-files held open between reads: each read shows the kernel at that moment, files on other
/// file systems are never held, a file whose object is gone is opened again by path, and idle or
/// surplus descriptors are closed.
@Suite struct HeldFilesTests {
    @Test func aHeldProcFileShowsTheKernelNow() throws {
        let files = HeldFiles()
        let uptime = { () throws -> Double in
            let text = try #require(try files.read("/proc/uptime"))
            return try #require(Double(text.split(separator: " ")[0]))
        }
        let first = try uptime()
        #expect(files.count == 1)
        // /proc/uptime counts in hundredths of a second.
        usleep(50_000)
        let second = try uptime()
        #expect(files.count == 1)
        #expect(second > first)
        #expect(try files.read("/proc/version") == TextFile.read("/proc/version"))
        #expect(files.count == 2)
    }

    @Test func aHeldSysfsAttributeInADirectoryShowsTheKernelNow() throws {
        let files = HeldFiles()
        let directoryPath = "/sys/class/net/lo/statistics"
        let directory = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(directory >= 0)
        defer { close(directory) }
        #expect(HeldFiles.isKernelPseudoFile(directory))
        let packets = { () throws -> Int in
            let text = try #require(try files.read("tx_packets", inDirectory: directory, path: directoryPath + "/tx_packets",
                                                   shortReadIsEnd: true))
            #expect(text.hasSuffix("\n"))
            return try #require(Int(text.dropLast()))
        }
        let before = try packets()
        #expect(files.count == 1)
        // Ten datagrams over loopback, each counted in lo's tx_packets.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(9).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        for _ in 0..<10 {
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, "x", 1, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        #expect(try packets() >= before + 10)
        #expect(files.count == 1)
        #expect(try files.read("absent", inDirectory: directory, path: directoryPath + "/absent", missingIsNil: true) == nil)
    }

    @Test func aHeldFileLongerThanOneReadIsReadWhole() throws {
        let files = HeldFiles()
        // This process maps dozens of libraries: several of pread(2)'s 4 KiB first chunks, with
        // the stack near the end.
        for _ in 0..<2 {
            let maps = try #require(try files.read("/proc/self/maps"))
            #expect(maps.utf8.count > 8_192)
            #expect(maps.hasSuffix("\n"))
            #expect(maps.contains("[stack]"))
        }
        #expect(files.count == 1)
    }

    @Test func aRegularFileIsReadFreshAndNotHeld() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-held-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("value").path
        let files = HeldFiles()
        try "1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try files.read(path) == "1\n")
        // Replaced by rename, as the textfile collector's writers do: a held descriptor would
        // still read the old file.
        try "2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try files.read(path) == "2\n")
        #expect(files.count == 0)

        // In a directory: told by fstatfs of the file, or by the caller for the whole directory.
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        #expect(!HeldFiles.isKernelPseudoFile(descriptor))
        for holdable in [true, false] {
            try "3\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try files.read("value", inDirectory: descriptor, path: path, holdable: holdable, shortReadIsEnd: true) == "3\n")
            try "4\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try files.read("value", inDirectory: descriptor, path: path, holdable: holdable) == "4\n")
            #expect(try files.read("absent", inDirectory: descriptor, path: directory.path + "/absent", holdable: holdable,
                                   missingIsNil: true) == nil)
            #expect(throws: TextFile.ReadError(path: directory.path + "/absent", reason: "No such file or directory")) {
                try files.read("absent", inDirectory: descriptor, path: directory.path + "/absent", holdable: holdable)
            }
        }
        #expect(files.count == 0)

        #expect(try files.read(directory.path + "/absent", missingIsNil: true) == nil)
        #expect(throws: TextFile.ReadError(path: directory.path + "/absent", reason: "No such file or directory")) {
            try files.read(directory.path + "/absent")
        }
        #expect(throws: TextFile.ReadError(path: "/proc/uptime", reason: "larger than 3 bytes")) {
            try files.read("/proc/uptime", maximumBytes: 3)
        }
        #expect(files.count == 0)
    }

    @Test func aFileWhoseProcessIsGoneIsOpenedAgainByPath() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        let path = "/proc/\(child.processIdentifier)/stat"
        let files = HeldFiles()
        #expect(try files.read(path, missingIsNil: true)?.hasPrefix("\(child.processIdentifier) (sleep)") == true)
        #expect(files.count == 1)
        // SIGKILL: the child may have inherited a mask that blocks SIGTERM.
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        // The held descriptor now fails (ESRCH); the path no longer exists.
        #expect(try files.read(path, missingIsNil: true) == nil)
        #expect(files.count == 0)
    }

    @Test func idleDescriptorsAreClosedAndAtMostCapacityHeld() throws {
        let files = HeldFiles(idleLimit: .milliseconds(50))
        _ = try files.read("/proc/loadavg")
        _ = try files.read("/proc/uptime")
        #expect(files.count == 2)
        usleep(100_000)
        // The next read looks for idle descriptors: both others have waited longer than 50 ms.
        _ = try files.read("/proc/version")
        #expect(files.count == 1)

        let small = HeldFiles(capacity: 2)
        _ = try small.read("/proc/loadavg")
        _ = try small.read("/proc/uptime")
        #expect(try small.read("/proc/version") == TextFile.read("/proc/version"))
        #expect(small.count == 2)
        #expect(small.capacity == 2)
    }
}
