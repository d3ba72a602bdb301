/// Keeps `medley worker` processes on the model the service serves: which workers take
/// models (those that gave their version at READY), which version each reports, and when
/// each was last sent the current one.
///
/// A worker that reports another version than the service's is sent the current model
/// (MODEL); if it still reports another version `resendAfter` later (it refused the model, or
/// the message was lost with its connection), it is sent again and counts as lagging.
/// Worker threads share the server's model and are never sent one.
struct WorkerModelSync {
    /// How long after a send a worker may still report another version before it is sent the
    /// model again and health reports it.
    let resendAfter: Duration
    private var reported: [[UInt8]: UInt64] = [:]
    private var sent: [[UInt8]: (version: UInt64, at: ContinuousClock.Instant)] = [:]

    init(resendAfter: Duration) {
        self.resendAfter = resendAfter
    }

    /// A worker registered; `modelVersion` is what it said at READY (nil: a worker thread).
    mutating func joined(_ worker: [UInt8], modelVersion: UInt64?) {
        sent[worker] = nil
        reported[worker] = modelVersion
    }

    /// A worker's heartbeat said which version it serves.
    mutating func reported(_ worker: [UInt8], modelVersion: UInt64) {
        guard reported[worker] != nil else { return }
        reported[worker] = modelVersion
    }

    mutating func left(_ worker: [UInt8]) {
        reported[worker] = nil
        sent[worker] = nil
    }

    /// The workers to send `current` to now; marks them sent.
    mutating func due(current: UInt64, now: ContinuousClock.Instant) -> [[UInt8]] {
        var due: [[UInt8]] = []
        for (worker, version) in reported where version != current {
            if let last = sent[worker], last.version == current, last.at.duration(to: now) < resendAfter { continue }
            sent[worker] = (current, now)
            due.append(worker)
        }
        return due.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Workers that were sent `current` more than `resendAfter` ago and still report another
    /// version, with the version they report.
    func lagging(current: UInt64, now: ContinuousClock.Instant) -> [(worker: [UInt8], version: UInt64)] {
        reported.compactMap { worker, version in
            guard version != current, let last = sent[worker], last.version == current,
                  last.at.duration(to: now) >= resendAfter else { return nil }
            return (worker, version)
        }.sorted { $0.worker.lexicographicallyPrecedes($1.worker) }
    }
}
