import Foundation
import Testing

/// `lookout rules test` against `promtool test rules` (2.42) on the same unit-test files: the
/// cross-check suite under Tests/Fixtures/rules/crosscheck (one topic of the PromQL subset, the
/// alert state machine or templating per file), the default rules' own tests under rules/tests,
/// and files that fail in each way promtool reports. Standard output, standard error and exit
/// status must be the same byte for byte. Serialized: a hundred processes at once would starve
/// the daemons other suites start meanwhile.
@Suite(.serialized) struct RulesTestCrossCheckTests {
    static let crossCheck = Harness.fixtures.appendingPathComponent("rules/crosscheck").path
    static let failing = Harness.fixtures.appendingPathComponent("rules/failing").path
    static let defaultRuleTests = Harness.repositoryRoot.appendingPathComponent("rules/tests").path

    static func testFiles(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".test.yml") }.sorted()
    }

    /// Runs both tools on `files` in `directory`; returns promtool's status for the caller to check.
    @discardableResult
    static func compare(_ files: [String], in directory: String) throws -> Int32 {
        let promtool = try Harness.tool("promtool")
        let expected = try Harness.run(promtool, ["test", "rules"] + files, in: directory)
        let actual = try Harness.run(Harness.lookoutBinary, ["rules", "test"] + files, in: directory)
        #expect(actual.status == expected.status, "\(files)")
        #expect(actual.stdout == expected.stdout, "\(files)")
        #expect(actual.stderr == expected.stderr, "\(files)")
        return expected.status
    }

    @Test func theSuiteIsLargeEnough() {
        #expect(Self.testFiles(in: Self.crossCheck).count >= 40)
        #expect(Self.testFiles(in: Self.failing).count >= 5)
    }

    @Test(arguments: testFiles(in: crossCheck))
    func crossCheckFilePassesUnderBoth(_ file: String) throws {
        #expect(try Self.compare([file], in: Self.crossCheck) == 0, "promtool itself must pass \(file)")
    }

    @Test func theWholeSuiteInOneRun() throws {
        #expect(try Self.compare(Self.testFiles(in: Self.crossCheck), in: Self.crossCheck) == 0)
    }

    @Test(arguments: testFiles(in: failing))
    func failuresAreReportedInPromtoolsWords(_ file: String) throws {
        #expect(try Self.compare([file], in: Self.failing) == 1, "promtool must fail \(file)")
    }

    @Test func theDefaultRulesPassTheirTests() throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: Self.defaultRuleTests)) ?? []).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(!files.isEmpty)
        #expect(try Self.compare(files, in: Self.defaultRuleTests) == 0)
    }
}
