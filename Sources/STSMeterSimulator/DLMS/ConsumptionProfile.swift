/// A household's load over the week: low at night, a morning and a larger evening peak, more
/// at weekends, with noise that is the same for the same meter and quarter hour (so runs repeat).
public struct ConsumptionProfile: Sendable, Equatable {
    /// The night-time load, W.
    public var baseWatts: Int64
    /// The evening peak, W.
    public var peakWatts: Int64
    /// Weekend load relative to weekdays, in percent.
    public var weekendPercent: Int64 = 120
    /// The noise amplitude, in percent of the load.
    public var noisePercent: Int64 = 20
    /// Seeds the noise (e.g. from the PAN).
    public var seed: UInt64

    public init(baseWatts: Int64, peakWatts: Int64, seed: UInt64) {
        self.baseWatts = baseWatts; self.peakWatts = peakWatts; self.seed = seed
    }

    /// A profile for the meter with this PAN: loads between 150–400 W base and 1.5–4 kW peak.
    public init(pan: String) {
        var h: UInt64 = 1469598103934665603
        for b in pan.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        self.init(baseWatts: 150 + Int64(h % 250), peakWatts: 1500 + Int64((h >> 16) % 2500), seed: h)
    }

    /// The load at `t` (seconds since 1970, UTC).
    public func watts(at t: Int64) -> Int64 {
        let hour = (t % 86_400) / 3600
        let day = (t / 86_400 + 4) % 7 // 0 = Sunday (1970-01-01 was a Thursday)
        let shape: Int64
        switch hour {
        case 0..<6: shape = 0
        case 6..<9: shape = 45
        case 9..<17: shape = 20
        case 17..<22: shape = 100
        default: shape = 30
        }
        var w = baseWatts + (peakWatts - baseWatts) * shape / 100
        if day == 0 || day == 6 { w = w * weekendPercent / 100 }
        var x = seed ^ UInt64(bitPattern: t / 900) &* 0x9E3779B97F4A7C15
        x ^= x >> 31; x &*= 0xBF58476D1CE4E5B9; x ^= x >> 29
        let noise = Int64(x % UInt64(2 * noisePercent + 1)) - noisePercent
        return max(0, w + w * noise / 100)
    }
}
