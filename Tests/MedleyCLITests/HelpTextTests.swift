import Foundation
import Testing

/// What `medley help` promises holds.
@Suite("help texts")
struct HelpTextTests {
    @Test func trainTakesTheCommaListItsHelpShows() throws {
        let help = try MedleyExecutable.run(["help", "train"])
        #expect(help.stdout.contains("comma-separated"))
        #expect(help.stdout.contains("news,video,music"))
        let directory = try CLIFixtures.temporaryDirectory()
        let bad = try MedleyExecutable.run(["train", "--log", directory.path, "--domains", "news,Video"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("\"Video\" is not a domain name"))
        // A comma list passes validation; training then stops on the empty log, not on the domains.
        let listed = try MedleyExecutable.run(["train", "--log", directory.appendingPathComponent("none").path, "--domains", "news,video",
                                            "--models-dir", directory.path])
        #expect(!listed.stderr.contains("domain name"))
    }

    @Test func gradNormWithAlphaHalfIsTheDefaultWeighting() throws {
        for command in [["help", "train"], ["help", "eval", "chronological"]] {
            let help = try MedleyExecutable.run(command)
            let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("gradnorm (alpha 0.5)"), "\(command)")
            #expect(text.contains("(default: gradnorm)"), "\(command)")
        }
    }

    @Test func serveSaysItsDefaultPathsAreRelativeToTheWorkingDirectory() throws {
        let help = try MedleyExecutable.run(["help", "serve"])
        // The help wraps lines; compare with the whitespace folded.
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.components(separatedBy: "relative to the working directory").count - 1 >= 3)
    }
}
