import STSAuditLog
import STSStation

/// Connected meters in the console: the meter page's readings, consumption charts, anomaly
/// flags, events and remote supply switch; the head-end page with dead letters and alerts.
public enum ConnectedMeterPages {
    /// The connected-meter section of a meter page.
    public static func section(_ h: inout HTML, _ v: ConsoleViewer, _ c: ConnectedMeterView) {
        let t = v.t
        h.raw("<section class=\"connected\" id=\"connected\">")
        h.element("h2", t("connected.title"))
        if let r = c.latest {
            h.raw("<dl class=\"reading\">")
            for (k, value) in [("connected.read-at", AuditTime.format(r.time)), ("connected.energy", EnergyText.kWh(r.energyWh / 100) + " kWh"),
                               ("connected.power", "\(r.powerW) W"), ("connected.credit", EnergyText.kWh(r.credit) + " kWh"),
                               ("connected.relay", t(r.relayClosed ? "connected.relay-closed" : "connected.relay-open"))] {
                h.raw("<dt>"); h.text(t(k)); h.raw("</dt><dd>"); h.text(value); h.raw("</dd>")
            }
            h.raw("</dl>")
        } else {
            h.element("p", t("connected.no-reading"))
        }
        if !c.flags.isEmpty {
            h.element("h3", t("connected.flags"))
            h.raw("<ul class=\"flags\">")
            for f in c.flags {
                h.raw("<li class=\"flag\" data-flag=\"\(HTML.escape(f.kind))\"><strong>"); h.text(t("flag." + f.kind)); h.raw("</strong> ")
                h.text(AuditTime.format(f.time) + " · " + f.detail + " ")
                h.link(f.kind == "tamper" || f.kind == "magnetic" ? "#events" : "#consumption", t("connected.evidence"))
                h.raw("</li>")
            }
            h.raw("</ul>")
        }
        // Daily bars for the week, hourly bars for the last two days.
        var days: [(Int64, Double)] = []
        for (start, wh) in c.hourly {
            let day = start - start % 86_400
            if let last = days.last, last.0 == day { days[days.count - 1].1 += Double(wh) / 1000 } else { days.append((day, Double(wh) / 1000)) }
        }
        h.raw("<div id=\"consumption\">")
        if !days.isEmpty {
            h.append(BarChart(title: t("connected.daily"), categories: days.map { String(AuditTime.format($0.0).prefix(10)) },
                              series: [.init(name: "kWh", values: days.map(\.1))], unit: "kWh").svg())
            let recent = c.hourly.suffix(48)
            h.append(BarChart(title: t("connected.hourly"), categories: recent.map { String(AuditTime.format($0.0).dropFirst(11).prefix(5)) },
                              series: [.init(name: "kWh", values: recent.map { Double($0.1) / 1000 })], unit: "kWh").svg())
        } else {
            h.element("p", t("connected.no-profile"))
        }
        h.raw("</div>")
        h.element("h3", t("connected.events"))
        h.raw("<table class=\"list\" id=\"events\"><thead><tr>")
        h.element("th", t("receipt.time")); h.element("th", t("connected.event"))
        h.raw("</tr></thead><tbody>")
        for e in c.events.prefix(30) { h.raw("<tr>"); h.element("td", AuditTime.format(e.time)); h.element("td", e.name); h.raw("</tr>") }
        h.raw("</tbody></table>")
        if v.isSupervisor {
            h.element("h3", t("connected.supply"))
            h.append(Layout.form(v, action: "/meters/\(c.pan)/supply", class: "inline supply") { f in
                f.raw("<label>"); f.text(t("connected.relay")); f.raw(" <select name=\"relay\">")
                f.raw("<option value=\"open\">"); f.text(t("connected.disconnect")); f.raw("</option>")
                f.raw("<option value=\"closed\">"); f.text(t("connected.reconnect")); f.raw("</option></select></label>")
                f.field(t("reverse.reason"), name: "reason", required: true)
                f.field(t("login.totp"), name: "totp", required: true, extra: "inputmode=\"numeric\" pattern=\"[0-9]{6}\"")
                Layout.button(&f, t("connected.switch"))
            })
        }
        h.raw("</section>")
    }

    /// The head-end page: deliveries that gave up (with retry), alerts and their failed notifications.
    public static func headEnd(_ v: ConsoleViewer, dead: [TokenDelivery], pending: [TokenDelivery], alerts: [MeterAlert],
                               deadNotifications: [(alert: MeterAlert, channel: String, attempts: Int, lastError: String)], notice: String?) -> HTML {
        let t = v.t
        return Layout.page(v, title: t("headend.title")) { h in
            Layout.notice(&h, notice, kind: "ok")
            h.element("h2", t("headend.dead"))
            if dead.isEmpty { h.element("p", t("headend.none")) }
            for d in dead {
                h.raw("<div class=\"dead-letter\" data-sale=\"\(d.saleID)\">")
                h.link("/receipts/\(d.saleID)", t("receipt.sale") + " \(d.saleID)"); h.raw(" · "); h.link("/meters/\(d.pan)", d.pan)
                h.text(" · \(d.attempts) · " + d.lastError)
                if v.isSupervisor {
                    h.append(Layout.form(v, action: "/deliveries/\(d.saleID)/retry", class: "inline") { f in Layout.button(&f, t("headend.retry")) })
                }
                h.raw("</div>")
            }
            h.element("h2", t("headend.pending"))
            if pending.isEmpty { h.element("p", t("headend.none")) }
            for d in pending.prefix(50) {
                h.raw("<p>"); h.link("/receipts/\(d.saleID)", t("receipt.sale") + " \(d.saleID)"); h.text(" · \(d.pan) · \(d.attempts) · " + d.lastError); h.raw("</p>")
            }
            h.element("h2", t("headend.alerts"))
            h.raw("<table class=\"list\" id=\"alerts\"><thead><tr>")
            for k in ["receipt.time", "meter.pan", "headend.alert", ""] { h.element("th", k.isEmpty ? "" : t(k)) }
            h.raw("</tr></thead><tbody>")
            for a in alerts {
                h.raw("<tr data-alert=\"\(HTML.escape(a.kind))\">"); h.element("td", AuditTime.format(a.time))
                h.raw("<td>"); h.link("/meters/\(a.pan)#connected", a.pan); h.raw("</td>")
                h.element("td", t("alert." + a.kind)); h.element("td", a.detail); h.raw("</tr>")
            }
            h.raw("</tbody></table>")
            if !deadNotifications.isEmpty {
                h.element("h2", t("headend.dead-notifications"))
                for n in deadNotifications { h.raw("<p>"); h.text("\(n.alert.id) · \(n.channel) · \(n.attempts) · \(n.lastError)"); h.raw("</p>") }
            }
        }
    }

    /// A receipt's line about its delivery to a connected meter.
    public static func deliveryLine(_ t: Catalog, _ d: TokenDelivery) -> String {
        switch d.state {
        case "delivered": return t("delivery.delivered", d.result)
        case "refused": return t("delivery.refused", d.result)
        case "dead": return t("delivery.dead", d.lastError)
        default: return t("delivery.pending", "\(d.attempts)")
        }
    }
}
