import ArgumentParser

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a data set (MovieLens-1M or -100K) as event-log segment files.",
        discussion: """
            Reads the tab-separated MovieLens files shipped in PyPI wheels, maps genres to the \
            news, video and music domains by the versioned mapping file, cuts sessions at \
            30-minute gaps and writes the events as event-log segments, so the trainer reads \
            imported data and live logged events the same way.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "import", needs: "the training module (data import)")
    }
}
