/// When a worker scores the batch it has gathered.
///
/// A worker takes every request waiting on its socket, then scores them as one batch; the
/// requests that arrive while a batch is being scored wait in the socket and form the next
/// batch. So batches grow with the load by themselves, and a request that reaches an idle
/// worker is scored at once: it never waits for company that is not coming.
///
/// `maxDelay` (0 by default) lets a batch wait for more requests, but only under load: when
/// the previous batch held more than one request and this one opened within `maxDelay` of the
/// previous flush. A lone request after a quiet spell is never delayed.
struct AdaptiveBatching {
    let maxDelay: Duration
    private var previousBatchSize = 0
    private var previousFlushEnd: ContinuousClock.Instant?

    init(maxDelayMicroseconds: Int) {
        maxDelay = .microseconds(max(0, maxDelayMicroseconds))
    }

    /// The instant by which a batch opened at `openedAt` must be scored. The worker drains its
    /// socket before it looks, so a deadline equal to `openedAt` means "as soon as the
    /// requests already waiting have been taken".
    func deadline(forBatchOpenedAt openedAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard maxDelay > .zero, previousBatchSize > 1, let previousFlushEnd,
              previousFlushEnd.duration(to: openedAt) <= maxDelay else { return openedAt }
        return openedAt.advanced(by: maxDelay)
    }

    /// Records a batch just scored.
    mutating func flushed(size: Int, at end: ContinuousClock.Instant) {
        previousBatchSize = size
        previousFlushEnd = end
    }
}
