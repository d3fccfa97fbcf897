import Foundation
import PeerSupport
import Testing

/// libcurl and libsystemd are loaded on first use (CCurl/lazy_curl.c, CSystemd/lazy_systemd.c):
/// a daemon with its defaults maps neither, nor the libraries they pull in (and one that ships a
/// journal maps both: JournalShippingTests checks it after shipping).
@Suite struct LazyLibrariesTests {
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
}
