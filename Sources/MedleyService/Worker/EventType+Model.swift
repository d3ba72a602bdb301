import MedleyModel
import MedleyProtocol

extension MedleyModel.EventType {
    /// The model's event type for a wire event type; nil for unspecified or unknown ones.
    init?(_ type: Medley_V1_EventType) {
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
