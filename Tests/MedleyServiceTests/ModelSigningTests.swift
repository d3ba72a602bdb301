import Foundation
import Testing

@testable import MedleyModelDistribution
@testable import MedleySecurity
@testable import MedleyService

@Suite("model signing keys")
struct ModelSigningTests {
    @Test func keyFilesRoundTripAndSignaturesBindVersionAndHash() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        let key = ModelSigningKey()
        try key.write(toFile: "\(directory)/trainer.secret")
        try key.verificationKey.write(toFile: "\(directory)/trainer.public")
        let secret = try ModelSigningKey(contentsOfFile: "\(directory)/trainer.secret")
        let verification = try ModelVerificationKey(contentsOfFile: "\(directory)/trainer.public")
        #expect(verification == key.verificationKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/trainer.secret")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let hash = [UInt8](repeating: 0xab, count: 32)
        let signature = secret.signature(version: 7, sha256: hash)
        #expect(signature.count == 64)
        #expect(verification.isValidSignature(signature, version: 7, sha256: hash))
        #expect(!verification.isValidSignature(signature, version: 8, sha256: hash))
        var other = hash
        other[0] = 0
        #expect(!verification.isValidSignature(signature, version: 7, sha256: other))
        #expect(!ModelSigningKey().verificationKey.isValidSignature(signature, version: 7, sha256: hash))
    }

    @Test func theSignedStatementIsTheProtocols() {
        let statement = SignedModelStatement.bytes(version: 0x0102_0304_0506_0708, sha256: [UInt8](repeating: 9, count: 32))
        #expect(statement.count == 15 + 8 + 32)
        #expect(Array(statement.prefix(15)) == Array("medley.v1.model".utf8))
        #expect(Array(statement[15..<23]) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func aKeyFileOfTheWrongKindOrShapeIsRefused() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        let key = ModelSigningKey()
        try key.write(toFile: "\(directory)/k.secret")
        #expect(throws: KeyFileError.self) { try ModelVerificationKey(contentsOfFile: "\(directory)/k.secret") }
        #expect(throws: KeyFileError.self) { try key.write(toFile: "\(directory)/k.secret") }
        try Data("medley-ed25519-public-key AAAA\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/short.public"))
        #expect(throws: KeyFileError.self) { try ModelVerificationKey(contentsOfFile: "\(directory)/short.public") }
        #expect(throws: KeyFileError.self) { try ModelVerificationKey(contentsOfFile: "\(directory)/missing.public") }
    }
}
