#if canImport(Glibc)
import Glibc
#endif
import Dispatch
@testable import Collectors
import MetricModel
import Synchronization
import Testing

@Suite struct FilesystemTests {
    @Test func parsesAndDecodesSpaceAndTab() throws {
        let entries = try parseMounts("/dev/vdc /mnt/with\\040space xfs rw 0 0\n/dev/x /a\\011b\\134c ext4 ro,noatime 0 0\n")
        #expect(entries == [
            MountEntry(device: "/dev/vdc", mountPoint: "/mnt/with space", fsType: "xfs", options: "rw"),
            // Only \040 and \011 are decoded, as in node_exporter 1.5.0.
            MountEntry(device: "/dev/x", mountPoint: "/a\tb\\134c", fsType: "ext4", options: "ro,noatime"),
        ])
        #expect(entries[1].isReadOnly)
    }

    @Test func readOnlyNeedsTheExactOption() throws {
        let entries = try parseMounts("tmpfs /tmp tmpfs rw,rorelatime 0 0\n")
        #expect(!entries[0].isReadOnly)
    }

    @Test func shortLineIsMalformedAndNamesTheFile() {
        #expect(throws: CollectorError.malformed(
            path: "/p/1/mounts", reason: "line 2: malformed mount point information \"/dev/vda /\"")) {
            try parseMounts("proc /proc proc rw 0 0\n/dev/vda /\n", path: "/p/1/mounts")
        }
    }

    @Test func stripsTheRootfsPrefix() {
        #expect(strippingRootfs("/host/boot", rootfs: "/host") == "/boot")
        #expect(strippingRootfs("/host", rootfs: "/host") == "/")
        #expect(strippingRootfs("/boot", rootfs: "") == "/boot")
        #expect(strippingRootfs("/other", rootfs: "/host") == "/other")
    }

    @Test func upstreamDefaults() {
        #expect(FilesystemCollector.defaultMountPointsExclude
            == "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)")
        #expect(FilesystemCollector.defaultFSTypesExclude.hasPrefix("^(autofs|binfmt_misc|bpf|cgroup2?|configfs|"))
        #expect(FilesystemCollector.defaultFSTypesExclude.hasSuffix("|squashfs|sysfs|tracefs)$"))
    }

    /// Values from statfs depend on the disk the checkout is on and drift, so they are masked
    /// here and checked against statvfs below; readonly and device_error are compared exactly.
    @Test func fixtureMatchesNodeExporter() throws {
        let collector = FilesystemCollector(
            paths: Fixtures.paths, mountPointsExclude: FilesystemCollector.defaultMountPointsExclude,
            fsTypesExclude: FilesystemCollector.defaultFSTypesExclude)
        let families = try collector.collect()
        let masked = Fixtures.maskValues(
            Fixtures.render(families),
            families: ["node_filesystem_size_bytes", "node_filesystem_free_bytes", "node_filesystem_avail_bytes",
                       "node_filesystem_files", "node_filesystem_files_free"],
            placeholder: "<STATFS>")
        try Fixtures.expectGolden(masked, "filesystem.prom")

        var expected = statvfs()
        #expect(statvfs(Fixtures.root + "/rootfs/mnt/with space", &expected) == 0)
        let size = try #require(families.first { $0.name == "node_filesystem_size_bytes" })
        let spaced = try #require(size.samples.first { $0.labels.last?.value == "/mnt/with space" })
        #expect(spaced.value == Double(expected.f_blocks) * Double(expected.f_bsize))
    }

    @Test func fallsBackToProcMounts() throws {
        let procfs = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(procfs) }
        Fixtures.write("/dev/vda / ext4 ro 0 0\n", to: procfs + "/mounts")
        let collector = FilesystemCollector(
            paths: HostPaths(procfs: procfs, rootfs: Fixtures.root + "/rootfs"), mountPointsExclude: "", fsTypesExclude: "")
        let readonly = try #require(try collector.collect().first { $0.name == "node_filesystem_readonly" })
        #expect(readonly.samples == [Sample(
            labels: [Label("device", "/dev/vda"), Label("fstype", "ext4"), Label("mountpoint", "/")], value: 1)])
    }

    @Test func invalidPatternIsReportedNotFatal() {
        #expect(throws: InvalidPatternError.self) { try FilesystemCollector.validatePattern("^(a|b") }
        let collector = FilesystemCollector(paths: Fixtures.paths, mountPointsExclude: "^(a|b", fsTypesExclude: "")
        #expect(throws: CollectorError.self) { try collector.collect() }
    }

    @Test(arguments: [
        ("nfs4", true), ("nfs", true), ("cifs", true), ("fuse.sshfs", true), ("fuseblk", true), ("9p", true),
        ("virtiofs", true), ("ext4", false), ("xfs", false), ("tmpfs", false), ("btrfs", false), ("vfat", false),
    ])
    func onlyFilesystemsThatCanHangGoThroughTheTimedPool(fsType: String, mayHang: Bool) {
        #expect(FilesystemCollector.mayHang(fsType: fsType) == mayHang)
    }

    /// A statfs that hangs (a dead NFS server) costs one timeout, marks the mount stuck, and is
    /// skipped while it stays stuck; once the call returns the mount is statfs'd again.
    @Test func hangingStatfsTimesOutAndIsSkippedWhileStuck() throws {
        let release = DispatchSemaphore(value: 0)
        let calls = Mutex<[String: Int]>([:])
        let statter = MountStatter(timeout: .milliseconds(200), workers: 2) { path in
            calls.withLock { $0[path, default: 0] += 1 }
            if path.hasSuffix("/mnt/nfs") { release.wait() }
            return .success(blocks: 10, blockSize: 4096, free: 5, available: 4, files: 100, filesFree: 50)
        }
        let procfs = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(procfs) }
        Fixtures.write("/dev/vda / ext4 rw 0 0\nserver:/export /mnt/nfs nfs4 rw 0 0\n/dev/vdb /data ext4 rw 0 0\n", to: procfs + "/mounts")
        let collector = FilesystemCollector(
            paths: HostPaths(procfs: procfs, rootfs: "/r"), mountPointsExclude: "", fsTypesExclude: "", statter: statter)

        func deviceErrors() throws -> [String: Double] {
            let family = try #require(try collector.collect().first { $0.name == "node_filesystem_device_error" })
            return Dictionary(uniqueKeysWithValues: family.samples.map { ($0.labels[2].value, $0.value) })
        }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try deviceErrors() == ["/": 0, "/mnt/nfs": 1, "/data": 0])
        #expect(clock.now - start < .seconds(2))
        #expect(collector.stuckMountPoints == ["/mnt/nfs"])

        #expect(try deviceErrors() == ["/": 0, "/mnt/nfs": 1, "/data": 0])
        #expect(calls.withLock { $0["/r/mnt/nfs"] } == 1)

        release.signal()
        for _ in 0..<100 where !collector.stuckMountPoints.isEmpty { usleep(10_000) }
        #expect(collector.stuckMountPoints.isEmpty)
        release.signal()  // lets the next call through at once
        #expect(try deviceErrors() == ["/": 0, "/mnt/nfs": 0, "/data": 0])
        #expect(calls.withLock { $0["/r/mnt/nfs"] } == 2)
    }

    /// More hanging mounts than workers: each timed-out worker is replaced, so the queue still
    /// drains and the healthy mount after them is statfs'd.
    @Test func moreHangsThanWorkersStillDrainTheQueue() {
        let release = DispatchSemaphore(value: 0)
        let statter = MountStatter(timeout: .milliseconds(100), workers: 1) { path in
            if path.hasPrefix("/hang") { release.wait() }
            return .failure(ENOENT)
        }
        let outcomes = statter.stat([("/hang1", "/hang1"), ("/hang2", "/hang2"), ("/ok", "/ok")])
        #expect(outcomes == [.stuck, .stuck, .failure(ENOENT)])
        #expect(statter.stuckMountPoints == ["/hang1", "/hang2"])
        release.signal()
        release.signal()
    }
}
