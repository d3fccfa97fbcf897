import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The seeded randomness of the fuzz tests: a generator that replays from its seed, and random
/// edits of good inputs.
public enum Fuzzing {
    /// The run's seed: `LOOKOUT_FUZZ_SEED` when set (to replay a failure), else a fresh one.
    /// Every failure message names it.
    public static let seed: UInt64 = {
        if let text = getenv("LOOKOUT_FUZZ_SEED").map({ String(cString: $0) }), let seed = UInt64(text) { return seed }
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    /// `work`'s result, run on a dispatch thread: a fuzz loop keeps one core busy for its
    /// budget, and must not hold one of the cooperative threads every other test shares.
    public static func detached<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// `text` with one to four random edits: a byte dropped, repeated, swapped for punctuation
    /// or for an arbitrary byte, or a stretch doubled.
    public static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        let punctuation = Array("{}()[]\"'`,=~!<>+-*/%^@:;#$|\\ \n\t0123456789.eE".utf8)
        for _ in 0..<Int(1 + random.next() % 4) where !bytes.isEmpty {
            let index = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0: bytes.remove(at: index)
            case 1: bytes.insert(bytes[index], at: index)
            case 2: bytes[index] = punctuation[Int(random.next() % UInt64(punctuation.count))]
            case 3: bytes[index] = UInt8(truncatingIfNeeded: random.next())
            default:
                let end = min(bytes.count, index + Int(random.next() % 16))
                bytes.insert(contentsOf: bytes[index..<end], at: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and replayable from its seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator starting at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
