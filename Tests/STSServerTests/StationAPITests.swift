import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import STSAuditLog
import STSServer
import STSStation
import STSSupport
import Testing

/// Every documented route, with its permissions and second factor, each exchange validated
/// against the OpenAPI document; at the end every operation of the document has been called.
@Suite struct StationAPITests {
    @Test("every route of the OpenAPI document answers as documented, with roles and second factors enforced")
    func everyRoute() async throws {
        let h = try ServerHarness()
        let app = try h.server.application()
        try await app.test(.router) { client in
            let olly = try await h.logIn(client, "olly")
            let ada = try await h.logIn(client, "ada")
            let sue = try await h.logIn(client, "sue", totp: true)
            let pan = ServerHarness.pan1

            // Meters: search, page, register, tenant change, statement.
            let found = try await h.call(client, .get, "/api/v1/meters?query=alice", token: olly)
            #expect(found["meters"]?.array?.map { $0["pan"]?.string } == [pan])
            let byPAN = try await h.call(client, .get, "/api/v1/meters?query=6007270000000001&limit=5", token: olly)
            #expect(byPAN["meters"]?.array?.count == 1)
            let byMeterNumber = try await h.call(client, .get, "/api/v1/meters?query=00000000018", token: olly)
            #expect(byMeterNumber["meters"]?.array?.map { $0["pan"]?.string } == [ServerHarness.pan2], "the 11-digit number printed on the meter finds it")
            let badLimit = try await h.call(client, .get, "/api/v1/meters?limit=0", token: olly)
            #expect(badLimit.status == 400)
            let page = try await h.call(client, .get, "/api/v1/meters/\(pan)", token: olly)
            #expect(page["account"]?["arrears"] == .number("20.00"))
            let sold = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"60.00\", \"channel\": \"mobile\"}", token: olly,
                                        headers: [("Idempotency-Key", "r-1")])
            #expect(sold.status == 201)
            let saleID = sold["sale"]?.integer ?? 0
            let statement = try await h.call(client, .get, "/api/v1/meters/\(pan)/statement", token: ada)
            let line = statement["sales"]?.array?.last
            #expect(line?["sale"]?.integer == saleID)
            #expect(line?["log_hash"]?.string?.count == 64, "each sale names the log entry that proves it")
            let added = try await h.call(client, .post, "/api/v1/meters", "{\"pan\": \"\(ServerHarness.pan3)\", \"key\": \"k1\", \"tariff\": \"home\", \"customer\": \"Amina\", \"debt\": \"30.00\", \"debt_recovery_percent\": \"20\", \"address\": \"Block A, flat 7, 12 Garden Road\"}", token: olly)
            #expect(added.status == 201)
            let byAddress = try await h.call(client, .get, "/api/v1/meters?query=garden+road", token: olly)
            #expect(byAddress["meters"]?.array?.map { $0["pan"]?.string } == [ServerHarness.pan3], "found by the meter's address")
            #expect(byAddress["meters"]?.array?.first?["address"]?.string == "Block A, flat 7, 12 Garden Road")
            let twoLines = try await h.call(client, .post, "/api/v1/meters", "{\"pan\": \"600727000000000348\", \"key\": \"k1\", \"tariff\": \"home\", \"customer\": \"X\", \"address\": \"a\\nb\"}", token: olly)
            #expect(twoLines.status == 400 && twoLines.code == "invalid-address")
            let tenant = try await h.call(client, .post, "/api/v1/meters/\(ServerHarness.pan2)/tenant", "{\"customer\": \"Chen Jing\", \"arrears\": \"5.00\"}", token: olly)
            #expect(tenant.status == 201)
            let auditorSells = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"5.00\"}", token: ada, headers: [("Idempotency-Key", "a-1")])
            #expect(auditorSells.status == 403 && auditorSells.code == "not-permitted")

            // Reversal: supervisors only, with a fresh TOTP code and the confirmation.
            let byOperator = try await h.call(client, .post, "/api/v1/sales/\(saleID)/reversal", "{\"reason\": \"double sale\", \"totp\": \"000000\", \"confirm_not_entered\": true}", token: olly)
            #expect(byOperator.status == 403 && byOperator.code == "not-permitted", "refused by role before any code is checked")
            let badCode = try await h.call(client, .post, "/api/v1/sales/\(saleID)/reversal", "{\"reason\": \"double sale\", \"totp\": \"000000\", \"confirm_not_entered\": true}", token: sue)
            #expect(badCode.status == 401 && badCode.code == "authentication-failed")
            let unconfirmed = try await h.call(client, .post, "/api/v1/sales/\(saleID)/reversal", "{\"reason\": \"double sale\", \"totp\": \"\(h.nextCode())\", \"confirm_not_entered\": false}", token: sue)
            #expect(unconfirmed.status == 400)
            let reversed = try await h.call(client, .post, "/api/v1/sales/\(saleID)/reversal", "{\"reason\": \"double sale\", \"totp\": \"\(h.nextCode())\", \"confirm_not_entered\": true}", token: sue)
            #expect(reversed.status == 200 && reversed["refund"] == .number("60.00"))
            let twice = try await h.call(client, .post, "/api/v1/sales/\(saleID)/reversal", "{\"reason\": \"again\", \"totp\": \"\(h.nextCode())\", \"confirm_not_entered\": true}", token: sue)
            #expect(twice.status == 409 && twice.code == "already-reversed")

            // Engineering and key change tokens.
            let eng = try await h.call(client, .post, "/api/v1/meters/\(pan)/engineering", "{\"function\": \"clear-tamper\"}", token: sue)
            #expect(eng.status == 201 && eng["tokens"]?.array?.count == 1)
            var meter = try ServerHarness.meter(pan)
            let engAccepted = meter.enter(eng["token"]?.string ?? "", at: h.clock).result.isAccepted
            #expect(engAccepted, "the meter accepts the engineering token")
            let engByOperator = try await h.call(client, .post, "/api/v1/meters/\(pan)/engineering", "{\"function\": \"clear-tamper\"}", token: olly)
            #expect(engByOperator.status == 403)
            let keyChange = try await h.call(client, .post, "/api/v1/meters/\(pan)/key-change", "{\"key\": \"k2\", \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(keyChange.status == 201 && (keyChange["tokens"]?.array?.count ?? 0) >= 2)
            for t in keyChange["tokens"]?.array ?? [] { _ = meter.enter(t.string ?? "", at: h.clock) }
            let afterKeyChange = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"30.00\"}", token: olly, headers: [("Idempotency-Key", "r-2")])
            let newKeyAccepted = meter.enter(afterKeyChange["token"]?.string ?? "", at: h.clock).result.isAccepted
            #expect(newKeyAccepted, "a sale under the new key reaches the meter")

            // Tariffs: listed to all, changed by a supervisor with a second factor.
            let tariffs = try await h.call(client, .get, "/api/v1/tariffs", token: olly)
            #expect(tariffs["tariffs"]?.array?.first?["name"]?.string == "home")
            let tariffBody = "{\"blocks\": [{\"up_to_kwh\": \"100\", \"price\": \"1.10\"}, {\"price\": \"1.95\"}], \"fbe_kwh\": \"50\", \"vat_percent\": \"15\", \"channel_fees\": {\"mobile\": \"1.50\"}"
            let tariffByOperator = try await h.call(client, .put, "/api/v1/tariffs/home", tariffBody + ", \"totp\": \"123456\"}", token: olly)
            #expect(tariffByOperator.status == 403 && tariffByOperator.code == "not-permitted")
            let noCode = try await h.call(client, .put, "/api/v1/tariffs/home", tariffBody + "}", token: sue)
            #expect(noCode.status == 400)
            let newTariff = try await h.call(client, .put, "/api/v1/tariffs/home", tariffBody + ", \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(newTariff.status == 200 && newTariff["version"]?.integer == 2 && newTariff["channel_fees"]?["mobile"] == .number("1.50"))
            let spaced = try await h.call(client, .put, "/api/v1/tariffs/Home%20Basic", "{\"flat\": \"1.00\", \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(spaced.status == 200 && spaced["name"]?.string == "Home Basic", "path parameters are percent-decoded")
            let badTariff = try await h.call(client, .put, "/api/v1/tariffs/home", "{\"blocks\": [{\"up_to_kwh\": \"100\", \"price\": \"1.10\"}], \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(badTariff.status == 400)

            // Keys, users, campaigns.
            let keys = try await h.call(client, .get, "/api/v1/keys", token: ada)
            #expect(keys["keys"]?.array?.map { $0["name"]?.string } == ["k1", "k2"])
            #expect(!String(decoding: keys.bytes, as: UTF8.self).contains("0123456789ABCDEF"), "no key material")
            let users = try await h.call(client, .get, "/api/v1/users", token: sue)
            #expect(users["users"]?.array?.count == 3)
            let usersByOperator = try await h.call(client, .get, "/api/v1/users", token: olly)
            #expect(usersByOperator.status == 403)
            let newUser = try await h.call(client, .post, "/api/v1/users", "{\"name\": \"wen\", \"role\": \"operator\", \"password\": \"a long enough password\", \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(newUser.status == 201 && (newUser["totp_secret"]?.string?.count ?? 0) >= 16)
            let wen = try await h.logIn(client, "wen", password: "a long enough password")
            let disabled = try await h.call(client, .post, "/api/v1/users/wen/disable", "{\"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(disabled.status == 200)
            let wenAfter = try await h.call(client, .get, "/api/v1/session", token: wen)
            #expect(wenAfter.status == 401, "a disabled user's sessions end")
            for _ in 0..<5 { _ = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"ada\", \"password\": \"wrong-wrong\"}") }
            let unlocked = try await h.call(client, .post, "/api/v1/users/ada/unlock", token: sue)
            #expect(unlocked.status == 200)
            _ = try await h.logIn(client, "ada")

            let campaign = try await h.call(client, .post, "/api/v1/campaigns", "{\"name\": \"krn2\", \"from\": \"k1\", \"to\": \"k2\", \"totp\": \"\(h.nextCode())\"}", token: sue)
            #expect(campaign.status == 201 && campaign["pending"]?.integer == 2, "the two meters still on k1")
            let run = try await h.call(client, .post, "/api/v1/campaigns/krn2/run", "{\"limit\": 1}", token: sue)
            #expect(run["issued"]?.integer == 1 && run["pending"]?.integer == 1)
            let runRest = try await h.call(client, .post, "/api/v1/campaigns/krn2/run", token: sue)
            #expect(runRest.status == 200 && runRest["pending"]?.integer == 0, "no body: the default limit")
            let progress = try await h.call(client, .get, "/api/v1/campaigns/krn2", token: olly)
            #expect(progress["total"]?.integer == 2)
            let list = try await h.call(client, .get, "/api/v1/campaigns", token: olly)
            #expect(list["campaigns"]?.array?.count == 1)
            let unknown = try await h.call(client, .get, "/api/v1/campaigns/none", token: olly)
            #expect(unknown.status == 404)

            // Reports and the log.
            let report = try await h.call(client, .get, "/api/v1/reports/sales", token: ada)
            #expect(report.status == 200 && report["takings"]?.array != nil)
            let csv = try await h.call(client, .get, "/api/v1/reports/sales?format=csv", token: ada)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let badDay = try await h.call(client, .get, "/api/v1/reports/sales?from=yesterday", token: ada)
            #expect(badDay.status == 400)
            let daily = try await h.call(client, .get, "/api/v1/reports/daily", token: ada)
            #expect(daily["days"]?.array?.contains { $0["channel"]?.string == "counter" } == true)
            let export = try await h.call(client, .post, "/api/v1/audit/export", token: ada)
            #expect(export.status == 200)
            let head = export.headers[HTTPField.Name("X-Log-Head")!] ?? ""
            let verified = AuditVerifier(publicKey: h.station.publicKey).verify(export.bytes, head: head)
            #expect(verified.isClean, "the exported log verifies offline against the station's key")
            let exportByOperator = try await h.call(client, .post, "/api/v1/audit/export", token: olly)
            #expect(exportByOperator.status == 403)
            let onTheSpot = try await h.call(client, .post, "/api/v1/audit/verify", token: ada)
            #expect(onTheSpot["clean"] == .bool(true))

            try await ConnectedMeterAPI.exercise(h, client, olly: olly, sue: sue)
            _ = try await h.call(client, .get, "/api/v1/sales/\(saleID)", token: olly)
            _ = try await h.call(client, .post, "/api/v1/sales/quote", "{\"meter\": \"\(pan)\", \"units\": \"10.0\"}", token: olly)
            _ = try await h.call(client, .get, "/api/v1/session", token: olly)
            _ = try await h.call(client, .get, "/api/v1/openapi.json")
            _ = try await h.call(client, .get, "/healthz")
            _ = try await h.call(client, .delete, "/api/v1/session", token: olly)
        }
        let missing = ServerHarness.validator.operations.subtracting(h.exercised)
        #expect(missing.isEmpty, "operations never called: \(missing.sorted())")
        // The request log names users and addresses, never a password, code or token.
        let log = h.logLines.joined(separator: "\n")
        #expect(log.contains("POST /api/v1/sales 201 user=olly"))
        #expect(!log.contains(h.password) && !log.contains("Bearer"))
    }
}
