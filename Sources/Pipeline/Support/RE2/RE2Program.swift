/// A parsed expression compiled for a Pike VM (Thompson's construction with capture slots):
/// the match runs in time linear in the input times the program's size, whatever the pattern,
/// and finds what Go's `regexp` finds (leftmost-first, Perl's preferences).
struct RE2Program: Sendable {
    /// The most instructions a program may have. Go allows about 3.3 million; the matchers a
    /// query or a configuration writes need a few hundred, and this bounds a hostile pattern's
    /// memory and its per-scalar cost.
    static let maximumInstructions = 250_000

    enum Instruction: Sendable {
        case scalar(UInt32)
        case characterClass(RE2CharacterClass)
        case anyCharacterNotNewline
        case anyCharacter
        case assertion(RE2Assertion)
        /// Try the first target, then the second (lower priority).
        case split(Int, Int)
        case jump(Int)
        /// Record the position in capture slot N.
        case save(Int)
        case match
    }

    /// The instructions; execution starts at 0.
    private(set) var instructions: [Instruction] = []
    /// Capture slots: two per group, the whole match being group 0.
    let slotCount: Int
    /// Whether every match must begin at the start of the text (the pattern begins with `^`
    /// or `\A` outside any multi-line flag), so the search tries no other start.
    let anchoredAtStart: Bool

    /// Compiles `node` with `groupCount` groups (the whole match included).
    init(_ node: RE2Node, groupCount: Int) throws(RE2SyntaxError) {
        slotCount = groupCount * 2
        anchoredAtStart = Self.beginsWithTextStart(node)
        var compiler = Compiler()
        compiler.emit(.save(0))
        try compiler.compile(node)
        compiler.emit(.save(1))
        compiler.emit(.match)
        instructions = compiler.instructions
        if compiler.tooLarge { throw RE2SyntaxError(code: "expression too large", expression: "") }
    }

    private static func beginsWithTextStart(_ node: RE2Node) -> Bool {
        var node = node
        while true {
            switch node {
            case .assertion(.beginText): return true
            case .concatenation(let items): guard let first = items.first else { return false }; node = first
            case .capture(_, let inner): node = inner
            default: return false
            }
        }
    }

    private struct Compiler {
        var instructions: [Instruction] = []
        var tooLarge = false

        @discardableResult
        mutating func emit(_ instruction: Instruction) -> Int {
            if instructions.count >= RE2Program.maximumInstructions {
                tooLarge = true
                return instructions.count - 1
            }
            instructions.append(instruction)
            return instructions.count - 1
        }

        mutating func patch(_ index: Int, _ instruction: Instruction) {
            if index < instructions.count, !tooLarge { instructions[index] = instruction }
        }

        var next: Int { instructions.count }

        // Recursion follows the tree's height, which the parser bounds (RE2Parser.maximumHeight).
        mutating func compile(_ node: RE2Node) throws(RE2SyntaxError) {
            if tooLarge { return }
            switch node {
            case .emptyMatch: break
            case .literal(let value): emit(.scalar(value))
            case .characterClass(let set):
                if let single = set.singleScalar { emit(.scalar(single)) } else { emit(.characterClass(set)) }
            case .anyCharacterNotNewline: emit(.anyCharacterNotNewline)
            case .anyCharacter: emit(.anyCharacter)
            case .assertion(let assertion): emit(.assertion(assertion))
            case .capture(let index, let inner):
                emit(.save(index * 2))
                try compile(inner)
                emit(.save(index * 2 + 1))
            case .concatenation(let items):
                for item in items { try compile(item) }
            case .alternation(let items):
                var jumps: [Int] = []
                for (offset, item) in items.enumerated() {
                    if offset == items.count - 1 {
                        try compile(item)
                    } else {
                        let split = emit(.split(0, 0))
                        try compile(item)
                        jumps.append(emit(.jump(0)))
                        patch(split, .split(split + 1, next))
                    }
                }
                for jump in jumps { patch(jump, .jump(next)) }
            case .repetition(let inner, let minimum, let maximum, let greedy):
                try repetition(inner, minimum: minimum, maximum: maximum, greedy: greedy)
            }
        }

        /// Go's simplification of counted repetition: x{n,m} is n copies of x followed by m-n
        /// nested optional copies (`xx(x(x)?)?`), x{n,} is n-1 copies then `x+`; and x* over an
        /// x that can match empty is `(x+)?`, which keeps Perl's preference order (Go issue 46123).
        mutating func repetition(_ inner: RE2Node, minimum: Int, maximum: Int, greedy: Bool) throws(RE2SyntaxError) {
            if maximum == -1 {
                if minimum == 0 {
                    if Self.canMatchEmpty(inner) {
                        try optional(greedy: greedy) { (compiler: inout Compiler) throws(RE2SyntaxError) in
                            try compiler.plus(inner, greedy: greedy)
                        }
                    } else {
                        let split = emit(.split(0, 0))
                        try compile(inner)
                        emit(.jump(split))
                        patch(split, greedy ? .split(split + 1, next) : .split(next, split + 1))
                    }
                    return
                }
                for _ in 0..<(minimum - 1) { try compile(inner) }
                try plus(inner, greedy: greedy)
                return
            }
            for _ in 0..<minimum { try compile(inner) }
            // The optional copies nest: skipping one skips all that follow, so every skip jumps
            // to the end.
            var splits: [Int] = []
            for _ in 0..<(maximum - minimum) {
                splits.append(emit(.split(0, 0)))
                try compile(inner)
                if tooLarge { return }
            }
            for split in splits { patch(split, greedy ? .split(split + 1, next) : .split(next, split + 1)) }
        }

        mutating func plus(_ inner: RE2Node, greedy: Bool) throws(RE2SyntaxError) {
            let start = next
            try compile(inner)
            let split = emit(.split(0, 0))
            patch(split, greedy ? .split(start, split + 1) : .split(split + 1, start))
        }

        mutating func optional(greedy: Bool, _ body: (inout Compiler) throws(RE2SyntaxError) -> Void) throws(RE2SyntaxError) {
            let split = emit(.split(0, 0))
            try body(&self)
            patch(split, greedy ? .split(split + 1, next) : .split(next, split + 1))
        }

        /// Whether the node can match the empty string (Go's `nullable` of a compiled fragment).
        static func canMatchEmpty(_ node: RE2Node) -> Bool {
            switch node {
            case .emptyMatch, .assertion: return true
            case .literal, .characterClass, .anyCharacter, .anyCharacterNotNewline: return false
            case .capture(_, let inner): return canMatchEmpty(inner)
            case .concatenation(let items): return items.allSatisfy(canMatchEmpty)
            case .alternation(let items): return items.contains(where: canMatchEmpty)
            case .repetition(let inner, let minimum, _, _): return minimum == 0 || canMatchEmpty(inner)
            }
        }
    }
}

extension RE2Program {
    /// Runs the program over `input` from `start` (earlier scalars are context for `^` and
    /// `\b`), returning the capture slots of the leftmost-first match as scalar offsets (-1 for
    /// a group that did not take part), or nil. With `slots` false only slots 0 and 1 are kept.
    func execute(_ input: [UInt32], from start: Int, anchored: Bool, slots wantSlots: Bool) -> [Int]? {
        let slotCount = wantSlots ? self.slotCount : 2
        let anchored = anchored || anchoredAtStart
        var runner = Runner(program: self, input: input, slotCount: slotCount)
        return runner.run(from: start, anchored: anchored)
    }

    private struct Thread {
        var pc: Int
        var slots: [Int]
    }

    /// The VM's state for one execution: two thread lists and the generation stamps that keep
    /// each instruction on a list at most once per position.
    private struct Runner {
        let program: RE2Program
        let input: [UInt32]
        let slotCount: Int
        var stamps: [Int]
        var generation = 0
        var stack: [Thread] = []

        init(program: RE2Program, input: [UInt32], slotCount: Int) {
            self.program = program
            self.input = input
            self.slotCount = slotCount
            stamps = Array(repeating: -1, count: program.instructions.count)
        }

        mutating func run(from start: Int, anchored: Bool) -> [Int]? {
            var current: [Thread] = []
            var following: [Thread] = []
            var matched: [Int]? = nil
            var position = start
            generation += 1
            while true {
                if matched == nil && (!anchored || position == start) {
                    add(to: &current, Thread(pc: 0, slots: Array(repeating: -1, count: slotCount)), at: position)
                }
                // With no thread left, only a search that may still start later goes on.
                if current.isEmpty && (matched != nil || anchored) { break }
                generation += 1
                following.removeAll(keepingCapacity: true)
                let scalar: UInt32? = position < input.count ? input[position] : nil
                threads: for thread in current {
                    let consumes: Bool
                    switch program.instructions[thread.pc] {
                    case .match:
                        var slots = thread.slots
                        slots[1] = position
                        matched = slots
                        // Lower-priority threads can no longer win.
                        break threads
                    case .scalar(let value): consumes = scalar == value
                    case .characterClass(let set): consumes = scalar.map(set.contains) ?? false
                    case .anyCharacterNotNewline: consumes = scalar != nil && scalar != 0x0A
                    case .anyCharacter: consumes = scalar != nil
                    default: consumes = false
                    }
                    if consumes { add(to: &following, Thread(pc: thread.pc + 1, slots: thread.slots), at: position + 1) }
                }
                if position >= input.count { break }
                swap(&current, &following)
                position += 1
            }
            return matched
        }

        /// Follows the thread's empty transitions depth-first in priority order, adding every
        /// instruction it reaches that consumes a scalar or matches.
        mutating func add(to list: inout [Thread], _ thread: Thread, at position: Int) {
            stack.append(thread)
            while var thread = stack.popLast() {
                while true {
                    if stamps[thread.pc] == generation { break }
                    stamps[thread.pc] = generation
                    switch program.instructions[thread.pc] {
                    case .jump(let target):
                        thread.pc = target
                        continue
                    case .split(let first, let second):
                        stack.append(Thread(pc: second, slots: thread.slots))
                        thread.pc = first
                        continue
                    case .save(let slot):
                        if slot < slotCount { thread.slots[slot] = position }
                        thread.pc += 1
                        continue
                    case .assertion(let assertion):
                        guard holds(assertion, at: position) else { break }
                        thread.pc += 1
                        continue
                    default:
                        list.append(thread)
                    }
                    break
                }
            }
        }

        func holds(_ assertion: RE2Assertion, at position: Int) -> Bool {
            let before: UInt32? = position > 0 ? input[position - 1] : nil
            let after: UInt32? = position < input.count ? input[position] : nil
            switch assertion {
            case .beginText: return position == 0
            case .endText: return position == input.count
            case .beginLine: return before == nil || before == 0x0A
            case .endLine: return after == nil || after == 0x0A
            case .wordBoundary: return Self.isWord(before) != Self.isWord(after)
            case .notWordBoundary: return Self.isWord(before) == Self.isWord(after)
            }
        }

        /// RE2's `\b` looks at ASCII word characters only.
        static func isWord(_ value: UInt32?) -> Bool {
            guard let value else { return false }
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || value == 0x5F
        }
    }
}
