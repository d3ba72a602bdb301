import ArgumentParser
import MedleyModelDistribution
import MedleySecurity

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing published models, or a CURVE key pair for connections.",
        discussion: """
            Writes PREFIX.secret (readable by its owner only) and PREFIX.public, and refuses to \
            replace existing files. The trainer signs each publication with the secret key \
            (`medley train --publish … --key PREFIX.secret`, `medley publish --key …`); a server \
            started with `--trainer-key PREFIX.public` refuses unsigned or wrongly signed models. \
            The file format is in docs/hot-reload.md.

            With --curve, writes a CURVE key pair instead: PREFIX.key (secret, owner only) and \
            PREFIX.pub, for `--curve-secret`, `--curve-server-key` and the directories of allowed \
            keys (docs/deployment.md).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Path prefix of the two key files.")
    var out: String = "trainer"

    @Flag(help: "Make a CURVE key pair (PREFIX.key, PREFIX.pub) for encrypted, authenticated connections.")
    var curve = false

    func run() throws {
        global.bootstrapLogging()
        if curve {
            try CurveKeyFiles.generate(prefix: out)
            print("wrote \(CurveKeyFiles.secretPath(out)) and \(CurveKeyFiles.publicPath(out))")
            return
        }
        let key = ModelSigningKey()
        try key.write(toFile: "\(out).secret")
        try key.verificationKey.write(toFile: "\(out).public")
        print("wrote \(out).secret and \(out).public")
    }
}
