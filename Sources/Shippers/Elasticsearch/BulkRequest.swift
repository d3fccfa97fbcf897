import LookoutSupport
import Shipping

/// One document placed in its index, with its `create` action line ready.
struct BulkItem: Sendable, Equatable {
    /// The document.
    var document: BulkDocument
    /// The `_index` it goes to.
    var index: String
    /// `{"create":{"_index":"…","_id":"…"}}`, without the line break.
    var actionLine: [UInt8]

    /// Places `document` in `index`.
    init(document: BulkDocument, index: String) {
        self.document = document
        self.index = index
        var line = Array(#"{"create":{"_index":"#.utf8)
        JSONText.appendString(index, to: &line)
        line += Array(#","_id":"#.utf8)
        JSONText.appendString(document.id, to: &line)
        line += Array("}}".utf8)
        actionLine = line
    }

    /// The bytes this item adds to a bulk body: action line, source, two line breaks.
    var byteCount: Int { actionLine.count + document.source.count + 2 }
}

/// One `_bulk` request: the items it carries, in order, and its NDJSON body, whose response items
/// line up with `items` by position.
struct BulkRequest: Sendable, Equatable {
    /// The items, in body order.
    let items: [BulkItem]
    /// The uncompressed body; every line, the last included, ends with `\n` (the bulk API rejects
    /// a body without the final line break).
    let body: [UInt8]

    /// Builds the body for `items`.
    init(items: [BulkItem]) {
        precondition(!items.isEmpty, "a bulk request needs at least one item")
        self.items = items
        var body: [UInt8] = []
        body.reserveCapacity(items.reduce(0) { $0 + $1.byteCount })
        for item in items {
            body += item.actionLine
            body.append(UInt8(ascii: "\n"))
            body += item.document.source
            body.append(UInt8(ascii: "\n"))
        }
        self.body = body
    }

    /// Groups `items`, in order, into requests whose bodies stay within `maxBytes`; an item larger
    /// than `maxBytes` on its own gets a request of its own (the server's 413 then decides).
    static func requests(for items: [BulkItem], maxBytes: Int) -> [BulkRequest] {
        var requests: [BulkRequest] = []
        var current: [BulkItem] = []
        var currentBytes = 0
        for item in items {
            if !current.isEmpty, currentBytes + item.byteCount > maxBytes {
                requests.append(BulkRequest(items: current))
                current = []
                currentBytes = 0
            }
            current.append(item)
            currentBytes += item.byteCount
        }
        if !current.isEmpty { requests.append(BulkRequest(items: current)) }
        return requests
    }

    /// The request cut into two, for resending after a 413; needs at least two items.
    func halves() -> (BulkRequest, BulkRequest) {
        precondition(items.count > 1, "a single-item request cannot be split")
        let middle = items.count / 2
        return (BulkRequest(items: Array(items[..<middle])), BulkRequest(items: Array(items[middle...])))
    }
}

