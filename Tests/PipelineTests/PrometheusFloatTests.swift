import Testing
@testable import LookoutSupport

@Suite struct PrometheusFloatTests {
    @Test(arguments: [
        (1.0, "1"), (0.0, "0"), (-0.0, "0"), (-1.0, "-1"),
        (1_418_183_276, "1.418183276e+09"), (5.13708655616e+11, "5.13708655616e+11"),
        (3_831_959_552, "3.831959552e+09"), (10870.69, "10870.69"), (0.21, "0.21"),
        (1.6384e+06, "1.6384e+06"), (100_000, "100000"), (1e6, "1e+06"), (123_456, "123456"),
        (1_234_567, "1.234567e+06"), (1e-5, "1e-05"), (0.0001, "0.0001"), (0.00012, "0.00012"),
        (1e-7, "1e-07"), (1e21, "1e+21"), (1.5e300, "1.5e+300"), (5e-324, "5e-324"),
        (18_446_744_073_709_551_615, "1.8446744073709552e+19"), (0.1 + 0.2, "0.30000000000000004"),
        (-2.5e-10, "-2.5e-10"), (123456.5, "123456.5"), (999_999, "999999"), (1e15, "1e+15"),
        (123_456_789_012_345, "1.23456789012345e+14"), (-2_500_000, "-2.5e+06"), (10_000_000_000, "1e+10"),
        (-42, "-42"), (999_999_999_999_999, "9.99999999999999e+14"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"),
    ])
    func goFormatting(value: Double, expected: String) {
        #expect(PrometheusFloat.format(value) == expected)
    }

    @Test(arguments: [
        (1.0, "1.0"), (0.0, "0.0"), (-1.0, "-1.0"), (0.5, "0.5"), (1e6, "1e+06"),
        (1_234_567, "1.234567e+06"), (12.0, "12.0"), (Double.infinity, "+Inf"), (Double.nan, "NaN"),
    ])
    func openMetricsFormatting(value: Double, expected: String) {
        #expect(PrometheusFloat.formatOpenMetrics(value) == expected)
    }

    @Test func roundTripsEveryFormattedValue() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let value = Double(bitPattern: generator.next() & ~(0x7FF << 52) | (UInt64.random(in: 900...1150) << 52))
            #expect(Double(PrometheusFloat.format(value)) == value)
        }
    }
}
