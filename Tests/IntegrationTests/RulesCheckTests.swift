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

    /// Files with many problems: every one, in promtool's order, words and places, and the
    /// output streams interleaved as promtool writes them. (One bad label per rule: rulefmt
    /// walks a rule's labels in Go's random map order.)
    static let manyProblems = [
        """
        groups:
          - name: ""
            rules:
              - record: a
                alert: B
                expr: up
              - expr: up
              - alert: C
              - record: d
                expr: up
                for: 1m
                keep_firing_for: 2m
                annotations:
                  x: y
                labels:
                  "bad-label": v
              - alert: E
                expr: up
                labels:
                  __name__: n
                annotations:
                  "bad annotation": v
                  summary: "{{ .Foo "
          - rules:
              - alert: F
                expr: up
        """,
        """
        groups:
          - name: g
            rules:
              - alert: A
                expr: up ==
              - record: 'bad name'
                expr: up
              - record: fine
                expr: up
                for: 0s
          - name: g
            rules:
              - record: r
                expr: sum(up
        """,
    ]

    @Test func everyProblemOfAFileAsPromtoolListsThem() async throws {
        let promtool = try Harness.tool("promtool")
        let directory = try Harness.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for (index, text) in Self.manyProblems.enumerated() {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/many-\(index).yml"))
            files.append("many-\(index).yml")
        }
        try Data("groups:\n  - name: ok\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n".utf8)
            .write(to: URL(fileURLWithPath: "\(directory)/good.yml"))
        let arguments = ["good.yml"] + files + ["good.yml"]
        // Both streams into one pipe: the order in which they were written shows.
        let expected = try await Harness.runDetached("/bin/sh", ["-c", "\"$0\" check rules \"$@\" 2>&1", promtool] + arguments, in: directory)
        let actual = try await Harness.runDetached("/bin/sh", ["-c", "\"$0\" rules check \"$@\" 2>&1", Harness.lookoutBinary] + arguments,
                                                   in: directory)
        #expect(actual.status == expected.status)
        #expect(actual.stdout == expected.stdout)
        #expect(expected.stdout.contains("is repeated in the same file"), "\(expected.stdout)")
    }

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
