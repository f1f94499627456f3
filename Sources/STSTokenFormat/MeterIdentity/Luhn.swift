/// The Luhn (mod 10) check digit used for the meter PAN and for the DRN inside it.
///
/// STS uses it to catch a mistyped meter number before a token is made for the wrong meter.
public enum Luhn {
    /// The check digit to append to `digits` (each element 0–9, most significant first).
    public static func checkDigit<C: BidirectionalCollection>(for digits: C) -> UInt8 where C.Element == UInt8 {
        var sum = 0
        var double = true  // the digit next to the check digit is doubled
        for d in digits.reversed() {
            var v = Int(d)
            if double { v *= 2; if v > 9 { v -= 9 } }
            sum += v
            double.toggle()
        }
        return UInt8((10 - sum % 10) % 10)
    }

    /// Whether a string of decimal digits ends in its correct Luhn check digit.
    public static func isValid(_ number: String) -> Bool {
        let bytes = Array(number.utf8)
        guard bytes.count >= 2, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
        let digits = bytes.map { $0 - 48 }
        return checkDigit(for: digits.dropLast()) == digits.last!
    }
}
