import Foundation
import MedleyModel
import MedleySecurity

/// The detached signature of a model file, `<model file>.sig` (docs/hot-reload.md): one line
/// `medley-ed25519-signature <base64>` holding the trainer key's 64-byte Ed25519 signature of
/// the statement a publication's signature covers (the file's version and SHA-256). A server
/// with a trainer key loads a file from its model directory, or by control request, only with it.
public enum ModelSignatureFile {
    /// Where the signature of the model file at `modelPath` lives.
    public static func path(forModelAt modelPath: String) -> String { "\(modelPath).sig" }

    /// Signs a model file's bytes and writes the signature beside `modelPath`, atomically.
    /// Write it before the model file appears, so a watching server never sees one without it.
    public static func write(signing modelFileBytes: [UInt8], version: UInt64, with key: ModelSigningKey,
                             forModelAt modelPath: String) throws(ModelFileError) {
        let signature = key.signature(version: version, sha256: ModelPublication.sha256(modelFileBytes))
        let text = KeyFile.text(label: KeyFile.signatureLabel, value: Data(signature).base64EncodedString())
        try ModelFile.writeBytes(Array(text.utf8), to: URL(fileURLWithPath: path(forModelAt: modelPath)))
    }

    /// Checks the signature beside `modelPath` against the model file's bytes and version;
    /// returns it.
    @discardableResult
    static func verify(_ modelFileBytes: [UInt8], version: UInt64, modelPath: String,
                       key: ModelVerificationKey) throws(ModelRejection) -> [UInt8] {
        guard let signature = try read(forModelAt: modelPath) else { throw .unsigned }
        guard key.isValidSignature(signature, version: version, sha256: ModelPublication.sha256(modelFileBytes)) else {
            throw .badSignature
        }
        return signature
    }

    /// The signature beside `modelPath`; nil when there is none.
    static func read(forModelAt modelPath: String) throws(ModelRejection) -> [UInt8]? {
        let signaturePath = path(forModelAt: modelPath)
        guard FileManager.default.fileExists(atPath: signaturePath) else { return nil }
        let text: String
        do {
            text = try KeyFile.readValue(signaturePath, label: KeyFile.signatureLabel)
        } catch {
            throw .malformedMessage("\(error)")
        }
        guard let signature = Data(base64Encoded: text), signature.count == 64 else {
            throw .malformedMessage("\(signaturePath): the signature is not 64 bytes of base64")
        }
        return Array(signature)
    }
}
