import Foundation
import HTTPTypes
import Hummingbird
import STSAuditLog
import STSPrepaidUtility
import STSStation
import STSTariff
import STSTokenFormat

/// The Electrum Prepaid Utility Service Interface v3 under `/prepaidutility/v3`, for point-of-sale
/// networks (Specs/prepaid-utility.md). Every request is authenticated per POS client with HTTP
/// Basic; every answer is the interface's model or its `ErrorDetail`.
extension StationServer {
    func addPrepaidUtilityRoutes(to router: Router<StationRequestContext>) {
        let v3 = router.group("prepaidutility/v3")
        v3.post("meterLookups/{lookupId}") { request, context in
            try await self.pusi(request, context, .meterLookup, id: "lookupId") { body, id, client in
                let r = try PUSIMeterRequest(body: body, pathID: id)
                let view = try await self.posMeter(r.meter, blockedRefused: true)
                return (.created, PUSIResponse.meterLookup(r, view: view, client: client, utility: self.utility))
            }
        }
        v3.post("tokenPurchases/trials/{requestId}") { request, context in
            try await self.pusi(request, context, .tokenPurchaseTrial, id: "requestId") { body, id, client in
                let r = try PUSIPurchaseRequest(body: body, pathID: id)
                let sale = try self.posSale(r, id: id, client: client)
                let station = self.station
                let (quote, view) = try await self.posCall(amountZero: r.amount == 0) { (try station.quote(sale, by: client.actor), try station.posMeter(sale.meter)) }
                // What the purchase would refuse, the trial refuses.
                if view.kind == .card { throw Self.pusiError(.refused(.cardMeterNeedsCard(meter: view.pan.description)), amountZero: false) }
                return (.ok, PUSIResponse.purchase(r, view: view, breakdown: quote, vatBasisPoints: 0, sale: nil, client: client,
                                                   utility: self.utility, time: AuditTime.format(station.now())))
            }
        }
        v3.post("tokenPurchases/{purchaseId}") { request, context in
            try await self.pusi(request, context, .tokenPurchase, id: "purchaseId") { body, id, client in
                try await self.posPurchase(body, id: id, client: client, retry: false)
            }
        }
        v3.post("tokenPurchases/{purchaseId}/retry") { request, context in
            try await self.pusi(request, context, .tokenPurchaseRetry, id: "purchaseId") { body, id, client in
                try await self.posPurchase(body, id: id, client: client, retry: true)
            }
        }
        for (kind, path, type) in [(POSAdviceKind.confirmation, "confirmations/{adviceId}", PUSIError.RequestType.confirmationAdvice),
                                   (.reversal, "reversals/{adviceId}", .reversalAdvice)] {
            v3.post(RouterPath("tokenPurchases/{purchaseId}/" + path)) { request, context in
                try await self.pusi(request, context, type, id: "adviceId", originalID: "purchaseId") { body, id, client in
                    try await self.posAdvice(body, adviceID: id, purchaseID: try Self.pusiID(context, "purchaseId"), kind: kind, client: client)
                }
            }
        }
        v3.post("tokenReprints/{reprintId}") { request, context in
            try await self.pusi(request, context, .tokenReprint, id: "reprintId") { body, id, client in
                let r = try PUSIReprintRequest(body: body, pathID: id)
                let pan = try Self.posPAN(r.meter)
                let station = self.station
                let stored = try await self.posCall { try station.posReprint(client: client, meter: pan, reference: r.originalRef) }
                guard let answer = PUSIResponse.reenveloped(stored, with: r.envelope) else { throw PUSIError(500, .systemMalfunction, "the stored purchase answer cannot be read") }
                return (.ok, answer)
            }
        }
        v3.post("keyChangeTokenRequests/{requestId}") { request, context in
            try await self.pusi(request, context, .keyChangeToken, id: "requestId") { body, id, client in
                let r = try PUSIMeterRequest(body: body, pathID: id)
                let view = try await self.posMeter(r.meter, blockedRefused: false)
                let station = self.station
                let tokens = try await self.posCall { try station.pendingKeyChangeTokens(meter: view.pan) }
                return (.created, PUSIResponse.keyChange(r, view: view, tokens: tokens, client: client))
            }
        }
        v3.post("faultReports/{requestId}") { request, context in
            try await self.pusi(request, context, .faultReport, id: "requestId") { body, id, client in
                let r = try PUSIFaultReport(body: body, pathID: id)
                let pan = try Self.posPAN(r.meter)
                let message = POSMessage(id: id, client: client, origin: r.envelope.origin, fingerprint: "fault")
                let station = self.station
                let reference = try await self.posCall {
                    try station.reportPOSFault(message, meter: pan, faultType: r.faultType, description: r.description, contact: r.contactNumber, customer: r.customer)
                }
                return (.created, PUSIResponse.faultReport(r, reference: reference))
            }
        }
        // Declined as the interface allows (501): key change tokens are confirmed by the meter's
        // owner through a campaign, not by a point of sale; token purchase events are not taken.
        for (path, id, type) in [("keyChangeTokenRequests/{requestId}/confirmations/{adviceId}", "adviceId", PUSIError.RequestType.confirmationAdvice),
                                 ("keyChangeTokenRequests/{requestId}/reversals/{adviceId}", "adviceId", .reversalAdvice),
                                 ("events/tokenPurchases", "", .notifyTokenPurchase)] {
            v3.post(RouterPath(path)) { request, context in
                try await self.pusi(request, context, type, id: id) { _, _, _ in
                    throw PUSIError(501, .functionNotSupported, "this station does not take \(type.rawValue.lowercased().replacingOccurrences(of: "_", with: " ")) messages")
                }
            }
        }
    }

    /// The utility the answers name: the configured one, else the station's name.
    var utility: PUSIUtility { configuration.prepaidUtility ?? PUSIUtility(name: station.name) }

    /// One request: the path's id checked, the client authenticated (throttled per address), the
    /// body read (at most 64 KiB), then `handle`; any failure becomes its `ErrorDetail`.
    func pusi(_ request: Request, _ context: StationRequestContext, _ type: PUSIError.RequestType, id idName: String, originalID: String? = nil,
              handle: @escaping @Sendable ([UInt8], String, POSClient) async throws -> (HTTPResponse.Status, [UInt8])) async throws -> Response {
        var messageID: String?
        var clientName = "-"
        do {
            let id = idName.isEmpty ? "" : try Self.pusiID(context, idName)
            messageID = id
            let client = try await posClient(request, context)
            clientName = client.name
            var buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: RequestJSON.limit) } catch {
                throw PUSIError.format("the body is over \(RequestJSON.limit / 1024) KiB")
            }
            let body = buffer.readBytes(length: buffer.readableBytes) ?? []
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else { throw PUSIError.format("the body must be sent as Content-Type: application/json") }
            let (status, answer) = try await handle(body, id, client)
            return pusiResponse(status, answer, client: clientName)
        } catch var e as PUSIError {
            e.requestType = type
            e.id = messageID
            if let originalID { e.originalID = context.parameters.get(originalID) }
            return pusiResponse(.init(code: e.status), e.json, client: clientName, challenge: e.status == 401)
        } catch {
            var e = PUSIError(500, .generalError, "the request failed; its outcome is unknown: send it again")
            e.requestType = type
            e.id = messageID
            return pusiResponse(.internalServerError, e.json, client: clientName)
        }
    }

    func pusiResponse(_ status: HTTPResponse.Status, _ body: [UInt8], client: String, challenge: Bool = false) -> Response {
        var headers: HTTPFields = [RequestLog.actorHeader: "pos:" + client]
        if challenge { headers[.wwwAuthenticate] = "Basic realm=\"prepaidutility\", charset=\"UTF-8\"" }
        return JSONResponse.bytes(body, status: status, headers: headers)
    }

    /// The POS client named by the request's HTTP Basic credentials, or 401 whichever check
    /// failed (unknown name, wrong secret, disabled, address not allowed); 429 after too many
    /// failures from one address in a minute.
    func posClient(_ request: Request, _ context: StationRequestContext) async throws -> POSClient {
        let source = context.source
        guard posGate.allows(source) else { throw PUSIError(429, .doNotHonor, "too many failed logins from this address: wait a minute") }
        guard let header = request.headers[.authorization], header.utf8.count <= 512, header.hasPrefix("Basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
            posGate.failed(source)
            throw PUSIError(401, .doNotHonor, "HTTP Basic credentials of a point-of-sale client are required")
        }
        let name = String(text[..<colon]), secret = String(text[text.index(after: colon)...])
        // Credentials checked in the last few seconds are not read again (a read would wait for
        // the commit in progress); what has an effect checks the client's state in its own
        // transaction. The address is checked on every request.
        if let client = posCredentials.client(name: name, secret: secret) {
            guard client.allowedSources.isEmpty || client.allowedSources.contains(where: { $0.admits(source) }) else {
                posGate.failed(source)
                throw PUSIError(401, .doNotHonor, "the credentials are not accepted")
            }
            return client
        }
        let station = self.station
        do {
            let client = try await blocking { try station.authenticatePOSClient(name: name, secret: secret, source: source) }
            posCredentials.remember(client, secret: secret)
            return client
        } catch let e as StationError {
            if case .refused(.posClientRefused) = e {
                posGate.failed(source)
                throw PUSIError(401, .doNotHonor, "the credentials are not accepted")
            }
            throw Self.pusiError(e, amountZero: false)
        }
    }

    static func pusiID(_ context: StationRequestContext, _ name: String) throws -> String {
        guard let id = context.parameters.get(name), PUSIFormat.isUUID(id) else {
            throw PUSIError.format("the \(name) in the path must be a UUID in its canonical lower-case form")
        }
        return id
    }

    static func posPAN(_ meter: PUSIMeter) throws -> MeterPAN {
        do { return try MeterPAN(meterNumber: meter.meterID) } catch {
            throw PUSIError(400, .unknownMeterID, "\(meter.meterID) is not a meter number this station knows (\(error))")
        }
    }

    func posMeter(_ meter: PUSIMeter, blockedRefused: Bool) async throws -> POSMeterView {
        let pan = try Self.posPAN(meter)
        let station = self.station
        let view = try await posCall { try station.posMeter(pan) }
        // The supervisor's reason stays at the station: a point of sale learns only that it is blocked.
        if blockedRefused, view.blockedReason != nil { throw PUSIError(400, .meterIDBlocked, "meter \(meter.meterID) is blocked from sales: the customer should contact the utility") }
        return view
    }

    /// The sale a purchase asks for, after the client's currency and limits (0 is a free basic
    /// electricity purchase: no lower limit applies).
    func posSale(_ r: PUSIPurchaseRequest, id: String, client: POSClient) throws -> SaleRequest {
        guard r.currency == client.currency else {
            throw PUSIError(400, .invalidAmount, "this point of sale's amounts are in currency \(client.currency), not \(r.currency)")
        }
        if r.amount != 0, r.amount < client.minimum.cents { throw PUSIError(400, .amountTooLow, "the smallest purchase is \(client.minimum)") }
        if r.amount > client.maximum.cents { throw PUSIError(400, .amountTooHigh, "the largest purchase is \(client.maximum)") }
        var sale = SaleRequest(meter: try Self.posPAN(r.meter), amount: .money(Money(cents: r.amount)), requestID: "pos:\(client.name):\(id)", channel: "pos")
        sale.separateFreeToken = true
        return sale
    }

    func posPurchase(_ body: [UInt8], id: String, client: POSClient, retry: Bool) async throws -> (HTTPResponse.Status, [UInt8]) {
        let r = try PUSIPurchaseRequest(body: body, pathID: id)
        let sale = try posSale(r, id: id, client: client)
        let message = POSMessage(id: id, client: client, origin: r.envelope.origin, fingerprint: r.fingerprint)
        let utility = self.utility
        // Group-committed with the other purchases in flight: durable before the answer.
        let outcome = await posPurchases.purchase(POSPurchase(message: message, sale: sale, retry: retry) { s in
            PUSIResponse.purchase(r, view: s.meter, breakdown: s.breakdown, vatBasisPoints: s.vatBasisPoints, sale: s, client: client,
                                  utility: utility, time: AuditTime.format(s.time))
        })
        let answer: POSAnswer
        switch outcome {
        case let .success(a): answer = a
        case let .failure(e): throw Self.pusiError(e, amountZero: r.amount == 0)
        }
        // A fault point for the tests: the purchase is committed and its answer never leaves.
        #if DEBUG
        if configuration.killAfterPOSCommit, !answer.replayed { kill(getpid(), SIGKILL) }
        #endif
        return (retry ? .accepted : .created, answer.body)
    }

    func posAdvice(_ body: [UInt8], adviceID: String, purchaseID: String, kind: POSAdviceKind, client: POSClient) async throws -> (HTTPResponse.Status, [UInt8]) {
        let a = try PUSIAdvice(body: body, adviceID: adviceID, purchaseID: purchaseID, reversal: kind == .reversal)
        let message = POSMessage(id: adviceID, client: client, origin: POSOrigin(institution: "", merchant: "", terminal: "", settlement: ""), fingerprint: a.fingerprint)
        let station = self.station
        let type: PUSIError.RequestType = kind == .reversal ? .reversalAdvice : .confirmationAdvice
        let answer = try await posCall {
            try station.posAdvice(message, kind: kind, purchaseID: purchaseID) { state, why in
                var e: PUSIError
                switch state {
                case "declined": e = PUSIError(400, .transactionDeclined, why ?? "the reversal is declined")
                case "unmatched": e = PUSIError(404, .unableToLocateRecord, why ?? "no such purchase")
                default: return PUSIResponse.advice(a)
                }
                e.requestType = type
                e.id = adviceID
                e.originalID = purchaseID
                return e.json
            }
        }
        switch answer.state {
        case "declined": return (.badRequest, answer.body)
        case "unmatched": return (.notFound, answer.body)
        default: return (.accepted, answer.body)
        }
    }

    /// Runs station work off the event loop; a station error becomes its `ErrorDetail`.
    func posCall<T: Sendable>(amountZero: Bool = false, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await blocking(body) } catch let e as StationError { throw Self.pusiError(e, amountZero: amountZero) }
    }

    /// A station refusal as the interface words it (Specs/prepaid-utility.md §5).
    static func pusiError(_ e: StationError, amountZero: Bool) -> PUSIError {
        let detail = e.description
        switch e {
        case let .notFound(what):
            return what.hasPrefix("meter ") || what.hasPrefix("open account") ? PUSIError(400, .unknownMeterID, detail) : PUSIError(404, .unableToLocateRecord, detail)
        case .refused(.meterBlocked): return PUSIError(400, .meterIDBlocked, "the meter is blocked from sales: the customer should contact the utility")
        case .refused(.posDuplicateMessage): return PUSIError(400, .duplicateRecord, detail)
        case .refused(.posRetryDiffers), .invalid: return PUSIError(400, .formatError, detail)
        case .refused(.posClientRefused), .authenticationFailed: return PUSIError(401, .doNotHonor, "the credentials are not accepted")
        case .refused(.cardMeterNeedsCard), .refused(.currencyMeter): return PUSIError(400, .transactionNotSupported, detail)
        case .keyExpired: return PUSIError(400, .meterKeyInvalid, "the meter's key has expired: the utility must change it before it can be sold to")
        case .pricing: return amountZero ? PUSIError(400, .noFreeUnitsDue, detail) : PUSIError(400, .invalidAmount, detail)
        case .loginLocked: return PUSIError(429, .doNotHonor, detail)
        // The outcome of a purchase whose store failed is unknown: the client retries (a retry never issues twice).
        case .store, .tampered: return PUSIError(500, .outcomeUnknown, "the station's store did not answer; the outcome is unknown: send the request again (a retry never issues twice)")
        default: return PUSIError(400, .transactionDeclined, detail)
        }
    }
}
