import ArgumentParser
import MedleyService

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing published models.",
        discussion: """
            Writes PREFIX.secret (readable by its owner only) and PREFIX.public, and refuses to \
            replace existing files. The trainer signs each publication with the secret key \
            (`medley train --publish … --key PREFIX.secret`, `medley publish --key …`); a server \
            started with `--trainer-key PREFIX.public` refuses unsigned or wrongly signed models. \
            The file format is in docs/hot-reload.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Path prefix of the two key files.")
    var out: String = "trainer"

    func run() throws {
        global.bootstrapLogging()
        let key = ModelSigningKey()
        try key.write(toFile: "\(out).secret")
        try key.verificationKey.write(toFile: "\(out).public")
        print("wrote \(out).secret and \(out).public")
    }
}
