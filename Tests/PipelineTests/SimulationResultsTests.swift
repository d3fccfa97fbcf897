#if canImport(Glibc)
import Glibc
#endif
@testable import LookoutSupport
@testable import PipelineEvents
import Testing

@Suite struct SimulationResultsTests {
    /// `Tests/Fixtures/dst/`, found from this file's path.
    static let fixtures: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures/dst/"
    }()

    static func report(_ edn: String) throws(SimulationResultsError) -> PipelineEvent.SimulationReport {
        try SimulationResults.report(Array(edn.utf8), format: .edn)
    }

    @Test func aMaelstromLinKVRunThatFailedLinearizability() throws {
        #expect(try SimulationResults.read(Self.fixtures + "maelstrom-lin-kv.edn") == PipelineEvent.SimulationReport(
            valid: false, operationCount: 1732, okCount: 1260, failCount: 431, infoCount: 41, messageCount: 19842, serverMessageCount: 16338,
            invalidCheckers: ["workload"], unknownCheckers: [], anomalyTypes: []))
    }

    @Test func aMaelstromEchoRunWithItsCountsUnderNetStats() throws {
        #expect(try SimulationResults.read(Self.fixtures + "maelstrom-echo-nested-net.edn") == PipelineEvent.SimulationReport(
            valid: true, operationCount: 12, okCount: 12, failCount: 0, infoCount: 0, messageCount: 26, serverMessageCount: 0,
            invalidCheckers: [], unknownCheckers: [], anomalyTypes: []))
    }

    @Test func aJepsenEtcdRunWithComposedCheckers() throws {
        let path = Self.fixtures + "jepsen-etcd-append.edn"
        #expect(try SimulationResults.read(path) == PipelineEvent.SimulationReport(
            valid: false, operationCount: 4217, okCount: 3591, failCount: 409, infoCount: 217,
            invalidCheckers: ["workload"], unknownCheckers: ["clock"], anomalyTypes: ["G1c", "internal"]))

        // The reader keeps what the extraction does not use: ratios, #inst, records, symbols.
        let results = try EDNValue.parse(try #require(Self.contents(path)))
        #expect(results[keyword: "queue"]?[keyword: "ok-frac"] == .ratio("241/250"))
        #expect(results[keyword: "queue"]?[keyword: "ok-frac"]?.doubleValue == 0.964)
        #expect(results[keyword: "queue"]?[keyword: "recovered"] == .set([.integer("113"), .integer("187"), .integer("240")]))
        guard case .list(let exceptions) = results[keyword: "exceptions"]?[keyword: "exceptions"],
              case .tagged("jepsen.history.Op", let op) = exceptions.last?[keyword: "example"],
              case .vector(let via) = op[keyword: "exception"]?[keyword: "via"]
        else { Issue.record("no exception example"); return }
        #expect(exceptions.first?[keyword: "class"] == .symbol("io.grpc.StatusRuntimeException"))
        #expect(via.first?[keyword: "data"]?[keyword: "expired-at"] == .tagged("inst", .string("2026-11-27T10:03:12.345-00:00")))
        #expect(op[keyword: "error"] == .vector([.keyword("lease-expired"), .integer("7587869403817741828")]))
    }

    @Test func theSameFactsAsJSON() throws {
        #expect(try SimulationResults.read(Self.fixtures + "jepsen-results.json") == PipelineEvent.SimulationReport(
            valid: nil, operationCount: 120, okCount: 111, failCount: 6, infoCount: 3,
            invalidCheckers: [], unknownCheckers: ["linear"], anomalyTypes: []))
        #expect(try SimulationResults.report(Array(#"{"valid": false, "stats": {"ok_count": 5}, "net": {"all": {"msg_count": 9}}}"#.utf8), format: .json)
            == PipelineEvent.SimulationReport(valid: false, okCount: 5, messageCount: 9, invalidCheckers: [], unknownCheckers: [], anomalyTypes: []))
    }

    @Test func theFormatByExtensionElseByContent() {
        let json = Array(#"  {"valid?": true}"#.utf8), edn = Array("{:valid? true}".utf8)
        #expect(SimulationResults.format(of: "results.json", bytes: edn) == .json)
        #expect(SimulationResults.format(of: "results.edn", bytes: json) == .edn)
        #expect(SimulationResults.format(of: "results.txt", bytes: json) == .json)
        #expect(SimulationResults.format(of: "results", bytes: edn) == .edn)
        #expect(SimulationResults.format(of: "results", bytes: Array("{}".utf8)) == .edn)
    }

    @Test func verdictsAndCheckers() throws {
        #expect(try Self.report("{:valid? :unknown}") == .init(valid: nil, invalidCheckers: [], unknownCheckers: [], anomalyTypes: []))
        #expect(try Self.report("""
            {:workload {:valid? false, :anomaly-types [:G2-item :G1c]}, :perf {:valid? false}, :jepsen.checker/x {:valid? :unknown},
             :elle {:valid? false, :anomaly-types #{:G1c :internal}}, :timeline {:valid? true}, "named" {:valid? false},
             :not-a-checker {:count 3}, 7 {:valid? false}, :valid? false}
            """) == .init(valid: false, invalidCheckers: ["elle", "named", "perf", "workload"], unknownCheckers: ["jepsen.checker/x"],
                          anomalyTypes: ["G1c", "G2-item", "internal"]))
        #expect(try Self.report("{:valid? true, :stats nil, :net {:stats {:servers {:msg-count 4}}}}")
            == .init(valid: true, serverMessageCount: 4, invalidCheckers: [], unknownCheckers: [], anomalyTypes: []))
    }

    @Test(arguments: [
        ("[1 2]", "a results file holds one map (Jepsen's or Maelstrom's results), got a vector"),
        ("{:stats {:count 1}}", "no :valid? in the results map: is this a Jepsen or Maelstrom results file?"),
        (#"{:valid? "yes"}"#, #":valid? must be true, false or :unknown, got "yes""#),
        ("{:valid? true, :stats [1]}", ":stats must be a map, got a vector"),
        ("{:valid? true, :stats {:ok-count -1}}", ":stats :ok-count must be a count (an integer from 0), got -1"),
        ("{:valid? true, :stats {:count 1.5}}", ":stats :count must be a count (an integer from 0), got 1.5"),
        ("{:valid? true, :net {:all {:msg-count 99999999999999999999}}}",
         ":net :all :msg-count must be a count (an integer from 0), got 99999999999999999999"),
        ("{:valid? true, :net {:stats {:all 3}}}", ":net :stats :all must be a map, got an integer"),
        ("{:valid? true, :workload {:valid? nil}}", ":workload :valid? must be true, false or :unknown, got nil"),
        ("{:valid? false, :workload {:valid? false, :anomaly-types 3}}", ":workload :anomaly-types must be a list of keywords, got an integer"),
        ("{:valid? false, :workload {:valid? false, :anomaly-types [:G1c 3]}}", ":workload :anomaly-types must be a list of keywords, got 3 in it"),
    ])
    func resultsThatSayNothingUsableAreRefused(edn: String, problem: String) {
        #expect(throws: SimulationResultsError(problem: problem)) { try Self.report(edn) }
    }

    @Test func malformedFilesNameFileLineAndColumn() {
        let truncated = Self.fixtures + "truncated.edn"
        #expect(throws: SimulationResultsError(file: truncated, line: 18, column: 36,
                                               problem: "invalid EDN: unterminated map opened at line 17, column 25")) {
            try SimulationResults.read(truncated)
        }
        #expect(throws: SimulationResultsError(file: Self.fixtures + "absent.edn", problem: "cannot be read: No such file or directory")) {
            try SimulationResults.read(Self.fixtures + "absent.edn")
        }
        #expect(throws: SimulationResultsError(line: 2, column: 10, problem: "invalid JSON: expected ':'")) {
            try SimulationResults.report(Array("{\"valid?\": true,\n \"stats\" {}}".utf8), format: .json)
        }
    }

    @Test func theErrorReadsLikeACompilers() {
        #expect("\(SimulationResultsError(file: "r.edn", line: 3, column: 7, problem: "invalid EDN: x"))" == "r.edn:3:7: invalid EDN: x")
        #expect("\(SimulationResultsError(file: "r.edn", problem: ":valid? must be …"))" == "r.edn: :valid? must be …")
        #expect("\(SimulationResultsError(line: 3, column: 7, problem: "x"))" == "3:7: x")
        #expect("\(SimulationResultsError(problem: "x"))" == "x")
    }

    static func contents(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while case let count = chunk.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }), count > 0 {
            bytes += chunk[..<count]
        }
        return bytes
    }
}
