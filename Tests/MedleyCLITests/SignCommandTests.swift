import Foundation
import Testing

@Suite("medley sign")
struct SignCommandTests {
    @Test func writesADetachedSignatureOfAValidModelOnly() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try CLIFixtures.writeModel(in: directory, version: 3)
        let prefix = directory.appendingPathComponent("trainer").path
        #expect(try MedleyExecutable.run(["keygen", "--out", prefix]).status == 0)

        let signed = try MedleyExecutable.run(["sign", "--key", "\(prefix).secret", model])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout.contains("version 3"))
        let signature = try String(contentsOfFile: "\(model).sig", encoding: .utf8)
        #expect(signature.hasPrefix("medley-ed25519-signature "))

        let wrongKey = try MedleyExecutable.run(["sign", "--key", "\(prefix).public", model])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("expected a medley-ed25519-secret-key"))
        let notAModel = directory.appendingPathComponent("9.safetensors").path
        try Data(repeating: 1, count: 64).write(to: URL(fileURLWithPath: notAModel))
        #expect(try MedleyExecutable.run(["sign", "--key", "\(prefix).secret", notAModel]).status != 0)
        #expect(!FileManager.default.fileExists(atPath: "\(notAModel).sig"))
    }
}
