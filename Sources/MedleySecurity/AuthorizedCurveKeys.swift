import Foundation
import Logging
import MedleySystem
import Synchronization

/// The CURVE public keys allowed in: every `*.pub` key file (``CurveKeyFiles``) in a directory.
///
/// The directory is read again whenever its listing changes (a file added, removed, replaced
/// or rewritten: names, sizes and modification times), checked at each handshake, so an
/// operator adds or revokes a key by adding or removing a file, without a restart. A file that
/// is not a public key file is skipped with a warning; it admits no one.
public final class AuthorizedCurveKeys: Sendable {
    public let directory: String
    private let logger: Logger
    private let state = Mutex<(fingerprint: [String], keys: Set<[UInt8]>)>(([], []))

    /// Reads the directory; fails if it cannot be listed.
    public init(directory: String, logger: Logger = Logger(label: "medley.security")) throws(KeyFileError) {
        self.directory = directory
        self.logger = logger
        guard let fingerprint = Self.fingerprint(of: directory) else {
            throw .io(path: directory, reason: "cannot list the directory of allowed public keys")
        }
        state.withLock { $0 = (fingerprint, Self.readKeys(directory, logger: logger)) }
    }

    /// Whether `key` is one of the directory's keys now.
    public func contains(_ key: [UInt8]) -> Bool {
        state.withLock { state in
            refresh(&state)
            return state.keys.contains(key)
        }
    }

    /// The number of keys allowed now.
    public var count: Int {
        state.withLock { state in
            refresh(&state)
            return state.keys.count
        }
    }

    /// Reads the keys again if the listing changed. An unlistable directory (removed, say)
    /// admits no one rather than the old keys.
    private func refresh(_ state: inout (fingerprint: [String], keys: Set<[UInt8]>)) {
        let fingerprint = Self.fingerprint(of: directory)
        let current = fingerprint ?? ["unreadable"]
        guard current != state.fingerprint else { return }
        state = (current, fingerprint == nil ? [] : Self.readKeys(directory, logger: logger))
        logger.info("allowed keys reloaded", metadata: ["directory": "\(directory)", "keys": "\(state.keys.count)"])
    }

    private static func publicKeyFiles(_ directory: String) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        return names.filter { $0.hasSuffix(".pub") }.sorted()
    }

    private static func fingerprint(of directory: String) -> [String]? {
        publicKeyFiles(directory)?.map { name in
            guard let info = try? fileStatus("\(directory)/\(name)") else { return "\(name) missing" }
            return "\(name) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
        }
    }

    private static func readKeys(_ directory: String, logger: Logger) -> Set<[UInt8]> {
        var keys = Set<[UInt8]>()
        for name in publicKeyFiles(directory) ?? [] {
            do {
                keys.insert(try CurveKeyFiles.readPublic("\(directory)/\(name)"))
            } catch {
                logger.warning("skipped a file among the allowed keys", metadata: ["reason": "\(error)"])
            }
        }
        return keys
    }
}
