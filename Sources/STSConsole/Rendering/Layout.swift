import STSStation

/// Who is looking at a page, in which language, and the CSRF token their forms carry.
public struct ConsoleViewer: Sendable {
    /// The words of the page.
    public var t: Catalog
    /// The logged-in user, nil on the login page.
    public var user: String?
    /// Their role.
    public var role: Role?
    /// The session's CSRF token, put in every form.
    public var csrf: String
    /// The page's own path (the language switch links back to it).
    public var path: String

    /// A viewer.
    public init(t: Catalog, user: String?, role: Role?, csrf: String, path: String) {
        self.t = t
        self.user = user
        self.role = role
        self.csrf = csrf
        self.path = path
    }

    /// Whether the viewer may use supervisor pages.
    public var isSupervisor: Bool { role == .supervisor }
}

/// The page frame: head (stylesheet, no script), navigation, language switch, logout.
public enum Layout {
    /// A whole page around `body`.
    public static func page(_ v: ConsoleViewer, title: String, bodyClass: String = "", _ body: (inout HTML) -> Void) -> HTML {
        var h = HTML()
        h.raw("<!DOCTYPE html><html lang=\"\(v.t.language)\"><head><meta charset=\"utf-8\">")
        h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.raw("<title>"); h.text(title + " · " + v.t("app.name")); h.raw("</title>")
        h.raw("<link rel=\"stylesheet\" href=\"/console.css\"></head><body class=\"\(HTML.escape(bodyClass))\">")
        h.raw("<header class=\"bar\"><span class=\"brand\">"); h.text(v.t("app.name")); h.raw("</span>")
        if let user = v.user {
            h.raw("<nav>")
            h.link("/sell", v.t("nav.sell"))
            h.link("/meters", v.t("nav.meters"))
            h.link("/reports", v.t("nav.reports"))
            h.link("/tariffs", v.t("nav.tariffs"))
            h.link("/keys", v.t("nav.keys"))
            h.link("/campaigns", v.t("nav.campaigns"))
            h.link("/connected", v.t("nav.connected"))
            if v.role != .operator { h.link("/pos", v.t("nav.pos")) }
            if v.role != .operator { h.link("/users", v.t("nav.users")) }
            h.raw("</nav><span class=\"who\">"); h.text(v.t("nav.signed-in", user, v.t("role." + (v.role?.rawValue ?? "")))); h.raw("</span>")
            h.raw("<form method=\"post\" action=\"/logout\" class=\"inline\">"); h.hidden("csrf", v.csrf)
            h.raw("<button type=\"submit\">"); h.text(v.t("nav.logout")); h.raw("</button></form>")
        }
        h.raw("<span class=\"lang\">")
        let sep = v.path.contains("?") ? "&" : "?"
        h.link(v.path + sep + "lang=en", "English", class: v.t.language == "en" ? "current" : nil)
        h.link(v.path + sep + "lang=zh-Hans", "简体中文", class: v.t.language == "zh-Hans" ? "current" : nil)
        h.raw("</span></header><main>")
        h.element("h1", title)
        body(&h)
        h.raw("</main></body></html>")
        return h
    }

    /// A form posting to `action` with the CSRF token.
    public static func form(_ v: ConsoleViewer, action: String, class cls: String = "", _ body: (inout HTML) -> Void) -> HTML {
        var h = HTML()
        h.raw("<form method=\"post\" action=\"\(HTML.escape(action))\" class=\"\(HTML.escape(cls))\">")
        h.hidden("csrf", v.csrf)
        body(&h)
        h.raw("</form>")
        return h
    }

    /// A notice (`ok`) or an error (`error`) box.
    public static func notice(_ h: inout HTML, _ text: String?, kind: String = "error") {
        guard let text, !text.isEmpty else { return }
        h.raw("<p class=\"notice \(kind)\" role=\"\(kind == "error" ? "alert" : "status")\">"); h.text(text); h.raw("</p>")
    }

    /// A submit button.
    public static func button(_ h: inout HTML, _ label: String, name: String? = nil, value: String? = nil) {
        h.raw("<button type=\"submit\"\(name.map { " name=\"\(HTML.escape($0))\"" } ?? "")\(value.map { " value=\"\(HTML.escape($0))\"" } ?? "")>")
        h.text(label)
        h.raw("</button>")
    }
}
