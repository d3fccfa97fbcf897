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
        #expect(try spool.read(earlier, maximumBytes: 100) == .content(Array((#"{"n":1}"# + "\n").utf8)))
        #expect(stat(earlier, &status) == 0 && status.st_mode & 0o777 == 0o640)

        let rejected = try spool.reject(earlier)
        #expect(rejected == spool.directory + "/rejected/" + (earlier.split(separator: "/").last.map(String.init) ?? ""))
        try spool.remove(later)
        try spool.remove(later)  // already gone: fine
        #expect(try spool.pending().isEmpty)
        #expect(FileManager.default.fileExists(atPath: rejected))
    }

    /// What the daemon will not read: a symbolic link, a FIFO (opened without blocking), a file
    /// over the limit; each refusal names why without the content.
    @Test(.timeLimit(.minutes(1))) func untrustedFilesAreRefusedUnread() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let spool = EventSpool(directory: directory + "/spool")
        try spool.create()
        Fixtures.write("{\"secret\":1}", to: directory + "/secret.json")
        #expect(symlink(directory + "/secret.json", spool.directory + "/1-link.json") == 0)
        #expect(mkfifo(spool.directory + "/2-fifo.json", 0o640) == 0)
        Fixtures.write(String(repeating: "x", count: 101), to: spool.directory + "/3-big.json")
        Fixtures.write(String(repeating: "x", count: 100), to: spool.directory + "/4-fits.json")
        #expect(try spool.read(spool.directory + "/1-link.json", maximumBytes: 100) == .refused("a symbolic link, not a regular file"))
        #expect(try spool.read(spool.directory + "/2-fifo.json", maximumBytes: 100) == .refused("not a regular file"))
        #expect(try spool.read(spool.directory + "/3-big.json", maximumBytes: 100) == .refused("101 bytes, more than 100"))
        #expect(try spool.read(spool.directory + "/4-fits.json", maximumBytes: 100) == .content(Array(repeating: UInt8(ascii: "x"), count: 100)))
        // Moving a link aside moves the link, never its target.
        _ = try spool.reject(spool.directory + "/1-link.json")
        #expect(FileManager.default.fileExists(atPath: directory + "/secret.json"))
    }

    @Test func aSpoolThatCannotBeCreatedSaysWhere() {
        #expect {
            try EventSpool(directory: "/proc/lookout-spool").create()
        } throws: { error in
            "\(error)".hasPrefix("cannot create /proc/lookout-spool: ")
        }
    }
}
