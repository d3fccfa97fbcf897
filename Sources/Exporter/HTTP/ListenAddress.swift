/// A parsed `--web.listen-address`: `host:port`, `:port` or `[ipv6]:port`.
struct ListenAddress: Sendable, Equatable {
    /// A listen address that could not be parsed.
    struct ParseError: Error {
        /// What is wrong with it.
        var message: String
    }

    /// The host to bind; `0.0.0.0` when the address gave none.
    var host: String
    /// The TCP port; 0 asks the kernel for a free one.
    var port: Int

    /// Parses `text`, naming the problem when it is not an address.
    init(parsing text: String) throws(ParseError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ParseError(message: "expected host:port or :port, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw ParseError(message: "invalid port \"\(portText)\" in \"\(text)\"")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
