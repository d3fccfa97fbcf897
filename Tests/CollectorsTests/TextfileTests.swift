#if canImport(Glibc)
import Glibc
#endif
@testable import Collectors
import MetricModel
import Testing

@Suite struct TextfileTests {
    /// Renders with the fixture root and the mtimes masked, as in golden/textfile.prom.
    private func masked(_ families: [MetricFamily], root: String) -> String {
        Fixtures.maskValues(Fixtures.render(families), families: ["node_textfile_mtime_seconds"], placeholder: "<MTIME>")
            .replacing(root, with: "<FIXTURES>")
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let collector = TextfileCollector(directories: [Fixtures.root + "/textfile"])
        let families = try collector.collect()
        try Fixtures.expectGolden(masked(families, root: Fixtures.root), "textfile.prom")

        let directory = Fixtures.root + "/textfile"
        #expect(collector.lastErrors == [
            "\(directory)/malformed.prom: line 3: label value \"unterminated} 2\" contains unescaped new-line",
            "\(directory)/timestamped.prom: line 2: unsupported client-side timestamp, skipping entire file",
            "collected metric app_requests_total has help \"A different help text for the same family.\" but should have \"Requests handled, by \"code\".\nSecond line with a \\ backslash.\"; dropped",
            "collected metric shared_metric has help \"Help given only by the second file.\" but should have \"Metric read from \(directory)/good.prom, \(directory)/help_conflict.prom\"; dropped",
        ])
    }

    @Test func everyProblemIsCounted() throws {
        let errors = ComponentErrors()
        let collector = TextfileCollector(directories: [Fixtures.root + "/textfile"], componentErrors: errors)
        _ = try collector.collect()
        #expect(collector.lastErrors.count == 4)
        #expect(errors.count(component: "collector.textfile", errorType: "bad_file") == 4)
        _ = try collector.collect()
        #expect(errors.count(component: "collector.textfile", errorType: "bad_file") == 8)
    }

    @Test func mtimeIsTheFilesModificationTime() throws {
        let collector = TextfileCollector(directories: [Fixtures.root + "/textfile"])
        let mtimes = try #require(try collector.collect().first { $0.name == "node_textfile_mtime_seconds" })
        for sample in mtimes.samples {
            var status = stat()
            #expect(stat(sample.labels[0].value, &status) == 0)
            #expect(sample.value == Double(status.st_mtim.tv_sec))
        }
        #expect(mtimes.samples.count == 3)
    }

    @Test func helpConflictAloneIsNotAScrapeError() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        Fixtures.write("# HELP m First.\nm{a=\"1\"} 1\n", to: directory + "/a.prom")
        Fixtures.write("# HELP m Second.\nm{a=\"2\"} 2\n# TYPE m2 gauge\nm2 1\n", to: directory + "/b.prom")
        Fixtures.write("# TYPE m2 counter\nm2{x=\"y\"} 1\n", to: directory + "/c.prom")
        let collector = TextfileCollector(directories: [directory])
        let text = Fixtures.render(try collector.collect())
        #expect(Fixtures.maskValues(text, families: ["node_textfile_mtime_seconds"], placeholder: "T")
            .replacing(directory, with: "D") == """
            # HELP m First.
            # TYPE m untyped
            m{a="1"} 1
            # HELP m2 Metric read from D/b.prom, D/c.prom
            # TYPE m2 gauge
            m2 1
            # HELP node_textfile_mtime_seconds Unixtime mtime of textfiles successfully read.
            # TYPE node_textfile_mtime_seconds gauge
            node_textfile_mtime_seconds{file="D/a.prom"} T
            node_textfile_mtime_seconds{file="D/b.prom"} T
            node_textfile_mtime_seconds{file="D/c.prom"} T
            # HELP node_textfile_scrape_error 1 if there was an error opening or reading a file, 0 otherwise
            # TYPE node_textfile_scrape_error gauge
            node_textfile_scrape_error 0

            """)
        #expect(collector.lastErrors.count == 2)
    }

    @Test func histogramsAreGroupedSortedAndCountsTruncated() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        Fixtures.write("""
            # TYPE h histogram
            h_bucket{x="b",le="5"} 1
            h_count{x="b"} 1
            h_bucket{le="1.0",x="a"} 1.7
            h_bucket{x="a",le="1e3"} 2
            h_count{x="a"} 2.9
            h_sum{x="a"} 10
            labelled{le="x",quantile="y"} 1

            """, to: directory + "/h.prom")
        let families = try TextfileCollector(directories: [directory]).collect()
        let text = Fixtures.render(families.filter { !$0.name.hasPrefix("node_") })
        #expect(text.replacing(directory, with: "D") == """
            # HELP h Metric read from D/h.prom
            # TYPE h histogram
            h_bucket{x="a",le="1"} 1
            h_bucket{x="a",le="1000"} 2
            h_bucket{x="a",le="+Inf"} 2
            h_sum{x="a"} 10
            h_count{x="a"} 2
            h_bucket{x="b",le="5"} 1
            h_bucket{x="b",le="+Inf"} 1
            h_sum{x="b"} 0
            h_count{x="b"} 1
            # HELP labelled Metric read from D/h.prom
            # TYPE labelled untyped
            labelled{le="x",quantile="y"} 1

            """)
    }

    @Test func missingDirectoryIsAScrapeError() throws {
        let collector = TextfileCollector(directories: ["/nonexistent/textfile"])
        let families = try collector.collect()
        #expect(families == [.single(
            "node_textfile_scrape_error", help: "1 if there was an error opening or reading a file, 0 otherwise", value: 1)])
        #expect(collector.lastErrors == [
            "failed to read textfile collector directory: cannot read /nonexistent/textfile: No such file or directory",
        ])
    }

    @Test func directoriesMayBeGlobs() throws {
        let collector = TextfileCollector(directories: [Fixtures.root + "/text*"])
        let mtimes = try #require(try collector.collect().first { $0.name == "node_textfile_mtime_seconds" })
        #expect(mtimes.samples.count == 3)
    }

    @Test func noDirectoriesGivesOnlyTheErrorGauge() throws {
        #expect(try TextfileCollector(directories: []).collect().map(\.name) == ["node_textfile_scrape_error"])
    }

    @Test func countsConvertLikeGoUint64() {
        #expect(TextfileRead.truncatedCount(2.9) == 2)
        #expect(TextfileRead.truncatedCount(-3) == 18446744073709551613)
        #expect(TextfileRead.truncatedCount(.nan) == 0x1p63)
        #expect(TextfileRead.truncatedCount(.infinity) == 0x1p63)
        #expect(TextfileRead.truncatedCount(1e19) == 1e19)
    }

    @Test func reservedLabelNameSkipsTheFile() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        Fixtures.write("m{__x=\"1\"} 1\nok 1\n", to: directory + "/a.prom")
        let collector = TextfileCollector(directories: [directory])
        #expect(try collector.collect().map(\.name) == ["node_textfile_scrape_error"])
        #expect(collector.lastErrors == ["\(directory)/a.prom: metric m: label name \"__x\" is reserved"])
    }
}
