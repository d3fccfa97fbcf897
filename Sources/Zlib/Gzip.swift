// The only Swift file that imports CZlib.
import CZlib

/// gzip (RFC 1952) compression through zlib's deflate: Elasticsearch bulk bodies and scrape
/// responses.
package enum Gzip {
    /// The level a scrape response is compressed at. Level 1 takes about 40 % of the default
    /// level's (6) time on a node_exporter-sized scrape for some 15 % more bytes (bench/RESULTS.md):
    /// a scrape is answered to Prometheus on the same network, where the CPU costs more than
    /// the bytes.
    package static let scrapeLevel = 1

    /// `input` as one gzip member at `level` (1–9).
    package static func compress(_ input: [UInt8], level: Int) -> [UInt8] {
        precondition((1...9).contains(level), "gzip level \(level) is outside 1...9")
        var stream = z_stream()
        let initialised = lookout_deflate_init_gzip(&stream, Int32(level))
        // deflateInit2 fails only for bad parameters (checked above) or when memory runs out.
        precondition(initialised == Z_OK, "deflateInit2 failed (\(initialised))")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        return input.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: bound) { output, written in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = output.baseAddress
                stream.avail_out = uInt(bound)
                // deflateBound guarantees one Z_FINISH call completes (zlib.h).
                let finished = deflate(&stream, Z_FINISH)
                precondition(finished == Z_STREAM_END, "deflate did not finish (\(finished))")
                written = bound - Int(stream.avail_out)
            }
        }
    }
}
