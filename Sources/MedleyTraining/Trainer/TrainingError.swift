import MedleyModel

/// Why training could not start or could not finish.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A configuration value is out of range: which one, and why.
    case invalidConfiguration(String, String)
    /// No event could be used (all empty, of unknown domains or of unspecified type).
    case noUsableEvents
    /// The events give no training example (every user has a single event, or all are held out).
    case noTrainingExamples
    /// The vocabulary could not be made into a model (for instance an invalid domain name).
    case model(ModelFileError)
    /// A loss or parameter became NaN or infinite: the learning rate is too high for the data.
    case diverged(epoch: Int, batch: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let name, let reason):
            return "invalid training configuration: \(name): \(reason)"
        case .noUsableEvents:
            return "no usable event: every event is empty, of a domain the model does not have, or of unspecified type"
        case .noTrainingExamples:
            return "no training example: every user has fewer than two training events"
        case .model(let error):
            return "cannot build the model: \(error.description)"
        case .diverged(let epoch, let batch):
            return "training diverged (non-finite loss or parameter) in epoch \(epoch), batch \(batch); lower the learning rate"
        }
    }
}
