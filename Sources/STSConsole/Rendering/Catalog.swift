import Foundation
import STSSupport

/// The console's words in one language, from `Catalogs/LANG.json` (key → text). Strings live in
/// the catalogs, not in code; a key missing from a catalog falls back to English, then to the key.
public struct Catalog: Sendable {
    /// The languages the console speaks: English and Simplified Chinese.
    public static let languages = ["en", "zh-Hans"]
    /// The language of this catalog.
    public let language: String
    let strings: [String: String]
    let fallback: [String: String]

    /// The catalog for `language` ("en" or "zh-Hans"; anything else: English).
    public static func named(_ language: String) -> Catalog { language == "zh-Hans" ? chinese : english }

    /// Picks the language: an explicit choice (`?lang=` or the `lang` cookie) first, then the
    /// browser's `Accept-Language` (any `zh` means Simplified Chinese), else English.
    public static func choose(explicit: String?, acceptLanguage: String?) -> Catalog {
        if let e = explicit, languages.contains(e) { return named(e) }
        for part in (acceptLanguage ?? "").split(separator: ",") {
            let tag = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if tag.hasPrefix("zh") { return chinese }
            if tag.hasPrefix("en") { return english }
        }
        return english
    }

    static let english = Catalog(language: "en", strings: load("en"), fallback: [:])
    static let chinese = Catalog(language: "zh-Hans", strings: load("zh-Hans"), fallback: load("en"))

    static func load(_ name: String) -> [String: String] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Catalogs"),
              let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8),
              let object = (try? JSON.parse(text))?.object else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in object { if let s = v.string { out[k] = s } }
        return out
    }

    /// The text for `key`, with `{0}`, `{1}`… replaced by `args`.
    public func callAsFunction(_ key: String, _ args: String...) -> String {
        var s = strings[key] ?? fallback[key] ?? key
        for (i, a) in args.enumerated() { s = s.replacingOccurrences(of: "{\(i)}", with: a) }
        return s
    }

    /// Every key of this catalog (tests check both catalogs have the same keys).
    public var keys: Set<String> { Set(strings.keys) }
}
