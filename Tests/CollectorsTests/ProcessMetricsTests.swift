import Foundation
import Testing
@testable import Collectors

/// The exporter's own `process_open_fds`, counted from the descriptor table and, on kernels before
/// 6.2, by listing /proc/self/fd: each follows descriptors as they are opened and closed. (The two
/// differ by the descriptors reserved by calls still in progress, a blocking accept(2) or FIFO
/// open(2), which this test process has plenty of and the daemon none.)
@Suite struct ProcessMetricsTests {
    /// Other tests open and close files at the same time, in bursts, so each comparison is tried
    /// again, 10 ms apart, until two counts fall between the same changes; a wrong count never
    /// agrees.
    private static func agreesOnce(_ check: () -> Bool) -> Bool {
        (0..<500).contains { attempt in
            if attempt > 0 { usleep(10_000) }
            return check()
        }
    }

    @Test(arguments: [false, true])
    func theCountFollowsOpenDescriptors(listed: Bool) throws {
        let count = { listed ? ProcessMetrics.listedDescriptors() : ProcessMetrics.openDescriptors() }
        #expect(Self.agreesOnce {
            guard let before = count() else { return false }
            let opened = (0..<40).map { _ in open("/proc/self/stat", O_RDONLY) }
            defer { for descriptor in opened { close(descriptor) } }
            return count() == before + 40
        })
        let family = try #require(ProcessMetrics.families().first { $0.name == "process_open_fds" })
        #expect(family.samples.count == 1 && family.samples[0].value > 3)
    }
}
