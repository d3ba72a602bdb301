import Foundation
import Testing

@Suite("medley eval")
struct EvaluateCommandTests {
    @Test func syntheticPrintsTheTableAndWritesTheReport() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let json = directory.appendingPathComponent("report.json").path
        let run = try MedleyExecutable.run([
            "eval", "synthetic", "--users", "40", "--items-per-domain", "20", "--clusters", "3", "--epochs", "2",
            "--dimension", "8", "--hidden", "16", "--single-task", "none", "--json", json,
        ], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        for text in ["synthetic data, global time cut", "Medley multitask (domain heads)", "Medley multitask (session head)",
                     "V-SKNN", "planted taste (oracle)", "multitask training:", "cold users:"] {
            #expect(run.stdout.contains(text), "missing \(text)")
        }
        #expect(run.stderr.contains("epoch 1"), "progress goes to standard error")
        let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.contains { $0["method"] as? String == "Medley multitask (session head)" })
        #expect((report["conditions"] as? [String: String])?["data set"]?.hasPrefix("synthetic") == true)
    }

    @Test func refusesBadArguments() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let neither = try MedleyExecutable.run(["eval", "chronological"])
        #expect(neither.status != 0)
        #expect(neither.stderr.contains("exactly one of --data and --log"))
        let missing = try MedleyExecutable.run(["eval", "published", "--data", directory.appendingPathComponent("none").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("fetch-movielens"))
        let epochs = try MedleyExecutable.run(["eval", "synthetic", "--epochs", "0"])
        #expect(epochs.status != 0)
        #expect(epochs.stderr.contains("--epochs"))
        let json = try MedleyExecutable.run(["eval", "synthetic", "--json", directory.appendingPathComponent("no/such/report.json").path])
        #expect(json.status != 0)
        #expect(json.stderr.contains("--json"))
    }
}
