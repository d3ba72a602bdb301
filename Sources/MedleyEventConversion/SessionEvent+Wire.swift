import MedleyModel
import MedleyProtocol

extension EventType {
    /// The model's event type for a wire event type; nil for unspecified or unknown values.
    public init?(_ type: Medley_V1_EventType) {
        guard let name = type.name else { return nil }
        self.init(rawValue: name)
    }
}

extension SessionEvent {
    /// The model's event for a wire event; nil when its type is unspecified or unknown (the
    /// model has no weight for it). Dwell 0 means unknown on the wire.
    public init?(_ event: Medley_V1_SessionEvent) {
        guard let type = EventType(event.type) else { return nil }
        self.init(
            item: ItemReference(domain: event.domain, id: event.itemID), type: type,
            timestampMilliseconds: event.timestampMs,
            dwellMilliseconds: event.dwellMs == 0 ? nil : Int64(event.dwellMs),
            weight: event.hasWeight ? event.weight : nil)
    }
}
