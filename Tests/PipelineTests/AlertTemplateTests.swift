import LookoutSupport
@testable import Rules
import Testing

/// The Go-template subset of alert labels and annotations: what expands, how values print, and
/// what is refused when a rule file loads. Every function's exact output is also compared with
/// promtool's in the rules cross-check suite (IntegrationTests).
@Suite struct AlertTemplateTests {
    static let data = AlertTemplate.Data(labels: ["instance": "web:9100", "job": "node"], externalLabels: ["region": "eu"],
                                         externalURL: "http://lookout", value: 1234567)

    @Test(arguments: [
        ("{{ $labels.instance }} is down", "web:9100 is down"),
        ("{{ .Labels.job }}/{{ $externalLabels.region }}/{{ $externalURL }}", "node/eu/http://lookout"),
        ("{{ $value }}", "1.234567e+06"),
        ("{{ $value | humanize }} {{ humanize1024 $value }}", "1.235M 1.177Mi"),
        ("{{ printf \"%.2f\" $value }}", "1234567.00"),
        ("{{ if gt $value 1000.0 }}big{{ else if gt $value 1.0 }}some{{ else }}none{{ end }}", "big"),
        ("a  {{- $labels.job -}}  b", "anodeb"),
        ("{{/* a comment */}}x{{ $labels.missing }}y", "xy"),
        ("{{ toUpper $labels.job | printf \"[%s]\" }}", "[NODE]"),
        ("{{ reReplaceAll \":[0-9]+\" \"\" $labels.instance }}", "web"),
    ])
    func expands(template: String, expected: String) throws {
        #expect(try AlertTemplate(template).expand(Self.data) == expected)
    }

    @Test(arguments: [
        ("{{ query \"up\" }}", "function \"query\" is not supported"),
        ("{{ nosuch }}", "function \"nosuch\" not defined"),
        ("{{ range $labels }}x{{ end }}", "{{range}} is not supported"),
        ("{{ $x := 1 }}", "variable declarations are not supported"),
        ("{{ if true }}open", "unexpected EOF"),
        ("{{ $labels.job", "unclosed action"),
        ("{{ $undefined }}", "undefined variable \"$undefined\""),
    ])
    func refusedWhenParsed(template: String, message: String) {
        #expect(throws: AlertTemplate.Failure.self) { try AlertTemplate(template) }
        do {
            _ = try AlertTemplate(template)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func comparingAFloatWithAnIntegerFailsAsInGo() throws {
        let template = try AlertTemplate("{{ if gt $value 10 }}x{{ end }}")
        #expect(throws: AlertTemplate.Failure.self) { try template.expand(Self.data) }
        #expect(template.expandedForAlert(Self.data).hasPrefix("<error expanding template: "))
    }

    @Test(arguments: [(1234567.0, "1.234567e+06"), (123456, "123456"), (1e-05, "1e-05"), (0.5, "0.5"), (-2.5e21, "-2.5e+21"),
                      (Double.infinity, "+Inf"), (Double.nan, "NaN")])
    func valuesPrintAsGoPrintsThem(value: Double, printed: String) {
        #expect(GoFloat.formatG(value) == printed)
    }

    @Test func humanizeFamily() {
        #expect(TemplateFunctions.humanize(0.000_01) == "10u")
        #expect(TemplateFunctions.humanizeDuration(-1500) == "-25m 0s")
        #expect(TemplateFunctions.humanizeDuration(90061) == "1d 1h 1m 1s")
        #expect(TemplateFunctions.humanizeTimestamp(0.5) == "1970-01-01 00:00:00.5 +0000 UTC")
        #expect(TemplateFunctions.humanizeTimestamp(0.000_01) == "1970-01-01 00:00:00 +0000 UTC")
    }
}
