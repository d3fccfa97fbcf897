import Foundation
import PromQL
import Testing

/// The shipped dashboards, checked without a Grafana: their structure, the conventions of
/// dashboard-linter's rules that `dashboards/.lint` does not except (with a reason), every
/// query parsed by Lookout's PromQL parser, and Kibana's saved objects resolved inside their
/// file. `DashboardLiveTests` then runs every query against real servers.
@Suite struct DashboardLintTests {
    /// Grafana's own variables, usable without defining them.
    static let globalVariables: Set<String> = ["__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
                                              "__url_time_range", "__data", "__field", "__series", "__value", "__all", "__from", "__to",
                                              "__dashboard", "__org", "__user", "__timeFilter", "timeFilter"]

    /// Metrics whose value is a state (0/1): a panel showing one needs value mappings.
    static let stateMetrics: Set<String> = ["up", "microvm_up", "microvm_hypervisor_up", "microvm_restart_pending", "microvm_declarative",
                                           "lookout_scrape_collector_success", "pipeline_step_last_success", "pipeline_dst_valid",
                                           "pipeline_deployment_last_success"]

    @Test func theFilesAreWhatTheGeneratorWrites() throws {
        let scratch = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let copy = scratch.appendingPathComponent("dashboards")
        #expect(try Harness.run("/bin/cp", ["-a", GrafanaDashboard.folder.path, copy.path]).status == 0)
        let generated = try Harness.run("/usr/bin/env", ["python3", copy.appendingPathComponent("generate.py").path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let difference = try Harness.run("/usr/bin/diff", ["-r", GrafanaDashboard.folder.path, copy.path])
        #expect(difference.status == 0, "run python3 dashboards/generate.py and commit the result:\n\(difference.stdout.prefix(3000))")
    }

    @Test func everyDashboardHasTheSharedShape() throws {
        let dashboards = try GrafanaDashboard.all()
        #expect(dashboards.map(\.file) == ["fleet.json", "host.json", "lookout.json", "microvms.json", "pipeline.json"])
        var uids: Set<String> = []
        for dashboard in dashboards {
            let json = dashboard.json, name = dashboard.file
            let uid = json["uid"] as? String ?? ""
            #expect(uid.hasPrefix("lookout-") && uid.count <= 40 && uids.insert(uid).inserted, "\(name): uid \(uid)")
            #expect(json["id"] is NSNull, "\(name): id is null, so an import never overwrites another dashboard")
            #expect(dashboard.title.hasPrefix("Lookout / "), "\(name): title")
            #expect(json["tags"] as? [String] == ["lookout"], "\(name): tags")
            #expect(json["schemaVersion"] as? Int == 41, "\(name): schemaVersion pinned to 41")
            #expect(json["editable"] as? Bool == false, "\(name): uneditable-dashboard")
            #expect(!json.keys.contains("__inputs") && !json.keys.contains("__elements"), "\(name): no import-time inputs")
            let links = json["links"] as? [[String: Any]] ?? []
            #expect(links.contains { link in
                link["type"] as? String == "dashboards" && link["tags"] as? [String] == ["lookout"] && link["asDropdown"] as? Bool == true
                    && link["includeVars"] as? Bool == true && link["keepTime"] as? Bool == true
            }, "\(name): a dropdown of the other Lookout dashboards that keeps time and variables")
            var ids: Set<Int> = []
            for panel in dashboard.panels {
                let id = panel["id"] as? Int ?? -1
                #expect(ids.insert(id).inserted, "\(name): panel id \(id) is unique")
                let grid = panel["gridPos"] as? [String: Int] ?? [:]
                #expect((grid["x"] ?? 99) + (grid["w"] ?? 99) <= 24 && (grid["h"] ?? 0) > 0, "\(name): \(panel["title"] ?? id) fits 24 columns")
            }
        }
    }

    @Test func variablesFollowTheLinterAndEveryUseIsDefined() throws {
        for dashboard in try GrafanaDashboard.all() {
            let name = dashboard.title
            let datasources = dashboard.variables.filter { $0["type"] as? String == "datasource" }
            #expect(datasources.first?["name"] as? String == "prometheus_datasource" && datasources.first?["query"] as? String == "prometheus",
                    "\(name): the Prometheus datasource variable comes first (template-datasource-rule)")
            for datasource in datasources {
                #expect("\(datasource["query"] ?? "")_datasource" == datasource["name"] as? String, "\(name): \(datasource["name"] ?? "")")
            }
            for variable in dashboard.variables where variable["type"] as? String == "query" {
                let variableName = variable["name"] as? String ?? ""
                #expect(variable["multi"] as? Bool == true && variable["includeAll"] as? Bool == true && variable["allValue"] as? String == ".+"
                        && variable["refresh"] as? Int == 2, "\(name): $\(variableName) is multi-select with All (.+), refreshed on time change")
                #expect((variable["datasource"] as? [String: Any])?["uid"] as? String == "${prometheus_datasource}", "\(name): $\(variableName)")
                let query = variable["query"] as? String ?? ""
                let parts = query.wholeMatch(of: /label_values\((.+), *([a-zA-Z_][a-zA-Z0-9_]*)\)/)
                #expect(parts != nil, "\(name): $\(variableName) is label_values(selector, label): \(query)")
                if let parts { #expect(throws: Never.self, "\(name): $\(variableName)") { _ = try PromQLExpression.parse(String(parts.output.1)) } }
            }
            #expect(Array(dashboard.variableNames.filter { ["job", "instance"].contains($0) }) == ["job", "instance"], "\(name): $job then $instance")
            // Every variable used is defined (or Grafana's own).
            let defined = Set(dashboard.variableNames).union(Self.globalVariables)
            let texts = dashboard.queries.flatMap { query in ["expr", "query", "legendFormat"].compactMap { query.target[$0] as? String } }
                + dashboard.variables.compactMap { $0["query"] as? String }
            for text in texts {
                for match in text.matches(of: /\$\{?([a-zA-Z_][a-zA-Z0-9_]*)/) {
                    #expect(defined.contains(String(match.output.1)), "\(name): $\(match.output.1) is not defined, in \(text)")
                }
            }
        }
    }

    @Test func everyPanelHasADescriptionAUnitAndMappingsForStates() throws {
        for dashboard in try GrafanaDashboard.all() {
            for panel in dashboard.dataPanels {
                let title = "\(dashboard.title) / \(panel["title"] as? String ?? "?")"
                #expect(!(panel["title"] as? String ?? "").isEmpty, "\(title): title")
                #expect((panel["description"] as? String ?? "").count >= 20, "\(title): panel-title-description-rule")
                let datasource = (panel["datasource"] as? [String: Any])?["uid"] as? String ?? ""
                #expect(["${prometheus_datasource}", "${elasticsearch_datasource}"].contains(datasource), "\(title): panel-datasource-rule")
                let targets = panel["targets"] as? [[String: Any]] ?? []
                #expect(!targets.isEmpty, "\(title): panel-no-targets-rule")
                let refIDs = targets.compactMap { $0["refId"] as? String }
                #expect(Set(refIDs).count == targets.count, "\(title): refIds unique")
                guard panel["type"] as? String != "logs" else { continue }
                let fieldConfig = panel["fieldConfig"] as? [String: Any] ?? [:]
                let defaults = fieldConfig["defaults"] as? [String: Any] ?? [:]
                #expect(!(defaults["unit"] as? String ?? "").isEmpty, "\(title): panel-units-rule")
                // A panel showing a 0/1 state says what each value means.
                let showsState = targets.contains { target in
                    guard let text = target["expr"] as? String, let expression = try? PromQLExpression.parse(DashboardPromQL.parseable(text)) else {
                        return false
                    }
                    return Self.stateMetric(shownBy: expression) != nil
                }
                if showsState {
                    let overrides = fieldConfig["overrides"] as? [[String: Any]] ?? []
                    let mapped = !(defaults["mappings"] as? [Any] ?? []).isEmpty || overrides.contains { override in
                        (override["properties"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "mappings" && !($0["value"] as? [Any] ?? []).isEmpty }
                    }
                    #expect(mapped, "\(title): shows a state, so it maps its values to words")
                }
            }
        }
    }

    /// The state metric an expression shows as it is (through min/max/avg/last aggregations or
    /// parentheses), if it does.
    static func stateMetric(shownBy expression: PromQLExpression) -> String? {
        switch expression {
        case .vectorSelector(let selector): selector.metricName.flatMap { stateMetrics.contains($0) ? $0 : nil }
        case .parenthesized(let inner): stateMetric(shownBy: inner)
        case .aggregation(let aggregation) where [.min, .max, .avg].contains(aggregation.op): stateMetric(shownBy: aggregation.expression)
        default: nil
        }
    }

    @Test func everyPrometheusQueryParsesAndFollowsTheConventions() throws {
        let exceptions = try LintExceptions.load()
        var used: Set<LintExceptions.Entry> = []
        func check(_ rule: String, _ query: DashboardQuery, _ condition: Bool, _ message: @autoclosure () -> String) {
            if condition { return }
            if exceptions.excepts(rule, query) {
                used.insert(.init(rule: rule, dashboard: query.dashboard, panel: query.panelTitle))
                return
            }
            Issue.record("\(query.name): \(rule): \(message())")
        }
        var parsed = 0
        for dashboard in try GrafanaDashboard.all() {
            let variables = Set(dashboard.variableNames)
            for query in dashboard.queries {
                guard let text = query.expression else {
                    // Elasticsearch: a query string on the time field; the live test runs it.
                    check("target-promql-rule", query, query.datasourceType == "elasticsearch" && query.target["timeField"] as? String == "@timestamp",
                          "neither PromQL nor an Elasticsearch query on @timestamp")
                    for rule in ["target-promql-rule", "target-job-rule", "target-instance-rule"] where exceptions.excepts(rule, query) {
                        used.insert(.init(rule: rule, dashboard: query.dashboard, panel: query.panelTitle))
                    }
                    continue
                }
                let expression: PromQLExpression
                do {
                    expression = try PromQLExpression.parse(DashboardPromQL.parseable(text))
                } catch {
                    Issue.record("\(query.name): target-promql-rule: \(error): \(text)")
                    continue
                }
                parsed += 1
                check("target-rate-interval-rule", query, !text.contains("irate("), "irate: use rate")
                DashboardPromQL.walk(expression) { node, parent in
                    let selector: PromQLSelector
                    switch node {
                    case .vectorSelector(let vector):
                        selector = vector
                    case .rangeSelector(let range, let window):
                        selector = range
                        // Stricter than dashboard-linter (which looks inside rate only): every
                        // window is $__rate_interval, so no panel goes empty at a longer scrape
                        // interval; a longer trend is an exception with its reason.
                        check("target-rate-interval-rule", query, window.milliseconds == DashboardPromQL.rateIntervalMilliseconds,
                              "a window of [\(window)], not [$__rate_interval]")
                    default:
                        return
                    }
                    let matchers = Set(selector.matchers.filter { $0.operation == .matchesRegex }.map { "\($0.label)=~\($0.value)" })
                    check("target-job-rule", query, matchers.contains("job=~$job"), "\(selector) lacks job=~\"$job\"")
                    check("target-instance-rule", query, matchers.contains("instance=~$instance"), "\(selector) lacks instance=~\"$instance\"")
                    let name = selector.metricName ?? ""
                    if variables.contains("vm"), name.hasPrefix("microvm_") {
                        check("target-vm-rule", query, matchers.contains("vm=~$vm"), "\(selector) lacks vm=~\"$vm\"")
                    }
                    if variables.contains("pipeline"), name.hasPrefix("pipeline_"), name != "pipeline_gate_check_measurements_total" {
                        check("target-pipeline-rule", query, matchers.contains("pipeline=~$pipeline"), "\(selector) lacks pipeline=~\"$pipeline\"")
                    }
                    // target-counter-agg-rule: a counter (and a histogram's series) only directly inside rate or increase.
                    if ["_total", "_bucket", "_sum", "_count"].contains(where: name.hasSuffix) {
                        var inRate = false
                        if case .rangeSelector = node, case .call(let function, _) = parent { inRate = ["rate", "increase"].contains(function.name) }
                        check("target-counter-agg-rule", query, inRate, "counter \(name) outside rate()/increase()")
                    }
                }
            }
        }
        #expect(parsed >= 100, "only \(parsed) PromQL queries")
        for (rule, reason) in exceptions.reasons { #expect(reason.count >= 20, "dashboards/.lint: \(rule) gives a reason") }
        let unused = exceptions.entries.subtracting(used)
        #expect(unused.isEmpty, "dashboards/.lint excepts what needs no exception: \(unused)")
    }

    @Test func kibanaObjectsParseAndResolveInsideTheirFile() throws {
        let kibana = try KibanaObjects.load()
        let ids = kibana.objects.map { "\($0["type"] ?? "")/\($0["id"] ?? "")" }
        #expect(Set(ids).count == ids.count, "ids are unique: \(ids)")
        let views = kibana.ofType("index-pattern")
        #expect(Set(views.compactMap { ($0["attributes"] as? [String: Any])?["title"] as? String }) == ["lookout-logs-*", "lookout-pipeline-*"])
        for view in views {
            #expect((view["attributes"] as? [String: Any])?["timeFieldName"] as? String == "@timestamp", "\(view["id"] ?? "")")
        }
        let searches = kibana.ofType("search")
        #expect(searches.count >= 6)
        for object in kibana.objects {
            for reference in object["references"] as? [[String: Any]] ?? [] {
                #expect(ids.contains("\(reference["type"] ?? "")/\(reference["id"] ?? "")"), "\(object["id"] ?? ""): reference \(reference)")
            }
        }
        for object in searches {
            let search = try kibana.search(object)
            #expect(!search.query.isEmpty && !search.columns.isEmpty && !search.index.isEmpty, "\(search.title)")
        }
        #expect(kibana.objects.count == views.count + searches.count, "only data views and saved searches")
    }
}
