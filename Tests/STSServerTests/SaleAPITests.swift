import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import STSServer
import STSStation
import STSSupport
import Testing

/// Sessions and sales through the API, in process: idempotency, errors and the meter taking the token.
@Suite struct SaleAPITests {
    @Test("log in, sell, the meter accepts the token; the same key replays; another body is a conflict")
    func sellAndReplay() async throws {
        let h = try ServerHarness()
        let app = try h.server.application()
        try await app.test(.router) { client in
            let token = try await h.logIn(client, "olly")
            let body = "{\"meter\": \"\(ServerHarness.pan1)\", \"money\": \"100.00\"}"
            let sale = try await h.call(client, .post, "/api/v1/sales", body, token: token, headers: [("Idempotency-Key", "till-1-0001")])
            #expect(sale.status == 201)
            #expect(sale["replayed"] == .bool(false))
            let digits = try #require(sale["token"]?.string)
            // The receipt says what it bought: 20.00 arrears first, then VAT and the blocks.
            #expect(sale["receipt"]?["deductions"]?.array?.first?["kind"]?.string == "arrears")
            var meter = try ServerHarness.meter(ServerHarness.pan1)
            let outcome = meter.enter(digits, at: h.clock)
            #expect(outcome.result.isAccepted, "the meter accepts the token the API sold")
            #expect(Int64(meter.state.registers[.electricity]) == sale["units_tenths"]?.integer)

            let again = try await h.call(client, .post, "/api/v1/sales", body, token: token, headers: [("Idempotency-Key", "till-1-0001")])
            #expect(again.status == 200)
            #expect(again["replayed"] == .bool(true))
            #expect(again["token"]?.string == digits && again["sale"] == sale["sale"], "the same key returns the original sale")

            let other = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(ServerHarness.pan1)\", \"money\": \"50.00\"}", token: token,
                                         headers: [("Idempotency-Key", "till-1-0001")])
            #expect(other.status == 409 && other.code == "request-id-reused")

            let missing = try await h.call(client, .post, "/api/v1/sales", body, token: token)
            #expect(missing.status == 400 && missing.code == "idempotency-key-required")
            let anonymous = try await h.call(client, .post, "/api/v1/sales", body, headers: [("Idempotency-Key", "x")])
            #expect(anonymous.status == 401 && anonymous.code == "unauthorised")
            let unknownMember = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(ServerHarness.pan1)\", \"money\": \"1.00\", \"tip\": 1}", token: token,
                                                 headers: [("Idempotency-Key", "k-2")])
            #expect(unknownMember.status == 400 && unknownMember.code == "bad-request")
            let notJSON = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": 01}", token: token, headers: [("Idempotency-Key", "k-3")])
            #expect(notJSON.status == 400)
            let badAmount = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(ServerHarness.pan1)\", \"money\": \"-5\"}", token: token,
                                             headers: [("Idempotency-Key", "k-4")])
            #expect(badAmount.status == 400 && badAmount.code == "invalid-amount")
            let unknownMeter = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"600727000000000264\", \"money\": \"5.00\"}", token: token,
                                                headers: [("Idempotency-Key", "k-5")])
            #expect(unknownMeter.status == 404 && unknownMeter.code == "not-found")

            let reprint = try await h.call(client, .get, "/api/v1/sales/\(sale["sale"]?.integer ?? 0)", token: token)
            #expect(reprint.status == 200 && reprint["token"]?.string == digits && reprint["replayed"] == .bool(true))
            let none = try await h.call(client, .get, "/api/v1/sales/999", token: token)
            #expect(none.status == 404)
            let quote = try await h.call(client, .post, "/api/v1/sales/quote", "{\"meter\": \"\(ServerHarness.pan2)\", \"money\": \"50.00\"}", token: token)
            #expect(quote.status == 200 && quote["paid"] == .number("50.00"))
        }
    }

    @Test("sessions: wrong password and unknown user look the same; five failures lock (429); logout ends the token")
    func sessions() async throws {
        let h = try ServerHarness()
        let app = try h.server.application()
        try await app.test(.router) { client in
            let wrong = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"nope-nope\"}")
            let nobody = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"mallory\", \"password\": \"nope-nope\"}")
            #expect(wrong.status == 401 && nobody.status == 401)
            #expect(wrong["error"] == nobody["error"], "the error does not say which check failed")
            for _ in 0..<4 { _ = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"nope-nope\"}") }
            let locked = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"\(h.password)\"}")
            #expect(locked.status == 429 && locked.code == "login-locked")

            let token = try await h.logIn(client, "ada")
            let me = try await h.call(client, .get, "/api/v1/session", token: token)
            #expect(me["role"]?.string == "auditor")
            let bye = try await h.call(client, .delete, "/api/v1/session", token: token)
            #expect(bye.status == 204)
            let after = try await h.call(client, .get, "/api/v1/session", token: token)
            #expect(after.status == 401)
            // A user disabled elsewhere (the command line) loses their session within a minute.
            let ada = try await h.logIn(client, "ada")
            try h.station.disableUser(name: "ada", by: try h.supervisorActor())
            h.advance(61)
            let gone = try await h.call(client, .get, "/api/v1/session", token: ada)
            #expect(gone.status == 401, "the disabled user's session ended")
            // A body must say it is JSON: a cross-site form posting text/plain that parses as JSON is refused.
            let plain = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"sue\", \"password\": \"\(h.password)\"}",
                                         headers: [("Content-Type", "text/plain")])
            #expect(plain.status == 415 && plain.code == "unsupported-media-type")
            let health = try await h.call(client, .get, "/healthz")
            #expect(health["status"]?.string == "ok")
            let noRoute = try await h.call(client, .get, "/api/v1/nothing", validate: false)
            #expect(noRoute.status == 404 && noRoute.code == "no-route")
            let spec = try await h.call(client, .get, "/api/v1/openapi.json")
            #expect(spec["openapi"]?.string == "3.1.0")
        }
    }

    @Test("one address trying many names is stopped after its failures of the minute, before the station checks anything")
    func loginFlood() async throws {
        let h = try ServerHarness(loginFailuresPerMinute: 6)
        let app = try h.server.application()
        try await app.test(.router) { client in
            for i in 0..<6 {
                let r = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"guess\(i)\", \"password\": \"nope-nope\"}")
                #expect(r.status == 401)
            }
            let stopped = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"\(h.password)\"}")
            #expect(stopped.status == 429, "the address waits, even with the right password")
            h.advance(60)
            let later = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"\(h.password)\"}")
            #expect(later.status == 201, "a minute later it may try again")
        }
    }

    @Test("a cookie session must send its CSRF token to change anything; a bearer token need not")
    func csrf() async throws {
        let h = try ServerHarness()
        let app = try h.server.application()
        try await app.test(.router) { client in
            let login = try await h.call(client, .post, "/api/v1/session", "{\"user\": \"olly\", \"password\": \"\(h.password)\"}")
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let session = String(cookie.split(separator: ";")[0])
            let body = "{\"meter\": \"\(ServerHarness.pan2)\", \"money\": \"10.00\"}"
            let forged = try await h.call(client, .post, "/api/v1/sales", body, headers: [("Cookie", session), ("Idempotency-Key", "c-1")])
            #expect(forged.status == 403 && forged.code == "csrf")
            let csrf = login["csrf"]?.string ?? ""
            let ok = try await h.call(client, .post, "/api/v1/sales", body, headers: [("Cookie", session), ("Idempotency-Key", "c-1"), ("X-CSRF-Token", csrf)])
            #expect(ok.status == 201)
        }
    }

    @Test("64 concurrent sales are committed together: every one answered once, distinct sales and tokens")
    func groupCommit() async throws {
        let h = try ServerHarness()
        let app = try h.server.application()
        try await app.test(.router) { client in
            let token = try await h.logIn(client, "olly")
            // A meter that owes nothing (Alice's arrears would take her first sales), registered through the API.
            let added = try await h.call(client, .post, "/api/v1/meters", "{\"pan\": \"\(ServerHarness.pan3)\", \"key\": \"k1\", \"tariff\": \"home\", \"customer\": \"Amina Otieno\"}", token: token)
            #expect(added.status == 201)
            let answers = try await Self.burst(h, client, token: token)
            #expect(answers.allSatisfy { $0.0 == 201 })
            #expect(Set(answers.compactMap { $0.1["sale"]?.integer }).count == 64)
            #expect(Set(answers.compactMap { $0.1["token"]?.string }).count == 64)
            // Each meter took its 32 tokens, every one accepted in TID order.
            for pan in [ServerHarness.pan3, ServerHarness.pan2] {
                var meter = try ServerHarness.meter(pan)
                let mine = answers.filter { $0.1["receipt"]?["meter"]?["pan"]?.string == pan }.sorted { ($0.1["tid"]?.integer ?? 0) < ($1.1["tid"]?.integer ?? 0) }
                #expect(mine.count == 32)
                for a in mine {
                    let accepted = meter.enter(a.1["token"]?.string ?? "", at: h.clock).result.isAccepted
                    #expect(accepted)
                }
            }
        }
    }

    /// 64 sales at once, alternating two meters; their statuses and bodies.
    static func burst(_ h: ServerHarness, _ client: any TestClientProtocol, token: String) async throws -> [(Int, JSON)] {
        try await withThrowingTaskGroup(of: (Int, JSON).self) { group in
            for i in 0..<64 {
                let pan = i % 2 == 0 ? ServerHarness.pan3 : ServerHarness.pan2
                group.addTask {
                    let r = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"10.00\"}", token: token,
                                             headers: [("Idempotency-Key", "burst-\(i)")])
                    return (r.status, r.json)
                }
            }
            var out: [(Int, JSON)] = []
            for try await a in group { out.append(a) }
            return out
        }
    }
}
