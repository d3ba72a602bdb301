/// Control requests (load a model version, roll back) as the broker hands them to the model
/// manager's thread, which verifies and warms models off the request path, and the outcomes
/// it hands back: the frames on the in-process socket between the two.
public enum ModelControl {
    public enum Action: Equatable, Sendable {
        case load(version: UInt64)
        case rollback
    }

    /// Why an action changed nothing.
    public struct Refusal: Error, Equatable, Sendable {
        public enum Reason: UInt8, Sendable {
            case noModelDirectory = 1, notFound, rejected, noPreviousModel
        }

        public var reason: Reason
        public var message: String

        init(_ error: ModelLoadError) {
            switch error {
            case .noModelDirectory: reason = .noModelDirectory
            case .notFound: reason = .notFound
            case .rejected: reason = .rejected
            case .noPreviousModel: reason = .noPreviousModel
            }
            message = error.description
        }

        init(reason: Reason, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    public typealias Outcome = Result<ModelSwap, Refusal>

    /// A request: its token (echoed in the outcome), then the action.
    public static func requestFrames(token: UInt64, _ action: Action) -> [[UInt8]] {
        switch action {
        case .load(let version): [bytes(token), [1] + bytes(version)]
        case .rollback: [bytes(token), [2]]
        }
    }

    public static func request(frames: [[UInt8]]) -> (token: UInt64, action: Action)? {
        guard frames.count == 2, let token = value(frames[0]), let kind = frames[1].first else { return nil }
        switch (kind, frames[1].count) {
        case (1, 9): return value(Array(frames[1].dropFirst())).map { (token, .load(version: $0)) }
        case (2, 1): return (token, .rollback)
        default: return nil
        }
    }

    /// An outcome: the request's token, then the swap's versions or the refusal.
    public static func outcomeFrames(token: UInt64, _ outcome: Outcome) -> [[UInt8]] {
        switch outcome {
        case .success(let swap): [bytes(token), [0], bytes(swap.previousVersion), bytes(swap.currentVersion)]
        case .failure(let refusal): [bytes(token), [refusal.reason.rawValue], Array(refusal.message.utf8)]
        }
    }

    public static func outcome(frames: [[UInt8]]) -> (token: UInt64, outcome: Outcome)? {
        guard frames.count >= 2, let token = value(frames[0]), frames[1].count == 1 else { return nil }
        if frames[1][0] == 0 {
            guard frames.count == 4, let previous = value(frames[2]), let current = value(frames[3]) else { return nil }
            return (token, .success(ModelSwap(previousVersion: previous, currentVersion: current)))
        }
        guard frames.count == 3, let reason = Refusal.Reason(rawValue: frames[1][0]) else { return nil }
        return (token, .failure(Refusal(reason: reason, message: String(decoding: frames[2], as: UTF8.self))))
    }

    /// Carries out an action with `installer` (on the calling thread: the manager's).
    static func perform(_ action: Action, with installer: ModelInstaller) -> Outcome {
        do throws(ModelLoadError) {
            switch action {
            case .load(let version): return .success(try installer.load(version: version))
            case .rollback: return .success(try installer.rollback())
            }
        } catch {
            return .failure(Refusal(error))
        }
    }

    private static func bytes(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private static func value(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}
