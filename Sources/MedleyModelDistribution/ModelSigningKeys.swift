import Crypto
import Foundation
import MedleySecurity

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The trainer's Ed25519 secret key: it signs each published model.
///
/// A key file is one line of text, `medley-ed25519-secret-key <base64>`, where the base64
/// (RFC 4648, with padding) holds the 32-byte Ed25519 seed; see docs/hot-reload.md.
public struct ModelSigningKey: Sendable {
    /// The 32-byte seed; swift-crypto's key types are not Sendable, so the key is rebuilt
    /// from it when used.
    let seed: [UInt8]

    private var key: Curve25519.Signing.PrivateKey {
        // The seed was accepted when this value was made, so this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// A new random key.
    public init() {
        seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    /// Reads a secret key file written by ``write(toFile:)`` (or `medley keygen`).
    public init(contentsOfFile path: String) throws(KeyFileError) {
        let raw = try KeyFile.read(path, label: KeyFile.secretLabel)
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil else {
            throw .malformed(path: path, reason: "not an Ed25519 seed")
        }
        seed = raw
    }

    /// The matching public key, for servers.
    public var verificationKey: ModelVerificationKey {
        ModelVerificationKey(raw: Array(key.publicKey.rawRepresentation))
    }

    /// The signature the protocol asks for: Ed25519 over "medley.v1.model", `version` as 8 bytes
    /// big-endian, then the 32 bytes of the model file's SHA-256.
    public func signature(version: UInt64, sha256: [UInt8]) -> [UInt8] {
        // Signing fails only if the platform's crypto library fails to allocate.
        do {
            return Array(try key.signature(for: SignedModelStatement.bytes(version: version, sha256: sha256)))
        } catch {
            fatalError("Ed25519 signing failed: \(error)")
        }
    }

    /// The key file's text.
    public var fileText: String {
        KeyFile.text(label: KeyFile.secretLabel, raw: seed)
    }

    /// Writes the key file, readable by its owner only; refuses to replace an existing file.
    public func write(toFile path: String) throws(KeyFileError) {
        try KeyFile.create(path, text: fileText, mode: 0o600)
    }
}

/// The trainer's Ed25519 public key: a server that has it refuses models not signed by the
/// matching secret key.
///
/// A key file is one line of text, `medley-ed25519-public-key <base64>`, where the base64 holds
/// the 32-byte Ed25519 public key.
public struct ModelVerificationKey: Sendable, Equatable {
    /// The 32-byte public key (kept as bytes, like ``ModelSigningKey``'s seed).
    let raw: [UInt8]

    private var key: Curve25519.Signing.PublicKey {
        // The bytes were accepted when this value was made, so this cannot fail.
        try! Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    init(raw: [UInt8]) {
        self.raw = raw
    }

    /// Reads a public key file written by ``write(toFile:)`` (or `medley keygen`).
    public init(contentsOfFile path: String) throws(KeyFileError) {
        let raw = try KeyFile.read(path, label: KeyFile.publicLabel)
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw .malformed(path: path, reason: "not an Ed25519 public key")
        }
        self.raw = raw
    }

    /// Whether `signature` is this key's signature of the statement for `version` and `sha256`.
    public func isValidSignature(_ signature: [UInt8], version: UInt64, sha256: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: SignedModelStatement.bytes(version: version, sha256: sha256))
    }

    /// The key file's text.
    public var fileText: String {
        KeyFile.text(label: KeyFile.publicLabel, raw: raw)
    }

    /// Writes the key file; refuses to replace an existing file.
    public func write(toFile path: String) throws(KeyFileError) {
        try KeyFile.create(path, text: fileText, mode: 0o644)
    }
}

/// What a publication's signature covers (protocol/README.md, "Publication socket").
enum SignedModelStatement {
    static let prefix = Array("medley.v1.model".utf8)

    static func bytes(version: UInt64, sha256: [UInt8]) -> [UInt8] {
        var bytes = prefix
        bytes.reserveCapacity(prefix.count + 8 + sha256.count)
        withUnsafeBytes(of: version.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: sha256)
        return bytes
    }
}
