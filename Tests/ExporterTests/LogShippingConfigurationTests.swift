import Collectors
import Shippers
import Testing
@testable import Exporter

/// The journal and Elasticsearch settings, from YAML and from flags.
@Suite struct LogShippingConfigurationTests {
    private func apply(_ yaml: String) throws(ConfigurationError) -> ExporterConfiguration {
        try ConfigurationFile.apply(yaml: yaml, onto: ExporterConfiguration())
    }

    @Test func everyJournalAndElasticsearchKeyIsRead() throws {
        let configuration = try apply("""
            data:
              dir: /srv/lookout
            journal:
              enabled: true
              directory: [/var/log/journal, /run/log/journal]
              match: [_TRANSPORT=kernel, "+", PRIORITY=0]
              unit: nginx
              priority: warning
              start: head
              cursor-file: /srv/cursor
              max-units: 7
            elasticsearch:
              url: [http://a:9200, http://b:9200]
              index: logs-%Y.%m
              api-key-file: /run/key
              ca-file: /etc/ca.pem
              cert-file: /etc/cert.pem
              key-file: /etc/key.pem
              insecure-skip-verify: true
              gzip: false
              install-template: false
              timeout: 30s
              dead-letter-file: /srv/dead.ndjson
              backoff-initial: 100ms
              backoff-max: 5s
              batch-size: 100
              batch-bytes: 1000000
              flush-interval: 250ms
              concurrency: 3
            shutdown:
              grace-period: 3s
            """)
        #expect(configuration.dataDirectory == "/srv/lookout")
        #expect(configuration.journal.enabled)
        #expect(configuration.journal.selection == JournalSelection(
            source: .directories(["/var/log/journal", "/run/log/journal"]), matches: ["_TRANSPORT=kernel", "+", "PRIORITY=0"],
            units: ["nginx"], maximumPriority: 4))
        #expect(configuration.journal.start == .head)
        #expect(configuration.journalCursorFile == "/srv/cursor")
        #expect(configuration.journal.maximumUnits == 7)
        let settings = configuration.elasticsearch
        #expect(settings.urls == ["http://a:9200", "http://b:9200"])
        #expect(settings.target == .indexPattern("logs-%Y.%m"))
        #expect(settings.credentials == .apiKeyFile("/run/key"))
        #expect(settings.tls == .init(caFile: "/etc/ca.pem", clientCertificateFile: "/etc/cert.pem",
                                      clientKeyFile: "/etc/key.pem", insecureSkipVerify: true))
        #expect(!settings.gzip && !settings.installTemplate)
        #expect(settings.requestTimeout == .seconds(30))
        #expect(configuration.deadLetterFile == "/srv/dead.ndjson")
        #expect(settings.backoffInitial == .milliseconds(100) && settings.backoffMax == .seconds(5))
        #expect(configuration.batchLimits == BatchLimits(maximumDocuments: 100, maximumBytes: 1_000_000,
                                                         flushInterval: .milliseconds(250)))
        #expect(configuration.deliveryConcurrency == 3)
        #expect(configuration.shutdownGracePeriod == .seconds(3))
        #expect(configuration.readsJournal)
    }

    @Test func eventKeysAreReadAndDefaultToTheDataDirectory() throws {
        let configuration = try apply("""
            data:
              dir: /d
            events:
              spool-dir: /run/lookout-spool
              retention: 30d
            elasticsearch:
              events-index: ci-events-%Y.%m
              dead-letter-file: /var/log/lookout/refused.ndjson
            """)
        #expect(configuration.spoolDirectory == "/run/lookout-spool")
        #expect(configuration.eventsRetention == .seconds(30 * 86_400))
        #expect(configuration.eventsIndex == "ci-events-%Y.%m")
        #expect(configuration.eventsDeadLetterFile == "/var/log/lookout/refused-events.ndjson")
        let defaults = try apply("data:\n  dir: /d\nevents:\n  retention: \"0\"\n")
        #expect(defaults.spoolDirectory == "/d/spool")
        #expect(defaults.eventsRetention == nil)
        #expect(defaults.eventsIndex == "lookout-pipeline-%Y.%m.%d")
        #expect(defaults.eventsDeadLetterFile == "/d/dead-letter-events.ndjson")
        #expect(ExporterConfiguration().eventsRetention == .seconds(90 * 86_400))
        let flags = try ServeFlags.parse(["--events.retention", "12h", "--events.spool-dir", "/s", "--elasticsearch.events-index", "e-%Y"])
        let flagged = try flags.resolve()
        #expect(flagged.eventsRetention == .seconds(12 * 3_600) && flagged.spoolDirectory == "/s" && flagged.eventsIndex == "e-%Y")
    }

    @Test func shippingImpliesReadingAndFilesDefaultToTheDataDirectory() throws {
        let configuration = try apply("data:\n  dir: /d\nelasticsearch:\n  url: http://x:9200\n")
        #expect(configuration.readsJournal && !configuration.journal.enabled)
        #expect(configuration.journalCursorFile == "/d/journal.cursor")
        #expect(configuration.deadLetterFile == "/d/dead-letter.ndjson")
        #expect(configuration.journal.start == .tail)
        #expect(!ExporterConfiguration().readsJournal)
    }

    @Test(arguments: [
        ("journal:\n  priority: loud\n", "2: journal.priority: 'loud' is not a priority (emerg, alert, crit, err, warning, notice, info, debug or 0-7)"),
        ("journal:\n  match: [NOEQUALS]\n", "2: journal.match: 'NOEQUALS' is not FIELD=VALUE or +"),
        ("journal:\n  start: yesterday\n", "2: journal.start: 'yesterday' is not head, tail or a time"),
        ("journal:\n  max-units: 0\n", "2: journal.max-units: expected a whole number of at least 1, got \"0\""),
        ("journal:\n  directory: /a\n  file: /b\n", "2: journal.file: cannot be combined with journal.directory"),
        ("journal:\n  colour: red\n", "2: journal.colour: unknown key"),
        ("elasticsearch:\n  flush-interval: soon\n", "2: elasticsearch.flush-interval: 'soon' is not a duration like 500ms, 10s or 1m"),
        ("elasticsearch:\n  api-key-file: /a\n  bearer-token-file: /b\n", "2: elasticsearch: give one of api-key-file, bearer-token-file, not several"),
        ("elasticsearch:\n  gzip: sometimes\n", "2: elasticsearch.gzip: expected true or false, got \"sometimes\""),
        ("data:\n  directory: /x\n", "2: data.directory: unknown key"),
        ("events:\n  retention: 2w\n", "2: events.retention: '2w' is not a retention like 90d or 12h (0 keeps events forever)"),
        ("events:\n  spool: /x\n", "2: events.spool: unknown key"),
        ("shutdown:\n  grace-period: 0s\n", "2: shutdown.grace-period: '0s' is not a duration like 500ms, 10s or 1m"),
    ])
    func badInputNamesKeyAndLine(yaml: String, expected: String) {
        do {
            _ = try apply(yaml)
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func flagsOverrideTheFile() throws {
        let flags = try ServeFlags.parse([
            "--journal.directory", "/j", "--journal.unit", "sshd", "--journal.priority", "err", "--journal.start", "tail",
            "--elasticsearch.url", "http://127.0.0.1:9200", "--elasticsearch.data-stream", "logs-journal-default",
            "--elasticsearch.basic-auth-file", "/secret", "--no-elasticsearch.gzip", "--elasticsearch.batch-size", "10",
            "--elasticsearch.concurrency", "1", "--data.dir", "/data", "--shutdown.grace-period", "2s",
        ])
        let configuration = try flags.resolve()
        #expect(configuration.journal.selection.source == .directories(["/j"]))
        #expect(configuration.journal.selection.units == ["sshd"])
        #expect(configuration.journal.selection.maximumPriority == 3)
        #expect(configuration.elasticsearch.target == .dataStream("logs-journal-default"))
        #expect(configuration.elasticsearch.credentials == .basicAuthFile("/secret"))
        #expect(!configuration.elasticsearch.gzip)
        #expect(configuration.batchLimits.maximumDocuments == 10)
        #expect(configuration.deliveryConcurrency == 1)
        #expect(configuration.journalCursorFile == "/data/journal.cursor")
        #expect(configuration.shutdownGracePeriod == .seconds(2))
    }

    @Test(arguments: [
        (["--elasticsearch.batch-size", "0"], "--elasticsearch.batch-size: must be at least 1, got 0"),
        (["--elasticsearch.api-key-file", "/a", "--elasticsearch.bearer-token-file", "/b"],
         "--elasticsearch.{basic-auth,api-key,bearer-token}-file: give only one"),
        (["--journal.start", "never"], "--journal.start: 'never' is not head, tail or a time"),
        (["--elasticsearch.timeout", "forever"], "--elasticsearch.timeout: 'forever' is not a duration like 500ms, 10s or 1m"),
    ])
    func badFlagsNameTheFlag(arguments: [String], expected: String) throws {
        let flags = try ServeFlags.parse(arguments)
        do {
            _ = try flags.resolve()
            Issue.record("expected an error for \(arguments)")
        } catch {
            #expect(error.description == expected)
        }
    }
}
