#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a file so that readers see either the old contents or the new, never a torn file:
/// write a temporary file in the same directory, fsync it, rename it over the target, then
/// fsync the directory so that the rename itself survives a crash.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to url: URL) throws(ModelFileError) {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try call("open", temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        var succeeded = false
        defer {
            if !succeeded {
                _ = close(fd)
                _ = unlink(temporary)
            }
        }
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error travels in a Result.
        let writeResult = bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            Result { () throws(ModelFileError) in
                var written = 0
                while written < buffer.count {
                    written += try call("write", temporary) {
                        Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                    }
                }
            }
        }
        try writeResult.get()
        _ = try call("fsync", temporary) { fsync(fd) }
        succeeded = true
        _ = try call("close", temporary) { close(fd) }
        do {
            _ = try call("rename", path) { rename(temporary, path) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        let dirFD = try call("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = close(dirFD) }
        _ = try call("fsync", directory) { fsync(dirFD) }
    }

    /// Reads a whole file.
    public static func read(_ url: URL) throws(ModelFileError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code
            throw .io(path: url.path, operation: "read", errno: Int32(code ?? Int(EIO)))
        }
    }

    /// Runs a system call, retrying on EINTR; a -1 result becomes `.io` with the errno read
    /// straight after the call.
    private static func call<T: BinaryInteger>(_ operation: String, _ path: String, _ body: () -> T) throws(ModelFileError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .io(path: path, operation: operation, errno: code)
        }
    }
}
