import Foundation
import Synchronization

/// Temporary directories for tests, all removed when the test process exits.
///
/// Tests hand directories to servers and child processes that outlive the test function, and
/// a failed expectation can leave a test early; removing every directory at exit, in one
/// place, is what keeps `swift test` from leaving them behind in the temp folder.
public enum TestDirectories {
    private static let created = Mutex<[URL]>([])
    private static let registration: Bool = {
        atexit { TestDirectories.removeAll() }
        return true
    }()

    /// A new empty directory named `<prefix>-<UUID>` in the temp folder, removed at exit.
    public static func make(prefix: String) throws -> URL {
        precondition(registration)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        created.withLock { $0.append(url) }
        return url
    }

    /// Whether `url` is removed when the process exits.
    public static func willRemove(_ url: URL) -> Bool {
        created.withLock { $0.contains { $0.standardizedFileURL.path == url.standardizedFileURL.path } }
    }

    /// Removes every directory made so far (at exit; running tests may still use them before).
    static func removeAll() {
        let urls = created.withLock { urls in
            defer { urls.removeAll() }
            return urls
        }
        for url in urls { try? FileManager.default.removeItem(at: url) }
    }
}
