import ZeroMQ

/// CURVE key files (docs/deployment.md): `NAME.key` holds a secret key, one line
/// `medley-curve-secret-key Z85`, readable by its owner only; `NAME.pub` the public key, one
/// line `medley-curve-public-key Z85`. Z85 is ZeroMQ's 40-character text form of a 32-byte key.
public enum CurveKeyFiles {
    /// A fresh key pair written to `prefix.key` and `prefix.pub`; existing files are not replaced.
    @discardableResult
    public static func generate(prefix: String) throws(KeyFileError) -> CurveKeyPair {
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair.generate()
        } catch {
            throw .io(path: prefix, reason: "cannot make a CURVE key pair: \(error)")
        }
        try KeyFile.create(secretPath(prefix), text: KeyFile.text(label: KeyFile.curveSecretLabel, value: z85(pair.secretKey)), mode: 0o600)
        try KeyFile.create(publicPath(prefix), text: KeyFile.text(label: KeyFile.curvePublicLabel, value: z85(pair.publicKey)), mode: 0o644)
        return pair
    }

    public static func secretPath(_ prefix: String) -> String { "\(prefix).key" }
    public static func publicPath(_ prefix: String) -> String { "\(prefix).pub" }

    /// The key pair of a secret key file (the public half is derived from the secret one).
    public static func readSecret(_ path: String) throws(KeyFileError) -> CurveKeyPair {
        let secret = try decode(KeyFile.readValue(path, label: KeyFile.curveSecretLabel), path: path)
        do {
            return try CurveKeyPair(secretKey: secret)
        } catch {
            throw .malformed(path: path, reason: "not a CURVE secret key: \(error)")
        }
    }

    /// The 32-byte key of a public key file.
    public static func readPublic(_ path: String) throws(KeyFileError) -> [UInt8] {
        try decode(KeyFile.readValue(path, label: KeyFile.curvePublicLabel), path: path)
    }

    private static func decode(_ text: String, path: String) throws(KeyFileError) -> [UInt8] {
        guard text.utf8.count == 40, let key = try? Z85.decode(text) else {
            throw .malformed(path: path, reason: "the key is not 40 characters of Z85")
        }
        return key
    }

    private static func z85(_ key: [UInt8]) -> String {
        // 32 bytes always encode.
        try! Z85.encode(key)
    }
}
