import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Files written so that readers see either the old contents or the new, never a torn file,
/// and so that what was written survives a crash once the call returns: write a temporary
/// file in the same directory, fsync it, move it into place, then fsync the directory so
/// that the move itself is durable.
public enum AtomicFile {
    /// Replaces (or creates) the file at `url` with `bytes`.
    public static func write(_ bytes: [UInt8], to url: URL, mode: mode_t = 0o644) throws(SystemCallError) {
        try place(bytes, at: url.path, mode: mode, replacing: true)
    }

    /// Creates the file at `path` holding `bytes`; fails with `EEXIST` if a file is already
    /// there, so that a secret key is never overwritten.
    public static func create(_ bytes: [UInt8], at path: String, mode: mode_t) throws(SystemCallError) {
        try place(bytes, at: path, mode: mode, replacing: false)
    }

    /// Reads a whole file into one array sized by fstat(2), so that a model file of hundreds of
    /// megabytes is in memory once while it is read (through `Data` it was held twice, then
    /// copied). Bytes written past that size before the end is reached are read too.
    public static func read(_ url: URL) throws(SystemCallError) -> [UInt8] {
        let path = url.path
        let fd = try systemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = close(fd) }
        var info = stat()
        _ = try systemCall("fstat", path: path) { fstat(fd, &info) }
        let size = Int(info.st_size)
        var failure: SystemCallError?
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            do throws(SystemCallError) {
                count = try readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        guard bytes.count == size else { return bytes }  // the file ended early
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) in try readFully(fd, into: raw, path: path) }
            }.get()
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// read(2) into `buffer` until it is full or the file ends; the number of bytes read.
    private static func readFully(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = try systemCall("read", path: path) { Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done) }
            if count == 0 { break }
            done += count
        }
        return done
    }

    private static func place(_ bytes: [UInt8], at path: String, mode: mode_t, replacing: Bool) throws(SystemCallError) {
        let name = (path as NSString).lastPathComponent
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = directory + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try systemCall("open", path: temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        var closed = false
        defer {
            if !closed { _ = close(fd) }
            _ = unlink(temporary)   // after a rename or link it names nothing, or the same file twice
        }
        try writeAll(bytes, to: fd, path: temporary)
        _ = try systemCall("fsync", path: temporary) { fsync(fd) }
        closed = true
        _ = try systemCall("close", path: temporary) { close(fd) }
        if replacing {
            _ = try systemCall("rename", path: path) { rename(temporary, path) }
        } else {
            // link(2) fails with EEXIST instead of replacing, which rename(2) cannot do.
            _ = try systemCall("link", path: path) { link(temporary, path) }
        }
        try syncDirectory(directory)
    }

    /// Writes every byte, resuming after short writes.
    package static func writeAll(_ bytes: [UInt8], to fd: CInt, path: String) throws(SystemCallError) {
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error travels in a Result.
        let result = bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            Result { () throws(SystemCallError) in
                var written = 0
                while written < buffer.count {
                    written += try systemCall("write", path: path) { Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written) }
                }
            }
        }
        try result.get()
    }

    /// Makes a directory's entries (created, renamed, removed files) durable.
    public static func syncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try systemCall("open", path: path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = close(fd) }
        _ = try systemCall("fsync", path: path) { fsync(fd) }
    }
}
