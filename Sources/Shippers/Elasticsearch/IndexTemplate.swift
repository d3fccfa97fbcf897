import Pipeline
/// The composable index template (`PUT _index_template/<name>`) that gives Lookout's documents
/// their mappings: ECS fields typed as ECS defines them, and every string under `journald.*` and
/// `systemd.*` a keyword, so that nothing depends on dynamic mapping guessing.
struct IndexTemplate: Sendable, Equatable {
    /// The `index_patterns` entry: `lookout-logs-*`, or the data stream's name.
    var indexPattern: String
    /// Whether the matching indices are data streams (adds `"data_stream":{}`).
    var dataStream: Bool

    /// The request body.
    var body: [UInt8] {
        var body = Array(#"{"index_patterns":["#.utf8)
        JSONText.appendString(indexPattern, to: &body)
        // Priority 200 beats Elasticsearch's built-in `logs-*-*` template (priority 100), which
        // would otherwise clash with a data stream named logs-lookout-….
        body += Array(#"],"priority":200,"#.utf8)
        if dataStream { body += Array(#""data_stream":{},"#.utf8) }
        body += Array(#"""
            "template":{"mappings":{\#
            "dynamic_templates":[\#
            {"journald_strings":{"path_match":"journald.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":8191}}},\#
            {"systemd_strings":{"path_match":"systemd.*","match_mapping_type":"string",\#
            "mapping":{"type":"keyword","ignore_above":1024}}}],\#
            "properties":{\#
            "@timestamp":{"type":"date"},\#
            "message":{"type":"text"},\#
            "log":{"properties":{"level":{"type":"keyword"}}},\#
            "host":{"properties":{"name":{"type":"keyword"}}},\#
            "process":{"properties":{"name":{"type":"keyword"},"pid":{"type":"long"}}}}}},\#
            "_meta":{"managed_by":"lookout"}}
            """#.utf8)
        return body
    }
}
