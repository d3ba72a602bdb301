import Foundation

/// Reads a file (or bytes in memory) line by line in fixed-size chunks, so that a large data
/// file is never held whole in memory. Accepts `\n` and `\r\n` line ends.
final class LineReader {
    private enum Source {
        case file(FileHandle)
        case memory
    }

    private static let chunkSize = 1 << 20

    private let source: Source
    let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var exhausted = false
    /// The 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(path: String) throws(DataFileError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
        self.source = .file(handle)
        self.path = path
    }

    init(bytes: [UInt8], name: String) {
        self.source = .memory
        self.path = name
        self.buffer = bytes
        self.exhausted = true
    }

    deinit {
        if case .file(let handle) = source {
            try? handle.close()
        }
    }

    /// The next line without its line end, or nil at the end of the input. A last line
    /// without a line end is still returned.
    func nextLine() throws(DataFileError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                lineNumber += 1
                return line
            }
            if exhausted {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line
            }
            try refill()
        }
    }

    private func refill() throws(DataFileError) {
        guard case .file(let handle) = source else {
            exhausted = true
            return
        }
        // Drop what was consumed before appending, so the buffer stays about one chunk long.
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: Self.chunkSize)
        } catch {
            throw .unreadable(path: path, reason: String(describing: error))
        }
        if let chunk, !chunk.isEmpty {
            buffer.append(contentsOf: chunk)
        } else {
            exhausted = true
        }
    }
}

@available(*, unavailable)
extension LineReader: Sendable {}
