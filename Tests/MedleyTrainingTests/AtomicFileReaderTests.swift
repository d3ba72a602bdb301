import Foundation
import MedleyTraining
import Testing

@Suite struct AtomicFileReaderTests {
    @Test func readsInteractionsWithCRLFAndOptionalRating() throws {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n"
            + "u1\tToy Story (1995)\t5\t978300760\r\n"
            + "u2\tHeat (1995)\t3.0\t978300761.0\r\n"
        let reader = try AtomicFileReader(text: text, name: "t.inter")
        let rows = try AtomicFiles.readInteractions(from: reader)
        #expect(rows == [
            Interaction(user: "u1", item: "Toy Story (1995)", rating: 5, timestamp: 978_300_760, order: 0),
            Interaction(user: "u2", item: "Heat (1995)", rating: 3, timestamp: 978_300_761, order: 1),
        ])
    }

    @Test func readsInteractionsWithoutRatingsInAnyColumnOrder() throws {
        let text = "timestamp:float\titem_id:token\tuser_id:token\n10\ti\tu\n"
        let rows = try AtomicFiles.readInteractions(from: AtomicFileReader(text: text, name: "t.inter"))
        #expect(rows == [Interaction(user: "u", item: "i", rating: nil, timestamp: 10, order: 0)])
    }

    @Test(arguments: [
        ("u1\ti1\t5\n", "t.inter:3: has 3 columns, the header declares 4"),
        ("u1\ti1\tfive\t1\n", "t.inter:3: rating \"five\" is not a finite number"),
        ("u1\ti1\t5\t1.5\n", "t.inter:3: timestamp \"1.5\" is not a whole number of seconds"),
        ("\ti1\t5\t1\n", "t.inter:3: empty user_id"),
        ("u1\ti1\tnan\t1\n", "t.inter:3: rating \"nan\" is not a finite number"),
    ])
    func badRowsNameTheirLine(row: String, message: String) throws {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu0\ti0\t4\t1\n" + row
        let error = #expect(throws: DataFileError.self) {
            try AtomicFiles.readInteractions(from: AtomicFileReader(text: text, name: "t.inter"))
        }
        #expect(error?.description == message)
    }

    @Test func badHeadersAreRefused() throws {
        #expect(throws: DataFileError.badHeader(path: "h", reason: "column 2 is \"item_id\", expected name:type")) {
            try AtomicFileReader(text: "user_id:token\titem_id\n", name: "h")
        }
        #expect(throws: DataFileError.self) { try AtomicFileReader(text: "a:token\tb:string\n", name: "h") }
        #expect(throws: DataFileError.self) { try AtomicFileReader(text: "a:token\ta:float\n", name: "h") }
        #expect(throws: DataFileError.empty(path: "h")) { try AtomicFileReader(text: "", name: "h") }
        let wrongType = try AtomicFileReader(text: "user_id:float\titem_id:token\ttimestamp:float\n", name: "h")
        #expect(throws: DataFileError.missingColumn(path: "h", column: "user_id", reason: "has type float, expected token")) {
            try AtomicFiles.readInteractions(from: wrongType)
        }
        let missing = try AtomicFileReader(text: "user_id:token\titem_id:token\n", name: "h")
        #expect(throws: DataFileError.self) { try AtomicFiles.readInteractions(from: missing) }
    }

    @Test func readsGenresFromEitherColumnName() throws {
        let ml1m = "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\r\n"
            + "Toy Story (1995)\tToy Story\t1995\tAnimation Children's Comedy\r\n"
        let ml100k = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n1\tToy Story\t1995\tAnimation Children's Comedy\n2\tX\t1990\t\n"
        #expect(try AtomicFiles.readItemGenres(from: AtomicFileReader(text: ml1m, name: "a"))
            == ["Toy Story (1995)": ["Animation", "Children's", "Comedy"]])
        #expect(try AtomicFiles.readItemGenres(from: AtomicFileReader(text: ml100k, name: "b"))
            == ["1": ["Animation", "Children's", "Comedy"], "2": []])
    }

    @Test func missingFileIsAnError() {
        #expect(throws: DataFileError.unreadable(path: "/nonexistent/x.inter", reason: "no such file")) {
            try AtomicFiles.readInteractions(path: "/nonexistent/x.inter")
        }
    }

    /// A file larger than the reader's 1 MiB chunk, with CRLF line ends, so that lines (and
    /// a CR and its LF) straddle chunk boundaries.
    @Test func readsAFileLargerThanOneChunk() throws {
        let count = 25_000
        var text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n"
        for i in 0..<count { text += "user-\(i % 97)\titem-\(i) (a title long enough to fill the chunk)\t\(i % 5 + 1)\t\(1_000_000 + i)\r\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("medley-\(UUID().uuidString).inter").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(text.utf8.count > 1 << 20)
        let rows = try AtomicFiles.readInteractions(path: path)
        #expect(rows.count == count)
        #expect(rows.enumerated().allSatisfy { i, row in
            row.item == "item-\(i) (a title long enough to fill the chunk)" && row.user == "user-\(i % 97)" && row.timestamp == Int64(1_000_000 + i) && row.order == i
        })
    }
}
