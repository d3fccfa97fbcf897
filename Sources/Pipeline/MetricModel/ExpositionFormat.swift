/// The two exposition formats Lookout serves, and the choice between them from an `Accept` header.
package enum ExpositionFormat: Sendable, Equatable {
    /// Prometheus text format 0.0.4, the default and the fallback.
    case text
    /// OpenMetrics text 1.0.0 (also answered for clients asking for 0.0.1).
    case openMetrics

    /// The `Content-Type` header value for a response in this format.
    package var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Picks the format for an `Accept` header the way client_golang's `NegotiateAccept` does:
    /// media ranges are ordered by their `q` weight (stable for equal weights) and the first one
    /// Lookout can serve wins; anything unknown or absent gets text 0.0.4.
    /// See prometheus/docs `content_negotiation.md`.
    package static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty else { return .text }
        // Sorted by weight, ties kept in header order (the index breaks them: `sorted` is not
        // guaranteed stable).
        let ranges = HeaderParameters.parseList(accept).enumerated()
            .filter { $0.element.quality > 0 }
            .sorted { ($0.element.quality, -$0.offset) > ($1.element.quality, -$1.offset) }
            .map(\.element)
        for range in ranges {
            let version = range.parameters["version"]
            switch range.value.lowercased() {
            case "application/openmetrics-text":
                if version == nil || version == "1.0.0" || version == "0.0.1" { return .openMetrics }
            case "text/plain":
                if version == nil || version == "0.0.4" || version == "1.0.0" { return .text }
            case "*/*", "text/*":
                return .text
            default:
                continue
            }
        }
        return .text
    }
}

/// Whether a response body should be gzip-compressed, from an `Accept-Encoding` header.
package enum ContentCoding: Sendable, Equatable {
    /// The body is sent as is.
    case identity
    /// The body is gzip-compressed and `Content-Encoding: gzip` is set.
    case gzip

    /// `gzip` when the client gives `gzip` a non-zero weight, or gives `*` one without naming
    /// `gzip` at all (RFC 9110 §12.5.3); else `identity`.
    package static func negotiate(acceptEncoding: String?) -> ContentCoding {
        guard let acceptEncoding else { return .identity }
        let codings = HeaderParameters.parseList(acceptEncoding)
        if let gzip = codings.first(where: { ["gzip", "x-gzip"].contains($0.value.lowercased()) }) {
            return gzip.quality > 0 ? .gzip : .identity
        }
        if let any = codings.first(where: { $0.value == "*" }), any.quality > 0 { return .gzip }
        return .identity
    }
}

/// One element of a comma-separated HTTP header list: `value;param=x;q=0.5`.
struct HeaderParameters {
    var value: String
    var parameters: [String: String]
    var quality: Double

    /// Splits a list header (`Accept`, `Accept-Encoding`) into its elements; a malformed `q` counts
    /// as 1, as most servers treat it.
    static func parseList(_ header: String) -> [HeaderParameters] {
        header.split(separator: ",").compactMap { element in
            let parts = element.split(separator: ";").map { $0.trimmingWhitespace() }
            guard let value = parts.first, !value.isEmpty else { return nil }
            var parameters: [String: String] = [:]
            for part in parts.dropFirst() {
                guard let equals = part.firstIndex(of: "=") else { continue }
                let key = part[..<equals].trimmingWhitespace().lowercased()
                var parameterValue = part[part.index(after: equals)...].trimmingWhitespace()
                if parameterValue.hasPrefix("\""), parameterValue.hasSuffix("\""), parameterValue.count >= 2 {
                    parameterValue = String(parameterValue.dropFirst().dropLast())
                }
                parameters[key] = parameterValue
            }
            let quality = parameters["q"].flatMap(Double.init) ?? 1
            return HeaderParameters(value: value, parameters: parameters, quality: quality)
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = lastIndex(where: { !isBlank($0) })!
        return String(self[first...last])
    }
}
