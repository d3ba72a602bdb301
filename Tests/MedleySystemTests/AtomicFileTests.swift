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

    /// A file larger than the read loop's chunk, an empty file, and a missing one.
    @Test func readReturnsTheWholeFile() throws {
        let directory = try TestDirectories.make(prefix: "medley-atomic")
        let file = directory.appendingPathComponent("large.bin")
        let large = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try AtomicFile.write(large, to: file)
        #expect(try AtomicFile.read(file) == large)
        let empty = directory.appendingPathComponent("empty.bin")
        try AtomicFile.write([], to: empty)
        #expect(try AtomicFile.read(empty) == [])
        let missing = directory.appendingPathComponent("missing.bin")
        #expect(throws: SystemCallError(operation: "open", path: missing.path, errno: .noSuchFileOrDirectory)) {
            try AtomicFile.read(missing)
        }
        // A directory opens but cannot be read: the error names the read.
        #expect(throws: SystemCallError(operation: "read", path: directory.path, errno: .isDirectory)) {
            try AtomicFile.read(directory)
        }
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
