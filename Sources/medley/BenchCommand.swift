import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure scoring, top-K and service throughput on this machine.",
        discussion: """
            Prints each figure with the conditions it ran under (CPU, build configuration, BLAS \
            threads), so that results from different machines can be compared as ratios.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "bench", needs: "the model module (scoring kernels)")
    }
}
