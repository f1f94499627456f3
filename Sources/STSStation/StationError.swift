import STSCard
import STSTariff
import STSTokenFormat

/// Why the station refused a request. Every case has a stable ``code`` (the command line prints
/// it, the server will answer with it) and an ``exitCode``. Messages name what the operator can
/// fix; they never reveal key material, and an authentication failure never says which check failed.
public enum StationError: CodedError, Equatable {
    /// Unknown user, wrong password, wrong or replayed second-factor code, or disabled user.
    case authenticationFailed
    /// The user is authenticated but their role may not do this.
    case notPermitted(user: String, role: Role, action: String)
    /// A supervisor action that needs the second factor was asked without `--totp`.
    case secondFactorRequired(action: String)
    /// What was to be created (a station file, meter, vending or card issuer key, …) already exists.
    case alreadyExists(String)
    /// A station file, meter, tariff, key, sale, journal, … the request names is not there.
    case notFound(String)
    /// A value given to the station is malformed or out of range; the field says which.
    case invalid(InputField, String)
    /// The request is well formed but the station's rules refuse it.
    case refused(Refusal)
    /// The key-encryption key does not open this station's secrets.
    case wrongKeyEncryptionKey
    /// The vending key expired (KEN); only key changes away from it may use it.
    case keyExpired(name: String)
    /// A request id used before for a different request.
    case requestIDReused(String)
    /// The tariff could not price the payment (carries the tariff's own coded error).
    case pricing(TariffError)
    /// The token could not be issued, or it does not carry what was priced (an internal check).
    case vending(String)
    /// The card answered, but what it holds cannot be used (MAC, layout, wrong meter).
    case card(CardError)
    /// The card could not be reached or was pulled: nothing on it is trusted, the sale (if any) stays pending.
    case cardUnreachable(String)
    /// The database or a station file could not be read or written, or a row the station needs is missing.
    case store(String)
    /// The database disagrees with the signed log (a row or an entry was edited outside the station).
    case tampered(String)
    /// Too many failed logins for this name: refused until the time given (or a supervisor unlocks it).
    case loginLocked(until: String)
    /// STSVEND_NOW is set, but the station keeps real time.
    case clockOverrideRefused

    /// Which value of a request was malformed.
    public enum InputField: String, Sendable, Equatable {
        /// A password, user name, key name, customer name or debt-recovery percentage (code `invalid-<raw value>`).
        case password, userName = "user-name", keyName = "key-name", customer, address, debtRecovery = "debt-recovery"
        /// The key-encryption key file, a file to create, a void or reversal reason, an amount, a sale CSV row, or a card issuer key.
        case kekFile = "kek-file", file, reason, amount, row, cardKey = "card-key"
        /// A sale CSV that cannot be used at all (unreadable, empty, no `meter` column).
        case csv
        /// The database URL or its password (PostgreSQL), or a station name in it.
        case database, stationName = "station-name"
        /// A point-of-sale client's name, allowed addresses, currency or purchase limits.
        case posClient = "pos-client", allowedAddresses = "allowed-addresses", currency, limits
    }

    /// The rules a well-formed request can break.
    public enum Refusal: Sendable, Equatable {
        /// Only credit sales can be reversed; this one is an engineering token or a key change.
        case notACreditSale(sale: Int64)
        /// The sale was reversed already.
        case alreadyReversed(sale: Int64)
        /// The sale belongs to an account closed by a tenant change.
        case closedAccount(sale: Int64)
        /// Only the account's latest sale can be reversed; `later` came after it.
        case notLatestSale(sale: Int64, later: Int64)
        /// The campaign has no issued key-change set for that meter to confirm.
        case noIssuedKeyChange(meter: String, campaign: String)
        /// A card meter's credit goes on its card: sell it with a reader.
        case cardMeterNeedsCard(meter: String)
        /// A keypad meter has no card.
        case notACardMeter(meter: String)
        /// The card is for another meter or is not a user card.
        case wrongCard(String)
        /// The card still carries a purchase its meter has not applied.
        case cardBusy(sequence: UInt32)
        /// A pending card sale can no longer be written: the card took another purchase meanwhile.
        case cardOvertaken(sale: Int64?, sequence: UInt32, cardSequence: UInt32)
        /// No card purchase of that meter and number, or one that cannot be voided.
        case cardPurchaseNotVoidable(meter: String, sequence: UInt32, why: String)
        /// The station has no card issuer key yet: a supervisor imports one (`key import --card-issuer`).
        case noCardIssuerKey
        /// What was asked does not suit a currency meter (units instead of money, or a currency card meter).
        case currencyMeter(String)
        /// A KEK rotation to the key-encryption key already in use.
        case sameKeyEncryptionKey
        /// A user may not disable their own account.
        case disableSelf
        /// A card sale is withdrawn with `card void`, not reversed (its purchase is on or for the card).
        case cardSaleNeedsVoid(sale: Int64)
        /// A card void after the sale already gave the account credit the reversal would restore.
        case voidedAfterSale(sale: Int64)
        /// The payment only covers what is owed: no energy token to write to the card.
        case nothingForCard
        /// The head-end's invocation counters for a connected meter ran out: the meter needs new keys.
        case meterCounterExhausted(meter: String)
        /// Only a shared (PostgreSQL) store holds more than one station.
        case stationsNeedSharedStore
        /// Several cards of the meter carry a purchase with that number: the serial says which.
        case cardSerialNeeded(meter: String, sequence: UInt32)
        /// Another process changed the card purchase (voided or delivered it) during this operation.
        case cardPurchaseChanged(sequence: UInt32, now: String)
        /// The meter is held by another station's offline lane: only that lane sells it until it is returned.
        case meterHeldOffline(meter: String, station: String)
        /// An offline lane's local store sells its meters and records nothing else.
        case offlineLaneSellsOnly(action: String)
        /// This station's chain goes on in its offline lane's local store: it writes nothing centrally until the lane is uploaded and returned.
        case stationOffline(station: String)
        /// The offline lane has used every sale number it reserved.
        case offlineSaleNumbersUsed(reserved: Int)
        /// The offline lane was returned: its local store is closed.
        case offlineLaneClosed
        /// The offline lane's chain was not accepted by the central store (nothing was stored).
        case offlineChainRefused(String)
        /// Only keypad meters can be handed to an offline lane.
        case offlineKeypadOnly(meter: String)
        /// A supervisor blocked the meter from every sale.
        case meterBlocked(meter: String, reason: String)
        /// A point-of-sale message id was used before (by another message, or another client).
        case posDuplicateMessage(id: String)
        /// A purchase retry differs from the purchase it retries.
        case posRetryDiffers(id: String)
        /// A reversal for this purchase id arrived first: the purchase is not made.
        case posPurchaseReversed(id: String)
        /// The point-of-sale client is disabled, unknown, or the address is not allowed (which, is not said).
        case posClientRefused

        var code: String {
            switch self {
            case .notACreditSale: "not-a-credit-sale"
            case .alreadyReversed: "already-reversed"
            case .closedAccount: "closed-account"
            case .notLatestSale: "not-latest-sale"
            case .noIssuedKeyChange: "no-issued-key-change"
            case .cardMeterNeedsCard: "card-meter-needs-card"
            case .notACardMeter: "not-a-card-meter"
            case .wrongCard: "wrong-card"
            case .cardBusy: "card-busy"
            case .cardOvertaken: "card-overtaken"
            case .cardPurchaseNotVoidable: "card-purchase-not-voidable"
            case .noCardIssuerKey: "no-card-issuer-key"
            case .currencyMeter: "currency-meter"
            case .sameKeyEncryptionKey: "same-kek"
            case .disableSelf: "disable-self"
            case .cardSaleNeedsVoid: "card-sale-needs-void"
            case .voidedAfterSale: "voided-after-sale"
            case .nothingForCard: "nothing-for-card"
            case .meterCounterExhausted: "meter-counter-exhausted"
            case .stationsNeedSharedStore: "stations-need-shared-store"
            case .cardSerialNeeded: "card-serial-needed"
            case .cardPurchaseChanged: "card-purchase-changed"
            case .meterHeldOffline: "meter-held-offline"
            case .offlineLaneSellsOnly: "offline-lane-sells-only"
            case .stationOffline: "station-offline"
            case .offlineSaleNumbersUsed: "offline-sale-numbers-used"
            case .offlineLaneClosed: "offline-lane-closed"
            case .offlineChainRefused: "offline-chain-refused"
            case .offlineKeypadOnly: "offline-keypad-only"
            case .meterBlocked: "meter-blocked"
            case .posDuplicateMessage: "pos-duplicate-message"
            case .posRetryDiffers: "pos-retry-differs"
            case .posPurchaseReversed: "pos-purchase-reversed"
            case .posClientRefused: "pos-client-refused"
            }
        }

        var description: String {
            switch self {
            case let .notACreditSale(id): "sale \(id) is not a credit sale: only credit sales can be reversed"
            case let .alreadyReversed(id): "sale \(id) is already reversed"
            case let .closedAccount(id): "sale \(id) belongs to a closed account (tenant changed)"
            case let .notLatestSale(id, later): "only the account's latest sale can be reversed (sale \(later) came after sale \(id))"
            case let .noIssuedKeyChange(pan, name): "meter \(pan) has no issued key change in campaign \(name)"
            case let .cardMeterNeedsCard(pan): "meter \(pan) is a card meter: its purchase is written to the customer's card (sell with a card in the reader)"
            case let .notACardMeter(pan): "meter \(pan) is a keypad meter, not a card meter"
            case let .wrongCard(why): why
            case let .cardBusy(seq): "the card still carries purchase \(seq), not yet applied by the meter: insert it into the meter first (or a supervisor voids it with 'stsvend card void')"
            case let .cardOvertaken(sale, seq, cardSeq):
                "pending card sale\(sale.map { " \($0)" } ?? "") (purchase \(seq)) can no longer be written: the card took purchase \(cardSeq) from elsewhere meanwhile; a supervisor voids it with 'stsvend card void --sequence \(seq)'"
            case let .cardPurchaseNotVoidable(pan, seq, why): "card purchase \(seq) of meter \(pan) cannot be voided: \(why)"
            case .noCardIssuerKey: "the station has no card issuer key: a supervisor imports one with 'stsvend key import --card-issuer'"
            case let .currencyMeter(why): why
            case .sameKeyEncryptionKey: "the new key-encryption key is the current one"
            case .disableSelf: "a user cannot disable their own account (another supervisor can)"
            case let .cardSaleNeedsVoid(id): "sale \(id) was sold onto a card: withdraw its purchase with 'stsvend card void' (a reversal cannot take it off the card)"
            case let .voidedAfterSale(id): "a card purchase of this account was voided after sale \(id): its credit is already back on the account, so sale \(id) cannot be reversed"
            case .meterCounterExhausted(let m): "the invocation counters for meter \(m) are used up: give the meter new DLMS keys and connect it again"
            case .stationsNeedSharedStore: "an SQLite station file holds one station: move it to PostgreSQL ('stsvend station migrate') to add stations"
            case .nothingForCard: "the payment only covers what is owed (fees, arrears, charges): there is no energy to write to the card; sell it with --keypad to take the payment"
            case let .cardPurchaseChanged(seq, now): "card purchase \(seq) was changed by another station meanwhile (it is no longer \(now)); nothing was recorded"
            case let .cardSerialNeeded(pan, seq): "more than one card of meter \(pan) has a purchase \(seq): give the card's serial (--serial)"
            case let .meterHeldOffline(pan, station): "meter \(pan) is sold by station \(station)'s offline lane until that lane is returned ('stsvend station offline return' at its local store)"
            case let .offlineLaneSellsOnly(action): "this is an offline lane's local store: it sells its own meters and records nothing else (\(action) at a station on the central database)"
            case let .stationOffline(station): "station \(station) sells from its offline lane: its chain goes on in the local store, so nothing is recorded for it here until the lane is uploaded and returned"
            case let .offlineSaleNumbersUsed(n): "the offline lane has used all \(n) sale numbers it reserved: upload and return it, then prepare a new one"
            case .offlineLaneClosed: "this offline lane was returned: its local store sells no more (prepare a new lane at the central database)"
            case let .offlineChainRefused(why): "the central store refused the offline lane's chain, and stored nothing of it: \(why)"
            case let .offlineKeypadOnly(pan): "meter \(pan) is a card meter: only keypad meters can be sold from an offline lane"
            case let .meterBlocked(pan, reason): "meter \(pan) is blocked from sales (\(reason)): a supervisor unblocks it with 'stsvend meter unblock'"
            case let .posDuplicateMessage(id): "message id \(id) was used before: every message needs a new id (a lost purchase answer is fetched with its retry)"
            case let .posRetryDiffers(id): "the retry of purchase \(id) is not the purchase it retries (meter or amount differ)"
            case let .posPurchaseReversed(id): "purchase \(id) was reversed before it arrived: it is not made"
            case .posClientRefused: "the point-of-sale client's credentials are not accepted"
            }
        }
    }

    /// The stable error code the command line prints and scripts match on.
    public var code: String {
        switch self {
        case .authenticationFailed: "authentication-failed"
        case .notPermitted: "not-permitted"
        case .secondFactorRequired: "second-factor-required"
        case .alreadyExists: "already-exists"
        case .notFound: "not-found"
        case let .invalid(field, _): "invalid-\(field.rawValue)"
        case let .refused(r): r.code
        case .wrongKeyEncryptionKey: "wrong-kek"
        case .keyExpired: "key-expired"
        case .requestIDReused: "request-id-reused"
        case let .pricing(e): e.code
        case .vending: "vending"
        case let .card(e): e.code
        case .cardUnreachable: "card-unreachable"
        case .store: "storage"
        case .tampered: "tampered"
        case .loginLocked: "login-locked"
        case .clockOverrideRefused: "clock-override-refused"
        }
    }

    /// The operator's message: what went wrong and what to fix, never key material.
    public var description: String {
        switch self {
        case .authenticationFailed: "authentication failed (user, password or second-factor code not accepted)"
        case let .notPermitted(user, role, action): "\(user) is a\(role == .operator || role == .auditor ? "n" : "") \(role) and may not \(action)"
        case let .secondFactorRequired(action): "\(action) needs a supervisor's second factor: add --totp CODE"
        case let .alreadyExists(what): "\(what) already exists"
        case let .notFound(what): "\(what) not found"
        case let .invalid(_, why): why
        case let .refused(r): r.description
        case .wrongKeyEncryptionKey: "the key-encryption key does not open this station's secrets (wrong --kek-file?)"
        case let .keyExpired(name): "vending key \(name) has expired (its KEN is past); change the meters to a new key"
        case let .requestIDReused(id): "request id \(id) was used before for a different request"
        case let .pricing(e): e.description
        case let .vending(why): why
        case let .card(e): "card: \(e.description)"
        case let .cardUnreachable(why): "card: \(why)"
        case let .store(why): "station database: \(why)"
        case let .tampered(why): "station database does not match its signed log: \(why)"
        case let .loginLocked(until): "too many failed logins for this user: refused until \(until) (or ask a supervisor to unlock it)"
        case .clockOverrideRefused: "STSVEND_NOW is set, but this station keeps real time (it was not created with --test-clock): unset STSVEND_NOW"
        }
    }

    /// Exit status for the command line: 3 authentication/permission, 4 not found, 5 refused
    /// by the rules, 6 storage or a database that disagrees with its log, 7 the card could not be
    /// reached (pulled, no reader).
    public var exitCode: Int32 {
        switch self {
        case .authenticationFailed, .notPermitted, .secondFactorRequired, .wrongKeyEncryptionKey, .loginLocked: 3
        case .notFound: 4
        case .store, .tampered: 6
        case .cardUnreachable: 7
        default: 5
        }
    }
}
