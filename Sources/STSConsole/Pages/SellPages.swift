import STSStation
import STSTariff

/// Logging in, finding a meter, and selling with a preview before confirming.
public enum SellPages {
    /// The login form (fields `user`, `password`, `totp`: the documented automation hooks).
    public static func login(_ v: ConsoleViewer, error: String?) -> HTML {
        Layout.page(v, title: v.t("login.title")) { h in
            Layout.notice(&h, error)
            h.append(Layout.form(v, action: "/login", class: "stack") { f in
                f.field(v.t("login.user"), name: "user", required: true, extra: "autocomplete=\"username\" autofocus")
                f.field(v.t("login.password"), name: "password", type: "password", required: true, extra: "autocomplete=\"current-password\"")
                f.field(v.t("login.totp"), name: "totp", extra: "inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\"")
                f.element("p", v.t("login.totp-hint"), class: "hint")
                Layout.button(&f, v.t("login.submit"))
            })
        }
    }

    /// Find a meter by PAN or customer name.
    public static func search(_ v: ConsoleViewer, query: String, results: [MeterSummary], target: String = "/sell") -> HTML {
        Layout.page(v, title: v.t(target == "/sell" ? "sell.title" : "meters.title")) { h in
            h.raw("<form method=\"get\" action=\"\(target)\" class=\"inline search\">")
            h.field(v.t("sell.find"), name: "query", value: query, extra: "autofocus")
            Layout.button(&h, v.t("sell.search"))
            h.raw("</form>")
            if results.isEmpty { h.element("p", v.t("sell.none")); return }
            h.raw("<table class=\"list\"><thead><tr>")
            for k in ["meter.pan", "meter.customer", "meter.address", "meter.kind", "meter.tariff"] { h.element("th", v.t(k)) }
            h.raw("<th></th></tr></thead><tbody>")
            for m in results {
                h.raw("<tr><td>"); h.link("/meters/\(m.pan)", m.pan); h.raw("</td>")
                h.element("td", m.customer); h.element("td", m.address); h.element("td", v.t("kind." + m.kind.rawValue) + (m.credit == .currency ? " · " + v.t("credit.currency") : ""))
                h.element("td", m.tariff)
                h.raw("<td>"); h.link("/sell/\(m.pan)", v.t("sell.sell"), class: "button"); h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
    }

    /// The sale form for one meter: amount, then a preview of every deduction, then confirm.
    /// `requestID` is fixed when the preview is shown, so a double click sells once.
    public static func form(_ v: ConsoleViewer, _ o: MeterOverview, money: String, units: String, quote: SaleBreakdown?,
                            requestID: String, error: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("sell.for", o.meter.customer)) { h in
            h.raw("<p class=\"meterline\">"); h.text("\(t("meter.pan")) \(o.meter.pan) · \(t("kind." + o.meter.kind.rawValue)) · \(t("meter.tariff")) \(o.meter.tariff)")
            if !o.meter.address.isEmpty { h.text(" · " + o.meter.address) }
            h.raw("</p>")
            AccountBox.render(&h, t, o.position)
            Layout.notice(&h, error)
            h.raw("<form method=\"get\" action=\"/sell/\(o.meter.pan)\" class=\"stack\">")
            h.field(t("sell.money"), name: "money", value: money, extra: "inputmode=\"decimal\" placeholder=\"100.00\"")
            if o.meter.credit == .energy { h.field(t("sell.units"), name: "units", value: units, extra: "inputmode=\"decimal\" placeholder=\"25.5\"") }
            Layout.button(&h, t("sell.preview"))
            h.raw("</form>")
            guard let q = quote else { return }
            h.element("h2", t("sell.preview-title"))
            h.raw("<table class=\"items preview\"><tbody>")
            h.raw("<tr><td>"); h.text(t("receipt.paid")); h.raw("</td><td class=\"num\">"); h.text(q.paid.description); h.raw("</td></tr>")
            if q.carriedIn.cents > 0 { h.raw("<tr><td>"); h.text(t("receipt.carried-in")); h.raw("</td><td class=\"num\">"); h.text(q.carriedIn.description); h.raw("</td></tr>") }
            for d in q.deductions {
                h.raw("<tr><td>"); h.text(t("deduction." + d.kind.rawValue)); h.raw("</td><td class=\"num\">"); h.text("−" + d.amount.description); h.raw("</td></tr>")
            }
            for b in q.blocks {
                h.raw("<tr><td>"); h.text("\(b.block == 0 ? t("receipt.fbe") : t("receipt.block", "\(b.block)")): \(EnergyText.kWh(b.tenths)) kWh @ \(b.price)")
                h.raw("</td><td class=\"num\">"); h.text(b.cost.description); h.raw("</td></tr>")
            }
            h.raw("</tbody></table><p class=\"total\">")
            if let c = q.currency { h.text(t("receipt.currency") + ": " + c.cost.description) } else { h.text(t("receipt.units") + ": " + EnergyText.kWh(q.unitsEncoded) + " kWh") }
            h.text(" · " + t("receipt.carried-out") + ": " + q.carriedOut.description)
            h.raw("</p>")
            h.append(Layout.form(v, action: "/sell", class: "confirm") { f in
                f.hidden("meter", o.meter.pan)
                if !money.isEmpty { f.hidden("money", money) } else { f.hidden("units", units) }
                f.hidden("request_id", requestID)
                Layout.button(&f, o.meter.kind == .card ? t("sell.confirm-card") : t("sell.confirm"))
            })
        }
    }
}

/// An account's figures as a small table.
public enum AccountBox {
    /// Balance, arrears, debt, fixed charges, this month's energy.
    public static func render(_ h: inout HTML, _ t: Catalog, _ p: AccountPosition) {
        h.raw("<dl class=\"account\">")
        for (k, val) in [("account.carried", p.carriedCredit.description), ("account.arrears", p.arrears.description), ("account.debt", p.debt.description),
                         ("account.fixed", p.fixedChargesDue.description), ("account.month", EnergyText.kWh(p.monthPurchasedTenths) + " kWh")] {
            h.raw("<dt>"); h.text(t(k)); h.raw("</dt><dd>"); h.text(val); h.raw("</dd>")
        }
        h.raw("</dl>")
    }
}
