import Foundation
import Testing

/// `lookout rules check` against `promtool check rules` on the same files: the same standard
/// output, standard error and exit status, for good files and for each kind of PromQL mistake.
@Suite struct RulesCheckTests {
    static let expressions = [
        // Good: idioms of the mixins.
        #"sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])) > 0.9"#,
        #"histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5"#,
        #"absent(up{job="lookout"} == 1)"#,
        #"(node_filesystem_avail_bytes / node_filesystem_size_bytes * 100 < 5 and node_filesystem_readonly == 0)"#,
        #"sum without (a) (up) / on (b) group_left (c) up"#,
        #"predict_linear(node_filesystem_avail_bytes[6h], 4 * 3600) < 0"#,
        #"increase(microvm_unit_restarts_total[15m]) > 2"#,
        #"rate(up[5m] offset -1m) > bool 0"#,
        // Mistakes, each with promtool's own words and position.
        "up ==", "rate(up)", "sum(up", #"up{job=~"a"} and 1"#, "foo(up)", "up[5m] + 1", "1 > 2", "up{}",
        "sum by (le (up)", "topk(up)", #"up{job="a",}"#, "up offset", "rate(up[5])", "-",
    ]

    @Test func theSameVerdictsAndMessagesAsPromtool() throws {
        let promtool = try Harness.tool("promtool")
        let directory = try Harness.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for (index, expression) in Self.expressions.enumerated() {
            let quoted = "'" + expression.replacingOccurrences(of: "'", with: "''") + "'"
            let yaml = "groups:\n  - name: g\(index)\n    rules:\n      - alert: Rule\(index)\n        expr: \(quoted)\n        for: 5m\n"
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: "\(directory)/rules-\(index).yml"))
            files.append("rules-\(index).yml")
        }
        for file in files + ["__all__"] {
            let arguments = file == "__all__" ? files : [file]
            let expected = try Harness.run(promtool, ["check", "rules"] + arguments, in: directory)
            let actual = try Harness.run(Harness.lookoutBinary, ["rules", "check"] + arguments, in: directory)
            #expect(actual.status == expected.status, "\(file)")
            #expect(actual.stdout == expected.stdout, "\(file)")
            #expect(actual.stderr == expected.stderr, "\(file)")
        }
    }
}
