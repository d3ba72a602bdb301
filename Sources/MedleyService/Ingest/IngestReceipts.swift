import Crypto
import MedleyEventLog
import MedleyProtocol

/// What ingests with an idempotency key were answered, for their retries: by key, the
/// request's fingerprint and acknowledgement, kept for a window (24 hours by default) and at
/// most `maxKeys` of them, the oldest forgotten first. Rebuilt at start from the receipts the
/// event log carries (``rebuilt(fromLogIn:windowMs:maxKeys:nowMs:)``).
struct IngestReceipts {
    struct Receipt: Equatable {
        var fingerprint: [UInt8]
        /// With the durable position of the first request.
        var ack: Medley_V1_IngestAck
        var receivedAtMs: Int64
    }

    let windowMs: Int64
    let maxKeys: Int
    private var byKey: [String: Receipt] = [:]
    /// Keys in the order they were remembered, for forgetting the oldest; `head` is the first
    /// live entry (the array is compacted when half of it is dead).
    private var order: [(key: String, receivedAtMs: Int64)] = []
    private var head = 0

    init(windowMs: Int64, maxKeys: Int) {
        self.windowMs = windowMs
        self.maxKeys = maxKeys
    }

    var count: Int { byKey.count }

    /// The receipt for `key`, unless it has aged out of the window.
    func lookup(_ key: String, nowMs: Int64) -> Receipt? {
        guard let receipt = byKey[key], nowMs - receipt.receivedAtMs < windowMs else { return nil }
        return receipt
    }

    mutating func remember(_ key: String, _ receipt: Receipt, nowMs: Int64) {
        if byKey.updateValue(receipt, forKey: key) == nil {
            order.append((key, receipt.receivedAtMs))
        }
        forget(before: nowMs - windowMs)
        while byKey.count > maxKeys { dropOldest() }
    }

    /// Forgets the receipts received before `cutoffMs`.
    mutating func forget(before cutoffMs: Int64) {
        while head < order.count, order[head].receivedAtMs < cutoffMs { dropOldest() }
    }

    private mutating func dropOldest() {
        guard head < order.count else { return }
        let oldest = order[head]
        head += 1
        if byKey[oldest.key]?.receivedAtMs == oldest.receivedAtMs { byKey[oldest.key] = nil }
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    /// SHA-256 over the events, each as its length (4 bytes big-endian) and its protobuf
    /// encoding, in order: equal for a retry of the same request, whatever its framing.
    static func fingerprint(_ events: [Medley_V1_SessionEvent]) -> [UInt8] {
        var hash = SHA256()
        for event in events {
            let bytes: [UInt8] = (try? event.serializedBytes()) ?? []
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: bytes)
        }
        return Array(hash.finalize())
    }

    /// The receipts the log's records received in the last `windowMs` carry.
    static func rebuilt(fromLogIn directory: String, windowMs: Int64, maxKeys: Int, nowMs: Int64) throws -> IngestReceipts {
        var receipts = IngestReceipts(windowMs: windowMs, maxKeys: maxKeys)
        let reader = EventLogReader(directory: directory)
        try reader.seek(toReceivedAtMs: nowMs - windowMs)
        while let entry = try reader.next() {
            guard entry.record.hasReceipt else { continue }
            let receipt = entry.record.receipt
            var ack = receipt.ack
            ack.durablePosition = entry.position
            receipts.remember(receipt.idempotencyKey, Receipt(fingerprint: Array(receipt.requestSha256), ack: ack,
                                                              receivedAtMs: entry.record.receivedAtMs), nowMs: nowMs)
        }
        return receipts
    }
}
