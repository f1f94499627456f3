import STSStation
import STSSupport
import STSTokenFormat

/// The receipt: itemised deductions and blocks, the token in groups of four (its 20 digits in
/// `data-token`, the automation hook), printable on an 80 mm receipt printer or A4.
public enum ReceiptPage {
    /// The receipt page of a sale (new, replayed or reprinted); `a4` prints it on A4 instead of an 80 mm roll.
    public static func render(_ v: ConsoleViewer, _ r: SaleReceipt, card: CardDelivery? = nil, notice: String? = nil, a4: Bool = false,
                              delivery: TokenDelivery? = nil) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("receipt.title", "\(r.saleID)"), bodyClass: a4 ? "receipt-page a4" : "receipt-page") { h in
            Layout.notice(&h, notice, kind: "ok")
            if let delivery {
                h.raw("<p class=\"delivery\" data-delivery=\"\(HTML.escape(delivery.state))\">")
                h.text(ConnectedMeterPages.deliveryLine(t, delivery)); h.raw("</p>")
            }
            h.raw("<p class=\"noprint\">"); h.text(t("receipt.print-hint")); h.raw(" ")
            h.link("/receipts/\(r.saleID)?paper=a4", t("receipt.a4")); h.raw(" · ")
            h.link("/receipts/\(r.saleID)", t("receipt.80mm")); h.raw("</p>")
            h.append(slip(t, r, card: card))
        }
    }

    /// The slip itself (also used inside statements).
    public static func slip(_ t: Catalog, _ r: SaleReceipt, card: CardDelivery? = nil) -> HTML {
        var h = HTML()
        let o = (try? JSON.parse(String(decoding: r.json, as: UTF8.self))) ?? .null
        func s(_ k: String) -> String { o[k]?.string ?? o[k]?.integer.map { "\($0)" } ?? "" }
        h.raw("<section class=\"slip\">")
        h.element("h2", t("receipt.heading"))
        if r.replayed { h.element("p", t("receipt.reprint"), class: "reprint") }
        h.raw("<dl>")
        func row(_ label: String, _ value: String) { h.raw("<dt>"); h.text(label); h.raw("</dt><dd>"); h.text(value); h.raw("</dd>") }
        row(t("receipt.sale"), "\(r.saleID) · \(t("kind." + s("kind")))")
        row(t("receipt.time"), s("time"))
        row(t("receipt.meter"), o["meter"]?["pan"]?.string ?? "")
        if o["customer"] != nil { row(t("receipt.customer"), s("customer")) }
        row(t("receipt.operator"), s("operator"))
        if o["money"] != nil {
            row(t("receipt.paid"), s("money") + " (" + s("channel") + ")")
            if s("carried_in") != "0.00", !s("carried_in").isEmpty { row(t("receipt.carried-in"), s("carried_in")) }
        }
        h.raw("</dl>")
        let deductions = o["deductions"]?.array ?? [], blocks = o["blocks"]?.array ?? []
        if !deductions.isEmpty || !blocks.isEmpty {
            h.raw("<table class=\"items\"><tbody>")
            for d in deductions {
                h.raw("<tr><td>"); h.text(t("deduction." + (d["kind"]?.string ?? ""))); h.raw("</td><td class=\"num\">")
                h.text("−" + (d["amount"]?.string ?? "")); h.raw("</td></tr>")
            }
            for b in blocks {
                let n = b["block"]?.integer ?? 0
                let label = n == 0 ? t("receipt.fbe") : t("receipt.block", "\(n)")
                h.raw("<tr><td>"); h.text("\(label): \(EnergyText.kWh(b["tenths"]?.integer ?? 0)) kWh @ \(b["price"]?.string ?? "")")
                h.raw("</td><td class=\"num\">"); h.text(b["cost"]?.string ?? ""); h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        h.raw("<dl>")
        if let c = o["currency"] {
            row(t("receipt.currency"), (c["amount"]?.string ?? "") + " (" + (c["cost"]?.string ?? "") + ")")
        } else if r.unitsTenths > 0 {
            row(t("receipt.units"), EnergyText.kWh(r.unitsTenths) + " kWh")
        }
        if o["carried_out"] != nil { row(t("receipt.carried-out"), s("carried_out")) }
        h.raw("</dl>")
        for token in o["tokens"]?.array ?? [] {
            let digits = token["token"]?.string ?? ""
            let grouped = (try? TokenNumber(digits))?.grouped ?? digits
            h.raw("<p class=\"token\"><span class=\"label\">"); h.text(t("receipt.token")); h.raw("</span> ")
            h.raw("<strong data-token=\"\(HTML.escape(digits))\">"); h.text(grouped); h.raw("</strong>")
            if let tid = token["tid"]?.integer { h.raw(" <span class=\"tid\">TID "); h.text("\(tid)"); h.raw("</span>") }
            h.raw("</p>")
        }
        if let card { h.element("p", t("receipt.card", "\(card.sequence)", card.serial), class: "card") }
        for w in o["warnings"]?.array ?? [] { h.element("p", w.string ?? "", class: "warning") }
        h.raw("</section>")
        return h
    }
}

/// kWh text for pages.
public enum EnergyText {
    /// "12.3" for 123 tenths.
    public static func kWh(_ tenths: Int64) -> String {
        let m = tenths.magnitude
        return "\(tenths < 0 ? "-" : "")\(m / 10).\(m % 10)"
    }

    /// "12.34" for 1234 cents.
    public static func money(_ cents: Int64) -> String {
        let m = cents.magnitude
        return "\(cents < 0 ? "-" : "")\(m / 100).\(String(m % 100).leftPadded(2))"
    }
}
