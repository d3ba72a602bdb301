/// One log line per interval for a condition that repeats, with a count of the repeats not
/// logged: a full disk fails every ingest, and one line per failure buried the log (about
/// ten thousand lines a second) without saying more than the first.
package struct RepeatedLogLine {
    package let interval: Duration
    private var lastLogged: ContinuousClock.Instant?
    private var notLogged = 0

    package init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Nil when this occurrence should not be logged; otherwise the number of occurrences
    /// held back since the previous line.
    package mutating func admit(at now: ContinuousClock.Instant = .now) -> Int? {
        if let lastLogged, now - lastLogged < interval {
            notLogged += 1
            return nil
        }
        defer {
            lastLogged = now
            notLogged = 0
        }
        return notLogged
    }

    /// The condition ended: the next occurrence is logged at once.
    package mutating func reset() {
        lastLogged = nil
        notLogged = 0
    }
}
