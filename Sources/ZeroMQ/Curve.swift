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
