import STSTokenFormat

/// Chooses the TID for a new token to a meter: the minute of issue since the base date (UTC),
/// never the reserved 00:01 minute, and never one already issued to that meter.
///
/// The TID moves strictly forward past every TID the caller says was issued, so tokens sold in
/// the same minute get consecutive minutes and a meter's OLD/USED checks never refuse a fresh
/// token because of a clock that went backwards.
public enum TokenIdentifierAllocator {
    /// The next TID for a token issued at `unixSeconds`, after the TIDs in `issued`.
    public static func next(atUnixSeconds unixSeconds: Int64, baseDate: BaseDate,
                            after issued: some Sequence<TokenIdentifier> = [TokenIdentifier]()) throws -> TokenIdentifier {
        let now = try TokenIdentifier.forVending(atUnixSeconds: unixSeconds, baseDate: baseDate)
        var candidate = now.value
        if let last = issued.max(), last.value >= candidate { candidate = last.value + 1 }
        if candidate % 1440 == 1 { candidate += 1 }
        guard candidate <= TokenIdentifier.maximum else { throw VendingError.tidExhausted }
        return TokenIdentifier(field: candidate)
    }
}
