import Foundation
import Logging
import MedleyModel
import MedleySystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks up `<version>.safetensors` files newer than the serving model from the model
/// directory. Files must appear by atomic rename (as `ModelFile.write` and the trainer do),
/// so a file with a model name is always whole; temporary files start with a dot and are
/// never taken for models.
struct ModelDirectoryWatcher {
    let directory: String
    /// Files refused, so they are not refused again at every scan; a file is tried again
    /// once it changes.
    private var refused: [UInt64: FileStamp] = [:]
    private var reportedUnreadable = false

    struct FileStamp: Equatable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    init(directory: String) {
        self.directory = directory
    }

    /// Loads the newest good file newer than the serving model, if there is one.
    mutating func scan(installer: ModelInstaller, logger: Logger) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
            reportedUnreadable = false
        } catch {
            if !reportedUnreadable { logger.warning("cannot read the model directory", metadata: ["directory": "\(directory)", "error": "\(error)"]) }
            reportedUnreadable = true
            return
        }
        let serving = installer.models.version
        refused = refused.filter { $0.key > serving }
        let candidates = names.compactMap(ModelFileName.version(of:)).filter { $0 > serving }.sorted(by: >)
        for version in candidates {
            let stamp = Self.stamp(ModelFileName.path(version: version, in: directory))
            if let stamp, refused[version] == stamp { continue }
            do {
                try installer.load(version: version, mustBeNewer: true, source: "model directory")
                return
            } catch .rejected {
                if let stamp { refused[version] = stamp }
            } catch {
                // Gone since the listing, or the directory went away: the next scan sees.
                continue
            }
        }
    }

    private static func stamp(_ path: String) -> FileStamp? {
        guard let info = try? fileStatus(path) else { return nil }
        return FileStamp(inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         modifiedSeconds: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }
}
