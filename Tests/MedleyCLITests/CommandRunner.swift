import Foundation
import MedleyTestSupport
import MedleyModel
import Testing

/// Runs the built `medley` executable, as a user would.
enum MedleyExecutable {
    /// The `medley` binary next to the test bundle (SwiftPM builds it first: the test target
    /// depends on it).
    static var url: URL {
        let candidates = [CommandLine.arguments.first, Bundle.main.executablePath].compactMap { $0 }.map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("medley")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs `medley` with arguments to completion; returns its exit status and output.
    static func run(_ arguments: [String], input: String? = nil, timeoutSeconds: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = RunningProcess(arguments: arguments, standardInput: input)
        try process.start()
        let status = process.wait(timeoutSeconds: timeoutSeconds)
        return (status, process.standardOutput, process.standardError)
    }
}

/// A `medley` process in the background, with its output collected.
final class RunningProcess: @unchecked Sendable {
    // Sound: output buffers are guarded by `lock`; the process is driven from one test.
    let process = Process()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    /// Set when a stream's handler saw end of file: everything the process wrote is in.
    private var stdoutClosed = false
    private var stderrClosed = false
    private let input: String?
    private var pipes: (out: Pipe, err: Pipe)?

    init(arguments: [String], standardInput: String? = nil) {
        process.executableURL = MedleyExecutable.url
        process.arguments = arguments
        input = standardInput
    }

    func start() throws {
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        pipes = (out, err)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock {
                self?.stdoutData.append(data)
                if data.isEmpty { self?.stdoutClosed = true }
            }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock {
                self?.stderrData.append(data)
                if data.isEmpty { self?.stderrClosed = true }
            }
        }
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
    }

    var standardOutput: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var standardError: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Waits for exit; kills the process and returns -1 after the time-out.
    func wait(timeoutSeconds: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        process.waitUntilExit()
        // The handlers take the last bytes on their own thread, which a loaded machine may run
        // late: wait (boundedly) until both streams have reached end of file.
        let drained = Date().addingTimeInterval(5)
        while !lock.withLock({ stdoutClosed && stderrClosed }) && Date() < drained { usleep(10_000) }
        // Still open: the handlers' thread never ran. The process has exited, so reading what
        // is left to end of file returns at once.
        if let pipes, !lock.withLock({ stdoutClosed && stderrClosed }) {
            pipes.out.fileHandleForReading.readabilityHandler = nil
            pipes.err.fileHandleForReading.readabilityHandler = nil
            let restOut = pipes.out.fileHandleForReading.readDataToEndOfFile()
            let restErr = pipes.err.fileHandleForReading.readDataToEndOfFile()
            lock.withLock {
                if !stdoutClosed { stdoutData.append(restOut) }
                if !stderrClosed { stderrData.append(restErr) }
                stdoutClosed = true
                stderrClosed = true
            }
        }
        return process.terminationStatus
    }

    /// Waits until standard error has a line matching `pattern`'s first capture group.
    func waitForLog(_ pattern: String, timeoutSeconds: Double = 30) -> String? {
        let regex = try! NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            let text = standardError
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
               let range = Range(match.range(at: 1), in: text) {
                return String(text[range])
            }
            guard process.isRunning else { return nil }
            usleep(20_000)
        }
        return nil
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Starts `medley` with `arguments` and waits for one log capture per pattern; returns the
    /// process and the captures, or nil (recorded, the process killed) if one never appeared.
    static func started(_ arguments: [String], waitingFor patterns: [String]) throws -> (RunningProcess, [String])? {
        let process = RunningProcess(arguments: arguments)
        try process.start()
        var captures: [String] = []
        for pattern in patterns {
            guard let capture = process.waitForLog(pattern) else {
                Issue.record("medley \(arguments[0]) never logged \(pattern): \(process.standardError)")
                process.signal(SIGKILL)
                _ = process.wait(timeoutSeconds: 10)
                return nil
            }
            captures.append(capture)
        }
        return (process, captures)
    }

    /// Starts `medley serve` of `model` with its log in `directory`, clients and worker processes
    /// on ephemeral ports, no worker threads, and `arguments`; returns it with its client and
    /// worker endpoints, or nil (recorded) if it did not get ready.
    static func serverForWorkerProcesses(model: String, in directory: URL, _ arguments: [String]) throws
        -> (process: RunningProcess, clients: String, workers: String)? {
        guard let (server, endpoints) = try started([
            "serve", "--model", model, "--log-dir", directory.appendingPathComponent("log").path,
            "--bind", "tcp://127.0.0.1:*", "--workers", "0", "--worker-bind", "tcp://127.0.0.1:*",
        ] + arguments, waitingFor: [#"clients=(tcp://[0-9.:]+).*\] ready"#, #"workers=(tcp://[0-9.:]+).*\] ready"#]) else { return nil }
        return (server, endpoints[0], endpoints[1])
    }

    /// Starts `medley publish` on ephemeral ports with `arguments` after the endpoints; returns
    /// it with its publication and snapshot endpoints, or nil (recorded) if it did not bind.
    static func publisher(_ arguments: [String]) throws -> (process: RunningProcess, publication: String, snapshot: String)? {
        guard let (publisher, endpoints) = try started(
            ["publish", "--publish", "tcp://127.0.0.1:*", "--snapshot", "tcp://127.0.0.1:*"] + arguments,
            waitingFor: [#"publication=(tcp://[0-9.:]+)"#, #"snapshot=(tcp://[0-9.:]+)"#]) else { return nil }
        return (publisher, endpoints[0], endpoints[1])
    }
}

enum CLIFixtures {
    /// A new directory, removed when the tests exit.
    static func temporaryDirectory() throws -> URL {
        try TestDirectories.make(prefix: "medley-cli-tests")
    }

    /// Writes a small model with seeded weights and returns its path.
    static func writeModel(in directory: URL, version: UInt64 = 1) throws -> String {
        let domains = ["news", "video", "music"]
        var ids: [String] = []
        var domainOfItem: [Int] = []
        for (index, domain) in domains.enumerated() {
            for item in 0..<30 {
                ids.append("\(domain.prefix(1))\(item)")
                domainOfItem.append(index)
            }
        }
        let contents = try ModelFileContents.initialized(
            configuration: ModelConfiguration(modelVersion: version, domains: domains, embeddingDimension: 8, hiddenDimensions: [16]),
            catalog: try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: 3),
            users: try UserVocabulary(ids: ["known"]), seed: version)
        let url = directory.appendingPathComponent("\(version).safetensors")
        try ModelFile.write(contents, to: url)
        return url.path
    }
}
