#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport
import Testing

@Suite struct SecretFileTests {
    static func file(_ content: String) -> String {
        var template = Array("/tmp/lookout-secret-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        _ = content.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        return String(cString: template)
    }

    @Test func oneLineTrimmedOfItsLineBreaks() throws {
        let path = Self.file("token-123\r\n\n")
        defer { unlink(path) }
        #expect(try SecretFile.read(path, what: "events token") == "token-123")
    }

    @Test func emptyMultiLineAndMissingFilesAreRefusedWithoutTheirContent() {
        let empty = Self.file("\n"), twoLines = Self.file("a\nHost: evil\n")
        defer { unlink(empty); unlink(twoLines) }
        #expect(throws: SecretFileError("the token file \(empty) is empty")) { try SecretFile.read(empty, what: "token") }
        #expect(throws: SecretFileError("the token file \(twoLines) holds more than one line")) { try SecretFile.read(twoLines, what: "token") }
        #expect(throws: SecretFileError("the token file /nonexistent/t cannot be read: No such file or directory")) {
            try SecretFile.read("/nonexistent/t", what: "token")
        }
    }

    @Test func matchingIsExact() {
        #expect(SecretFile.matches(Array("s3cret".utf8), secret: "s3cret"))
        #expect(!SecretFile.matches(Array("s3creT".utf8), secret: "s3cret"))
        #expect(!SecretFile.matches(Array("s3cre".utf8), secret: "s3cret"))
        #expect(!SecretFile.matches(Array("s3cret!".utf8), secret: "s3cret"))
        #expect(!SecretFile.matches([UInt8](), secret: "s3cret"))
        #expect(!SecretFile.matches([UInt8](), secret: ""))
    }
}
