import Testing

@testable import MedleyClient
@testable import MedleyService

@Suite struct LatencyHistogramTests {
    @Test func smallValuesAreExact() {
        var histogram = LatencyHistogram()
        for value in [3, 1, 2, 100, 127] as [UInt64] { histogram.record(nanoseconds: value) }
        #expect(histogram.value(atQuantile: 0.2) == 1)
        #expect(histogram.value(atQuantile: 0.5) == 3)
        #expect(histogram.value(atQuantile: 1) == 127)
        #expect(histogram.minimum == 1 && histogram.maximum == 127 && histogram.count == 5)
    }

    @Test func everyValueFallsInABucketWhoseUpperEdgeBoundsItWithinOneSixtyFourth() {
        var value: UInt64 = 1
        while value < UInt64.max / 3 {
            for candidate in [value, value + 1, value * 3 / 2] {
                let bucket = LatencyHistogram.bucket(of: candidate)
                let edge = LatencyHistogram.upperEdge(of: bucket)
                #expect(bucket >= 0 && bucket < LatencyHistogram.bucketCount)
                #expect(edge >= candidate)
                #expect(Double(edge - candidate) <= Double(candidate) / 64 + 1, "value \(candidate) edge \(edge)")
            }
            value *= 2
        }
    }

    @Test func percentilesMatchNearestRankWithinTheBucketError() {
        var histogram = LatencyHistogram()
        // 1 µs … 10 ms, every 1,000th nanosecond value.
        let values = (1...10_000).map { UInt64($0) * 1_000 }
        for value in values.reversed() { histogram.record(nanoseconds: value) }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = values[Int((q * Double(values.count)).rounded(.up)) - 1]
            let reported = histogram.value(atQuantile: q)
            #expect(reported >= exact && Double(reported) <= Double(exact) * (1 + 1.0 / 64), "q \(q): \(reported) against \(exact)")
        }
        #expect(histogram.value(atQuantile: 1) == 10_000_000)
        #expect(abs(histogram.mean - 5_000_500) < 1)
    }

    @Test func mergingEqualsRecordingEverythingInOne() {
        var a = LatencyHistogram(), b = LatencyHistogram(), all = LatencyHistogram()
        for value in stride(from: UInt64(50), to: 5_000_000, by: 7_919) {
            if value % 2 == 0 { a.record(nanoseconds: value) } else { b.record(nanoseconds: value) }
            all.record(nanoseconds: value)
        }
        var merged = a
        merged.merge(b)
        #expect(merged == all)
        var empty = LatencyHistogram()
        empty.merge(LatencyHistogram())
        #expect(empty.count == 0 && empty.value(atQuantile: 0.5) == 0)
    }
}
