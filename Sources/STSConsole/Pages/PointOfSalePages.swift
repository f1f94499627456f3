import STSAuditLog
import STSStation

/// The point-of-sale networks page: the clients that vend through the Electrum interface, and
/// the fault reports their customers made, for supervisors to act on.
public enum PointOfSalePages {
    /// The page: clients (never a secret), open fault reports, and for supervisors a resolve
    /// form on each report.
    public static func page(_ v: ConsoleViewer, clients: [POSClient], faults: [POSFault], error: String?, notice: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("pos.title")) { h in
            Layout.notice(&h, error)
            Layout.notice(&h, notice, kind: "ok")
            h.element("h2", t("pos.clients"))
            h.raw("<table class=\"list\" id=\"pos-clients\"><thead><tr>")
            for k in ["pos.client", "pos.state", "pos.currency", "pos.limits", "pos.reversals", "pos.addresses"] { h.element("th", t(k)) }
            h.raw("</tr></thead><tbody>")
            for c in clients {
                h.raw("<tr data-client=\"\(HTML.escape(c.name))\">")
                h.element("td", c.name)
                h.element("td", t(c.enabled ? "pos.enabled" : "pos.disabled"))
                h.element("td", c.currency)
                h.element("td", "\(c.minimum) – \(c.maximum)")
                h.element("td", t(c.reversals ? "pos.reversals-allowed" : "pos.reversals-declined"))
                h.element("td", c.allowedSources.isEmpty ? t("pos.any-address") : c.allowedSources.map(\.description).joined(separator: ", "))
                h.raw("</tr>")
            }
            h.raw("</tbody></table>")
            h.element("p", t("pos.add-hint"), class: "hint")
            h.element("h2", t("pos.faults"))
            guard !faults.isEmpty else { h.element("p", t("pos.no-faults"), class: "hint"); return }
            h.raw("<table class=\"list\" id=\"pos-faults\"><thead><tr>")
            for k in ["pos.reference", "pos.reported", "pos.meter", "pos.fault", "pos.customer", "pos.contact", "pos.description", "pos.client", ""] {
                h.element("th", k.isEmpty ? "" : t(k))
            }
            h.raw("</tr></thead><tbody>")
            for f in faults {
                h.raw("<tr data-fault=\"\(f.reference)\">")
                h.element("td", "\(f.reference)"); h.element("td", AuditTime.format(f.reportedAt)); h.element("td", f.meter)
                h.element("td", f.faultType); h.element("td", f.customer); h.element("td", f.contact); h.element("td", f.description)
                h.element("td", f.client)
                h.raw("<td>")
                if v.isSupervisor, f.resolvedAt == nil {
                    h.append(Layout.form(v, action: "/pos/faults/\(f.reference)/resolve", class: "inline") { form in
                        form.field(t("pos.note"), name: "note", extra: "maxlength=\"500\" size=\"8\"")
                        Layout.button(&form, t("pos.resolve"))
                    })
                }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
    }
}
