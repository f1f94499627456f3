import STSCrypto
import STSTokenFormat

/// What happened to one entered token.
public struct TokenOutcome: Equatable, Sendable {
    /// The meter's result for the token (accept, USED, CRC error, …).
    public var result: TokenResult
    /// The token's class, when the digits could be read.
    public var tokenClass: TokenClass?
    /// The fields, when the token decrypted with a valid CRC.
    public var content: TokenContent?
    /// True when this token completed a key-change set and the new key is installed.
    public var keyChanged = false

    /// An outcome with a result and, where known, the token's class and fields.
    public init(_ result: TokenResult, tokenClass: TokenClass? = nil, content: TokenContent? = nil) {
        self.result = result
        self.tokenClass = tokenClass
        self.content = content
    }
}

/// The meter-side decoder: takes keyed-in tokens and applies them to a ``MeterState``.
///
/// Processing order: format → lockout (meter-specific tokens only) → class → decrypt with the
/// installed key → CRC → subclass → TID memory (USED/OLD) → key expiry → key-type rules (DDTK)
/// → tamper → overflow/range → apply. The first failing step is the result and nothing but the
/// lockout counters changes. No I/O and no allocation on the credit path, so it can be ported
/// to firmware line by line; time comes in as a parameter.
public struct MeterDecoder: Sendable, Equatable {
    /// The meter's state; each entered token reads and updates it.
    public var state: MeterState

    /// A decoder for a meter in this state.
    public init(state: MeterState) { self.state = state }

    /// Enters a token typed as text (20 digits; spaces or hyphens between groups allowed).
    public mutating func enter(_ text: String, at now: Int64) -> TokenOutcome {
        guard let number = try? TokenNumber(text) else { return wrongEntry(.format, at: now) }
        return enter(number, at: now)
    }

    /// Enters a token number.
    public mutating func enter(_ number: TokenNumber, at now: Int64) -> TokenOutcome {
        let tokenClass = number.tokenClass
        if tokenClass == .meterTest { return meterTest(number, at: now) }
        if state.lockout.isLocked(at: now) { return TokenOutcome(.lockout, tokenClass: tokenClass) }
        if tokenClass == .reserved { return wrongEntry(.format, at: now, tokenClass: tokenClass) }
        // A meter holding an EA09 key was set up that way deliberately (the opt-in is at init).
        guard let cipher = try? TokenCipher(key: state.key.decoderKey, algorithm: state.key.encryption, allowUnverified: true) else {
            return TokenOutcome(.function, tokenClass: tokenClass)
        }
        let block = DataBlock(rawValue: cipher.decrypt(number.block))
        let content: TokenContent
        do {
            content = try TokenContent(block: block, tokenClass: tokenClass, keyBits: state.key.decoderKey.bitCount)
        } catch .crc {
            return wrongEntry(.crc, at: now, tokenClass: tokenClass)
        } catch .unknownSubclass, .reservedClass {
            return TokenOutcome(.function, tokenClass: tokenClass)
        } catch {
            return wrongEntry(.format, at: now, tokenClass: tokenClass)
        }
        var outcome: TokenOutcome
        switch content {
        case let .transferCredit(c):
            outcome = credit(c.kind, amount: Int128(c.amount.units), tid: c.tid)
        case let .currencyCredit(c):
            outcome = credit(c.kind, amount: c.amount.units, tid: c.tid)
        case let .management(m):
            outcome = management(m)
        case .keyChange:
            outcome = keyChange(block, at: now)
        case .meterTest:
            outcome = TokenOutcome(.format)
        }
        outcome.tokenClass = tokenClass
        outcome.content = content
        if outcome.result.isAccepted { state.lockout.recordAccepted() }
        return outcome
    }

    // MARK: steps

    mutating func wrongEntry(_ result: TokenResult, at now: Int64, tokenClass: TokenClass? = nil) -> TokenOutcome {
        state.lockout.recordWrongEntry(at: now, policy: state.policy.lockout)
        return TokenOutcome(result, tokenClass: tokenClass)
    }

    /// Class 1: no key, no TID; the CRC and the manufacturer code are checked. Works during
    /// lockout, and does not end one (a test token is no proof of a good key).
    mutating func meterTest(_ number: TokenNumber, at now: Int64) -> TokenOutcome {
        let block = DataBlock(rawValue: number.block)
        let content: TokenContent
        do {
            content = try TokenContent(block: block, tokenClass: .meterTest, keyBits: 64)
        } catch .crc {
            return wrongEntry(.crc, at: now, tokenClass: .meterTest)
        } catch {
            return TokenOutcome(.function, tokenClass: .meterTest)
        }
        guard case let .meterTest(test) = content else { return TokenOutcome(.function, tokenClass: .meterTest) }
        // Subclass 0 carries 2-digit codes (11-digit DRNs), subclass 1 4-digit codes (13-digit DRNs).
        let subclassFits = (test.subclass == 0) == (state.pan.iinLength == 6)
        guard subclassFits, test.manufacturerCode == state.manufacturerCode else {
            return TokenOutcome(.manufacturerCode, tokenClass: .meterTest, content: content)
        }
        return TokenOutcome(.accept, tokenClass: .meterTest, content: content)
    }

    /// TID memory and key expiry, shared by credit and register tokens.
    func tidAndExpiry(_ tid: TokenIdentifier) -> TokenResult? {
        if let refused = state.tidMemory.check(tid.value) { return refused }
        if !state.key.expiry.permits(tid) { return .keyExpired }
        return nil
    }

    mutating func credit(_ kind: CreditKind, amount: Int128, tid: TokenIdentifier) -> TokenOutcome {
        if let refused = tidAndExpiry(tid) { return TokenOutcome(refused) }
        if state.key.keyType == .default { return TokenOutcome(.ddtk) }
        if state.registers.tamper { return TokenOutcome(.tamper) }
        let updated = state.registers[kind] + amount
        let maximum = kind.isCurrency ? state.policy.maximumCurrencyCredit : state.policy.maximumUnitCredit
        if updated > maximum { return TokenOutcome(.overflow) }
        if updated < 0 { return TokenOutcome(.range) }
        state.registers[kind] = updated
        state.tidMemory.remember(tid.value)
        return TokenOutcome(.accept)
    }

    mutating func management(_ m: MeterManagement) -> TokenOutcome {
        if let refused = tidAndExpiry(m.tid) { return TokenOutcome(refused) }
        switch m.function {
        case .setMaximumPowerLimit: state.registers.maximumPowerLimit = m.watts
        case .setMaximumPhasePowerUnbalanceLimit: state.registers.phaseUnbalanceLimit = m.watts
        case .clearCredit:
            if m.value == 0xFFFF {
                for i in 0..<8 { state.registers.credit[i] = 0 }
            } else if m.value <= 7 {
                state.registers.credit[Int(m.value)] = 0
            } else {
                return TokenOutcome(.range)
            }
        case .setTariffRate: state.registers.tariffRate = m.value
        case .clearTamperCondition: state.registers.tamper = false
        case .setWaterMeterFactor: state.registers.waterMeterFactor = m.value
        }
        state.tidMemory.remember(m.tid.value)
        return TokenOutcome(.accept)
    }
}
