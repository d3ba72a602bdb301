import ArgumentParser

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing published models.",
        discussion: """
            The trainer signs each publication with the secret key; a server configured with the \
            public key refuses unsigned or wrongly signed models.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "keygen", needs: "model signing")
    }
}
