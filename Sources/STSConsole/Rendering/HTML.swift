import STSSupport

/// HTML text built by appending: every outside value goes through ``HTML/text(_:)`` or
/// ``HTML/attribute(_:)``, which escape it; markup comes only from literals in this module.
public struct HTML: Sendable {
    /// The document so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty document.
    public init() { bytes.reserveCapacity(8_192) }

    /// Appends trusted markup (literals of this module only).
    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Appends text, escaped for element content.
    public mutating func text(_ s: String) { bytes.append(contentsOf: Self.escape(s).utf8) }

    /// Appends another fragment.
    public mutating func append(_ other: HTML) { bytes.append(contentsOf: other.bytes) }

    /// `s` escaped for element content and quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline are dropped: they have no business on a page.
                if c.value < 32, c != "\t", c != "\n" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// An element with escaped text content: `<tag class="…">text</tag>`.
    public mutating func element(_ tag: String, _ content: String, class cls: String? = nil) {
        raw("<\(tag)\(cls.map { " class=\"\(Self.escape($0))\"" } ?? "")>")
        text(content)
        raw("</\(tag)>")
    }

    /// A hidden form field.
    public mutating func hidden(_ name: String, _ value: String) {
        raw("<input type=\"hidden\" name=\"\(Self.escape(name))\" value=\"\(Self.escape(value))\">")
    }

    /// A labelled input.
    public mutating func field(_ label: String, name: String, type: String = "text", value: String = "", required: Bool = false,
                               extra: String = "") {
        raw("<label>")
        text(label)
        raw(" <input type=\"\(type)\" name=\"\(Self.escape(name))\" value=\"\(Self.escape(value))\"\(required ? " required" : "")\(extra.isEmpty ? "" : " " + extra)></label>")
    }

    /// A link.
    public mutating func link(_ href: String, _ label: String, class cls: String? = nil) {
        raw("<a href=\"\(Self.escape(href))\"\(cls.map { " class=\"\(Self.escape($0))\"" } ?? "")>")
        text(label)
        raw("</a>")
    }

    /// Percent-encodes a path segment or query value.
    public static func urlComponent(_ s: String) -> String { FormFields.encode(s) }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
