import Testing

@testable import MedleyEventLog

@Suite struct WrittenRecordsTests {
    @Test func eachRecordIsTheBytesItsWriterAppended() throws {
        var written = WrittenRecords()
        #expect(written.count == 0 && written.records.isEmpty)
        let records: [[UInt8]] = [[], [1, 2, 3], [], [4], Array(repeating: 9, count: 200)]
        for record in records {
            let size = written.append { $0.append(contentsOf: record) }
            #expect(size == record.count)
        }
        #expect(written.count == records.count)
        for (index, record) in records.enumerated() { #expect(Array(written[index]) == record, "record \(index)") }
        #expect(written.records == records)
        #expect(written.bytes == records.flatMap { $0 })
    }

    @Test func aWriterThatThrowsLeavesNoRecord() {
        struct Refused: Error {}
        var written = WrittenRecords()
        written.append { $0.append(7) }
        #expect(throws: Refused.self) {
            try written.append { out in
                out.append(contentsOf: [1, 2])
                throw Refused()
            }
        }
        written.append { $0.append(8) }
        #expect(written.records == [[7], [8]])
    }
}
