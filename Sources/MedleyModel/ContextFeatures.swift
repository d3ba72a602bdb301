import Foundation

/// The default context encoding: time of day and day of week as points on circles, so that
/// 23:59 and 00:00 are neighbours. The service may build any vector of the model's
/// `context_dim`; this one is what the trainer uses by default (models/README.md).
public enum ContextFeatures {
    /// The length of ``encode(timestampMilliseconds:)``'s result.
    public static let dimension = 4

    /// `[sin(2π h/24), cos(2π h/24), sin(2π w/7), cos(2π w/7)]` where h is the UTC hour of day
    /// (fractional) and w the fractional day of the week counted from Thursday 1970-01-01.
    public static func encode(timestampMilliseconds ms: Int64) -> [Float] {
        let day: Int64 = 86_400_000
        let msOfDay = ((ms % day) + day) % day
        let daysSinceEpoch = (ms - msOfDay) / day
        let hour = Double(msOfDay) / 3_600_000
        let week = Double(((daysSinceEpoch % 7) + 7) % 7) + Double(msOfDay) / Double(day)
        let h = 2 * Double.pi * hour / 24, w = 2 * Double.pi * week / 7
        return [Float(sin(h)), Float(cos(h)), Float(sin(w)), Float(cos(w))]
    }
}
