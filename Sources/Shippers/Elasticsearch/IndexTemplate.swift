import LookoutSupport
/// The composable index template (`PUT _index_template/<name>`) that gives Lookout's documents
/// their mappings: ECS fields typed as ECS defines them, and for journal documents every string
/// under `journald.*` and `systemd.*` a keyword, for pipeline events every string under
/// `pipeline.*` and `labels.*` a keyword, so that nothing depends on dynamic mapping guessing.
struct IndexTemplate: Sendable, Equatable {
    /// The `index_patterns` entry: `lookout-logs-*`, or the data stream's name.
    var indexPattern: String
    /// Whether the matching indices are data streams (adds `"data_stream":{}`).
    var dataStream: Bool
    /// Which documents the indices hold.
    var schema: DocumentSchema = .journal

    /// The request body.
    var body: [UInt8] {
        var body = Array(#"{"index_patterns":["#.utf8)
        JSONText.appendString(indexPattern, to: &body)
        // Priority 200 beats Elasticsearch's built-in `logs-*-*` template (priority 100), which
        // would otherwise clash with a data stream named logs-lookout-….
        body += Array(#"],"priority":200,"#.utf8)
        if dataStream { body += Array(#""data_stream":{},"#.utf8) }
        body += Array(#""template":{"mappings":"#.utf8)
        body += Array(mappings.utf8)
        body += Array(#"},"_meta":{"managed_by":"lookout"}}"#.utf8)
        return body
    }

    private var mappings: String {
        switch schema {
        case .journal:
            #"""
            {"dynamic_templates":[\#
            {"journald_strings":{"path_match":"journald.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":8191}}},\#
            {"systemd_strings":{"path_match":"systemd.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":1024}}}],\#
            "properties":{\#
            "@timestamp":{"type":"date"},\#
            "message":{"type":"text"},\#
            "log":{"properties":{"level":{"type":"keyword"}}},\#
            "host":{"properties":{"name":{"type":"keyword"}}},\#
            "process":{"properties":{"name":{"type":"keyword"},"pid":{"type":"long"}}}}}
            """#
        case .pipelineEvents:
            #"""
            {"dynamic_templates":[\#
            {"pipeline_strings":{"path_match":"pipeline.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":1024}}},\#
            {"label_strings":{"path_match":"labels.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":1024}}}],\#
            "properties":{\#
            "@timestamp":{"type":"date"},\#
            "message":{"type":"text"},\#
            "event":{"properties":{"kind":{"type":"keyword"},"action":{"type":"keyword"},"outcome":{"type":"keyword"},\#
            "id":{"type":"keyword"},"duration":{"type":"long"},"ingested":{"type":"date"}}},\#
            "pipeline":{"properties":{"exit_code":{"type":"long"}}}}}
            """#
        }
    }
}
