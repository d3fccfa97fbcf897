import Testing
@testable import PromQL

@Suite struct PromQLParserTests {
    /// The expression with its structure made explicit: every binary operation in brackets, the
    /// written parentheses dropped.
    static func bracketed(_ expression: PromQLExpression) -> String {
        switch expression {
        case .binary(let op, let left, let right, let matching):
            // The operator with its modifiers, as the printer writes them between two operands.
            let placeholder = PromQLExpression.vectorSelector(PromQLSelector(metricName: "_"))
            let written = PromQLExpression.binary(op, placeholder, placeholder, matching).description
            return "(" + bracketed(left) + written.dropFirst().dropLast() + bracketed(right) + ")"
        case .unary(let negated, let operand): return (negated ? "-" : "+") + bracketed(operand)
        case .parenthesized(let inner): return bracketed(inner)
        default: return expression.description
        }
    }

    /// Parses `text`, checks that it prints as `printed` and that the printed text parses to the
    /// same expression.
    static func expectRoundTrip(_ text: String, prints printed: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expression = try PromQLExpression.parse(text)
        #expect(expression.description == printed, sourceLocation: sourceLocation)
        #expect(try PromQLExpression.parse(expression.description) == expression, sourceLocation: sourceLocation)
    }

    @Test func alertRulesFromTheMixinsParseAndPrintBack() throws {
        let rules: [(String, String)] = [
            // node-mixin NodeFilesystemAlmostOutOfSpace, NodeNetworkReceiveErrs, NodeClockNotSynchronising,
            // NodeFilesystemSpaceFillingUp, NodeHighNumberConntrackEntriesUsed, NodeClockSkewDetected,
            // NodeSystemdServiceFailed, NodeSystemdServiceCrashlooping.
            (#"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 5 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#,
             #"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 5 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#),
            ("rate(node_network_receive_errs_total[2m]) / rate(node_network_receive_packets_total[2m]) > 0.01",
             "rate(node_network_receive_errs_total[2m]) / rate(node_network_receive_packets_total[2m]) > 0.01"),
            (#"min_over_time(node_timex_sync_status{job="node"}[5m]) == 0 and node_timex_maxerror_seconds{job="node"} >= 16"#,
             #"min_over_time(node_timex_sync_status{job="node"}[5m]) == 0 and node_timex_maxerror_seconds{job="node"} >= 16"#),
            (#"predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24*60*60) < 0"#,
             #"predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24 * 60 * 60) < 0"#),
            (#"(node_nf_conntrack_entries{job="node"} / node_nf_conntrack_entries_limit) > 0.75"#,
             #"(node_nf_conntrack_entries{job="node"} / node_nf_conntrack_entries_limit) > 0.75"#),
            (#"(node_timex_offset_seconds{job="node"} > 0.05 and deriv(node_timex_offset_seconds{job="node"}[5m]) >= 0) or (node_timex_offset_seconds{job="node"} < -0.05 and deriv(node_timex_offset_seconds{job="node"}[5m]) <= 0)"#,
             #"(node_timex_offset_seconds{job="node"} > 0.05 and deriv(node_timex_offset_seconds{job="node"}[5m]) >= 0) or (node_timex_offset_seconds{job="node"} < -0.05 and deriv(node_timex_offset_seconds{job="node"}[5m]) <= 0)"#),
            (#"node_systemd_unit_state{job="node", state="failed"} == 1"#, #"node_systemd_unit_state{job="node",state="failed"} == 1"#),
            ("increase(node_systemd_service_restart_total[5m]) > 2", "increase(node_systemd_service_restart_total[5m]) > 2"),
            // Research §3.4 deploy-health idioms.
            ("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))", "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))"),
            ("histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le, job)) > 0.5",
             "histogram_quantile(0.99, sum by (le, job) (rate(x_bucket[5m]))) > 0.5"),
            ("sum by(job)(rate(errors_total[5m])) / sum by(job)(rate(requests_total[5m])) > 0.05",
             "sum by (job) (rate(errors_total[5m])) / sum by (job) (rate(requests_total[5m])) > 0.05"),
            (#"sum without (cpu) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#,
             #"sum without (cpu) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#),
            (#"absent(up{job="lookout"} == 1)"#, #"absent(up{job="lookout"} == 1)"#),
            ("up == 0", "up == 0"),
            // Joins: kubernetes-mixin style group_left / group_right, ignoring, bool.
            (#"node_systemd_unit_state{state="failed"} * on(instance) group_left(nodename) node_uname_info"#,
             #"node_systemd_unit_state{state="failed"} * on (instance) group_left (nodename) node_uname_info"#),
            ("kube_pod_info * ignoring(pod) group_right kube_node_info", "kube_pod_info * ignoring (pod) group_right () kube_node_info"),
            ("a / on() group_left b", "a / on () group_left () b"),
            ("a + ignoring() b", "a + b"),
            (#"kube_pod_container_resource_requests{resource="cpu"} * on(namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Running"} == 1)"#,
             #"kube_pod_container_resource_requests{resource="cpu"} * on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Running"} == 1)"#),
            ("count by (instance) (up == 0) / count by (instance) (up) > bool 0.5",
             "count by (instance) (up == 0) / count by (instance) (up) > bool 0.5"),
            ("up unless on (instance) node_up", "up unless on (instance) node_up"),
            // Offsets, functions and aggregations of the subset.
            ("sum(rate(http_requests_total[5m] offset 1w)) / sum(rate(http_requests_total[5m]))",
             "sum(rate(http_requests_total[5m] offset 1w)) / sum(rate(http_requests_total[5m]))"),
            ("rate(x[5m] offset -1h30m)", "rate(x[5m] offset -1h30m)"),
            ("x offset 90m", "x offset 1h30m"),
            ("time() - node_boot_time_seconds < 600", "time() - node_boot_time_seconds < 600"),
            ("topk(3, sum by (job) (rate(x[1h30m])))", "topk(3, sum by (job) (rate(x[1h30m])))"),
            ("quantile without(cpu) (0.9, x)", "quantile without (cpu) (0.9, x)"),
            (#"count_values("version", build_info)"#, #"count_values("version", build_info)"#),
            ("scalar(sum(up)) * vector(1)", "scalar(sum(up)) * vector(1)"),
            ("clamp(x, 0, 1) + clamp_min(x, 0) + clamp_max(x, 1) + round(x) + round(x, 0.5)",
             "clamp(x, 0, 1) + clamp_min(x, 0) + clamp_max(x, 1) + round(x) + round(x, 0.5)"),
            ("abs(ceil(floor(timestamp(x)))) + absent_over_time(x[1d]) + quantile_over_time(0.5, x[1w])",
             "abs(ceil(floor(timestamp(x)))) + absent_over_time(x[1d]) + quantile_over_time(0.5, x[1w])"),
            ("irate(x[1m]) + delta(x[1m]) + idelta(x[1m]) + changes(x[1m]) + resets(x[1m])",
             "irate(x[1m]) + delta(x[1m]) + idelta(x[1m]) + changes(x[1m]) + resets(x[1m])"),
            ("avg_over_time(x[1m]) + max_over_time(x[1m]) + sum_over_time(x[1m]) + count_over_time(x[1m]) + stddev_over_time(x[1m]) + last_over_time(x[1m])",
             "avg_over_time(x[1m]) + max_over_time(x[1m]) + sum_over_time(x[1m]) + count_over_time(x[1m]) + stddev_over_time(x[1m]) + last_over_time(x[1m])"),
            (#"label_replace(up, "host", "$1", "instance", "(.*):.*")"#, #"label_replace(up, "host", "$1", "instance", "(.*):.*")"#),
            (#"max(x) + min(x) + avg(x) + stddev(x) + stdvar(x) + group(x) + bottomk(1, x)"#,
             #"max(x) + min(x) + avg(x) + stddev(x) + stdvar(x) + group(x) + bottomk(1, x)"#),
            // Selectors: name as a matcher, keywords as names, comments and layout.
            (#"{__name__=~"node_.*", job="node",}"#, #"{__name__=~"node_.*",job="node"}"#),
            ("sum by (on, bool, offset, sum) (x)", "sum by (on, bool, offset, sum) (x)"),
            ("sum + SUM(x) + by", "sum + sum(x) + by"),
            ("node:cpu:rate5m > 0.9 # recorded by a rule\n", "node:cpu:rate5m > 0.9"),
            ("-up + +up - -(1)", "-up + +up - -(1)"),
            // Keywords in any case; comments inside braces.
            ("SUM BY (job) (x) > BOOL 1 AND x", "sum by (job) (x) > bool 1 and x"),
            ("up{job=\"a\", # the scrape job\n env='prod'}", #"up{job="a",env="prod"}"#),
        ]
        for (text, printed) in rules {
            try Self.expectRoundTrip(text, prints: printed)
        }
    }

    @Test func treeShape() throws {
        let expression = try PromQLExpression.parse(#"histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="api"}[5m] offset 1m)))"#)
        let selector = PromQLSelector(metricName: "x_bucket", matchers: [PromQLMatcher("job", .equal, "api")], offset: PromQLDuration(milliseconds: 60_000))
        let rate = PromQLExpression.call(PromQLFunction.named("rate")!, [.rangeSelector(selector, range: PromQLDuration(milliseconds: 300_000))])
        #expect(expression == .call(PromQLFunction.named("histogram_quantile")!, [.number(0.99), .aggregation(PromQLAggregation(.sum, grouping: .by(["le"]), rate))]))
        #expect(expression.valueType == .instantVector)

        let join = try PromQLExpression.parse("a * on (instance) group_left (nodename) b > bool 1")
        let product = PromQLExpression.binary(
            .multiply, .vectorSelector(PromQLSelector(metricName: "a")), .vectorSelector(PromQLSelector(metricName: "b")),
            PromQLVectorMatching(on: true, matchingLabels: ["instance"], cardinality: .manyToOne(include: ["nodename"])))
        #expect(join == .binary(.greater, product, .number(1), PromQLVectorMatching(returnsBool: true)))
        #expect(try PromQLExpression.parse("1 > bool 2").valueType == .scalar)
        #expect(try PromQLExpression.parse("x[5m]").valueType == .rangeVector)
        #expect(try PromQLExpression.parse("'a'").valueType == .string)
        #expect(try PromQLExpression.parse("time()").valueType == .scalar)
    }

    @Test func precedenceAndAssociativityFollowPrometheus() throws {
        let cases: [(String, String)] = [
            ("a + b * c", "(a + (b * c))"),
            ("a * b + c", "((a * b) + c)"),
            ("a - b - c", "((a - b) - c)"),
            ("a / b * c % d atan2 e", "((((a / b) * c) % d) atan2 e)"),
            ("a ^ b ^ c", "(a ^ (b ^ c))"),
            ("a * b ^ c", "(a * (b ^ c))"),
            ("-a ^ b", "-(a ^ b)"),
            ("-a * b", "(-a * b)"),
            ("2 ^ -1 * 3", "((2 ^ -1) * 3)"),
            ("-2 ^ 2", "-(2 ^ 2)"),
            ("a > b == c", "((a > b) == c)"),
            ("a + b > c and d", "(((a + b) > c) and d)"),
            ("a or b and c unless d", "(a or ((b and c) unless d))"),
            ("a and b or c", "((a and b) or c)"),
            ("a or b or c", "((a or b) or c)"),
            ("(a or b) and c", "((a or b) and c)"),
            ("a + on (x) b * ignoring (y) group_left c", "(a + on (x) (b * ignoring (y) group_left () c))"),
            ("a > bool b + 1", "(a > bool (b + 1))"),
            ("-a offset 5m", "-a offset 5m"),
            ("a offset 5m + b", "(a offset 5m + b)"),
        ]
        for (text, structure) in cases {
            #expect(Self.bracketed(try PromQLExpression.parse(text)) == structure, "\(text)")
        }
    }

    @Test func literalsFollowTheLexer() throws {
        #expect(try PromQLExpression.parse("0x1F + 010 + 08 + 1e3 + 1_000 + .5 + 5. + 1.5E-7 + Inf + -inf").description
            == "31 + 8 + 8 + 1000 + 1000 + 0.5 + 5 + 0.00000015 + +Inf + -Inf")
        // Go's 'f' format: all the digits, however large or small the number.
        #expect(try PromQLExpression.parse("1e21 + 123456.789 + 1.7976931348623157e308 - 5e-324").description
            == "1000000000000000000000 + 123456.789 + 17976931348623157" + String(repeating: "0", count: 292)
            + " - 0." + String(repeating: "0", count: 323) + "5")
        try Self.expectRoundTrip("-0.25 * x", prints: "-0.25 * x")
        #expect(try PromQLExpression.parse("NaN").description == "NaN")
        #expect(try PromQLExpression.parse("-1") == .number(-1))
        #expect(try PromQLExpression.parse(#"label_replace(up, "a\tb\u00e9\x41\101\"", 'it\'s', `raw\n"`, "\U0001F600")"#)
            == .call(PromQLFunction.named("label_replace")!, [
                .vectorSelector(PromQLSelector(metricName: "up")), .string("a\tbéAA\""), .string("it's"), .string(#"raw\n""#), .string("😀"),
            ]))
        try Self.expectRoundTrip(#"count_values("a\"b\\c\nd", x)"#, prints: #"count_values("a\"b\\c\nd", x)"#)
        let durations: [(String, String)] = [
            ("x[1h30m]", "x[1h30m]"), ("x[90m]", "x[1h30m]"), ("x[7d]", "x[1w]"), ("x[365d]", "x[1y]"), ("x[1y2w]", "x[379d]"),
            ("x[1500ms]", "x[1s500ms]"), ("x[ 2m ]", "x[2m]"), ("x[0s]", "x[0s]"),
        ]
        for (text, printed) in durations {
            try Self.expectRoundTrip(text, prints: printed)
        }
    }

    @Test func nestingIsBounded() throws {
        let depth = PromQLExpression.maximumDepth - 1
        let deep = String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        #expect(try PromQLExpression.parse(deep).description == deep)
        #expect(throws: PromQLError(line: 1, column: 129, message: "expression nested too deeply (more than 128 levels)")) {
            try PromQLExpression.parse(String(repeating: "(", count: 10_000) + "1")
        }
        #expect(throws: PromQLError(line: 1, column: 129, message: "expression nested too deeply (more than 128 levels)")) {
            try PromQLExpression.parse(String(repeating: "-", count: 10_000) + "1")
        }
    }

    /// Chains grow the tree without nesting; they are bounded by the same height, whatever the
    /// operator, and a wide balanced tree by its node count. Each refusal comes after a bounded
    /// amount of input, so a query of megabytes costs no more than one of kilobytes.
    @Test(.timeLimit(.minutes(1))) func chainsAndWideTreesAreBounded() throws {
        for op in ["+", " or ", " and on() ", "^", " > bool ", "*"] {
            let chain = Array(repeating: "1", count: 30_000).joined(separator: op)
            #expect(throws: PromQLError.self, "\(op)") { try PromQLExpression.parse(chain) }
            do {
                _ = try PromQLExpression.parse(chain)
            } catch {
                #expect(error.message == "expression nested too deeply (more than 128 levels)", "\(op)")
            }
        }
        let allowed = Array(repeating: "x", count: PromQLExpression.maximumDepth / 2).joined(separator: " or ")
        #expect(try PromQLExpression.parse(allowed).description == allowed)
        // A balanced tree: 4096 leaves, 13 levels of parentheses and additions, 12,287 nodes.
        var balanced = "1"
        for _ in 0..<12 { balanced = "(\(balanced)+\(balanced))" }
        #expect(throws: PromQLError(line: 1, column: 2, message: "expression too large (more than 10000 nodes)")) {
            try PromQLExpression.parse(balanced)
        }
        var smaller = "1"
        for _ in 0..<10 { smaller = "(\(smaller)+\(smaller))" }
        #expect(throws: Never.self) { try PromQLExpression.parse(smaller) }
        // Type errors at every level of a long input are not each placed on a line and column.
        let comparisons = Array(repeating: "1", count: PromQLExpression.maximumDepth).joined(separator: " == ")
        #expect(throws: PromQLError(line: 1, column: 3, message: "comparisons between scalars must use BOOL modifier")) {
            try PromQLExpression.parse(comparisons)
        }
    }

    @Test func errorsCarryLineAndColumn() {
        #expect(throws: PromQLError(line: 2, column: 4, message: "unexpected end of input")) { try PromQLExpression.parse("up\n  +") }
    }

    @Test func malformedAndUnsupportedInputsSayWhatAndWhere() {
        let cases: [(String, String)] = [
            ("", "1:1: parse error: no expression found in input"),
            ("# only a comment\n", "1:1: parse error: no expression found in input"),
            ("1+", "1:3: parse error: unexpected end of input"),
            ("foo +", "1:6: parse error: unexpected end of input"),
            ("up\n  +", "2:4: parse error: unexpected end of input"),
            ("*1", "1:1: parse error: unexpected <op:*>"),
            ("foo bar", #"1:5: parse error: unexpected identifier "bar""#),
            ("a:b(x)", #"1:4: parse error: unexpected "(""#),
            ("5m", #"1:1: parse error: unexpected duration "5m""#),
            ("a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"),
            ("(1))", "1:5: parse error: unexpected right parenthesis ')'"),
            ("((1)", "1:5: parse error: unclosed left parenthesis"),
            ("1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"),
            ("1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"),
            ("0deadbeef", #"1:1: parse error: bad number or duration syntax: "0de""#),
            ("1e400", #"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range"#),
            (#""unterminated"#, "1:1: parse error: unterminated quoted string"),
            (#"x + "\q""#, "1:5: parse error: unknown escape sequence U+0071 'q'"),
            ("foo{", "1:5: parse error: unexpected end of input inside braces"),
            ("foo{job}", #"1:8: parse error: unexpected "}" in label matching, expected label matching operator"#),
            ("foo{job=5}", "1:9: parse error: unexpected character inside braces: '5'"),
            (#"foo{job="a" env="b"}"#, #"1:13: parse error: unexpected identifier "env" in label matching, expected "," or "}""#),
            ("x[5]", "1:3: parse error: missing unit character in duration"),
            ("x[5m", "1:5: parse error: unexpected end of input in duration expression"),
            ("x[5m1h]", #"1:3: parse error: not a valid duration string: "5m1h""#),
            ("x offset", "1:9: parse error: unexpected end of input in offset, expected duration"),
            // Longer than a Go time.Duration holds: promtool 2.42 answers the same, and evaluation
            // never adds such an offset to a time.
            ("up offset 300y", "1:11: parse error: duration out of range"),
            ("up offset 9223372036854775807ms", "1:11: parse error: duration out of range"),
            ("up offset -9223372036854775807ms", "1:12: parse error: duration out of range"),
            ("up[300y]", "1:4: parse error: duration out of range"),
            // Matchers' expressions compile while parsing, with Go's messages (Prometheus 2.42
            // answers these exact texts; RE2DifferentialTests compares many more).
            (#"{__name__=~"a**"}"#, "1:2: parse error: error parsing regexp: invalid nested repetition operator: `**`"),
            (#"up{job=~"(a"}"#, "1:4: parse error: error parsing regexp: missing closing ): `^(?:(a)$`"),
            (#"up{job!~"(?=x)"}"#, "1:4: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
            ("sum by job (x)", #"1:8: parse error: unexpected identifier "job" in grouping opts, expected "(""#),
            ("sum by (a:b) (x)", #"1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label"#),
            ("sum()", "1:1: parse error: no arguments for aggregate expression provided"),
            ("topk(x)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
            ("histogram_quantile(0.9, x,)", "1:26: parse error: trailing commas not allowed in function call args"),
            // Types (prometheus `parse.go` `checkAST`).
            ("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
            ("1 and 1", #"1:1: parse error: set operator "and" not allowed in binary scalar expression"#),
            ("x or 1", #"1:1: parse error: set operator "or" not allowed in binary scalar expression"#),
            ("x + bool y", "1:3: parse error: bool modifier can only be used on comparison operators"),
            ("x and on(a) group_left y", #"1:1: parse error: no grouping allowed for "and" operation"#),
            ("1 + on(a) x", "1:1: parse error: vector matching only allowed between instant vectors"),
            ("x * on(a) group_left(a) y", #"1:3: parse error: label "a" must not occur in ON and GROUP clause at once"#),
            ("x[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
            (#"-"string""#, #"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string""#),
            ("-test[5m]", #"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#),
            ("rate(up)", #"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#),
            ("absent(x[5m])", #"1:8: parse error: expected type instant vector in call to function "absent", got range vector"#),
            ("rate(x[5m], 1)", #"1:1: parse error: expected 1 argument(s) in call to "rate", got 2"#),
            ("round()", #"1:1: parse error: expected at least 1 argument(s) in call to "round", got 0"#),
            ("round(x, 1, 2)", #"1:1: parse error: expected at most 2 argument(s) in call to "round", got 3"#),
            ("sum(x[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"),
            ("topk(x, y)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"),
            ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
            (#"{job=~".*"}"#, "1:1: parse error: vector selector must contain at least one non-empty matcher"),
            (#"foo{__name__="bar"}"#, #"1:1: parse error: metric name must not be set twice: "foo" or "bar""#),
            // With several type errors, the first `checkAST` finds: a call's argument count before
            // its arguments, an aggregation's vector before its parameter, left before right.
            ("rate(x[5m], 1 == 1)", #"1:1: parse error: expected 1 argument(s) in call to "rate", got 2"#),
            ("topk(1 == 1, x[5m])", "1:14: parse error: expected type instant vector in aggregation expression, got range vector"),
            ("sum(rate(x)) + (1 == 1)", #"1:10: parse error: expected type range vector in call to function "rate", got instant vector"#),
            ("-(1 == 1) + x[5m]", "1:5: parse error: comparisons between scalars must use BOOL modifier"),
            // A syntax error later in the input wins over a type error before it, as in Prometheus.
            ("rate(up) +", "1:11: parse error: unexpected end of input"),
            // Ranges and offsets.
            ("(x)[5m]", "1:4: parse error: ranges only allowed for vector selectors"),
            ("x offset 5m [5m]", "1:13: parse error: no offset modifiers allowed before range"),
            ("1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
            ("foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
            // Outside the subset.
            ("rate(x[5m:1m])", "1:7: parse error: subqueries are not supported"),
            ("x @ 1609746000", "1:3: parse error: @ modifier is not supported"),
            ("sort(x)", #"1:1: parse error: function "sort" is not supported"#),
            ("predict_foo(x)", #"1:1: parse error: unknown function with name "predict_foo""#),
        ]
        for (text, message) in cases {
            do {
                let parsed = try PromQLExpression.parse(text)
                Issue.record("\(text) parsed as \(parsed)")
            } catch {
                #expect(error.description == message, "\(text)")
            }
        }
    }
}
