import Foundation
import MedleyProtocol

// What decoding one recommend request costs the service: before, the broker decoded the whole
// request with its limits and the worker decoded it again; now the broker reads the envelope
// and the user id (`RequestRoute`) and the worker decodes the body once. Both paths are timed on
// the same frame, in this process: the request `medley bench load --model` sends (5 context
// events, k = 10). Prints the conditions first so that a recorded result says what it ran under.

let repetitions = Int(ProcessInfo.processInfo.environment["BENCH_REPETITIONS"] ?? "") ?? 15
let requestsPerRepetition = 200_000

func frame() throws -> [UInt8] {
    var recommend = Medley_V1_RecommendRequest()
    recommend.userID = "user-4711"
    recommend.k = 10
    recommend.context = (0..<5).map { index in
        var event = Medley_V1_SessionEvent()
        event.userID = "user-4711"
        event.itemID = "music-\(100 + index)"
        event.domain = "music"
        event.type = .play
        event.timestampMs = 1_764_374_400_000 + Int64(index)
        return event
    }
    var request = Medley_V1_Request()
    request.protocolVersion = ProtocolVersion.current
    request.requestID = 42
    request.recommend = recommend
    return try request.serializedBytes()
}

/// Median and minimum nanoseconds per request of `body`, after one warm-up repetition.
func measure(_ body: () throws -> Int) rethrows -> (median: Double, min: Double) {
    var sink = try body()
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<requestsPerRepetition { sink &+= try body() }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(requestsPerRepetition))
    }
    // Keeps the work from being optimised away.
    if sink == .min { print("") }
    times.sort()
    return (times[times.count / 2], times[0])
}

let bytes = try frame()
let limits = ProtocolLimits.default
let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
print("recommend request of \(bytes.count) bytes; \(repetitions) repetitions of \(requestsPerRepetition) requests; load average \(load)")

let whole = try measure {
    let request = try Medley_V1_Request(validating: bytes, limits: limits)
    return request.recommend.userID.utf8.count
}
let twice = try measure {
    let request = try Medley_V1_Request(validating: bytes, limits: limits)
    let again = try Medley_V1_Request(serializedBytes: bytes)
    return request.recommend.userID.utf8.count + again.recommend.context.count
}
let route = try measure {
    let route = try RequestRoute(validating: bytes, limits: limits)
    return try route.recommendationUserID().utf8.count + route.recommendation.count
}
let once = try measure {
    let route = try RequestRoute(validating: bytes, limits: limits)
    let userID = try route.recommendationUserID()
    let request = try Medley_V1_RecommendRequest(validating: route.recommendation, requestID: route.requestID, limits: limits)
    return userID.utf8.count + request.context.count
}

func report(_ name: String, _ t: (median: Double, min: Double)) {
    print(name.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "median %7.0f ns  min %7.0f ns", t.median, t.min))
}
report("before, broker: whole request decoded and validated", whole)
report("before, broker and worker: decoded twice", twice)
report("now, broker: envelope and user id read (RequestRoute)", route)
report("now, broker and worker: read, then body decoded once", once)
