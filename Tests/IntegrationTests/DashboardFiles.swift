import Foundation
import PromQL
import Yams

/// The shipped dashboards (`dashboards/`), read as Grafana and Kibana read them: the Grafana
/// dashboard JSON files, their panels (those inside rows too), targets and variables, the
/// dashboard-linter exceptions of `dashboards/.lint`, and Kibana's saved objects.
struct GrafanaDashboard {
    /// The folder of the shipped dashboards.
    static let folder = Harness.repositoryRoot.appendingPathComponent("dashboards")

    /// The file's name (`host.json`).
    let file: String
    /// The whole document.
    let json: [String: Any]

    /// Every Grafana dashboard under dashboards/grafana, by file name.
    static func all() throws -> [GrafanaDashboard] {
        let directory = folder.appendingPathComponent("grafana")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted().map { file in
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw HarnessError("\(file): not a JSON object")
            }
            return GrafanaDashboard(file: file, json: json)
        }
    }

    /// The title (`Lookout / Host`).
    var title: String { json["title"] as? String ?? file }

    /// The template variables, in order.
    var variables: [[String: Any]] { (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] }

    /// The variables' names.
    var variableNames: [String] { variables.compactMap { $0["name"] as? String } }

    /// Every panel, rows and the panels of collapsed rows included, in order.
    var panels: [[String: Any]] {
        (json["panels"] as? [[String: Any]] ?? []).flatMap { panel in [panel] + (panel["panels"] as? [[String: Any]] ?? []) }
    }

    /// The panels that show data (not rows).
    var dataPanels: [[String: Any]] { panels.filter { $0["type"] as? String != "row" } }

    /// The annotation queries of a datasource (not Grafana's built-in one).
    var annotations: [[String: Any]] {
        ((json["annotations"] as? [String: Any])?["list"] as? [[String: Any]] ?? []).filter { ($0["builtIn"] as? Int) != 1 }
    }

    /// Every query the dashboard sends: each panel target, and each annotation as a target of
    /// its own, named by panel title (or annotation name) and refId.
    var queries: [DashboardQuery] {
        dataPanels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).enumerated().map { index, target in
                DashboardQuery(dashboard: title, panel: panel, target: target, index: index)
            }
        } + annotations.map { annotation in
            DashboardQuery(dashboard: title, panel: ["title": "annotation \(annotation["name"] as? String ?? "")",
                                                     "datasource": annotation["datasource"] ?? [:]],
                           target: annotation, index: 0)
        }
    }
}

/// One query of a dashboard: a panel's target or an annotation.
struct DashboardQuery {
    /// The dashboard's title.
    let dashboard: String
    /// The panel it belongs to.
    let panel: [String: Any]
    /// The target (or annotation) itself.
    let target: [String: Any]
    /// Its position among the panel's targets (dashboard-linter's targetIdx).
    let index: Int

    /// The panel's title.
    var panelTitle: String { panel["title"] as? String ?? "" }

    /// `panel title/refId`, for messages.
    var name: String { "\(dashboard) / \(panelTitle) / \(target["refId"] as? String ?? "annotation")" }

    /// The datasource type: the target's, else its panel's.
    var datasourceType: String {
        ((target["datasource"] as? [String: Any])?["type"] as? String) ?? ((panel["datasource"] as? [String: Any])?["type"] as? String) ?? ""
    }

    /// The PromQL of a Prometheus query.
    var expression: String? { datasourceType == "prometheus" ? target["expr"] as? String : nil }

    /// Whether Grafana runs it as an instant query.
    var isInstant: Bool { target["instant"] as? Bool == true && target["range"] as? Bool != true }

    /// The unit the panel shows this query's values in: an override for its refId, else the default.
    var unit: String {
        let fieldConfig = panel["fieldConfig"] as? [String: Any] ?? [:]
        for override in fieldConfig["overrides"] as? [[String: Any]] ?? [] {
            let matcher = override["matcher"] as? [String: Any] ?? [:]
            guard matcher["id"] as? String == "byFrameRefID", matcher["options"] as? String == target["refId"] as? String else { continue }
            for property in override["properties"] as? [[String: Any]] ?? [] where property["id"] as? String == "unit" {
                if let unit = property["value"] as? String { return unit }
            }
        }
        return (fieldConfig["defaults"] as? [String: Any])?["unit"] as? String ?? ""
    }

    /// The `{{label}}` names of its legend (or annotation title and text).
    var legendLabels: Set<String> {
        let text = ["legendFormat", "titleFormat", "textFormat"].compactMap { target[$0] as? String }.joined(separator: " ")
        return Set(text.matches(of: /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/).map { String($0.output.1) })
    }
}

/// dashboard-linter's exceptions file, `dashboards/.lint`: rule → reason and entries.
struct LintExceptions {
    /// One excepted place.
    struct Entry: Hashable {
        var rule: String
        var dashboard: String
        var panel: String
    }

    /// The reason given for each rule.
    let reasons: [String: String]
    /// The excepted places.
    let entries: Set<Entry>

    /// Reads dashboards/.lint.
    static func load() throws -> LintExceptions {
        let text = try String(contentsOf: GrafanaDashboard.folder.appendingPathComponent(".lint"), encoding: .utf8)
        let root = try Yams.load(yaml: text) as? [String: Any] ?? [:]
        var reasons: [String: String] = [:]
        var entries: Set<Entry> = []
        for section in ["exclusions", "warnings"] {
            for (rule, value) in root[section] as? [String: Any] ?? [:] {
                let exception = value as? [String: Any] ?? [:]
                reasons[rule] = exception["reason"] as? String ?? ""
                for entry in exception["entries"] as? [[String: Any]] ?? [] {
                    entries.insert(Entry(rule: rule, dashboard: entry["dashboard"] as? String ?? "", panel: entry["panel"] as? String ?? ""))
                }
            }
        }
        return LintExceptions(reasons: reasons, entries: entries)
    }

    /// Whether `rule` is excepted for the panel of `query`.
    func excepts(_ rule: String, _ query: DashboardQuery) -> Bool {
        entries.contains(Entry(rule: rule, dashboard: query.dashboard, panel: query.panelTitle))
    }
}

/// Kibana's saved objects, `dashboards/kibana/lookout.ndjson`.
struct KibanaObjects {
    /// Each line's object.
    let objects: [[String: Any]]

    /// Reads and parses the file, one object a line.
    static func load() throws -> KibanaObjects {
        let text = try String(contentsOf: GrafanaDashboard.folder.appendingPathComponent("kibana/lookout.ndjson"), encoding: .utf8)
        return KibanaObjects(objects: try text.split(separator: "\n").enumerated().map { index, line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError("lookout.ndjson:\(index + 1): not a JSON object")
            }
            return object
        })
    }

    /// The objects of one type.
    func ofType(_ type: String) -> [[String: Any]] { objects.filter { $0["type"] as? String == type } }

    /// A saved search's query, columns and data view title.
    func search(_ object: [String: Any]) throws -> (title: String, query: String, columns: [String], index: String) {
        let attributes = object["attributes"] as? [String: Any] ?? [:]
        let meta = attributes["kibanaSavedObjectMeta"] as? [String: Any] ?? [:]
        guard let sourceText = meta["searchSourceJSON"] as? String,
              let source = try JSONSerialization.jsonObject(with: Data(sourceText.utf8)) as? [String: Any]
        else { throw HarnessError("\(object["id"] ?? "?"): searchSourceJSON is not a JSON object") }
        let query = (source["query"] as? [String: Any])?["query"] as? String ?? ""
        let referenceName = source["indexRefName"] as? String ?? ""
        let reference = (object["references"] as? [[String: Any]] ?? []).first { $0["name"] as? String == referenceName }
        let view = ofType("index-pattern").first { $0["id"] as? String == reference?["id"] as? String }
        let index = (view?["attributes"] as? [String: Any])?["title"] as? String ?? ""
        return (attributes["title"] as? String ?? "", query, attributes["columns"] as? [String] ?? [], index)
    }
}

/// PromQL of a dashboard, parsed by Lookout's parser: Grafana's duration variables become a
/// duration the checks recognise, the others stay in their strings.
enum DashboardPromQL {
    /// What `$__rate_interval` is parsed as (a value no dashboard writes itself).
    static let rateIntervalSentinel = "7777s"
    /// The sentinel in milliseconds, as the parser gives a range.
    static let rateIntervalMilliseconds: Int64 = 7_777_000

    /// The expression with `$__rate_interval`, `$__interval` and `$__range` made durations.
    static func parseable(_ expression: String) -> String {
        expression.replacingOccurrences(of: "$__rate_interval", with: rateIntervalSentinel)
            .replacingOccurrences(of: "${__rate_interval}", with: rateIntervalSentinel)
            .replacingOccurrences(of: "$__interval", with: "7778s").replacingOccurrences(of: "$__range", with: "7779s")
    }

    /// Every node of the tree with its parent, depth first.
    static func walk(_ expression: PromQLExpression, parent: PromQLExpression? = nil,
                     _ visit: (PromQLExpression, PromQLExpression?) -> Void) {
        visit(expression, parent)
        switch expression {
        case .number, .string, .vectorSelector, .rangeSelector: break
        case .call(_, let arguments): for argument in arguments { walk(argument, parent: expression, visit) }
        case .aggregation(let aggregation):
            if let parameter = aggregation.parameter { walk(parameter, parent: expression, visit) }
            walk(aggregation.expression, parent: expression, visit)
        case .binary(_, let left, let right, _):
            walk(left, parent: expression, visit)
            walk(right, parent: expression, visit)
        case .unary(_, let operand), .parenthesized(let operand): walk(operand, parent: expression, visit)
        }
    }
}
