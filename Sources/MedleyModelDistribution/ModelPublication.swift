import Crypto
import Foundation
import MedleyModel
import MedleyProtocol
import MedleySystem

/// One model as it travels on the publication and snapshot sockets: its announcement and the
/// model file's bytes (protocol/README.md, "Publication socket").
public struct ModelPublication: Sendable {
    /// The topic frame every publication starts with; subscribers subscribe to it.
    public static let topic = "model.announce"

    public var announcement: Medley_V1_ModelAnnouncement
    public var modelBytes: [UInt8]

    /// A publication exactly as given, unchecked: for relaying what another publisher made.
    public init(announcement: Medley_V1_ModelAnnouncement, modelBytes: [UInt8]) {
        self.announcement = announcement
        self.modelBytes = modelBytes
    }

    /// Announces a model file (`createdAtMs` defaults to now): decodes and validates it first (a publisher never sends a model
    /// a server would refuse as malformed), hashes it, and signs it when `signingKey` is given.
    public init(modelFileBytes: [UInt8], signingKey: ModelSigningKey?, createdAtMs: Int64? = nil) throws(ModelFileError) {
        let contents = try ModelFile.decode(modelFileBytes)
        _ = try MultitaskModel(contents)
        self.init(
            announcement: Self.announcement(describing: contents, bytes: modelFileBytes, signingKey: signingKey, createdAtMs: createdAtMs ?? wallClockMilliseconds()),
            modelBytes: modelFileBytes
        )
    }

    /// The publication of a model file that has passed verification as `model`, with the
    /// signature it came with (a publication's, or a detached `.sig`), if any: what the broker
    /// sends a worker process so that it can verify the model as the server did.
    init(verifiedFileBytes bytes: [UInt8], model: MultitaskModel, signature: [UInt8]?) {
        var announcement = Self.announcement(describing: model.contents, bytes: bytes, signingKey: nil, createdAtMs: wallClockMilliseconds())
        if let signature { announcement.signature = Data(signature) }
        self.init(announcement: announcement, modelBytes: bytes)
    }

    /// The publication of the model file at `path`, whose bytes, read once, decoded as `model`,
    /// with its detached signature (``ModelSignatureFile``) if one is beside it.
    public init(modelFileBytes bytes: [UInt8], at path: String, model: MultitaskModel) throws {
        self.init(verifiedFileBytes: bytes, model: model, signature: try ModelSignatureFile.read(forModelAt: path))
    }

    /// Announces a model the trainer holds in memory: validates it, encodes it as a model file,
    /// hashes and signs it.
    public init(contents: ModelFileContents, signingKey: ModelSigningKey?, createdAtMs: Int64? = nil) throws(ModelFileError) {
        _ = try MultitaskModel(contents)
        let bytes = ModelFile.encode(contents)
        self.init(
            announcement: Self.announcement(describing: contents, bytes: bytes, signingKey: signingKey, createdAtMs: createdAtMs ?? wallClockMilliseconds()),
            modelBytes: bytes
        )
    }

    /// The announcement for `bytes`, which must be the encoding of `contents`. Not checked, so
    /// that tests can announce files a server must refuse.
    static func announcement(
        describing contents: ModelFileContents, bytes: [UInt8], signingKey: ModelSigningKey?, createdAtMs: Int64
    ) -> Medley_V1_ModelAnnouncement {
        let c = contents.configuration
        var announcement = Medley_V1_ModelAnnouncement()
        announcement.version = c.modelVersion
        announcement.sha256 = Data(sha256(bytes))
        announcement.sizeBytes = UInt64(bytes.count)
        // The names of the safetensors metadata keys (models/README.md).
        announcement.dimensions = [
            ModelFile.Key.embeddingDim: UInt64(c.embeddingDimension),
            ModelFile.Key.contextDim: UInt64(c.contextDimension),
            ModelFile.Key.lastItemSlots: UInt64(c.lastItemSlots),
            "items": UInt64(contents.catalog.count),
            "users": UInt64(contents.users.count),
        ]
        announcement.domains = c.domains
        switch c.architecture {
        case .mlp: announcement.architecture = "mlp"
        case .mmoe: announcement.architecture = "mmoe"
        case .ple: announcement.architecture = "ple"
        }
        announcement.createdAtMs = createdAtMs
        if let signingKey {
            announcement.signature = Data(signingKey.signature(version: announcement.version, sha256: Array(announcement.sha256)))
        }
        return announcement
    }

    /// The SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// The three frames of the publication socket: topic, announcement, model bytes.
    func publicationFrames() throws -> [[UInt8]] {
        [Array(Self.topic.utf8), try announcement.serializedBytes(), modelBytes]
    }

    /// Parses the frames a SUB socket received. Only the framing and the announcement are
    /// checked here; ``ModelVerifier`` checks the rest.
    static func parse(publicationFrames frames: [[UInt8]], maxAnnouncementBytes: Int) throws(ModelRejection) -> ModelPublication {
        guard frames.count == 3 else {
            throw .malformedMessage("\(frames.count) frames; a publication is [topic][ModelAnnouncement][model bytes]")
        }
        guard frames[0] == Array(topic.utf8) else {
            throw .malformedMessage("unknown topic \"\(String(decoding: frames[0].prefix(64), as: UTF8.self))\"")
        }
        return ModelPublication(announcement: try parseAnnouncement(frames[1], maxBytes: maxAnnouncementBytes), modelBytes: frames[2])
    }

    static func parseAnnouncement(_ bytes: [UInt8], maxBytes: Int) throws(ModelRejection) -> Medley_V1_ModelAnnouncement {
        guard bytes.count <= maxBytes else {
            throw .malformedMessage("the announcement frame is \(bytes.count) bytes; the limit is \(maxBytes)")
        }
        do {
            return try Medley_V1_ModelAnnouncement(serializedBytes: bytes)
        } catch {
            throw .malformedMessage("the announcement does not parse: \(error)")
        }
    }
}

extension Medley_V1_ModelAnnouncement {
    /// "version 12 (sha256 3fa1c2…)", for logs.
    var summary: String {
        "version \(version) (sha256 \(sha256.prefix(6).hexString)…, \(sizeBytes) bytes)"
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal.
    var hexString: String {
        map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}
