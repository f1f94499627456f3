import Foundation

/// The public STS vectors in `Fixtures/sts-public-vectors.json`, loaded once for table tests.
public struct PublicVector: Sendable, CustomStringConvertible {
    public let id: String
    public let kind: String
    public let source: String
    public let inputs: [String: JSONValue]
    public let expected: [String: JSONValue]
    public let intermediate: [String: JSONValue]
    public var description: String { id }
}

/// A JSON value without Foundation's bridging surprises.
public enum JSONValue: Sendable, Equatable {
    case string(String), number(Double), int(Int64), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(_ any: Any) {
        switch any {
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c": self = .bool(n.boolValue)
            case "d", "f": self = .number(n.doubleValue)
            case "Q": self = .number(n.doubleValue)  // beyond Int64: only in informational fields
            default: self = .int(n.int64Value)
            }
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map(JSONValue.init))
        case let o as [String: Any]: self = .object(o.mapValues(JSONValue.init))
        default: self = .null
        }
    }

    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var int: Int? {
        switch self {
        case let .int(i): return Int(i)
        case let .number(d): return Int(exactly: d)
        default: return nil
        }
    }
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var array: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var object: [String: JSONValue]? { if case let .object(o) = self { return o } else { return nil } }
}

public enum PublicVectors {
    /// The repository root, found from this file's path.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every vector in the fixture file.
    public static let all: [PublicVector] = {
        let url = root.appendingPathComponent("Fixtures/sts-public-vectors.json")
        let data = try! Data(contentsOf: url)
        let top = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let vectors = top["vectors"] as! [[String: Any]]
        return vectors.map { v in
            PublicVector(
                id: v["id"] as! String, kind: v["kind"] as! String, source: v["source"] as! String,
                inputs: (v["inputs"] as? [String: Any] ?? [:]).mapValues(JSONValue.init),
                expected: (v["expected"] as? [String: Any] ?? [:]).mapValues(JSONValue.init),
                intermediate: (v["intermediate"] as? [String: Any] ?? [:]).mapValues(JSONValue.init))
        }
    }()

    /// The vectors of one kind (`token`, `key_change`, `decode`, `des_kat`, …).
    public static func kind(_ kind: String) -> [PublicVector] { all.filter { $0.kind == kind } }
}
