import LookoutSupport
import MetricModel
import Synchronization

/// An invalid include/exclude regular expression given to a collector.
struct InvalidPatternError: Error, Equatable, CustomStringConvertible {
    /// The flag-style name of the setting, e.g. `collector.diskstats.device-exclude`.
    package var setting: String
    /// The pattern as given.
    package var pattern: String
    /// Why it does not compile, or why the combination is not allowed.
    package var reason: String

    /// Creates the error.
    package init(setting: String, pattern: String, reason: String) {
        self.setting = setting
        self.pattern = pattern
        self.reason = reason
    }

    /// One line naming the setting, the pattern and the reason.
    package var description: String { "invalid \(setting) \"\(pattern)\": \(reason)" }
}

/// node_exporter's `deviceFilter`: a name is ignored when the exclude pattern matches it or the
/// include pattern does not. Patterns are Go's RE2 syntax, matched as an unanchored search like
/// Go's `MatchString`, in linear time. Patterns are compiled once; results are cached per name,
/// because the same few devices, mounts and fs types come back on every scrape.
final class NameFilter: Sendable {
    private struct State {
        var exclude: RE2Regex?
        var include: RE2Regex?
        var cache: [String: Bool] = [:]
    }

    /// Why the filter could not be built; a collector holding a broken filter fails every scrape
    /// with this instead of crashing.
    let problem: InvalidPatternError?
    // The lock guards the cache.
    private let state: Mutex<State>

    /// A filter that ignores nothing.
    static let none = NameFilter(include: nil, exclude: nil, includeSetting: "", excludeSetting: "")

    /// Builds the filter; empty patterns count as unset, as with node_exporter's flags.
    init(include: String?, exclude: String?, includeSetting: String, excludeSetting: String) {
        let include = include.flatMap { $0.isEmpty ? nil : $0 }
        let exclude = exclude.flatMap { $0.isEmpty ? nil : $0 }
        var problem: InvalidPatternError? = nil
        var state = State()
        if let include, let exclude {
            problem = InvalidPatternError(
                setting: "\(includeSetting) and \(excludeSetting)", pattern: "\(include)\" / \"\(exclude)",
                reason: "include and exclude are mutually exclusive")
        } else {
            do {
                state.include = try include.map { try NameFilter.compile($0, setting: includeSetting) }
                state.exclude = try exclude.map { try NameFilter.compile($0, setting: excludeSetting) }
            } catch {
                problem = error as? InvalidPatternError
            }
        }
        self.problem = problem
        self.state = Mutex(state)
    }

    /// Compiles `pattern`, turning a syntax error into ``InvalidPatternError``.
    static func compile(_ pattern: String, setting: String) throws(InvalidPatternError) -> RE2Regex {
        do {
            return try RE2Regex(pattern)
        } catch {
            throw InvalidPatternError(setting: setting, pattern: pattern, reason: error.description)
        }
    }

    /// Throws the construction problem, if any, as a collector error naming the setting.
    func check() throws(CollectorError) {
        if let problem { throw .malformed(path: problem.setting, reason: problem.description) }
    }

    /// Whether `name` is filtered out.
    func ignores(_ name: String) -> Bool {
        state.withLock { state in
            if let cached = state.cache[name] { return cached }
            var ignored = false
            if let exclude = state.exclude, exclude.matches(name) { ignored = true }
            if let include = state.include, !include.matches(name) { ignored = true }
            // Bounded so that churning names (containers' veths, short-lived mounts) cannot grow it forever.
            if state.cache.count >= 4096 { state.cache.removeAll(keepingCapacity: true) }
            state.cache[name] = ignored
            return ignored
        }
    }
}

extension Array where Element == Label {
    /// client_golang's order for one metric's labels: sorted by name.
    func sortedByName() -> [Label] {
        sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// client_golang's `metricSorter`: fewer labels first, then label values compared byte-wise
    /// in label-name order.
    func precedesInExposition(_ other: [Label]) -> Bool {
        if count != other.count { return count < other.count }
        for (left, right) in zip(self, other) where left.value != right.value {
            return left.value.utf8.lexicographicallyPrecedes(right.value.utf8)
        }
        return false
    }
}

extension MetricFamily {
    /// Samples sorted the way client_golang's registry sorts one-sample metrics; the differential
    /// tests against node_exporter compare line order too.
    func sortedLikeClientGolang() -> MetricFamily {
        var family = self
        family.samples.sort { $0.labels.precedesInExposition($1.labels) }
        return family
    }
}
