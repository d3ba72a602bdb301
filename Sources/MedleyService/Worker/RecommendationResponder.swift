import MedleyEventConversion
import MedleyModel
import MedleyProtocol

/// A recommend request waiting in a worker's batch.
struct PendingRecommendation {
    let ticket: UInt64
    let requestID: UInt64
    let request: Medley_V1_RecommendRequest
}

/// A reply frame a worker sends back for one request.
struct AnsweredRecommendation {
    /// The `Medley_V1_Reply`'s bytes.
    let frame: [UInt8]
    let isError: Bool

    init(frame: [UInt8]) {
        self.frame = frame
        isError = false
    }

    init(error reply: Medley_V1_Reply) {
        // Only a reply over protobuf's 2 GiB limit fails to serialize; an error reply is small.
        frame = (try? reply.serializedFrame()) ?? []
        isError = true
    }
}

/// Turns a batch of recommend requests into reply frames with one model call: each request is
/// checked and encoded on its own (a bad one gets its own error), and the valid ones are
/// scored together.
struct RecommendationResponder {
    let configuration: WorkerConfiguration

    /// `threads`: how many threads the batch's scoring may use (``IdleWorkerCores``).
    func answer(
        _ batch: [PendingRecommendation], sessions: SessionStore, model: MultitaskModel?, nowMs: Int64, threads: Int = 1
    ) -> [AnsweredRecommendation] {
        guard let model else {
            return batch.map {
                var reply = Medley_V1_Reply.error(.unavailable, message: "no model is loaded yet; retry shortly", requestID: $0.requestID)
                reply.error.retryAfterMs = 1000
                return AnsweredRecommendation(error: reply)
            }
        }
        var replies = [AnsweredRecommendation?](repeating: nil, count: batch.count)
        // Context events are checked like ingested ones, against the batch's model.
        let validator = IngestValidator(domains: Set(model.configuration.domains), maxIDBytes: configuration.protocolLimits.maxIDBytes)
        var encoded: [(index: Int, input: EncodedInput, domains: [Int], length: Int, sessionID: String, requestTimeMs: Int64)] = []
        for (index, pending) in batch.enumerated() {
            switch prepare(pending.request, sessions: sessions, model: model, validator: validator, nowMs: nowMs) {
            case .success(let prepared):
                encoded.append((index, prepared.input, prepared.domains, prepared.length, prepared.sessionID, prepared.requestTimeMs))
            case .failure(let failure):
                replies[index] = AnsweredRecommendation(error: .error(failure.code, message: failure.message, requestID: pending.requestID))
            }
        }
        if !encoded.isEmpty {
            let length = encoded.map(\.length).max()!
            let options = RecommendationOptions(perDomain: length, session: length, blended: length)
            let results = model.recommend(encoded.map(\.input), options: options, threads: threads)
            for (entry, result) in zip(encoded, results) {
                let pending = batch[entry.index]
                if let problem = RecommendationCompleteness.problem(with: result, input: entry.input, catalog: model.catalog, length: entry.length) {
                    replies[entry.index] = AnsweredRecommendation(error: .error(
                        .internal, message: "model \(model.configuration.modelVersion) cannot answer this request: \(problem)", requestID: pending.requestID))
                    continue
                }
                let frame = RecommendReplyFrame(
                    requestID: pending.requestID, modelVersion: model.configuration.modelVersion, domains: entry.domains,
                    length: entry.length, includeScores: pending.request.includeScores, sessionID: entry.sessionID,
                    requestTimeMs: entry.requestTimeMs)
                replies[entry.index] = AnsweredRecommendation(frame: frame.bytes(for: result))
            }
        }
        return replies.map { $0! }
    }

    struct Failure: Error {
        let code: Medley_V1_ErrorCode
        let message: String
    }

    struct Prepared {
        let input: EncodedInput
        let domains: [Int]
        let length: Int
        let sessionID: String
        let requestTimeMs: Int64
    }

    /// Checks a request and builds the model input from the user's session.
    func prepare(
        _ request: Medley_V1_RecommendRequest, sessions: SessionStore, model: MultitaskModel,
        validator: IngestValidator, nowMs: Int64
    ) -> Result<Prepared, Failure> {
        let modelDomains = model.configuration.domains
        guard !request.userID.isEmpty else { return .failure(Failure(code: .invalidArgument, message: "user_id is empty")) }
        for (field, value) in [("user_id", request.userID), ("session_id", request.sessionID)] {
            if let problem = configuration.protocolLimits.idProblem(field: field, value) {
                return .failure(Failure(code: .invalidArgument, message: problem))
            }
        }
        // The time the answer is for: the client's, to replay an answer, or the service's clock.
        let requestTimeMs = request.hasRequestTimeMs ? request.requestTimeMs : nowMs
        if request.hasRequestTimeMs {
            guard requestTimeMs > 0, requestTimeMs <= nowMs + validator.maxFutureMilliseconds else {
                return .failure(Failure(code: .invalidArgument, message: "request_time_ms \(requestTimeMs) is not a time after 1970 within a day of the service's clock"))
            }
        }
        let length = request.k == 0 ? configuration.defaultListLength : Int(request.k)
        guard length <= configuration.maxListLength else {
            return .failure(Failure(code: .invalidArgument, message: "k is \(request.k); at most \(configuration.maxListLength) items per list"))
        }
        var domainIndexes: [Int] = []
        for name in request.domains {
            guard let index = modelDomains.firstIndex(of: name) else {
                return .failure(Failure(code: .unknownDomain, message: "domain \"\(name.prefix(64))\" is not served; use one of: \(modelDomains.joined(separator: ", "))"))
            }
            guard !domainIndexes.contains(index) else {
                return .failure(Failure(code: .invalidArgument, message: "domain \"\(name)\" is asked for twice"))
            }
            domainIndexes.append(index)
        }
        if domainIndexes.isEmpty { domainIndexes = Array(modelDomains.indices) }

        var events: [SessionEvent] = []
        for (index, event) in request.context.enumerated() {
            if let (reason, message) = validator.problem(with: event, nowMs: nowMs) {
                let code: Medley_V1_ErrorCode = reason == .unknownDomain ? .unknownDomain : .invalidArgument
                return .failure(Failure(code: code, message: "context event \(index): \(message)"))
            }
        }

        let session = sessions.session(for: request.userID)
        // Only the current session is kept: a request naming any other (unknown, or one of the
        // user's earlier sessions) would be answered without the user's recent items.
        if request.hasSessionID && session.map({ !$0.sessionID.utf8.elementsEqual(request.sessionID.utf8) }) ?? true {
            let current = session.map { "; the user's current session is \"\($0.sessionID)\"" } ?? "; the user has no live session"
            return .failure(Failure(code: .notFound, message: "session \"\(request.sessionID)\" is not a live session of this user\(current)"))
        }
        var sessionID = ""
        var history: [ItemReference] = []
        if let session {
            history = session.history
            sessionID = session.sessionID
            events = session.events
        }
        events += request.context.compactMap(SessionEvent.init)
        let input = ModelInput(
            userID: request.userID,
            events: events,
            history: history,
            context: ContextFeatures.encode(timestampMilliseconds: requestTimeMs),
            excluded: request.includeSeen ? [] : history
        )
        do {
            let encoded = try model.encode(input, excludeSessionItems: !request.includeSeen)
            return .success(Prepared(input: encoded, domains: domainIndexes, length: length, sessionID: sessionID, requestTimeMs: requestTimeMs))
        } catch {
            return .failure(Failure(code: .internal, message: "the model could not read this input: \(error)"))
        }
    }
}
