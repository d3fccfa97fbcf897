#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Exporter

@Suite struct HeapTrimmingTests {
    /// RssAnon of this process, in KiB.
    static func anonymousKilobytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssAnon:") {
                return Int(text.dropFirst("RssAnon:".count).split(whereSeparator: \.isWhitespace).first ?? "") ?? 0
            }
        }
        return 0
    }

    @Test func freedHeapMemoryGoesBackToTheKernel() {
        // 256 MiB in 4 KiB blocks (below the mmap threshold, so from the heap), then one block
        // after them, so that freeing them cannot shrink the heap from its top: the memory stays
        // with the allocator, as a shipped backlog's batches do. The margins below are a quarter
        // and a half of it, far more than the tests running beside this one move RssAnon.
        let blocks = (0..<65_536).map { _ in
            let block = malloc(4096)!
            memset(block, 1, 4096)
            return block
        }
        let fence = malloc(4096)!
        memset(fence, 1, 4096)
        defer { free(fence) }
        let allocated = Self.anonymousKilobytes()
        #expect(allocated > 256 * 1024, "RssAnon \(allocated) KiB with 256 MiB allocated")
        blocks.forEach { free($0) }
        let freed = Self.anonymousKilobytes()
        #expect(freed > allocated - 64 * 1024, "freeing alone kept the memory: \(allocated) KiB, then \(freed) KiB")

        let before = HeapTrimming.trim(above: 8 << 20)
        let trimmed = Self.anonymousKilobytes()
        #expect((before ?? 0) >= 250 << 20, "the heap held \(before.map(String.init) ?? "under the threshold") free bytes")
        #expect(trimmed < freed - 128 * 1024, "RssAnon \(freed) KiB before trimming, \(trimmed) KiB after")
    }

    @Test func aSmallFreeHeapIsLeftAlone() {
        #expect(HeapTrimming.trim(above: Int.max) == nil)
    }
}
