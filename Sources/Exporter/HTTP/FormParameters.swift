import Hummingbird
import LookoutSupport

/// A request's parameters as Go's `net/url.ParseQuery` reads them, which is how Prometheus and
/// node_exporter read theirs: pairs split on `&`, names and values percent-decoded with `+` as a
/// space (so `collect%5B%5D=cpu` is `collect[]`), in order, repeats kept. A broken escape is an
/// error naming it, never a pair silently dropped.
struct FormParameters: Sendable {
    /// The decoded pairs, in the order sent.
    private(set) var pairs: [(name: String, value: String)] = []

    /// The parameters of `text` (a URL's query or a form body).
    init(decoding text: Substring) throws(PercentEncoding.InvalidEscape) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try PercentEncoding.decodedQueryComponent(parts[0])
            let value = parts.count > 1 ? try PercentEncoding.decodedQueryComponent(parts[1]) : ""
            pairs.append((name, value))
        }
    }

    /// The parameters of a request's URL.
    init(query request: Request) throws(PercentEncoding.InvalidEscape) {
        try self.init(decoding: Substring(request.uri.query ?? ""))
    }

    /// The first value of `name`.
    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value of `name`, in order.
    func values(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    /// These parameters followed by `other`'s, as Go's `Request.Form` puts a form body's before
    /// the URL's.
    func followed(by other: FormParameters) -> FormParameters {
        var joined = self
        joined.pairs += other.pairs
        return joined
    }
}
