import STSAuditLog
import STSStation
import STSTariff

/// A customer's meter: balance and history, tenant change, reprint, reversal and engineering
/// tokens for supervisors, and the dispute statement.
public enum MeterPages {
    /// The meter page.
    public static func meter(_ v: ConsoleViewer, _ o: MeterOverview, error: String?, notice: String?, connected: ConnectedMeterView? = nil) -> HTML {
        let t = v.t
        return Layout.page(v, title: "\(o.meter.customer) · \(o.meter.pan)") { h in
            Layout.notice(&h, error)
            Layout.notice(&h, notice, kind: "ok")
            if !o.meter.address.isEmpty { h.element("p", t("meter.address") + ": " + o.meter.address, class: "meterline") }
            h.raw("<p class=\"actions\">")
            h.link("/sell/\(o.meter.pan)", t("sell.sell"), class: "button"); h.raw(" ")
            h.link("/meters/\(o.meter.pan)/statement", t("statement.title"), class: "button")
            h.raw("</p>")
            AccountBox.render(&h, t, o.position)
            if let connected { ConnectedMeterPages.section(&h, v, connected) }
            h.element("h2", t("meter.history"))
            h.raw("<table class=\"list\"><thead><tr>")
            for k in ["receipt.sale", "receipt.time", "meter.kind-of-sale", "receipt.paid", "receipt.units", "TID", "receipt.operator", ""] { h.element("th", k == "TID" || k.isEmpty ? k : t(k)) }
            h.raw("</tr></thead><tbody>")
            for s in o.sales {
                h.raw("<tr\(s.reversed ? " class=\"reversed\"" : "")><td>"); h.link("/receipts/\(s.sale)", "\(s.sale)"); h.raw("</td>")
                h.element("td", AuditTime.format(s.time)); h.element("td", t("kind." + s.kind) + (s.reversed ? " · " + t("meter.reversed") : ""))
                h.element("td", EnergyText.money(s.moneyCents), class: "num"); h.element("td", EnergyText.kWh(s.unitsTenths), class: "num")
                h.element("td", s.tid.map { "\($0)" } ?? ""); h.element("td", s.operatorName + " · " + s.channel)
                h.raw("<td>"); h.link("/receipts/\(s.sale)", t("meter.reprint"))
                if v.isSupervisor, s.kind == "credit", !s.reversed {
                    h.append(Layout.form(v, action: "/sales/\(s.sale)/reverse", class: "inline reverse") { f in
                        f.hidden("pan", o.meter.pan)
                        f.field(t("reverse.reason"), name: "reason", required: true)
                        f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                        f.raw("<label><input type=\"checkbox\" name=\"confirm_not_entered\" value=\"yes\" required> "); f.text(t("reverse.confirm")); f.raw("</label>")
                        Layout.button(&f, t("reverse.submit"))
                    })
                }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
            h.element("h2", t("tenant.title"))
            h.append(Layout.form(v, action: "/meters/\(o.meter.pan)/tenant", class: "inline") { f in
                f.field(t("tenant.customer"), name: "customer", required: true)
                f.field(t("tenant.arrears"), name: "arrears", extra: "inputmode=\"decimal\" placeholder=\"0.00\"")
                Layout.button(&f, t("tenant.submit"))
            })
            if v.isSupervisor {
                h.element("h2", t("engineering.title"))
                h.append(Layout.form(v, action: "/meters/\(o.meter.pan)/engineering", class: "inline") { f in
                    f.raw("<label>"); f.text(t("engineering.function")); f.raw(" <select name=\"function\">")
                    for fn in ["clear-tamper", "clear-credit", "max-power"] { f.raw("<option value=\"\(fn)\">"); f.text(t("engineering." + fn)); f.raw("</option>") }
                    f.raw("</select></label>")
                    f.field(t("engineering.value"), name: "value", extra: "inputmode=\"numeric\"")
                    f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                    Layout.button(&f, t("engineering.submit"))
                })
            }
        }
    }

    /// The dispute statement: every sale with its itemised receipt, token, TID and the log
    /// entry hash that proves it; printable; with a button that verifies the whole log now.
    public static func statement(_ v: ConsoleViewer, _ s: CustomerStatement) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("statement.title") + " · " + s.overview.meter.customer, bodyClass: "statement") { h in
            h.raw("<p>"); h.text(t("statement.intro", s.overview.meter.pan)); h.raw("</p>")
            h.append(Layout.form(v, action: "/audit/verify", class: "noprint inline") { f in Layout.button(&f, t("statement.verify")) })
            AccountBox.render(&h, t, s.overview.position)
            for line in s.lines {
                h.raw("<article class=\"statement-line\">")
                h.append(ReceiptPage.slip(t, line.receipt))
                h.raw("<p class=\"proof\">"); h.text(t("statement.proof", "\(line.logSeq)")); h.raw(" <code>"); h.text(line.logHash); h.raw("</code>")
                if line.sale.reversed { h.raw(" · "); h.text(t("meter.reversed")) }
                h.raw("</p></article>")
            }
            if s.lines.isEmpty { h.element("p", t("sell.none")) }
        }
    }

    /// The result of verifying the exported log on the spot.
    public static func verification(_ v: ConsoleViewer, _ r: AuditReport) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("verify.title")) { h in
            Layout.notice(&h, r.isClean ? t("verify.clean", "\(r.entries)", "\(r.checkpoints)") : t("verify.problems", "\(r.problemCount)"),
                          kind: r.isClean ? "ok" : "error")
            h.raw("<dl><dt>"); h.text(t("verify.head")); h.raw("</dt><dd><code>"); h.text(r.head); h.raw("</code></dd>")
            h.raw("<dt>"); h.text(t("verify.sales")); h.raw("</dt><dd>"); h.text("\(r.sales) · \(EnergyText.money(r.paidCents))"); h.raw("</dd></dl>")
            if !r.problems.isEmpty {
                h.raw("<ul class=\"problems\">")
                for p in r.problems.prefix(100) { h.raw("<li>"); h.text("line \(p.line) [\(p.code)] \(p.message)"); h.raw("</li>") }
                h.raw("</ul>")
            }
        }
    }
}
