import STSAuditLog
import STSStation
import STSTariff

/// Tariffs, keys, users and key-change campaigns. Changes need a supervisor and, for tariffs,
/// keys and users, a second-factor code in the same form.
public enum SupervisorPages {
    /// A key as the keys page lists it.
    public struct KeyLine: Sendable {
        /// The key's name, its supply group code and key revision number.
        public var name: String, supplyGroup: String, revision: Int
        /// The last minute it issues tokens, and the expiry warning when it is near.
        public var expires: String, warning: String?
        /// A key line.
        public init(name: String, supplyGroup: String, revision: Int, expires: String, warning: String?) {
            self.name = name
            self.supplyGroup = supplyGroup
            self.revision = revision
            self.expires = expires
            self.warning = warning
        }
    }

    /// The tariffs and, for supervisors, the form that sets a new version of one.
    public static func tariffs(_ v: ConsoleViewer, _ all: [(tariff: Tariff, version: Int)], error: String?, notice: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("tariffs.title")) { h in
            Layout.notice(&h, error)
            Layout.notice(&h, notice, kind: "ok")
            h.raw("<table class=\"list\"><thead><tr>")
            for k in ["tariffs.name", "tariffs.version", "tariffs.blocks", "tariffs.fbe", "tariffs.vat", "tariffs.tou"] { h.element("th", t(k)) }
            h.raw("</tr></thead><tbody>")
            for (tariff, version) in all {
                h.raw("<tr>"); h.element("td", tariff.name); h.element("td", "\(version)")
                h.element("td", tariff.blocks.map { b in (b.upToTenths.map { "≤ \(EnergyText.kWh($0)) kWh" } ?? t("tariffs.rest")) + " @ \(b.price)" }.joined(separator: "; "))
                h.element("td", EnergyText.kWh(tariff.freeBasicTenthsPerMonth) + " kWh"); h.element("td", Money(cents: tariff.vatBasisPoints).description + " %")
                h.element("td", tariff.timeOfUse == nil ? "—" : t("tariffs.tou-yes")); h.raw("</tr>")
            }
            h.raw("</tbody></table>")
            guard v.isSupervisor else { h.element("p", t("tariffs.supervisors-only"), class: "hint"); return }
            h.element("h2", t("tariffs.set"))
            h.append(Layout.form(v, action: "/tariffs", class: "stack") { f in
                f.field(t("tariffs.name"), name: "name", required: true)
                f.field(t("tariffs.blocks-input"), name: "blocks", required: true, extra: "placeholder=\"50=1.20, rest=1.80\"")
                f.element("p", t("tariffs.blocks-hint"), class: "hint")
                f.field(t("tariffs.fbe"), name: "fbe", value: "0", extra: "inputmode=\"decimal\"")
                f.field(t("tariffs.vat"), name: "vat", value: "0", extra: "inputmode=\"decimal\"")
                f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                Layout.button(&f, t("tariffs.submit"))
            })
        }
    }

    /// Vending keys with their expiry warnings.
    public static func keys(_ v: ConsoleViewer, _ keys: [KeyLine]) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("keys.title")) { h in
            h.raw("<table class=\"list\"><thead><tr>")
            for k in ["keys.name", "keys.sgc", "keys.krn", "keys.expires", "keys.warning"] { h.element("th", t(k)) }
            h.raw("</tr></thead><tbody>")
            for k in keys {
                h.raw("<tr\(k.warning != nil ? " class=\"warn\"" : "")>")
                h.element("td", k.name); h.element("td", k.supplyGroup); h.element("td", "\(k.revision)"); h.element("td", k.expires); h.element("td", k.warning ?? "—")
                h.raw("</tr>")
            }
            h.raw("</tbody></table>")
            h.element("p", t("keys.import-hint"), class: "hint")
        }
    }

    /// Users, and for supervisors the add/disable/unlock forms. `secret` is a new user's TOTP
    /// secret, shown once.
    public static func users(_ v: ConsoleViewer, _ users: [UserSummary], newUser: (name: String, secret: String)?, error: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("users.title")) { h in
            Layout.notice(&h, error)
            if let n = newUser {
                h.raw("<p class=\"notice ok\">"); h.text(t("users.created", n.name)); h.raw(" <code class=\"secret\">"); h.text(n.secret); h.raw("</code></p>")
            }
            h.raw("<table class=\"list\"><thead><tr>")
            for k in ["users.name", "users.role", "users.state", ""] { h.element("th", k.isEmpty ? "" : t(k)) }
            h.raw("</tr></thead><tbody>")
            for u in users {
                h.raw("<tr>"); h.element("td", u.name); h.element("td", t("role." + u.role.rawValue))
                h.element("td", !u.active ? t("users.disabled") : u.lockedUntil > 0 ? t("users.locked", AuditTime.format(u.lockedUntil)) : t("users.active"))
                h.raw("<td>")
                if v.isSupervisor, u.active, u.name != v.user {
                    h.append(Layout.form(v, action: "/users/\(HTML.urlComponent(u.name))/disable", class: "inline") { f in
                        f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\" size=\"6\"")
                        Layout.button(&f, t("users.disable"))
                    })
                }
                if v.isSupervisor, u.lockedUntil > 0 {
                    h.append(Layout.form(v, action: "/users/\(HTML.urlComponent(u.name))/unlock", class: "inline") { f in Layout.button(&f, t("users.unlock")) })
                }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
            guard v.isSupervisor else { return }
            h.element("h2", t("users.add"))
            h.append(Layout.form(v, action: "/users", class: "stack") { f in
                f.field(t("users.name"), name: "name", required: true)
                f.raw("<label>"); f.text(t("users.role")); f.raw(" <select name=\"role\">")
                for r in Role.allCases { f.raw("<option value=\"\(r.rawValue)\">"); f.text(t("role." + r.rawValue)); f.raw("</option>") }
                f.raw("</select></label>")
                f.field(t("login.password"), name: "password", type: "password", required: true, extra: "autocomplete=\"new-password\" minlength=\"12\"")
                f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                Layout.button(&f, t("users.submit"))
            })
        }
    }

    /// Key-change campaigns with their progress bars.
    public static func campaigns(_ v: ConsoleViewer, _ all: [(name: String, progress: CampaignProgress)], error: String?, notice: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("campaigns.title")) { h in
            Layout.notice(&h, error)
            Layout.notice(&h, notice, kind: "ok")
            for (name, p) in all {
                h.raw("<section class=\"campaign\">"); h.element("h2", name)
                let done = p.issued + p.confirmed
                h.raw("<progress max=\"\(max(p.total, 1))\" value=\"\(done)\"></progress> ")
                h.text(t("campaigns.progress", "\(p.confirmed)", "\(p.issued)", "\(p.pending)", "\(p.total)"))
                if v.isSupervisor, p.pending > 0 {
                    h.append(Layout.form(v, action: "/campaigns/\(HTML.urlComponent(name))/run", class: "inline") { f in
                        f.field(t("campaigns.limit"), name: "limit", value: "100", extra: "inputmode=\"numeric\" size=\"5\"")
                        Layout.button(&f, t("campaigns.run"))
                    })
                }
                h.raw("</section>")
            }
            if all.isEmpty { h.element("p", t("campaigns.none")) }
            guard v.isSupervisor else { return }
            h.element("h2", t("campaigns.start"))
            h.append(Layout.form(v, action: "/campaigns", class: "stack") { f in
                f.field(t("campaigns.name"), name: "name", required: true)
                f.field(t("campaigns.from"), name: "from", required: true)
                f.field(t("campaigns.to"), name: "to", required: true)
                f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                Layout.button(&f, t("campaigns.submit"))
            })
        }
    }

    /// A page that says what went wrong, in the user's words.
    public static func problem(_ v: ConsoleViewer, title: String, message: String, back: String?) -> HTML {
        Layout.page(v, title: title) { h in
            Layout.notice(&h, message)
            if let back { h.raw("<p>"); h.link(back, v.t("common.back")); h.raw("</p>") }
        }
    }
}
