/// Every kind of entry a station writes to its log: the one list the station writes from and
/// the verifier reads by. The raw value is the entry's `type` member.
public enum AuditEntryType: String, CaseIterable, Sendable {
    /// The station's first entry: its id and public key.
    case station
    /// A credit sale: the receipt object (money, deductions, blocks, tokens).
    case sale
    /// A signed checkpoint sealing every entry before it.
    case checkpoint
    /// A reversal of the latest sale on an account, with its refund.
    case reversal
    /// A receipt printed again (no new token).
    case reprint
    /// An engineering token issued.
    case engineering
    /// A key-change token set issued.
    case keyChange = "key_change"
    /// An export of the log to a file.
    case export
    /// `user`: a user added, disabled or unlocked; `tariff`: a tariff version set; `customer`: a
    /// customer first named; `campaign`: a key-change campaign started, issued to a meter or confirmed.
    case user, tariff, customer, campaign
    /// An account opened (with a new meter, or by a tenant change), and one closed by a tenant change.
    case accountOpen = "account_open", accountClose = "account_close"
    /// A meter registered, and a meter moved to another tariff.
    case meterAdd = "meter_add", meterTariff = "meter_tariff"
    /// A vending key imported (its attributes, never its bytes).
    case keyImport = "key_import"
    /// A failed login (the actor is the name tried), and a name locked by the login throttle.
    case loginFailure = "login_failure", loginLockout = "login_lockout"
    /// A card issuer key imported (its name and issuer number, never its bytes).
    case cardKeyImport = "card_key_import"
    /// A blank card personalised for a card meter.
    case cardIssue = "card_issue"
    /// A card purchase written to its card and read back.
    case cardDelivered = "card_delivered"
    /// A card purchase withdrawn by a supervisor; its energy and VAT go back to the account as carried credit.
    case cardVoid = "card_void"
    /// A card front's sales journal moved into the station.
    case cardJournalImport = "card_journal_import"
    /// The key-encryption key replaced (every secret sealed again under the new one).
    case kekRotation = "kek_rotation"
    /// A meter registered as connected (DLMS/COSEM address and system title, never its keys).
    case meterConnect = "meter_connect"
    /// A supply relay opened or closed from the head-end by a supervisor.
    case remoteSwitch = "remote_switch"
    /// Another station added to a shared store by this one (its id, name and public key); the new
    /// station's own chain begins with its `station` entry.
    case stationAdd = "station_add"
    /// Meters handed to this station's offline lane (a local store that sells them while the
    /// central one may be unreachable), with the sale numbers reserved for it; the chain goes on
    /// in the local store from the checkpoint after this entry.
    case offlineOut = "offline_out"
    /// The offline lane closed by a supervisor at the local store: its last entry there; after
    /// its upload the meters are sold centrally again.
    case offlineReturn = "offline_return"
    /// A meter blocked from every sale by a supervisor (with the reason), or unblocked.
    case meterBlock = "meter_block"
    /// A point-of-sale client (an aggregator) added, changed or disabled: its name, limits and
    /// allowed addresses, never its secret.
    case posClient = "pos_client"
    /// A point-of-sale advice that changed a purchase: a confirmation, or a reversal taken or declined.
    case posAdvice = "pos_advice"
    /// A fault report received from a point of sale, and its resolution by a supervisor.
    case posFault = "pos_fault"

    /// The type named by `bytes` (an entry's `type` text), if the station writes it.
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard let found = Self.byText.first(where: { $0.0.elementsEqual(bytes) }) else { return nil }
        self = found.1
    }

    private static let byText: [([UInt8], AuditEntryType)] = allCases.map { (Array($0.rawValue.utf8), $0) }
}
