import Testing
import MetricModel
@testable import Collectors

@Suite struct FilefdTests {
    @Test func readsAllocatedAndMaximum() throws {
        let counts = try parseFileNr("982\t0\t2466174\n")
        #expect(counts.allocated == 982 && counts.maximum == 2_466_174)
    }

    @Test func fieldsAreTabSeparatedOnly() {
        // node_exporter splits on tabs; spaces leave one field.
        #expect(throws: CollectorError.malformed(
            path: "/p/file-nr", reason: "expected three tab-separated numbers, found 1")) {
            try parseFileNr("982 0 2466174\n", path: "/p/file-nr")
        }
        #expect(throws: CollectorError.malformed(path: "/p/file-nr", reason: "\"a\" or \"3\" is not a number")) {
            try parseFileNr("a\t0\t3", path: "/p/file-nr")
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try FilefdCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "filefd.prom")
    }
}
