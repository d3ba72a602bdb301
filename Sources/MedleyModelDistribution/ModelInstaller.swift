import Foundation
import Logging
import MedleyModel
import MedleySystem
import Synchronization

/// A change of the serving model.
public struct ModelSwap: Sendable, Equatable {
    /// The version serving before (0: none).
    public var previousVersion: UInt64
    /// The version serving now.
    public var currentVersion: UInt64
}

/// Why a control request could not change the model.
public enum ModelLoadError: Error, Equatable, CustomStringConvertible {
    /// The server has no model directory to load from.
    case noModelDirectory
    /// No file for the version.
    case notFound(path: String)
    /// The file failed verification; the previous model keeps serving.
    case rejected(ModelRejection)
    /// Nothing to roll back to.
    case noPreviousModel

    public var description: String {
        switch self {
        case .noModelDirectory: "this server was started without a model directory"
        case .notFound(let path): "no model file at \(path)"
        case .rejected(let rejection): "the model was refused: \(rejection)"
        case .noPreviousModel: "there is no previous model to roll back to"
        }
    }
}

/// Counters and health of model updates since start, for `StatsReply` and `HealthReply`.
public struct ModelUpdateStatus: Sendable, Equatable {
    /// Models put in service (the start-up model not included).
    public var installed: UInt64 = 0
    /// Models refused.
    public var rejected: UInt64 = 0
    /// Which model was refused last, from where, and why.
    public var lastRejection: String?
    /// Set by a refusal and cleared by the next model put in service: the service is degraded
    /// while the newest model it was offered is not the one serving.
    public var degradedDetail: String?
}

/// The one way a model gets into service while the server runs: it verifies a model
/// (``ModelVerifier``), warms it up off the request path (``ModelWarmUp``), then swaps it in
/// (``ServingModel/swap(to:)``), and counts and logs every refusal. Publications, model-directory
/// pickups and control requests all come through here, one at a time.
///
/// It keeps the model that served before the current one, for rollback; any older model is
/// freed as soon as the last batch using it is answered.
public final class ModelInstaller: Sendable {
    public let models: ServingModel
    /// Where `load(version:)` finds `<version>.safetensors`.
    public let modelDirectory: String?
    let verifier: ModelVerifier
    let warmUpPasses: Int
    let logger: Logger
    /// The model before the current one. Held for the whole of an installation, so that two
    /// sources never verify against the same serving model and swap over each other.
    private let previous = Mutex<MultitaskModel?>(nil)
    /// The serving model's publication and the one before it, for worker processes: written
    /// with `previous` held, read without it.
    private let publications: Mutex<(current: ModelPublication?, previous: ModelPublication?)>
    /// Separate from `previous` so that health and stats never wait for an installation.
    private let statusState = Mutex(ModelUpdateStatus())

    /// `startup` is the publication of the model serving at start (its file's bytes and
    /// signature), which worker processes are sent; nil when there is none to send.
    public init(models: ServingModel, configuration: ModelUpdateConfiguration = ModelUpdateConfiguration(),
                modelDirectory: String?, startup: ModelPublication? = nil, logger: Logger = Logger(label: "medley.models")) {
        self.models = models
        publications = Mutex((startup, nil))
        self.modelDirectory = modelDirectory
        verifier = ModelVerifier(configuration: configuration)
        warmUpPasses = configuration.warmUpPasses
        self.logger = logger
    }

    /// The publication of the model serving now, for worker processes; nil when its bytes are
    /// not known (a server started from a model in memory).
    public var currentPublication: ModelPublication? {
        publications.withLock { $0.current }
    }

    /// Counters, the last refusal and whether the service is degraded by one.
    public var status: ModelUpdateStatus {
        statusState.withLock { $0 }
    }

    /// Verifies a publication and puts it in service. Returns nil when its version is already
    /// serving (a repeat), the swap otherwise. `source` names where it came from, for the log;
    /// `mustBeNewer` is false for a worker process following its server (see ``ModelVerifier``).
    @discardableResult
    public func install(_ publication: ModelPublication, source: String, mustBeNewer: Bool = true) throws(ModelRejection) -> ModelSwap? {
        try previous.withLock { previous throws(ModelRejection) -> ModelSwap? in
            let started = ContinuousClock.now
            let version = publication.announcement.version
            do throws(ModelRejection) {
                guard let model = try verifier.verify(publication, serving: models.model, mustBeNewer: mustBeNewer) else {
                    logger.debug("model already serving", metadata: ["version": "\(version)", "source": "\(source)"])
                    return nil
                }
                return try put(model, replacing: &previous, publication: publication, source: source, startedAt: started)
            } catch {
                refuse(version: version, source: source, because: error)
                throw error
            }
        }
    }

    /// Loads `<model directory>/<version>.safetensors`, verifies it and puts it in service.
    /// A control request may load any version (`mustBeNewer` false); the directory watcher
    /// loads only newer ones.
    @discardableResult
    public func load(version: UInt64, mustBeNewer: Bool = false, source: String = "control request") throws(ModelLoadError) -> ModelSwap {
        guard let modelDirectory else { throw .noModelDirectory }
        let path = ModelFileName.path(version: version, in: modelDirectory)
        return try previous.withLock { previous throws(ModelLoadError) -> ModelSwap in
            let started = ContinuousClock.now
            let bytes: [UInt8]
            do throws(ModelRejection) {
                bytes = try readModelFile(path)
            } catch {
                if case .invalidModel(.io(path: _, operation: _, errno: let code)) = error, code == ENOENT { throw .notFound(path: path) }
                refuse(version: version, source: "\(source) (\(path))", because: error)
                throw .rejected(error)
            }
            do throws(ModelRejection) {
                let signature: [UInt8]?
                if let trainerKey = verifier.trainerKey {
                    signature = try ModelSignatureFile.verify(bytes, version: version, modelPath: path, key: trainerKey)
                } else {
                    signature = try ModelSignatureFile.read(forModelAt: path)
                }
                let model = try verifier.verifyFile(bytes, expectedVersion: version, serving: models.model, mustBeNewer: mustBeNewer)
                let publication = ModelPublication(verifiedFileBytes: bytes, model: model, signature: signature)
                return try put(model, replacing: &previous, publication: publication, source: "\(source) (\(path))", startedAt: started)
            } catch {
                refuse(version: version, source: "\(source) (\(path))", because: error)
                throw .rejected(error)
            }
        }
    }

    /// Swaps back to the model that served before the current one (no verification: it
    /// served already). Rolling back twice returns to where it started.
    @discardableResult
    public func rollback() throws(ModelLoadError) -> ModelSwap {
        try previous.withLock { previous throws(ModelLoadError) -> ModelSwap in
            guard let target = previous else { throw .noPreviousModel }
            statusState.withLock {
                $0.installed += 1
                $0.degradedDetail = nil
            }
            let replaced = models.swap(to: target)
            previous = replaced
            publications.withLock { $0 = ($0.previous, $0.current) }
            let swap = ModelSwap(previousVersion: replaced?.configuration.modelVersion ?? 0, currentVersion: target.configuration.modelVersion)
            logger.notice("model rolled back", metadata: ["version": "\(swap.currentVersion)", "from": "\(swap.previousVersion)"])
            return swap
        }
    }

    /// Reads a model file, refusing one over the size limit before reading it.
    private func readModelFile(_ path: String) throws(ModelRejection) -> [UInt8] {
        let info: stat
        do {
            info = try fileStatus(path)
        } catch {
            throw .invalidModel(ModelFileError(error))
        }
        guard Int(info.st_size) <= verifier.maxModelBytes else {
            throw .tooLarge(bytes: UInt64(info.st_size), limit: verifier.maxModelBytes)
        }
        do {
            return try ModelFile.readBytes(URL(fileURLWithPath: path))
        } catch {
            throw .invalidModel(error)
        }
    }

    /// Warms a verified model up and swaps it in. Called with `previous` locked.
    private func put(_ model: MultitaskModel, replacing previous: inout MultitaskModel?, publication: ModelPublication,
                     source: String, startedAt: ContinuousClock.Instant) throws(ModelRejection) -> ModelSwap {
        let verified = ContinuousClock.now
        try ModelWarmUp.run(model, passes: warmUpPasses, nowMs: wallClockMilliseconds())
        // Counted before the swap is visible, so that whoever sees the new version in health
        // or a reply also sees it counted.
        statusState.withLock {
            $0.installed += 1
            $0.degradedDetail = nil
        }
        let replaced = models.swap(to: model)
        publications.withLock { $0 = (publication, $0.current) }
        // The model before `replaced` is dropped here; it is freed once no batch holds it
        // (now, or by the last worker's batch; then the next swap returns its pages).
        previous = replaced
        FreedMemory.returnToSystem()
        let swap = ModelSwap(previousVersion: replaced?.configuration.modelVersion ?? 0, currentVersion: model.configuration.modelVersion)
        let now = ContinuousClock.now
        logger.notice("model swapped in", metadata: [
            "version": "\(swap.currentVersion)", "previous": "\(swap.previousVersion)", "source": "\(source)",
            "itemTable": "\(model.itemPrecision)",
            "verify_ms": "\(milliseconds(startedAt.duration(to: verified)))", "warm_up_ms": "\(milliseconds(verified.duration(to: now)))",
        ])
        return swap
    }

    /// Counts and logs a refusal; also for publications refused before they reach ``install(_:source:)``.
    package func refuse(version: UInt64, source: String, because rejection: ModelRejection) {
        let serving = models.version
        let text = "model version \(version) from \(source): \(rejection)"
        statusState.withLock {
            $0.rejected += 1
            $0.lastRejection = text
            $0.degradedDetail = "refused \(text); version \(serving) keeps serving"
        }
        logger.warning("model refused", metadata: ["version": "\(version)", "source": "\(source)", "reason": "\(rejection)", "serving": "\(serving)"])
    }

    /// Makes health report the model manager's failure: models no longer arrive by themselves.
    func updatesStopped(because reason: String) {
        statusState.withLock { $0.degradedDetail = "model updates stopped: \(reason)" }
    }

    private func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }
}
