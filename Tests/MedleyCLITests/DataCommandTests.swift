import Foundation
import MedleyEventLog
import MedleyProtocol
import MedleyService
import Testing

@Suite("medley gen and import")
struct DataCommandTests {
    private func events(in directory: String) throws -> [Medley_V1_SessionEvent] {
        let reader = EventLogReader(directory: directory)
        var events: [Medley_V1_SessionEvent] = []
        while let entry = try reader.next() { events.append(entry.record.event) }
        return events
    }

    @Test func generationIsReproducibleAndReadable() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let first = directory.appendingPathComponent("first").path
        let second = directory.appendingPathComponent("second").path
        let other = directory.appendingPathComponent("other").path
        for (path, seed) in [(first, "7"), (second, "7"), (other, "8")] {
            let run = try MedleyExecutable.run(["gen", "--out", path, "--seed", seed, "--users", "40", "--items-per-domain", "30", "--clusters", "3"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("generated"))
        }
        let a = try events(in: first)
        #expect(!a.isEmpty)
        #expect(a == (try events(in: second)))
        #expect(a != (try events(in: other)))
        #expect(Set(a.map(\.domain)) == ["news", "video", "music"])

        let again = try MedleyExecutable.run(["gen", "--out", first])
        #expect(again.status != 0, "an existing log is never overwritten")
        #expect(again.stderr.contains("not empty"))
    }

    @Test func importRefusesWhatItCannotRead() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let missing = try MedleyExecutable.run(["import", "movielens", "--data", directory.appendingPathComponent("none").path, "--out", directory.appendingPathComponent("log").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("fetch-movielens"))
        let kind = try MedleyExecutable.run(["import", "netflix", "--data", directory.path, "--out", directory.appendingPathComponent("log").path])
        #expect(kind.status != 0)
        #expect(kind.stderr.contains("movielens"))

        // A data set folder with a malformed interaction file: the error names the line.
        let data = directory.appendingPathComponent("ml-tiny")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t5\t978300760\n2\t11\tfive\t978300761\n"
            .write(to: data.appendingPathComponent("ml-tiny.inter"), atomically: true, encoding: .utf8)
        try "item_id:token\tgenre:token_seq\n10\tDrama\n11\tMusical\n"
            .write(to: data.appendingPathComponent("ml-tiny.item"), atomically: true, encoding: .utf8)
        let bad = try MedleyExecutable.run(["import", "movielens", "--data", data.path, "--out", directory.appendingPathComponent("log").path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("3"), "the error names line 3: \(bad.stderr)")
    }
}
