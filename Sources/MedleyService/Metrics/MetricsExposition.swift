import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol

/// The page `medley serve --metrics` answers a scrape with (names and meanings in README.md,
/// "Metrics"): the service's counters, the event log's statistics and the model installer's
/// status, read at the moment of the scrape.
public enum MetricsExposition {
    public static func render(
        _ metrics: ServiceMetrics, log: EventLogWriter.Statistics, updates: ModelUpdateStatus,
        modelVersion: UInt64, int8Lists: (modelVersion: UInt64, counts: ReducedScoringCounts)? = nil, uptime: Duration
    ) -> String {
        let snapshot = metrics.snapshot
        var page = PrometheusText()
        page.gauge("medley_uptime_seconds", "Seconds since the server started.", Double(uptime.components.seconds))
        page.gauge("medley_model_version", "The model version serving new requests.", Double(modelVersion))
        page.counter("medley_requests_total", "Client requests received, by kind (malformed: refused before routing).",
                     snapshot.requestsByKind.sorted { $0.key < $1.key }.map { ([("kind", $0.key)], Double($0.value)) })
        page.counter("medley_errors_total", "Error replies the broker made, by error code (workers' errors are in medley_worker_errors_total).",
                     snapshot.errorsByCode.sorted { $0.key < $1.key }.map { ([("code", $0.key)], Double($0.value)) })
        page.histogram("medley_reply_duration_seconds", "Time from a request's arrival to its reply leaving the broker.", snapshot.replyLatency)
        page.histogram("medley_batch_size", "Recommend requests scored together by an in-process worker.", snapshot.batchSizes)
        if let int8Lists {
            // Counted per model: a swapped-in model starts a series of its own.
            let labels = [("model_version", "\(int8Lists.modelVersion)")]
            page.counter("medley_int8_lists_checked_total", "Lists in-process workers scored from the int8 table and checked against its error bound.",
                         [(labels, Double(int8Lists.counts.listsChecked))])
            page.counter("medley_int8_lists_retried_total", "Of those, lists the check could not clear, tried again with more candidates.",
                         [(labels, Double(int8Lists.counts.listsRetried))])
            page.counter("medley_int8_lists_scored_in_float32_total", "Of those, lists the retry could not clear either, scored in float32 over their domain.",
                         [(labels, Double(int8Lists.counts.listsScoredInFull))])
        }

        let workers = snapshot.workers.sorted { $0.key < $1.key }
        func perWorker(_ value: (Medley_V1_WorkerStats) -> UInt64) -> [(labels: [(String, String)], value: Double)] {
            workers.map { ([("worker", "\($0.key)"), ("name", $0.value.name)], Double(value($0.value.stats))) }
        }
        page.gauge("medley_workers", "Workers in rotation.", Double(workers.count))
        page.gauge("medley_sessions", "Live sessions held by all workers, as of their last heartbeats.",
                   Double(workers.reduce(0) { $0 + $1.value.stats.sessions }))
        page.gauge("medley_worker_sessions", "Live sessions one worker holds.", perWorker(\.sessions))
        page.gauge("medley_worker_model_version", "The model version one worker serves.", perWorker(\.modelVersion))
        page.counter("medley_worker_requests_total", "Recommend requests one worker answered.", perWorker(\.requests))
        page.counter("medley_worker_errors_total", "Error replies one worker made.", perWorker(\.errors))

        page.counter("medley_events_logged_total", "Events appended to the event log since start.", Double(log.records))
        page.counter("medley_log_bytes_total", "Bytes written to the event log's segments since start.", Double(log.bytesWritten))
        page.counter("medley_log_writes_total", "Writes to the event log's segments.", Double(log.writes))
        page.counter("medley_log_syncs_total", "Data syncs (fdatasync) of the event log.", Double(log.syncs))
        page.histogram("medley_log_sync_duration_seconds", "How long each group's fdatasync took.", log.syncLatency)
        page.counter("medley_log_failures_total", "Writes and syncs of the event log that failed.", Double(log.failures))
        page.counter("medley_log_segments_created_total", "Event log segments created since start.", Double(log.segmentsCreated))

        page.counter("medley_models_installed_total", "Models put in service since start (the start-up model not included).", Double(updates.installed))
        page.counter("medley_models_rejected_total", "Models refused since start.", Double(updates.rejected))
        page.gauge("medley_degraded", "1 while a refused model or stopped model updates degrade the service.", updates.degradedDetail == nil ? 0 : 1)
        return page.text
    }
}
