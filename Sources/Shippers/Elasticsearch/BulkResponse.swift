import Foundation

/// Why Elasticsearch refused something: the status and the `error.type` and `error.reason` it gave.
struct BulkError: Sendable, Equatable {
    /// The HTTP (or item) status.
    var status: Int
    /// `error.type`, e.g. `mapper_parsing_exception`.
    var type: String
    /// `error.reason`, e.g. `failed to parse field [process.pid] of type [long] …`.
    var reason: String

    /// The error an Elasticsearch error body describes (`{"error":{"type":…,"reason":…},"status":…}`),
    /// or the start of the body itself when it is not one.
    init(status: Int, body: [UInt8]) {
        self.status = status
        if let response = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)), let error = response.error {
            type = error.type ?? "http_\(status)"
            reason = error.reason ?? "no reason given"
        } else {
            type = "http_\(status)"
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            reason = text.isEmpty ? "empty response body" : text
        }
    }

    /// An error with the given parts.
    init(status: Int, type: String, reason: String) {
        self.status = status
        self.type = type
        self.reason = reason
    }
}

/// What Elasticsearch did with one item of a bulk request.
enum ItemResult: Sendable, Equatable {
    /// 2xx: created.
    case indexed
    /// 409 on `create`: an earlier attempt already created it, so it counts as delivered.
    case duplicate
    /// 429 or 5xx: try this item again later.
    case retry(status: Int)
    /// Any other status: refused for good (mapping errors, privileges), to be dead-lettered.
    case rejected(BulkError)

    /// The result an item status (and its error, if any) stands for.
    init(status: Int, error: BulkError?) {
        switch status {
        case 200..<300: self = .indexed
        case 409: self = .duplicate
        case 429, 500...: self = .retry(status: status)
        default: self = .rejected(error ?? BulkError(status: status, type: "http_\(status)", reason: "no reason given"))
        }
    }
}

/// A `_bulk` response body that cannot be trusted (not JSON, truncated, or items that do not line
/// up with the request); the whole request is sent again.
struct BulkResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the body.
    let description: String
}

/// A parsed 200 answer to `POST /_bulk?filter_path=errors,items.*.error,items.*.status`: one
/// result per request item, by position.
struct BulkResponse: Sendable, Equatable {
    /// The results, in request order.
    let results: [ItemResult]

    /// Parses `body`, the answer to a request of `itemCount` items. With `filter_path` a response
    /// without failures may be just `{"errors":false}`: every item was indexed.
    init(parsing body: [UInt8], itemCount: Int) throws(BulkResponseError) {
        let decoded: ResponseBody
        do {
            decoded = try JSONDecoder().decode(ResponseBody.self, from: Data(body))
        } catch {
            throw BulkResponseError(description: "the bulk response is not the expected JSON (\(body.count) bytes)")
        }
        guard let items = decoded.items else {
            guard !decoded.errors else {
                throw BulkResponseError(description: "the bulk response reports errors but lists no items")
            }
            results = Array(repeating: .indexed, count: itemCount)
            return
        }
        guard items.count == itemCount else {
            throw BulkResponseError(description: "the bulk response lists \(items.count) items for \(itemCount) documents")
        }
        var results: [ItemResult] = []
        results.reserveCapacity(itemCount)
        for item in items {
            guard item.count == 1, let outcome = item.values.first, let status = outcome.status else {
                throw BulkResponseError(description: "a bulk response item has no status")
            }
            let error = outcome.error.map {
                BulkError(status: status, type: $0.type ?? "http_\(status)", reason: $0.reason ?? "no reason given")
            }
            results.append(ItemResult(status: status, error: error))
        }
        self.results = results
    }
}

private struct ResponseBody: Decodable {
    var errors: Bool
    var items: [[String: ItemBody]]?
}

private struct ItemBody: Decodable {
    var status: Int?
    var error: ErrorDetail?
}

private struct ErrorBody: Decodable {
    var error: ErrorDetail?
}

/// `error` is an object in every supported version, a bare string in some old ones and proxies.
private struct ErrorDetail: Decodable {
    var type: String?
    var reason: String?

    private enum CodingKeys: String, CodingKey { case type, reason }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            type = nil
            reason = text
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
    }
}
