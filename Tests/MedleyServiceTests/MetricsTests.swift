import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ
@testable import MedleyClient
@testable import MedleyService
@testable import MedleySystem

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP exchange over a plain TCP connection: the raw response text.
private func httpExchange(_ address: String, request: String) throws -> String {
    let colon = address.lastIndex(of: ":")!
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = UInt16(address[address.index(after: colon)...])!.bigEndian
    inet_pton(AF_INET, String(address[..<colon]), &target.sin_addr)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    let connected = withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    #expect(connected == 0)
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        response += chunk[..<count]
    }
    return String(decoding: response, as: UTF8.self)
}

/// The value of one sample line (`name{labels} value`) of an exposition page.
private func sample(_ page: String, _ series: String) -> Double? {
    page.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
}

/// Every sample of a labelled metric, whatever its labels: which worker index gets which name
/// depends on the order the workers' READY messages reach the broker.
private func samples(_ page: String, _ metric: String) -> [Double] {
    page.split(separator: "\n").filter { $0.hasPrefix(metric + "{") }.compactMap { Double($0.split(separator: " ").last!) }
}

@Suite("metrics endpoint", .serialized)
struct MetricsTests {
    @Test func aScrapeSeesRequestsErrorsLatencyTheLogAndWorkers() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(version: 3), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.metricsAddress = "127.0.0.1:0"
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        let address = try #require(server.server.boundMetricsAddress)

        var ingest = Medley_V1_IngestRequest()
        ingest.events = [ServiceFixtures.event(user: "ana", item: "news-1", domain: "news", at: 1_000)]
        _ = try client.call(.ingest(ingest))
        _ = try client.recommend(HotReloadFixtures.recommendRequest(user: "ana"))
        var empty = Medley_V1_RecommendRequest()
        empty.k = 3
        _ = try? client.call(.recommend(empty))   // user_id empty: INVALID_ARGUMENT from the broker

        var page = ""
        #expect(try within {
            page = try httpExchange(address, request: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let sessions = samples(page, "medley_worker_sessions")
            return sessions.count == 2 && sessions.reduce(0, +) == 1
        }, "the worker holding ana's session reports it: \(page)")
        #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(page.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(sample(page, #"medley_requests_total{kind="ingest"}"#) == 1)
        #expect(sample(page, #"medley_requests_total{kind="recommend"}"#) == 2)
        #expect(sample(page, #"medley_errors_total{code="invalid_argument"}"#) == 1)
        #expect(sample(page, "medley_events_logged_total") == 1)
        #expect((sample(page, "medley_log_bytes_total") ?? 0) > 0)
        #expect((sample(page, "medley_log_sync_duration_seconds_count") ?? 0) >= 1)
        #expect(sample(page, "medley_model_version") == 3)
        #expect(samples(page, "medley_worker_model_version") == [3, 3])
        #expect(sample(page, "medley_batch_size_count") == 1)
        #expect((sample(page, "medley_reply_duration_seconds_count") ?? 0) >= 3)
        #expect(sample(page, #"medley_reply_duration_seconds_bucket{le="+Inf"}"#) == sample(page, "medley_reply_duration_seconds_count"))
        #expect(page.contains("# TYPE medley_requests_total counter"))
        #expect(sample(page, "medley_models_rejected_total") == 0)
        #expect(!page.contains("medley_int8_lists"), "a float32 model has no int8 lists")

        #expect(try httpExchange(address, request: "GET /other HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        #expect(try httpExchange(address, request: "POST /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405"))
        #expect(try httpExchange(address, request: "nonsense\r\n\r\n").hasPrefix("HTTP/1.1 400"))
    }

    /// With an int8 table, the page counts the lists checked against its error bound (one per
    /// query and domain: two queries a request over three domains) for the serving model.
    @Test func anInt8ModelsListsAreCounted() throws {
        let fixture = try ServiceFixtures.model(version: 4)
        let model = try MultitaskModel(fixture.contents, itemPrecision: .int8)
        let server = try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory(), workers: 1) {
            $0.metricsAddress = "127.0.0.1:0"
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 1)
        let address = try #require(server.server.boundMetricsAddress)
        for user in ["ana", "bo"] { _ = try client.recommend(HotReloadFixtures.recommendRequest(user: user)) }
        let page = try httpExchange(address, request: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(sample(page, #"medley_int8_lists_checked_total{model_version="4"}"#) == 12)
        #expect(sample(page, #"medley_int8_lists_retried_total{model_version="4"}"#) == 0)
        #expect(sample(page, #"medley_int8_lists_scored_in_float32_total{model_version="4"}"#) == 0)
        #expect(page.contains("# TYPE medley_int8_lists_checked_total counter"))
    }

    @Test func theTextFormatEscapesLabelsAndCumulatesBuckets() {
        var histogram = Histogram(upperBounds: [1, 2])
        for value in [0.5, 1.5, 1.5, 7] { histogram.record(value) }
        var page = PrometheusText()
        page.histogram("h", "a histogram", histogram)
        page.gauge("g", "a gauge", [([("name", "a\"b\\c\nd")], 2.5)])
        #expect(page.text == """
            # HELP h a histogram
            # TYPE h histogram
            h_bucket{le="1"} 1
            h_bucket{le="2"} 3
            h_bucket{le="+Inf"} 4
            h_sum 10.5
            h_count 4
            # HELP g a gauge
            # TYPE g gauge
            g{name="a\\"b\\\\c\\nd"} 2.5

            """)
        #expect(ServiceMetrics.name(of: .invalidArgument) == "invalid_argument")
        #expect(MetricsHTTPServer.response(to: "GET /metrics?x=1 HTTP/1.0\r\n\r\n") { "page" } == ("200 OK", "page"))
    }

    @Test func aBadAddressIsRefused() {
        #expect(throws: MetricsServerError.badAddress("nowhere")) {
            _ = try MetricsHTTPServer(address: "nowhere", stopDescriptor: StopSignal().fileDescriptor) { "" }
        }
    }
}
