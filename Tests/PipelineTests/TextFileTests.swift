import Foundation
@testable import LookoutSupport
import Testing

/// Whole-file reads: small files from the stack buffer, larger ones moved to the heap at every
/// size boundary, limits and errors naming the path.
@Suite struct TextFileTests {
    /// A file of `count` bytes whose content shows any misplaced byte.
    private static func content(_ count: Int) -> String {
        String((0..<count).map { Character(UnicodeScalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
    }

    @Test(arguments: [0, 1, 4_095, 4_096, 4_097, 16_383, 16_384, 20_480, 20_481, 70_000])
    func aFileIsReadWholeAtEverySize(size: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-textfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("file").path
        let text = Self.content(size)
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        #expect(try TextFile.read(path) == text)
        // Held open and read from the start again, as a /proc file is between scrapes.
        let file = open(path, O_RDONLY)
        defer { close(file) }
        #expect(try TextFile.readToEnd(file, path: path, fromStart: true) == text)
        #expect(try TextFile.readToEnd(file, path: path, shortReadIsEnd: true, fromStart: true) == text)
        #expect(try TextFile.readToEnd(file, path: path, fromStart: false) == text)
        #expect(try TextFile.readToEnd(file, path: path, fromStart: false) == "")
        #expect(try TextFile.readToEnd(file, path: path, shortReadIsEnd: true, fromStart: true) == text)
    }

    @Test func limitsAndErrorsNameThePath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-textfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("file").path
        try Self.content(5_000).write(toFile: path, atomically: true, encoding: .utf8)

        #expect(throws: TextFile.ReadError(path: path, reason: "larger than 4500 bytes")) {
            try TextFile.read(path, maximumBytes: 4_500)
        }
        #expect(try TextFile.read(path, maximumBytes: 5_000)?.utf8.count == 5_000)
        #expect(try TextFile.read(directory.path + "/absent", missingIsNil: true) == nil)
        #expect(throws: TextFile.ReadError(path: directory.path + "/absent", reason: "No such file or directory")) {
            try TextFile.read(directory.path + "/absent")
        }
        #expect(throws: TextFile.ReadError(path: directory.path, reason: "Is a directory")) {
            try TextFile.read(directory.path)
        }
    }
}
