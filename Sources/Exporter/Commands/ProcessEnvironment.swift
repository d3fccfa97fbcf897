#if canImport(Glibc)
import Glibc
#endif

/// The process environment, read once.
struct ProcessEnvironment {
    private let values: [String: String]

    init() {
        var values: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") { values[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            entry += 1
        }
        self.values = values
    }

    subscript(name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
}

extension String {
    /// The string without one trailing `suffix`, if it has one.
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
