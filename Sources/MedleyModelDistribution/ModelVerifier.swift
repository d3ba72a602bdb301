import MedleyModel
import MedleyProtocol

/// The checks a model passes before it may serve, in the order protocol/README.md gives for
/// publications: size, SHA-256, signature (when a trainer key is configured), version newer
/// than the one serving, the file itself (dtypes, shapes, finite values, vocabularies), whether
/// the service can serve it (context width, outputs bounded for every input), then
/// the domains the service accepts events for. Cheap checks come first, so a bad publication
/// costs little; nothing is decoded before the bytes are known to be the trainer's.
struct ModelVerifier: Sendable {
    var maxModelBytes: Int
    var trainerKey: ModelVerificationKey?
    var requiredDomains: [String]
    var itemPrecision: ItemPrecisionChoice
    var itemIndex: ItemIndexKind

    init(configuration: ModelUpdateConfiguration) {
        maxModelBytes = configuration.maxModelBytes
        trainerKey = configuration.trainerKey
        requiredDomains = configuration.requiredDomains
        itemPrecision = configuration.itemPrecision
        itemIndex = configuration.itemIndex
    }

    /// Verifies a publication against the model serving. Returns nil when its version is the
    /// one serving (a repeat, such as a snapshot of what was already published): not an error.
    /// `mustBeNewer` is false for a worker process, which serves whatever its server serves
    /// (a rollback included).
    func verify(_ publication: ModelPublication, serving: MultitaskModel?, mustBeNewer: Bool = true) throws(ModelRejection) -> MultitaskModel? {
        let announcement = publication.announcement
        let bytes = publication.modelBytes
        guard announcement.sizeBytes <= UInt64(maxModelBytes), bytes.count <= maxModelBytes else {
            throw .tooLarge(bytes: max(announcement.sizeBytes, UInt64(bytes.count)), limit: maxModelBytes)
        }
        guard UInt64(bytes.count) == announcement.sizeBytes else {
            throw .sizeMismatch(announced: announcement.sizeBytes, received: bytes.count)
        }
        let actual = ModelPublication.sha256(bytes)
        guard Array(announcement.sha256) == actual else {
            throw .hashMismatch(announced: announcement.sha256.hexString, actual: actual.hexString)
        }
        if let trainerKey {
            guard announcement.hasSignature else { throw .unsigned }
            guard trainerKey.isValidSignature(Array(announcement.signature), version: announcement.version, sha256: actual) else {
                throw .badSignature
            }
        }
        if let serving, announcement.version == serving.configuration.modelVersion { return nil }
        if mustBeNewer { try requireNewer(announcement.version, than: serving) }
        let model = try decode(bytes, expectedVersion: announcement.version)
        guard model.configuration.domains == announcement.domains else {
            throw .announcementMismatch("announced domains \(announcement.domains), the file has \(model.configuration.domains)")
        }
        try requireDomains(of: model, serving: serving)
        return model
    }

    /// Verifies a model file read from disk. `expectedVersion` is the version its name gives;
    /// `mustBeNewer` is false for a control request, which may load any version.
    func verifyFile(_ bytes: [UInt8], expectedVersion: UInt64, serving: MultitaskModel?, mustBeNewer: Bool) throws(ModelRejection) -> MultitaskModel {
        guard bytes.count <= maxModelBytes else { throw .tooLarge(bytes: UInt64(bytes.count), limit: maxModelBytes) }
        if mustBeNewer { try requireNewer(expectedVersion, than: serving) }
        let model = try decode(bytes, expectedVersion: expectedVersion)
        try requireDomains(of: model, serving: serving)
        return model
    }

    private func requireNewer(_ version: UInt64, than serving: MultitaskModel?) throws(ModelRejection) {
        guard let serving else { return }
        let servingVersion = serving.configuration.modelVersion
        guard version > servingVersion else { throw .notNewer(version: version, serving: servingVersion) }
    }

    private func decode(_ bytes: [UInt8], expectedVersion: UInt64) throws(ModelRejection) -> MultitaskModel {
        let model: MultitaskModel
        do {
            let contents = try ModelFile.decode(bytes)
            model = try MultitaskModel(contents, itemPrecision: itemPrecision.precision(for: contents), index: itemIndex)
        } catch {
            throw .invalidModel(error)
        }
        // The signature binds the announced version; the file must say the same, or a signed
        // old file could be announced as new.
        guard model.configuration.modelVersion == expectedVersion else {
            throw .versionMismatch(expected: expectedVersion, file: model.configuration.modelVersion)
        }
        do {
            try ModelServability.check(model)
        } catch {
            throw .notServable(error)
        }
        return model
    }

    private func requireDomains(of model: MultitaskModel, serving: MultitaskModel?) throws(ModelRejection) {
        let required = Set(requiredDomains).union(serving?.configuration.domains ?? [])
        let missing = required.subtracting(model.configuration.domains).sorted()
        guard missing.isEmpty else { throw .missingDomains(missing) }
    }
}
