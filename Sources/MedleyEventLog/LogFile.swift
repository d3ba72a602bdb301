import MedleySystem
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The event log's system calls, through MedleySystem's ``logSystemCall(_:path:_:)`` (which
/// retries EINTR and names what failed); failures become ``EventLogError/system(_:)``.
@inline(__always)
func logSystemCall<Result: BinaryInteger>(
    _ operation: @autoclosure () -> String,
    path: @autoclosure () -> String,
    _ body: () -> Result
) throws(EventLogError) -> Result {
    do {
        return try systemCall(operation(), path: path(), body)
    } catch {
        throw .system(error)
    }
}

/// An open file of the event log: a descriptor together with the path it names, so every
/// error can say which file failed.
///
/// A class so that the descriptor is closed exactly once, when the last user lets go.
final class LogFile {
    let descriptor: CInt
    let path: String

    /// Opens `path` with `open(2)` flags; `O_CLOEXEC` is always added so a child process
    /// never inherits a segment.
    init(path: String, flags: CInt, mode: mode_t = 0o644) throws(EventLogError) {
        self.path = path
        self.descriptor = try logSystemCall("open", path: path) { open(path, flags | O_CLOEXEC, mode) }
    }

    deinit { _ = close(descriptor) }

    /// Writes all of `bytes` at `offset`, continuing after short writes.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(EventLogError) {
        var done = 0
        while done < bytes.count {
            let written = try logSystemCall("pwrite", path: path) {
                pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            // pwrite returns 0 only when nothing can be written; report it as a full disk
            // instead of spinning.
            if written == 0 { throw EventLogError.system(SystemCallError(operation: "pwrite", path: path, errno: Errno(rawValue: ENOSPC))) }
            done += written
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws(EventLogError) {
        // Array's withUnsafeBytes rethrows untyped errors, so the typed error travels in a Result.
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(EventLogError) in try write(buffer, at: offset) }
        }.get()
    }

    /// Reads up to `buffer.count` bytes at `offset`, continuing after short reads; returns
    /// fewer only at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(EventLogError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = try logSystemCall("pread", path: path) {
                pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Makes the file's data durable: `fdatasync(2)` where it exists, which skips metadata
    /// such as the modification time that recovery does not need.
    func syncData() throws(EventLogError) {
        #if canImport(Darwin)
        _ = try logSystemCall("fsync", path: path) { fsync(descriptor) }
        #else
        _ = try logSystemCall("fdatasync", path: path) { fdatasync(descriptor) }
        #endif
    }

    /// Makes data and metadata durable: needed after a size change and for directories.
    func syncAll() throws(EventLogError) {
        _ = try logSystemCall("fsync", path: path) { fsync(descriptor) }
    }

    func truncate(to size: UInt64) throws(EventLogError) {
        _ = try logSystemCall("ftruncate", path: path) { ftruncate(descriptor, off_t(size)) }
    }

    /// The file's current size.
    func size() throws(EventLogError) -> UInt64 {
        var status = stat()
        _ = try logSystemCall("fstat", path: path) { fstat(descriptor, &status) }
        return UInt64(status.st_size)
    }

    /// Takes an exclusive advisory lock without waiting; false if another process (or another
    /// descriptor in this one) holds it.
    func tryLockExclusive() throws(EventLogError) -> Bool {
        do {
            _ = try systemCall("flock", path: path) { flock(descriptor, LOCK_EX | LOCK_NB) }
            return true
        } catch {
            if error.errno == .wouldBlock { return false }
            throw .system(error)
        }
    }
}

/// File-system operations on paths, through the same error handling as ``LogFile``.
enum LogFileSystem {
    /// Creates `path` and its missing parents.
    static func createDirectory(_ path: String) throws(EventLogError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            do {
                _ = try systemCall("mkdir", path: prefix) { mkdir(prefix, 0o755) }
            } catch {
                if error.errno != .fileExists { throw .system(error) }
            }
            prefix += "/"
        }
    }

    /// Makes a directory's entries (created, renamed, removed files) durable.
    static func syncDirectory(_ path: String) throws(EventLogError) {
        do {
            try AtomicFile.syncDirectory(path)
        } catch {
            throw .system(error)
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func entries(of path: String) throws(EventLogError) -> [String] {
        guard let stream = opendir(path) else {
            throw EventLogError.system(SystemCallError(operation: "opendir", path: path, errno: Errno(rawValue: errno)))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Renames atomically (`rename(2)`), replacing `destination` if it exists.
    static func move(_ source: String, to destination: String) throws(EventLogError) {
        _ = try logSystemCall("rename", path: "\(source) -> \(destination)") { rename(source, destination) }
    }

    static func remove(_ path: String) throws(EventLogError) {
        _ = try logSystemCall("unlink", path: path) { unlink(path) }
    }
}
