import Foundation
import Testing

/// How `lookout` is linked (Package.swift, the Exporter target's linker settings: the toolchain's
/// lld), read back with readelf: the parts of the binary the dynamic loader touches at start-up
/// stay resident for the daemon's life, so they are kept small. A PIE's relative relocations are packed (DT_RELR, 24 KB
/// instead of 2.8 MiB of `.rela.dyn`) and no symbol is exported (36,734 were, 1.7 MiB of
/// `.dynsym`, `.dynstr` and `.gnu.hash`): the libraries Lookout loads never bind to its symbols.
@Suite struct BinaryLayoutTests {
    /// The sections of the binary: name and size in bytes.
    static func sections(of binary: String) throws -> [String: Int] {
        let readelf = try Harness.run("/usr/bin/readelf", ["--section-headers", "--wide", binary])
        #expect(readelf.status == 0, "\(readelf.stderr)")
        var sections: [String: Int] = [:]
        // `  [ 9] .rela.dyn   RELA   000000000033fc30 33fc30 004de8 18   A  4   0  8`
        for line in readelf.stdout.split(separator: "\n") {
            guard let close = line.firstIndex(of: "]") else { continue }
            let fields = line[line.index(after: close)...].split(separator: " ")
            guard fields.count >= 5, let size = Int(fields[4], radix: 16) else { continue }
            sections[String(fields[0])] = size
        }
        return sections
    }

    @Test func relocationsArePackedAndNoSymbolIsExported() throws {
        let binary = Harness.lookoutBinary
        let comment = try Harness.run("/usr/bin/readelf", ["--string-dump=.comment", binary])
        #expect(comment.stdout.contains("Linker: LLD"), "not linked by lld, which alone reads linker/lookout.order: \(comment.stdout)")
        let sections = try Self.sections(of: binary)
        #expect(sections[".text"] != nil, "the section headers were read: \(sections.keys.sorted())")
        #expect(sections[".relr.dyn"] != nil, "relative relocations are not packed")
        // Unpacked, every pointer in the binary's data is one: the unpacked build had 123,558.
        let relocations = try Harness.run("/usr/bin/readelf", ["--relocs", "--wide", binary])
        let unpacked = relocations.stdout.split(separator: "\n").filter { $0.contains("R_X86_64_RELATIVE") }.count
        #expect(relocations.stdout.contains("R_X86_64_GLOB_DAT") && unpacked == 0, "\(unpacked) unpacked relative relocations")
        // Symbols the binary defines in its dynamic table (the linker's own _end, _edata,
        // __bss_start and a few weak C++ ones stay); exported, it had 35,928.
        let symbols = try Harness.run("/usr/bin/readelf", ["--dyn-syms", "--wide", binary])
        let defined = symbols.stdout.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            return fields.count >= 8 && fields[0].hasSuffix(":") && fields[6] != "UND" && fields[6] != "Ndx"
        }
        #expect(!symbols.stdout.isEmpty && defined.count < 100, "\(defined.count) exported symbols")
    }
}
