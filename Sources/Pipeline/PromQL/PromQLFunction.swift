/// A PromQL function the parser accepts, with its signature as Prometheus declares it
/// (prometheus `promql/parser/functions.go`). The set is the alert-rule subset the README lists
/// (Alert rules); any other Prometheus function is refused by name.
package struct PromQLFunction: Sendable, Hashable {
    /// The name, as written in a call.
    package var name: String
    /// The argument types, in order.
    var argumentTypes: [PromQLValueType]
    /// How many of the trailing arguments may be left out (`round(v)` as well as `round(v, 0.5)`).
    var optionalArgumentCount: Int
    /// The type of the result.
    var returnType: PromQLValueType

    /// The supported function called `name`, or nil.
    package static func named(_ name: String) -> PromQLFunction? { supported[name] }

    /// The supported functions by name.
    static let supported: [String: PromQLFunction] = {
        var table: [String: PromQLFunction] = [:]
        func add(_ name: String, _ argumentTypes: [PromQLValueType], optional: Int = 0, returns: PromQLValueType = .instantVector) {
            table[name] = PromQLFunction(name: name, argumentTypes: argumentTypes, optionalArgumentCount: optional, returnType: returns)
        }
        for name in ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "absent_over_time"]
            + ["avg", "min", "max", "sum", "count", "stddev", "stdvar", "last", "present"].map({ $0 + "_over_time" }) {
            add(name, [.rangeVector])
        }
        add("quantile_over_time", [.scalar, .rangeVector])
        add("predict_linear", [.rangeVector, .scalar])
        for name in ["abs", "absent", "ceil", "floor", "timestamp"] { add(name, [.instantVector]) }
        add("round", [.instantVector, .scalar], optional: 1)
        add("clamp", [.instantVector, .scalar, .scalar])
        add("clamp_min", [.instantVector, .scalar])
        add("clamp_max", [.instantVector, .scalar])
        add("histogram_quantile", [.scalar, .instantVector])
        add("label_replace", [.instantVector, .string, .string, .string, .string])
        add("time", [], returns: .scalar)
        add("vector", [.scalar])
        add("scalar", [.instantVector], returns: .scalar)
        return table
    }()

    /// Prometheus functions outside the subset, refused with "not supported" rather than "unknown".
    static let unsupportedPrometheusNames: Set<String> = [
        "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
        "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year",
        "double_exponential_smoothing", "holt_winters", "exp", "ln", "log2", "log10", "sqrt", "sgn",
        "histogram_avg", "histogram_count", "histogram_fraction", "histogram_stddev", "histogram_stdvar", "histogram_sum",
        "info", "label_join", "mad_over_time", "ts_of_max_over_time", "ts_of_min_over_time", "ts_of_last_over_time",
        "first_over_time", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "limitk", "limit_ratio",
    ]
}
