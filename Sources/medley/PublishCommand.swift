import ArgumentParser
import Foundation
import Logging
import MedleySystem

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish model files to running servers, as the trainer does.",
        discussion: """
            Binds the publication socket (and the snapshot socket with --snapshot), waits \
            --delay-milliseconds so that subscribers can connect, then publishes each FILE in \
            order, signed with --key if given, --interval-milliseconds apart. It then keeps \
            answering snapshot requests with the last model until SIGTERM or SIGINT, or for \
            --stay-seconds. Servers started with `medley serve --subscribe` verify and swap in \
            each model. See docs/hot-reload.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var publishing: PublishOptions

    @Argument(help: "Model files (.safetensors), published in this order.")
    var files: [String]

    @Option(help: "Milliseconds between binding and the first publication.")
    var delayMilliseconds: Int = 500

    @Option(help: "Milliseconds between publications.")
    var intervalMilliseconds: Int = 1000

    @Option(help: "Seconds to keep answering snapshot requests after the last publication; unset: until stopped.")
    var staySeconds: Int?

    func validate() throws {
        guard publishing.publicationEndpoint != nil else { throw ValidationError("give --publish ENDPOINT") }
        guard !files.isEmpty else { throw ValidationError("give at least one model file") }
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("no such file: \(file)")
        }
        guard delayMilliseconds >= 0, intervalMilliseconds >= 0, (staySeconds ?? 0) >= 0 else {
            throw ValidationError("--delay-milliseconds, --interval-milliseconds and --stay-seconds must not be negative")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "medley.publish")
        guard let publisher = try publishing.makePublisher(logger: logger) else { return }
        defer { publisher.close() }
        let stop = StopSignal()
        stop.triggerOnTerminationSignals()
        logger.notice("bound", metadata: ["publication": "\(publisher.boundPublicationEndpoint)", "snapshot": "\(publisher.boundSnapshotEndpoint ?? "none")"])
        if wait(milliseconds: delayMilliseconds, for: stop) { return }
        for (index, file) in files.enumerated() {
            if index > 0, wait(milliseconds: intervalMilliseconds, for: stop) { return }
            let bytes: [UInt8]
            do {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            let announcement = try publisher.publish(modelFileBytes: bytes)
            print("published \(file): version \(announcement.version), sequence \(announcement.sequence), \(announcement.sizeBytes) bytes, sha256 \(announcement.sha256.map { String(format: "%02x", $0) }.joined())")
            // Line by line even into a pipe, so a script sees each publication as it happens.
            fflush(nil)
        }
        _ = wait(milliseconds: staySeconds.map { $0 * 1000 }, for: stop)
    }

    /// Waits `milliseconds` (nil: for ever) or until stopped; returns whether stopped.
    private func wait(milliseconds: Int?, for stop: StopSignal) -> Bool {
        stop.wait(milliseconds: milliseconds.map { Int32(clamping: $0) } ?? -1)
    }
}
