/// Class 0, subclasses 0–3: credit in units (0.1 kWh, 0.1 kl, 0.1 m³, 0.1 min).
///
/// Layout after the subclass: `RND(4) | TID(24) | amount(16)`.
public struct TransferCredit: Hashable, Sendable {
    /// Electricity, water, gas or time (never a currency kind).
    public let kind: CreditKind
    /// The 4-bit random number that makes equal requests give different tokens.
    public let rnd: UInt8
    /// The token identifier: the issue minute since the base date, remembered by the meter so the
    /// token is accepted once.
    public let tid: TokenIdentifier
    /// The credit in transfer units, as encoded (rounding included).
    public let amount: TransferAmount

    /// Precondition: `kind` is not a currency kind (use ``CurrencyCredit``).
    @inlinable public init(kind: CreditKind, rnd: UInt8, tid: TokenIdentifier, amount: TransferAmount) {
        precondition(!kind.isCurrency, "currency credit uses CurrencyCredit")
        self.kind = kind
        self.rnd = rnd & 0xF
        self.tid = tid
        self.amount = amount
    }

    /// The plain class 0 data block `RND | TID | amount`, with its CRC.
    @inlinable public var dataBlock: DataBlock {
        DataBlock(tokenClass: .transferCredit, subclass: kind.rawValue,
                  payload: UInt64(rnd) << 40 | UInt64(tid.value) << 16 | UInt64(amount.field))
    }

    @inlinable init(block: DataBlock, kind: CreditKind) {
        let p = block.payload
        self.kind = kind
        rnd = UInt8(p >> 40 & 0xF)
        tid = TokenIdentifier(field: UInt32(p >> 16 & 0xFF_FFFF))
        amount = TransferAmount(field: UInt16(truncatingIfNeeded: p))
    }
}

/// Class 0, subclasses 4–7: credit in money, signed.
///
/// Layout after the subclass: `sign&exponent(4) | TID(24) | amount(16)`, protected by CRC_C.
public struct CurrencyCredit: Hashable, Sendable {
    /// One of the four currency kinds.
    public let kind: CreditKind
    /// The token identifier: the issue minute since the base date, remembered by the meter so the
    /// token is accepted once.
    public let tid: TokenIdentifier
    /// The signed money amount, in 10⁻⁵ of the currency.
    public let amount: CurrencyAmount

    /// Precondition: `kind` is a currency kind (use ``TransferCredit`` for units).
    public init(kind: CreditKind, tid: TokenIdentifier, amount: CurrencyAmount) {
        precondition(kind.isCurrency, "unit credit uses TransferCredit")
        self.kind = kind
        self.tid = tid
        self.amount = amount
    }

    /// The plain class 0 data block `sign&exponent | TID | amount`, protected by CRC_C.
    public var dataBlock: DataBlock {
        DataBlock(tokenClass: .transferCredit, subclass: kind.rawValue,
                  payload: UInt64(amount.signAndExponent) << 40 | UInt64(tid.value) << 16 | UInt64(amount.field),
                  currencyCRC: true)
    }

    init(block: DataBlock, kind: CreditKind) {
        let p = block.payload
        self.kind = kind
        tid = TokenIdentifier(field: UInt32(p >> 16 & 0xFF_FFFF))
        amount = CurrencyAmount(field: UInt16(truncatingIfNeeded: p), signAndExponent: UInt8(p >> 40 & 0xF))
    }
}
