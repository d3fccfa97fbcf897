#if canImport(Glibc)
import Glibc
#endif
import Testing
import MetricModel
@testable import Collectors

@Suite struct OSTests {
    @Test func quotingRulesOfGoEnvparse() throws {
        // Each expectation below was checked against node_exporter 1.5.0 on the same input.
        let values = try parseOSRelease("""
            # comment line without an equals sign
               # indented comment
            NAME="Debian GNU/Linux"
            ID=debian
            ID_LIKE='ubuntu  "mint"'
            VARIANT="Test \\"quoted\\" \\\\ edition"
            VARIANT_ID=test   # trailing comment
            export HOME_URL="https://www.debian.org/"
            BUILD_ID='it''s' x\\y"q"
            IMAGE_ID="a\\tb\\nc"

            VERSION=
            VERSION=12
            """)
        #expect(values == [
            "NAME": "Debian GNU/Linux", "ID": "debian", "ID_LIKE": "ubuntu  \"mint\"",
            "VARIANT": "Test \"quoted\" \\ edition", "VARIANT_ID": "test", "HOME_URL": "https://www.debian.org/",
            "BUILD_ID": "its x\\yq", "IMAGE_ID": "a\tb\nc", "VERSION": "12",
        ])
    }

    @Test func errorsNameFileAndLine() {
        let cases: [(String, String)] = [
            ("NAME=a\nnonsense\n", "line 2: missing \"=\""),
            ("ID=\"x\\$y\"\n", "line 1: invalid escape sequence \\$"),
            ("ID=\"open\n", "line 1: unmatched \""),
            ("ID='open\n", "line 1: unmatched '"),
            ("ID=\"a\\", "line 1: incomplete escape sequence"),
            ("  export   ID=x\n", "line 1: key must start with [A-Za-z_]"),
            ("=x\n", "line 1: empty key"),
            ("ID=a\tb\n", "line 1: control character in value"),
        ]
        for (text, reason) in cases {
            #expect(throws: CollectorError.malformed(path: "/r/etc/os-release", reason: reason)) {
                try parseOSRelease(text, path: "/r/etc/os-release")
            }
        }
    }

    @Test func versionIsLeadingMajorMinor() {
        #expect(osVersionNumber("12") == 12)
        #expect(osVersionNumber("22.04.3") == 22.04)
        #expect(osVersionNumber("7.") == 7)
        #expect(osVersionNumber("rolling") == 0)
        #expect(osVersionNumber("") == 0)
    }

    @Test func noVersionFamilyWithoutNumericVersion() {
        let families = osFamilies(["ID": "arch", "VERSION_ID": "rolling"])
        #expect(families.map(\.name) == ["node_os_info"])
        #expect(families[0].samples[0].labels.count == 12)
    }

    @Test func fallsBackToUsrLib() throws {
        let directory = Fixtures.scratch(["usr/lib/os-release": "ID=fallback\nVERSION_ID=3.1\n"])
        let families = try OSCollector(paths: HostPaths(rootfs: directory)).collect()
        #expect(families[1].samples == [
            Sample(labels: [Label("id", "fallback"), Label("id_like", ""), Label("name", "")], value: 3.1),
        ])
    }

    /// Sets the modification time of `path` to `seconds` since the epoch.
    static func setModified(_ path: String, seconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0, "utimensat \(path)")
    }

    /// The `id` label of the `node_os_info` sample.
    static func id(_ families: [MetricFamily]) -> String? {
        families.first { $0.name == "node_os_info" }?.samples.first?.labels.first { $0.name == "id" }?.value
    }

    @Test func theFileIsParsedAgainOnlyWhenItsModificationTimeChanges() throws {
        let directory = Fixtures.scratch(["etc/os-release": "ID=first\n"])
        let path = directory + "/etc/os-release"
        Self.setModified(path, seconds: 1_700_000_000)
        let collector = OSCollector(paths: HostPaths(rootfs: directory))
        #expect(Self.id(try collector.collect()) == "first")

        // New content under the same modification time: what was parsed is kept, as
        // node_exporter keeps it.
        Fixtures.write("ID=second\n", to: path)
        Self.setModified(path, seconds: 1_700_000_000)
        #expect(Self.id(try collector.collect()) == "first")

        Self.setModified(path, seconds: 1_700_000_060)
        #expect(Self.id(try collector.collect()) == "second")

        // A broken file is not kept: it fails on every scrape until it is fixed.
        Fixtures.write("ID=\"open\n", to: path)
        Self.setModified(path, seconds: 1_700_000_120)
        #expect(throws: CollectorError.self) { try collector.collect() }
        #expect(throws: CollectorError.self) { try collector.collect() }
    }

    @Test func neitherFileIsNoData() {
        let directory = Fixtures.scratch(["etc/hostname": "x\n"])
        #expect(throws: CollectorError.noData(
            "neither \(directory)/etc/os-release nor \(directory)/usr/lib/os-release exists")) {
            try OSCollector(paths: HostPaths(rootfs: directory)).collect()
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try OSCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "os.prom")
    }
}
