import Foundation
import MedleySecurity
import MedleyService
import Testing
import ZeroMQ

@Suite("CURVE keys and endpoints")
struct CurveSecurityTests {
    @Test func onlyLoopbackAndInProcessEndpointsAreLocal() {
        for endpoint in ["tcp://127.0.0.1:5555", "tcp://127.9.8.7:*", "tcp://localhost:1", "tcp://[::1]:5555", "inproc://medley-workers", "ipc:///tmp/x"] {
            #expect(EndpointScope.isLocal(endpoint), "\(endpoint)")
        }
        for endpoint in ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://eth0:5555", "tcp://10.0.0.1:5555", "tcp://127.0.0.1.example:1", "tcp://[::]:1", "udp://127.0.0.1:1"] {
            #expect(!EndpointScope.isLocal(endpoint), "\(endpoint)")
        }
    }

    @Test(.enabled(if: Context.hasCapability("curve")))
    func keyFilesRoundTripAndAreRefusedWhenWrong() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("medley-curve-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = directory.appendingPathComponent("server").path
        let pair = try CurveKeyFiles.generate(prefix: prefix)
        #expect(try CurveKeyFiles.readSecret("\(prefix).key") == pair)
        #expect(try CurveKeyFiles.readPublic("\(prefix).pub") == pair.publicKey)
        #expect(throws: KeyFileError.self) { try CurveKeyFiles.generate(prefix: prefix) }
        #expect(throws: KeyFileError.self) { try CurveKeyFiles.readPublic("\(prefix).key") }
        let secretMode = try FileManager.default.attributesOfItem(atPath: "\(prefix).key")[.posixPermissions] as? Int
        #expect(secretMode == 0o600)
    }

    @Test(.enabled(if: Context.hasCapability("curve")))
    func allowedKeysFollowTheDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("medley-allowed-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alice = try CurveKeyFiles.generate(prefix: directory.appendingPathComponent("alice").path)
        try "not a key\n".write(to: directory.appendingPathComponent("junk.pub"), atomically: true, encoding: .utf8)
        let allowed = try AuthorizedCurveKeys(directory: directory.path)
        #expect(allowed.contains(alice.publicKey))
        #expect(allowed.count == 1, "the secret key file and a malformed file admit no one")

        let bob = try CurveKeyFiles.generate(prefix: directory.appendingPathComponent("bob").path)
        #expect(allowed.contains(bob.publicKey), "a key file added later is read")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("alice.pub"))
        #expect(!allowed.contains(alice.publicKey), "a key file removed revokes the key")
        try FileManager.default.removeItem(at: directory)
        #expect(!allowed.contains(bob.publicKey), "a directory that is gone admits no one")
        #expect(throws: KeyFileError.self) { try AuthorizedCurveKeys(directory: directory.path) }
    }
}
