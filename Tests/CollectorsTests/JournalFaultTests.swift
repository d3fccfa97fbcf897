import Foundation
import Testing
@testable import Collectors

/// The SIGBUS handler behind the journal reader (Sources/CSystemd/sigbus.c).
@Suite struct JournalFaultTests {
    /// journald truncating a file under a reader makes the next access to its mapping raise
    /// SIGBUS (systemd/systemd#24320). With the handler the read returns zeros, the fault is
    /// counted, and the process lives on.
    @Test func aReadPastATruncatedMappingIsAbsorbedAndCounted() throws {
        Journal.absorbFaults()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-sigbus-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(ftruncate(descriptor, off_t(2 * page)) == 0)
        #expect(pwrite(descriptor, [UInt8](repeating: 0xAB, count: 2 * page), 2 * page, 0) == 2 * page)
        let mapping = try #require(mmap(nil, 2 * page, PROT_READ, MAP_SHARED, descriptor, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, 2 * page) }
        #expect(mapping.load(fromByteOffset: page, as: UInt8.self) == 0xAB)

        #expect(ftruncate(descriptor, 0) == 0)
        let before = Journal.absorbedFaults
        let value = mapping.load(fromByteOffset: page, as: UInt8.self)
        #expect(value == 0, "the vanished page reads as zeros")
        #expect(Journal.absorbedFaults == before + 1)
    }
}
