#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport

/// The results file of a deterministic simulation test — Jepsen's or Maelstrom's `results.edn`
/// (`store/<test>/<time>/results.edn`), or the same facts as JSON — boiled down to the
/// ``PipelineEvent/SimulationReport`` that a `dst.report` event carries:
///
/// | report | from the results map |
/// |---|---|
/// | `valid` | `:valid?`: true, false, or `:unknown` (nil); required |
/// | `count`, `ok_count`, `fail_count`, `info_count` | `:stats {:count :ok-count :fail-count :info-count}` (Jepsen's stats checker; its `:by-f` breakdown is left out) |
/// | `msg_count`, `server_msg_count` | `:net {:all {:msg-count} :servers {:msg-count}}` (Maelstrom; nested in `:net {:stats …}` in the results its tutorial shows) |
/// | `invalid_checkers`, `unknown_checkers` | the top-level keys whose value is a checker's map with `:valid? false`, or `:unknown` (a composed checker's `:workload`, `:perf`, …), sorted |
/// | `anomaly_types` | those checkers' `:anomaly-types` (Elle: `(:G1c :internal)`), merged and sorted |
///
/// In JSON the keys are the keywords' names (`"valid?"`, `"ok-count"`), as Cheshire writes
/// Clojure maps; `"valid"`, underscores (`"ok_count"`) and `"unknown"` as a string are taken too.
package enum SimulationResults {
    /// How a results file is written.
    package enum Format: Sendable, Equatable {
        case edn, json
    }

    /// Largest results file read. Jepsen's grow with the anomalies they list; the facts are a
    /// few lines of them.
    package static let maximumBytes = 64 << 20

    /// Reads the results file at `path` (``format(of:bytes:)`` tells how it is written) and
    /// extracts its report. Every error names the file, and the line and column where there is one.
    package static func read(_ path: String) throws(SimulationResultsError) -> PipelineEvent.SimulationReport {
        let bytes = try contents(path)
        do {
            return try report(bytes, format: format(of: path, bytes: bytes))
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    /// `.json` by extension or, for other names than `*.edn`, when the file starts as a JSON
    /// object does (`{` then `"`); EDN otherwise.
    package static func format(of path: String, bytes: [UInt8]) -> Format {
        if path.hasSuffix(".json") { return .json }
        if path.hasSuffix(".edn") { return .edn }
        let significant = bytes.lazy.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }.prefix(2)
        return Array(significant) == Array("{\"".utf8) ? .json : .edn
    }

    /// The report in results text written as `format`.
    package static func report(_ bytes: [UInt8], format: Format) throws(SimulationResultsError) -> PipelineEvent.SimulationReport {
        switch format {
        case .edn:
            let edn: EDNValue
            do {
                edn = try EDNValue.parse(bytes)
            } catch {
                throw SimulationResultsError(line: error.line, column: error.column, problem: "invalid EDN: \(error.reason)")
            }
            return try report(edn)
        case .json:
            let json: JSONValue
            do {
                json = try JSONValue.parse(bytes)
            } catch {
                let (line, column) = lineAndColumn(of: error.offset, in: bytes)
                throw SimulationResultsError(line: line, column: column, problem: "invalid JSON: \(error.reason)")
            }
            return try report(ednValue(json))
        }
    }

    /// The report in a results map.
    package static func report(_ results: EDNValue) throws(SimulationResultsError) -> PipelineEvent.SimulationReport {
        guard case .map(let members) = results else {
            throw SimulationResultsError(problem: "a results file holds one map (Jepsen's or Maelstrom's results), got \(results.kindName)")
        }
        guard let valid = field(results, "valid?") else {
            throw SimulationResultsError(problem: "no :valid? in the results map: is this a Jepsen or Maelstrom results file?")
        }
        var report = PipelineEvent.SimulationReport(valid: try verdict(valid, path: ":valid?"))

        if let stats = try map(field(results, "stats"), path: ":stats") {
            report.operationCount = try count(field(stats, "count"), path: ":stats :count")
            report.okCount = try count(field(stats, "ok-count"), path: ":stats :ok-count")
            report.failCount = try count(field(stats, "fail-count"), path: ":stats :fail-count")
            report.infoCount = try count(field(stats, "info-count"), path: ":stats :info-count")
        }
        if var net = try map(field(results, "net"), path: ":net") {
            var path = ":net"
            if let nested = try map(field(net, "stats"), path: ":net :stats") {
                net = nested
                path = ":net :stats"
            }
            if let all = try map(field(net, "all"), path: path + " :all") {
                report.messageCount = try count(field(all, "msg-count"), path: path + " :all :msg-count")
            }
            if let servers = try map(field(net, "servers"), path: path + " :servers") {
                report.serverMessageCount = try count(field(servers, "msg-count"), path: path + " :servers :msg-count")
            }
        }

        var invalid: [String] = [], unknown: [String] = [], anomalies = Set<String>()
        for (key, value) in members {
            guard let name = checkerName(key), let checkerValid = field(value, "valid?") else { continue }
            switch try verdict(checkerValid, path: "\(key.shortText) :valid?") {
            case false?: invalid.append(name)
            case nil: unknown.append(name)
            case true?: break
            }
            if let types = field(value, "anomaly-types") {
                anomalies.formUnion(try names(types, path: "\(key.shortText) :anomaly-types"))
            }
        }
        report.invalidCheckers = invalid.sorted()
        report.unknownCheckers = unknown.sorted()
        report.anomalyTypes = anomalies.sorted()
        return report
    }

    /// The whole file, refused when unreadable or larger than ``maximumBytes``.
    private static func contents(_ path: String) throws(SimulationResultsError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SimulationResultsError(file: path, problem: "cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count <= maximumBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SimulationResultsError(file: path, problem: "cannot be read: \(String(cString: strerror(errno)))") }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
        throw SimulationResultsError(file: path, problem: "is larger than \(maximumBytes >> 20) MiB")
    }

    /// The member `name` of a results map: the keyword, or as JSON spells it (a string key,
    /// `_` for `-`, without a trailing `?`).
    private static func field(_ map: EDNValue, _ name: String) -> EDNValue? {
        guard case .map(let members) = map else { return nil }
        let snake = String(name.map { $0 == "-" ? "_" : $0 })
        let spellings = [name, snake, name.hasSuffix("?") ? String(name.dropLast()) : snake]
        for spelling in spellings {
            if let member = members.first(where: { $0.key == .keyword(spelling) || $0.key == .string(spelling) }) { return member.value }
        }
        return nil
    }

    /// A checker's name: its key, a keyword (without the colon) or a string.
    private static func checkerName(_ key: EDNValue) -> String? {
        switch key {
        case .keyword(let name), .string(let name): name
        default: nil
        }
    }

    private static func verdict(_ value: EDNValue, path: String) throws(SimulationResultsError) -> Bool? {
        switch value {
        case .bool(let valid): return valid
        case .keyword("unknown"), .string("unknown"): return nil
        default: throw SimulationResultsError(problem: "\(path) must be true, false or :unknown, got \(value.shortText)")
        }
    }

    private static func map(_ value: EDNValue?, path: String) throws(SimulationResultsError) -> EDNValue? {
        guard let value, value != .null else { return nil }
        guard case .map = value else { throw SimulationResultsError(problem: "\(path) must be a map, got \(value.kindName)") }
        return value
    }

    private static func count(_ value: EDNValue?, path: String) throws(SimulationResultsError) -> Int? {
        guard let value, value != .null else { return nil }
        guard let count = value.integerValue, count >= 0 else {
            throw SimulationResultsError(problem: "\(path) must be a count (an integer from 0), got \(value.shortText)")
        }
        return count
    }

    /// The names in a list, vector or set of keywords (or strings, from JSON).
    private static func names(_ value: EDNValue, path: String) throws(SimulationResultsError) -> [String] {
        let elements: [EDNValue]
        switch value {
        case .list(let items), .vector(let items), .set(let items): elements = items
        case .null: elements = []
        default: throw SimulationResultsError(problem: "\(path) must be a list of keywords, got \(value.kindName)")
        }
        return try elements.map { element throws(SimulationResultsError) in
            guard let name = checkerName(element) else {
                throw SimulationResultsError(problem: "\(path) must be a list of keywords, got \(element.shortText) in it")
            }
            return name
        }
    }

    /// A JSON value as the EDN value Jepsen would have written: object keys become keywords.
    private static func ednValue(_ json: JSONValue) -> EDNValue {
        switch json {
        case .null: .null
        case .bool(let value): .bool(value)
        case .number(let text): text.contains(where: { ".eE".contains($0) }) ? .float(text) : .integer(text)
        case .string(let text): .string(text)
        case .array(let elements): .vector(elements.map(ednValue))
        case .object(let members): .map(members.map { (EDNValue.keyword($0.key), ednValue($0.value)) })
        }
    }
}

/// Why a results file gave no report: the file, where in it (for syntax errors), and the problem.
package struct SimulationResultsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The results file, once known.
    package var file: String?
    /// The line of a syntax error, from 1.
    package var line: Int?
    /// The column of a syntax error, in characters from 1.
    package var column: Int?
    /// What is wrong.
    package var problem: String

    /// Creates the error.
    package init(file: String? = nil, line: Int? = nil, column: Int? = nil, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// `FILE:LINE:COLUMN: problem`, as compilers write it; parts that are unknown left out.
    package var description: String {
        let position = [file, line.map(String.init), column.map(String.init)].compactMap { $0 }
        return position.isEmpty ? problem : position.joined(separator: ":") + ": " + problem
    }
}
