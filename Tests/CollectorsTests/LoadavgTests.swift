import Testing
import MetricModel
@testable import Collectors

@Suite struct LoadavgTests {
    @Test func parsesTheFirstThreeFields() throws {
        let loads = try parseLoadavg("2.69 1.19 0.51 7/131 11457\n")
        #expect(loads == (2.69, 1.19, 0.51))
    }

    @Test func malformedContentNamesTheFile() {
        #expect(throws: CollectorError.malformed(path: "/p/loadavg", reason: "expected three load averages, found 2 fields")) {
            try parseLoadavg("1.0 2.0\n", path: "/p/loadavg")
        }
        #expect(throws: CollectorError.malformed(path: "/p/loadavg", reason: "load \"x\" is not a number")) {
            try parseLoadavg("1.0 x 3.0 1/2 3\n", path: "/p/loadavg")
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try LoadavgCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "loadavg.prom")
    }
}
