import STSCrypto
import STSTokenFormat

extension MeterDecoder {
    /// Stores one key-change token; installs the new key when the set is complete.
    ///
    /// Sets are accepted in any order within the policy's window; a token of a section already
    /// held replaces it. A 64-bit meter completes on sections 3 and 4 (plus 8 when section 3
    /// announces a 3-token set); a 128-bit meter on 3, 4, 8 and 9.
    mutating func keyChange(_ block: DataBlock, at now: Int64) -> TokenOutcome {
        var pending = state.pendingKeyChange ?? PendingKeyChange(startedAt: now)
        // A window that ran out, or a clock that went backwards (or is hostile), starts a new set.
        let age = now.subtractingReportingOverflow(pending.startedAt)
        if age.overflow || age.partialValue < 0 || age.partialValue > state.policy.keyChangeWindowSeconds {
            pending = PendingKeyChange(startedAt: now)
        }
        pending.blocks[block.subclass] = block.rawValue
        let entered: TokenResult = switch block.subclass {
        case 3: .firstKeyChangeToken
        case 4: .secondKeyChangeToken
        case 8: .thirdKeyChangeToken
        default: .fourthKeyChangeToken
        }
        let bits = state.key.decoderKey.bitCount
        func section(_ subclass: UInt8) -> KeyChangeSection? {
            guard let raw = pending.blocks[subclass],
                  case let .keyChange(s)? = try? TokenContent(block: DataBlock(rawValue: raw), tokenClass: .management, keyBits: bits)
            else { return nil }
            return s
        }
        guard case let .first(kenHigh, krn, rollover, threeTokens, kt, keyHigh)? = section(3),
              case let .second(kenLow, ti, keyLow)? = section(4)
        else {
            state.pendingKeyChange = pending
            return TokenOutcome(entered)
        }
        var newKey: DecoderKey
        var newSGC = state.key.supplyGroup
        if bits == 128 {
            guard case let .third(sgcLow, middle2)? = section(8), case let .fourth(sgcHigh, middle1)? = section(9) else {
                state.pendingKeyChange = pending
                return TokenOutcome(entered)
            }
            newKey = DecoderKey(high: UInt64(keyHigh) << 32 | UInt64(middle2), low: UInt64(middle1) << 32 | UInt64(keyLow))
            guard let sgc = try? SupplyGroupCode(value: UInt32(sgcHigh) << 12 | UInt32(sgcLow)) else {
                state.pendingKeyChange = nil
                return TokenOutcome(.range)
            }
            newSGC = sgc
        } else {
            newKey = DecoderKey(UInt64(keyHigh) << 32 | UInt64(keyLow))
            if threeTokens {
                guard case let .supplyGroup(sgc)? = section(8) else {
                    state.pendingKeyChange = pending
                    return TokenOutcome(entered)
                }
                newSGC = sgc
            }
        }
        // Complete: check the key-type rules, then install.
        state.pendingKeyChange = nil
        guard let keyType = KeyType(rawValue: kt), keyType != .initialisation else { return TokenOutcome(.keyType) }
        guard krn != 0 else { return TokenOutcome(.range) }
        state.key.decoderKey = newKey
        state.key.revision = krn
        state.key.keyType = keyType
        state.key.expiry = KeyExpiryNumber(high: kenHigh, low: kenLow)
        state.key.tariffIndex = ti
        state.key.supplyGroup = newSGC
        if rollover {
            state.tidMemory.clear()
            switch state.key.baseDate {
            case .y1993: state.key.baseDate = .y2014
            case .y2014: state.key.baseDate = .y2035
            case .y2035: break
            }
        }
        var outcome = TokenOutcome(entered)
        outcome.keyChanged = true
        return outcome
    }
}
