import ArgumentParser

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model file's metadata and tensor table.",
        discussion: """
            Reads a safetensors model file, checks it, and prints its format and model version, \
            domains, dimensions, architecture, vocabulary sizes and every tensor's name, dtype, \
            shape and size.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "inspect", needs: "the model module (model files)")
    }
}
