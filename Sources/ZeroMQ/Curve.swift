import CZeroMQ

/// A CURVE key pair (Curve25519), for encrypting and authenticating connections.
public struct CurveKeyPair: Sendable, Equatable {
    /// 32-byte public key.
    public let publicKey: [UInt8]
    /// 32-byte secret key.
    public let secretKey: [UInt8]

    public init(publicKey: [UInt8], secretKey: [UInt8]) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair. Fails with `ENOTSUP` when libzmq was built without CURVE.
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        _ = try libzmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicText, &secretText) }
        return CurveKeyPair(
            publicKey: try Z85.decode(String(nulTerminated: publicText)),
            secretKey: try Z85.decode(String(nulTerminated: secretText))
        )
    }

    /// The pair a secret key belongs to: libzmq derives the public half.
    public init(secretKey: [UInt8]) throws(ZMQError) {
        guard secretKey.count == 32 else { throw ZMQError(code: EINVAL, operation: "CurveKeyPair: a secret key is 32 bytes") }
        var publicText = [CChar](repeating: 0, count: 41)
        let secretText = try Z85.encode(secretKey)
        _ = try libzmqCall("zmq_curve_public") { secretText.withCString { zmq_curve_public(&publicText, $0) } }
        self.init(publicKey: try Z85.decode(String(nulTerminated: publicText)), secretKey: secretKey)
    }
}

/// The part a socket plays in CURVE. Set before the socket binds or connects.
public enum CurveRole: Sendable, Equatable {
    /// Accepts CURVE clients. Each handshake is put to the context's ZAP handler (if one is
    /// bound) under `zapDomain`, so that one handler can tell sockets apart.
    case server(secretKey: [UInt8], zapDomain: String)
    /// Connects to a CURVE server whose public key it knows, presenting its own key pair.
    case client(keys: CurveKeyPair, serverPublicKey: [UInt8])
}

extension Socket {
    /// Makes the socket a CURVE server or client; call before `bind` or `connect`.
    public func configureCurve(_ role: CurveRole) throws(ZMQError) {
        switch role {
        case .server(let secretKey, let zapDomain):
            try set(.zapDomain, zapDomain)
            try set(.curveServer, true)
            try set(.curveSecretKey, secretKey)
        case .client(let keys, let serverPublicKey):
            try set(.curveServerKey, serverPublicKey)
            try set(.curvePublicKey, keys.publicKey)
            try set(.curveSecretKey, keys.secretKey)
        }
    }
}

/// ZeroMQ's Z85 text encoding of binary keys (RFC 32/Z85).
public enum Z85 {
    /// Encodes bytes whose count is a multiple of 4.
    public static func encode(_ bytes: [UInt8]) throws(ZMQError) -> String {
        guard bytes.count % 4 == 0 else { throw ZMQError(code: EINVAL, operation: "Z85.encode: byte count not a multiple of 4") }
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { throw ZMQError.last("zmq_z85_encode") }
        return String(nulTerminated: text)
    }

    /// Decodes text whose length is a multiple of 5.
    public static func decode(_ text: String) throws(ZMQError) -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 5 == 0 else { throw ZMQError(code: EINVAL, operation: "Z85.decode: length not a multiple of 5") }
        var bytes = [UInt8](repeating: 0, count: characters.count * 4 / 5)
        let decoded = text.withCString { zmq_z85_decode(&bytes, $0) }
        guard decoded != nil else { throw ZMQError(code: EINVAL, operation: "Z85.decode: not Z85 text") }
        return bytes
    }
}

extension String {
    /// The text of a C character buffer up to its first NUL.
    init(nulTerminated characters: [CChar]) {
        let end = characters.firstIndex(of: 0) ?? characters.endIndex
        self.init(decoding: characters[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
