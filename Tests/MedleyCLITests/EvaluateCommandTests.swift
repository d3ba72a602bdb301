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
        // The evaluations train the session attention unless told otherwise.
        #expect((report["conditions"] as? [String: String])?["model"]?.contains("session encoder attention, n 50 of the session, 2 blocks, 1 heads, training windows every 25 items, dropout 0.2") == true)
        // And halve the learning rate after each epoch without improvement.
        #expect((report["conditions"] as? [String: String])?["training"]?.contains("lr 0.002 (× 0.5 after each epoch without improvement)") == true)
        #expect((report["conditions"] as? [String: String])?["training"]?.contains("validation loss") == false)
    }

    /// `--early-stopping-metric loss` stops (and decays) on the validation loss, and says so.
    /// With `--single-task session` the session head alone is the one single-task baseline.
    @Test func earlyStoppingOnTheValidationLoss() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("report.json").path
        let run = try MedleyExecutable.run([
            "eval", "synthetic", "--users", "40", "--items-per-domain", "20", "--clusters", "3", "--epochs", "2",
            "--dimension", "8", "--hidden", "16", "--single-task", "session", "--early-stopping-metric", "loss", "--json", json,
        ], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect((report["conditions"] as? [String: String])?["training"]?.contains("early stopping patience 3 on the validation loss") == true)
        // `--single-task session` trains the session head alone and no single-task domain heads.
        let methods = (report["rows"] as? [[String: Any]] ?? []).compactMap { $0["method"] as? String }
        #expect(methods.contains("single-task (session head)"), "\(methods)")
        #expect(!methods.contains("single-task (domain heads)"), "\(methods)")
    }

    /// `medley train --session-encoder attention` (or `gru`) writes a model with the encoder;
    /// `medley inspect` shows its metadata and tensors.
    @Test(arguments: ["attention", "gru"])
    func trainWritesAModelWithASessionEncoder(kind: String) throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        let models = directory.appendingPathComponent("models").path
        let generated = try MedleyExecutable.run(["gen", "--out", log, "--users", "20", "--items-per-domain", "10", "--clusters", "2"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let trained = try MedleyExecutable.run([
            "train", "--log", log, "--models-dir", models, "--version", "1", "--dimension", "8", "--hidden", "16", "--epochs", "1",
            "--session-encoder", kind, "--sequence-length", "6", "--attention-blocks", "1", "--attention-heads", "2",
            "--attention-input", "session",
        ], timeoutSeconds: 120)
        #expect(trained.status == 0, "\(trained.stderr)")
        let inspected = try MedleyExecutable.run(["inspect", "\(models)/1.safetensors"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let tensors = kind == "gru" ? ["session_encoder.gru.input.weight", "session_encoder.gru.hidden.weight"]
            : ["session_encoder.position.embedding", "session_encoder.blocks.0.query.weight"]
        for text in ["session_encoder", kind, "attention_input", "session"] + tensors {
            #expect(inspected.stdout.contains(text), "missing \(text)")
        }
        #expect(inspected.stdout.contains("attention_heads") == (kind == "attention"))
    }

    /// The published protocol trains at the published models' d = 64 unless told otherwise;
    /// the other evaluations keep the trainer's default.
    @Test func publishedTrainsAtDimension64ByDefault() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 24 users who each rate 14 of 16 items, a minute apart: past RecBole's 10-core filter.
        let data = directory.appendingPathComponent("ml-tiny")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var interactions = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        for user in 0..<24 {
            for step in 0..<14 {
                interactions += "\(user + 1)\t\((user + step) % 16 + 1)\t4\t\(880_000_000 + user * 10_000 + step * 60)\n"
            }
        }
        try interactions.write(to: data.appendingPathComponent("ml-tiny.inter"), atomically: true, encoding: .utf8)
        let items = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
            + (1...16).map { "\($0)\tFilm \($0)\t1995\tDrama\n" }.joined()
        try items.write(to: data.appendingPathComponent("ml-tiny.item"), atomically: true, encoding: .utf8)

        func modelCondition(_ extra: [String]) throws -> String {
            let json = directory.appendingPathComponent("report-\(extra.count).json").path
            let run = try MedleyExecutable.run(
                ["eval", "published", "--data", data.path, "--epochs", "1", "--hidden", "8", "--json", json] + extra, timeoutSeconds: 120)
            #expect(run.status == 0, "\(run.stderr)")
            let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
            let conditions = try #require(report["conditions"] as? [String: String])
            // What was read, and the whole run's time.
            #expect(conditions["data set"] == "ml-tiny (336 rows read)")
            #expect((conditions["total seconds"].flatMap(Double.init) ?? -1) > 0)
            return try #require(conditions["model"])
        }
        #expect(try modelCondition([]).hasPrefix("d 64,"))
        #expect(try modelCondition(["--dimension", "8"]).hasPrefix("d 8,"))
    }

    /// `eval chronological --log` reports what it read from the event log and the whole run's
    /// time, reading included, as the data-set evaluations do.
    @Test func chronologicalFromAnEventLogReportsWhatItReadAndItsTime() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        let json = directory.appendingPathComponent("report.json").path
        let generated = try MedleyExecutable.run(["gen", "--out", log, "--users", "20", "--items-per-domain", "10", "--clusters", "2"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let run = try MedleyExecutable.run(["eval", "chronological", "--log", log, "--epochs", "1", "--hidden", "8", "--dimension", "8",
                                            "--single-task", "none", "--json", json], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let conditions = try #require(report["conditions"] as? [String: String])
        #expect(conditions["data set"] == "event log \(log) (1048 events)", "\(generated.stdout)")
        #expect((conditions["total seconds"].flatMap(Double.init) ?? -1) > 0)
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
        let encoder = try MedleyExecutable.run(["eval", "synthetic", "--session-encoder", "lstm"])
        #expect(encoder.status != 0)
        #expect(encoder.stderr.contains("--session-encoder is attention, gru or none, not lstm"))
        let metric = try MedleyExecutable.run(["eval", "synthetic", "--early-stopping-metric", "ndcg"])
        #expect(metric.status != 0)
        #expect(metric.stderr.contains("--early-stopping-metric is hit-rate or loss, not ndcg"))
        let input = try MedleyExecutable.run(["eval", "synthetic", "--attention-input", "everything"])
        #expect(input.status != 0)
        #expect(input.stderr.contains("--attention-input"))
        let dropout = try MedleyExecutable.run(["eval", "synthetic", "--dropout", "1"])
        #expect(dropout.status != 0)
        #expect(dropout.stderr.contains("--dropout"))
        for factor in ["0", "1.5", "nan"] {
            let decay = try MedleyExecutable.run(["eval", "synthetic", "--learning-rate-decay", factor])
            #expect(decay.status != 0)
            #expect(decay.stderr.contains("--learning-rate-decay must be in (0, 1]"))
        }
        for stride in ["0", "51"] {
            let windows = try MedleyExecutable.run(["eval", "synthetic", "--attention-window-stride", stride])
            #expect(windows.status != 0)
            #expect(windows.stderr.contains("--attention-window-stride must be between 1 and --sequence-length (50)"))
        }
        let json = try MedleyExecutable.run(["eval", "synthetic", "--json", directory.appendingPathComponent("no/such/report.json").path])
        #expect(json.status != 0)
        #expect(json.stderr.contains("--json"))
    }
}
