/// `Duration` in the units Lookout counts in: seconds for metrics, milliseconds for PromQL and
/// the rule history.
extension Duration {
    /// The duration as fractional seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole milliseconds (truncated).
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
