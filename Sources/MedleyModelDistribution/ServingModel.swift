import MedleyModel
import Synchronization

/// The model the service answers with, shared by the broker and every worker.
///
/// A reader takes the current model once per batch and keeps that reference until the batch
/// is answered, so a swap never changes a model under a request; the old model is freed
/// when its last reader lets go.
public final class ServingModel: Sendable {
    private let current: Mutex<MultitaskModel?>

    public init(_ model: MultitaskModel? = nil) {
        current = Mutex(model)
    }

    /// The model serving now, or nil before one is loaded.
    public var model: MultitaskModel? {
        current.withLock { $0 }
    }

    /// The serving model's version, 0 when none is loaded.
    public var version: UInt64 {
        current.withLock { $0?.configuration.modelVersion ?? 0 }
    }

    /// Puts `model` in service; returns the model it replaces.
    @discardableResult
    public func swap(to model: MultitaskModel) -> MultitaskModel? {
        current.withLock { current in
            let previous = current
            current = model
            return previous
        }
    }
}
