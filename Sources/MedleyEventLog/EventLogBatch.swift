import MedleyProtocol

/// Events received together, to be appended as consecutive records.
public struct EventLogBatch: Sendable, Equatable {
    /// The events, in the order they get sequence numbers.
    public var events: [Medley_V1_SessionEvent]
    /// When the service received them, milliseconds since the Unix epoch; stored in every
    /// record as `received_at_ms`.
    public var receivedAtMs: Int64
    /// Stored on the last record: how an ingest with an idempotency key was answered.
    public var receipt: Medley_V1_IngestReceipt?

    public init(events: [Medley_V1_SessionEvent], receivedAtMs: Int64, receipt: Medley_V1_IngestReceipt? = nil) {
        self.events = events
        self.receivedAtMs = receivedAtMs
        self.receipt = receipt
    }
}
