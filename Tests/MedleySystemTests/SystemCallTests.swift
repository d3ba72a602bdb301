import MedleySystem
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("system calls")
struct SystemCallTests {
    @Test func anInterruptedCallIsRetried() throws {
        var attempts = 0
        let result = try systemCall("read", path: "somewhere") { () -> Int32 in
            attempts += 1
            if attempts < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(result == 7)
        #expect(attempts == 3)
    }

    @Test func aFailureCarriesTheCallThePathAndErrno() {
        let path = "/nonexistent-\(UInt32.random(in: 0...UInt32.max))/file"
        #expect(throws: SystemCallError(operation: "open", path: path, errno: .noSuchFileOrDirectory)) {
            try systemCall("open", path: path) { open(path, O_RDONLY) }
        }
        let error = SystemCallError(operation: "open", path: path, errno: .noSuchFileOrDirectory)
        #expect(error.description == "open \(path): No such file or directory (errno \(ENOENT))")
    }
}
