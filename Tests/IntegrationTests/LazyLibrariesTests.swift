import Foundation
import PeerSupport
import Testing

/// libcurl and libsystemd are loaded on first use (CCurl/lazy_curl.c, CSystemd/lazy_systemd.c):
/// a daemon with its defaults maps neither, nor the libraries they pull in; one that reads a
/// journal and ships it to Elasticsearch maps both, through the same functions.
@Suite(.serialized) struct LazyLibrariesTests {
    /// Whether `libraries` holds a file of the library `stem` (`libcurl` matches `libcurl.so.4.8.0`).
    static func holds(_ libraries: Set<String>, _ stem: String) -> Bool {
        libraries.contains { $0.hasPrefix(stem + ".so") }
    }

    @Test func aDaemonWithItsDefaultsMapsNeitherLibcurlNorLibsystemd() async throws {
        let port = try Harness.freePort()
        let lookout = try ServerProcess(name: "lookout", executable: Harness.lookoutBinary, arguments: [
            "serve", "--web.listen-address", "127.0.0.1:\(port)",
        ])
        defer { lookout.stop() }
        try await lookout.waitUntilServing("http://127.0.0.1:\(port)/metrics")
        let libraries = lookout.mappedLibraries()
        #expect(Self.holds(libraries, "libc"), "the maps were read: \(libraries.sorted())")
        for library in ["libcurl", "libsystemd", "libssl", "libcrypto", "libgnutls", "libkrb5", "libldap-2.5", "liblz4", "libzstd"] {
            #expect(!Self.holds(libraries, library), "\(library) is mapped: \(libraries.sorted())")
        }
    }

    @Test func shippingAJournalLoadsBoth() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try JournalFixture.directory()
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        let (lookout, metrics) = try JournalShippingTests.serve(journal, data: data, url: osmem.url)
        defer { lookout.stop() }
        try await lookout.waitUntilServing(metrics)
        try await Harness.waitUntil(seconds: 60, "377 documents in osmem") { await JournalShippingTests.count(osmem.url) == 377 }
        let libraries = lookout.mappedLibraries()
        #expect(Self.holds(libraries, "libcurl"), "\(libraries.sorted())")
        #expect(Self.holds(libraries, "libsystemd"), "\(libraries.sorted())")
    }
}
