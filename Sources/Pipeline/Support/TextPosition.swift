// Positions in text as people count them, for error messages that name a line and a column.

/// The line and column (from 1; columns count UTF-8 characters, not bytes) of byte `offset`.
package func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1
    var lineStart = 0
    for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
        line += 1
        lineStart = index + 1
    }
    let column = 1 + bytes[lineStart..<min(offset, bytes.count)].count { $0 & 0xC0 != 0x80 }
    return (line, column)
}
