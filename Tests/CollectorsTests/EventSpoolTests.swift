import Foundation
import Testing
@testable import Collectors

@Suite struct EventSpoolTests {
    @Test func filesAreWholeOrderedAndRemovedOrSetAside() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let spool = EventSpool(directory: directory + "/a/spool")
        #expect(try spool.pending().isEmpty, "a spool that does not exist yet is empty")
        try spool.create()
        var status = stat()
        #expect(stat(spool.directory, &status) == 0 && status.st_mode & 0o7777 == 0o2770)
        try spool.create()  // again: nothing changes

        let later = try spool.write(Array(#"{"n":2}"#.utf8), now: 2_000)
        let earlier = try spool.write(Array(#"{"n":1}"#.utf8), now: 1_000)
        // A file being written (a writer that crashed before its rename) is not an event yet.
        Fixtures.write("{\"n\":", to: spool.directory + "/00000000000000000500-torn.json.tmp")
        #expect(try spool.pending() == [earlier, later])
        #expect(try spool.read(earlier) == Array(#"{"n":1}"#.utf8))
        #expect(stat(earlier, &status) == 0 && status.st_mode & 0o777 == 0o640)

        let rejected = try spool.reject(earlier)
        #expect(rejected == spool.directory + "/rejected/" + (earlier.split(separator: "/").last.map(String.init) ?? ""))
        try spool.remove(later)
        try spool.remove(later)  // already gone: fine
        #expect(try spool.pending().isEmpty)
        #expect(FileManager.default.fileExists(atPath: rejected))
    }

    @Test func aSpoolThatCannotBeCreatedSaysWhere() {
        #expect {
            try EventSpool(directory: "/proc/lookout-spool").create()
        } throws: { error in
            "\(error)".hasPrefix("cannot create /proc/lookout-spool: ")
        }
    }
}
