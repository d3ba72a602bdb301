import Foundation
import MedleySystem
import MedleyTestSupport
import SystemPackage
import Testing

@Suite("atomic files")
struct AtomicFileTests {
    private func names(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func writeReplacesTheFileAndLeavesNoTemporaryFileBehind() throws {
        let directory = try TestDirectories.make(prefix: "medley-atomic")
        let file = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Array("old".utf8), to: file)
        try AtomicFile.write(Array("new contents".utf8), to: file)
        #expect(try AtomicFile.read(file) == Array("new contents".utf8))
        #expect(try names(in: directory) == ["model.safetensors"])
    }

    @Test func createRefusesAnExistingFileAndLeavesItAsItWas() throws {
        let directory = try TestDirectories.make(prefix: "medley-atomic")
        let path = directory.appendingPathComponent("server.key").path
        try AtomicFile.create(Array("first".utf8), at: path, mode: 0o600)
        #expect(throws: SystemCallError(operation: "link", path: path, errno: .fileExists)) {
            try AtomicFile.create(Array("second".utf8), at: path, mode: 0o600)
        }
        #expect(try AtomicFile.read(URL(fileURLWithPath: path)) == Array("first".utf8))
        #expect(try names(in: directory) == ["server.key"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aMissingDirectoryIsNamedInTheError() throws {
        let directory = try TestDirectories.make(prefix: "medley-atomic")
        let file = directory.appendingPathComponent("absent/model.safetensors")
        do {
            try AtomicFile.write([1, 2, 3], to: file)
            Issue.record("writing into a missing directory succeeded")
        } catch {
            #expect(error.operation == "open")
            #expect(error.errno == .noSuchFileOrDirectory)
            #expect(error.path.hasPrefix(directory.appendingPathComponent("absent").path))
        }
    }
}
