#if canImport(Glibc)
import Glibc
#endif
@testable import Collectors
import MetricModel
import Testing

/// The committed fixture tree, `Tests/Fixtures`, found from this file's path, laid out as
/// node_exporter's flags expect: `--path.procfs=Tests/Fixtures/proc --path.sysfs=Tests/Fixtures/sys
/// --path.rootfs=Tests/Fixtures/rootfs` (see Tests/Fixtures/README.md).
enum Fixtures {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    /// The roots node_exporter was pointed at for the golden files.
    static let paths = HostPaths(procfs: root + "/proc", sysfs: root + "/sys", rootfs: root + "/rootfs")

    static func read(_ relative: String) throws -> String {
        try SourceFile.read(root + "/" + relative)
    }

    /// Text 0.0.4 exposition of `families` sorted by name, as the registry serves them.
    static func render(_ families: [MetricFamily]) -> String {
        let sorted = families.sorted { $0.name < $1.name }
        return String(decoding: ExpositionEncoder(format: .text).encode(sorted), as: UTF8.self)
    }

    /// Compares with `golden/<name>`, node_exporter 1.5.0's own output on this tree (see
    /// Tests/Fixtures/README.md). With LOOKOUT_UPDATE_GOLDEN=1 the file is rewritten instead.
    static func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = root + "/golden/" + name
        if let update = getenv("LOOKOUT_UPDATE_GOLDEN"), String(cString: update) == "1" {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = actual.utf8CString.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count - 1) }
            close(descriptor)
            return
        }
        let expected = try SourceFile.read(path)
        #expect(actual == expected, sourceLocation: sourceLocation)
        if actual != expected {
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, pair) in zip(actualLines, expectedLines).enumerated() where pair.0 != pair.1 {
                Issue.record("first difference at line \(index + 1):\n  got      \(pair.0)\n  expected \(pair.1)", sourceLocation: sourceLocation)
                break
            }
        }
    }

    /// Replaces the value of every sample line of the given families by `placeholder`.
    static func maskValues(_ text: String, families: [String], placeholder: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            guard !line.hasPrefix("#"), families.contains(where: { line.hasPrefix($0 + "{") || line.hasPrefix($0 + " ") }),
                  let space = line.lastIndex(of: " ") else { return line }
            return line[...space] + placeholder
        }.joined(separator: "\n")
    }

    /// A fresh empty directory under /tmp, removed by `cleanup`.
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/lookout-test-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        return path
    }

    /// A scratch directory holding `files` (relative path → content); remove it with `removeTree`.
    static func scratch(_ files: [String: String]) -> String {
        let directory = temporaryDirectory()
        for (relative, content) in files {
            var prefix = directory
            for component in relative.split(separator: "/").dropLast() {
                prefix += "/" + component
                mkdir(prefix, 0o755)
            }
            write(content, to: directory + "/" + relative)
        }
        return directory
    }

    /// Replaces the file at `path` with `text`.
    static func write(_ text: String, to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count - 1) }
        close(descriptor)
    }

    static func removeTree(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            for name in (try? SourceFile.list(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
