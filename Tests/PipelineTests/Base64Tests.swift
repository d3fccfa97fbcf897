import Testing
@testable import LookoutSupport

@Suite struct Base64Tests {
    static let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                          ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]

    @Test func encodesRFC4648Vectors() {
        for (input, encoded) in Self.vectors {
            var output: [UInt8] = []
            Array(input.utf8).withUnsafeBytes { Base64.append($0, to: &output) }
            #expect(String(decoding: output, as: UTF8.self) == encoded)
            #expect(Base64.encoded(Array(input.utf8)) == encoded)
        }
    }

    @Test func decodesRFC4648VectorsAndEveryByte() {
        for (input, encoded) in Self.vectors {
            #expect(Base64.decode(Array(encoded.utf8)) == Array(input.utf8))
        }
        let every = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Array(Base64.encoded(every).utf8)) == every)
        // Go's StdEncoding skips line breaks and ignores the bits after the last byte.
        #expect(Base64.decode(Array("Zm9v\r\nYmFy".utf8)) == Array("foobar".utf8))
        #expect(Base64.decode(Array("Zh==".utf8)) == Array("f".utf8))
    }

    /// What Go's base64.StdEncoding.DecodeString refuses, refused here too.
    @Test(arguments: ["Zg", "Zg=", "Zm9v=", "Z===", "====", "Zm 9v", "Zm9-", "Zm9_", "Z=g=", "=Zm9", "Zm9v Zm9v"])
    func refusesWhatGoRefuses(text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }
}
