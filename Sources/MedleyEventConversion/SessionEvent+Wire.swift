import MedleyModel
import MedleyProtocol

extension EventType {
    /// The model's event type for a wire event type; nil for unspecified or unknown values.
    /// A switch rather than a lookup by name: this runs for every event a worker applies.
    public init?(_ type: Medley_V1_EventType) {
        switch type {
        case .view: self = .view
        case .click: self = .click
        case .play: self = .play
        case .complete: self = .complete
        case .like: self = .like
        case .share: self = .share
        case .skip: self = .skip
        case .dislike: self = .dislike
        case .unspecified, .UNRECOGNIZED: return nil
        }
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
