import ArgumentParser
import Foundation
import MedleyModel

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model file's metadata and tensor table.",
        discussion: """
            Reads a safetensors model file, checks it, and prints its format and model version, \
            domains, dimensions, architecture, vocabulary sizes and every tensor's name, dtype, \
            shape and size. A file that fails a check still has its header printed, followed by \
            the reason it was refused, and the command exits 1.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The model file (.safetensors).")
    var file: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: file) else {
            throw ValidationError("no such file: \(file)")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let inspection = try ModelFileInspector.inspect(url: URL(fileURLWithPath: file))
        print(inspection.text, terminator: "")
        // The rendering reports a refused file in its last line; the exit status says it too.
        if !inspection.verified { throw ExitCode.failure }
    }
}
