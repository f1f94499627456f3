import Foundation
import STSServer
import STSSupport

/// Checks requests and responses against the served OpenAPI 3.1 document: the operation must
/// exist for the method and path, the status must be one it lists, and JSON bodies must match
/// their schemas (the JSON Schema keywords the document uses: type, properties, required,
/// additionalProperties, items, enum, const, pattern, min/max length, items and values, $ref).
/// Every operation exercised is remembered, so a test can require that all were.
final class OpenAPIValidator: @unchecked Sendable {
    let document: JSON
    private(set) var exercised: Set<String> = []
    private let lock = NSLock()

    init() throws {
        document = try JSON.parse(String(decoding: OpenAPIDocument.bytes, as: UTF8.self))
    }

    /// Every "METHOD /path" the document describes.
    var operations: Set<String> {
        var out: Set<String> = []
        for (path, item) in document["paths"]?.object ?? JSONObject() {
            for (method, _) in item.object ?? JSONObject() { out.insert("\(method.uppercased()) \(path)") }
        }
        return out
    }

    /// The problems with one exchange (empty: it matches the document).
    func check(method: String, path: String, requestBody: [UInt8]?, status: Int, contentType: String?, responseBody: [UInt8]) -> [String] {
        let bare = String(path.split(separator: "?", maxSplits: 1).first ?? "")
        guard let (template, item) = match(bare), let op = item[method.lowercased()] else { return ["\(method) \(bare) is not in the OpenAPI document"] }
        lock.lock(); exercised.insert("\(method.uppercased()) \(template)"); lock.unlock()
        var problems: [String] = []
        if let requestBody, !requestBody.isEmpty, let schema = op["requestBody"]?["content"]?["application/json"]?["schema"] {
            if let json = try? JSON.parse(String(decoding: requestBody, as: UTF8.self)) {
                // Only requests the server accepted must match (tests also send bad ones on purpose).
                if status < 400 { problems += validate(json, schema, at: "request") }
            }
        }
        guard let response = op["responses"]?["\(status)"] else { return problems + ["\(method) \(template): status \(status) is not documented"] }
        let type = (contentType ?? "").split(separator: ";").first.map(String.init) ?? ""
        if let content = response["content"] {
            guard let media = content[type] else { return problems + ["\(method) \(template) \(status): content type \(type) is not documented"] }
            if type == "application/json", let schema = media["schema"] {
                guard let json = try? JSON.parse(String(decoding: responseBody, as: UTF8.self)) else { return problems + ["\(method) \(template) \(status): body is not JSON"] }
                problems += validate(json, schema, at: "response")
            }
        } else if !responseBody.isEmpty {
            problems.append("\(method) \(template) \(status): a body where the document says none")
        }
        return problems.map { "\(method) \(template) \(status): \($0)" }
    }

    func match(_ path: String) -> (String, JSON)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for (template, item) in document["paths"]?.object ?? JSONObject() {
            let t = template.split(separator: "/", omittingEmptySubsequences: false)
            guard t.count == parts.count else { continue }
            if zip(t, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) { return (template, item) }
        }
        return nil
    }

    private func resolve(_ schema: JSON) -> JSON {
        guard let ref = schema["$ref"]?.string, ref.hasPrefix("#/components/schemas/") else { return schema }
        return resolve(document["components"]?["schemas"]?[String(ref.dropFirst(21))] ?? .null)
    }

    func validate(_ value: JSON, _ raw: JSON, at where_: String) -> [String] {
        let schema = resolve(raw)
        var problems: [String] = []
        if let types = schema["type"] {
            let allowed = types.array?.compactMap(\.string) ?? [types.string ?? ""]
            guard allowed.contains(where: { Self.has(value, type: $0) }) else { return ["\(where_): \(Self.describe(value)) is not \(allowed.joined(separator: "|"))"] }
        }
        if let e = schema["enum"]?.array, !e.contains(value) { problems.append("\(where_): \(Self.describe(value)) is not one of the enum") }
        if let c = schema["const"], c != value { problems.append("\(where_): \(Self.describe(value)) is not the const") }
        if case let .string(s) = value {
            if let p = schema["pattern"]?.string, s.range(of: p, options: .regularExpression) == nil { problems.append("\(where_): \"\(s)\" does not match \(p)") }
            if let n = schema["maxLength"]?.integer, s.count > n { problems.append("\(where_): longer than \(n)") }
            if let n = schema["minLength"]?.integer, s.count < n { problems.append("\(where_): shorter than \(n)") }
        }
        if case let .integer(i) = value {
            if let n = schema["minimum"]?.integer, i < n { problems.append("\(where_): \(i) < \(n)") }
            if let n = schema["maximum"]?.integer, i > n { problems.append("\(where_): \(i) > \(n)") }
        }
        if case let .object(o) = value {
            let props = schema["properties"]?.object ?? JSONObject()
            for r in schema["required"]?.array?.compactMap(\.string) ?? [] where o[r] == nil { problems.append("\(where_): missing \(r)") }
            for (k, v) in o {
                if let p = props[k] { problems += validate(v, p, at: "\(where_).\(k)") } else if let extra = schema["additionalProperties"] {
                    if extra == .bool(false) { problems.append("\(where_): member \(k) is not in the schema") } else if extra.object != nil {
                        problems += validate(v, extra, at: "\(where_).\(k)")
                    }
                }
            }
        }
        if case let .array(a) = value, let items = schema["items"] {
            for (i, v) in a.enumerated() { problems += validate(v, items, at: "\(where_)[\(i)]") }
        }
        return problems
    }

    static func has(_ v: JSON, type: String) -> Bool {
        switch (type, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("integer", .integer): true
        case ("number", .integer), ("number", .number): true
        default: false
        }
    }

    static func describe(_ v: JSON) -> String { String("\(v)".prefix(80)) }
}
