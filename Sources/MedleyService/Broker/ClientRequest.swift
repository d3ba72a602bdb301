import MedleyProtocol

/// Where a client's request came from and where its one reply goes: the routing envelope the
/// broker keeps while others work on the request, the request's id and when it arrived.
struct ClientAddress {
    let envelope: [[UInt8]]
    let requestID: UInt64
    let arrivedAt: ContinuousClock.Instant
}

/// A recommend request on its way to the worker that owns its user: held while an ingest of
/// the same user is on its way to disk (``UserOrdering``), then dispatched. It carries the
/// `RecommendRequest`'s bytes, undecoded, for the worker.
struct HeldRequest {
    let client: ClientAddress
    let userID: String
    let recommendation: [UInt8]

    /// The recommend request `route` read; its user id must be UTF-8, as everywhere in a request.
    init(_ route: RequestRoute, from client: ClientAddress) throws(RequestDecodingError) {
        do {
            userID = try route.recommendationUserID()
        } catch {
            throw .malformedRecommendation(detail: error.detail, requestID: route.requestID)
        }
        self.client = client
        recommendation = route.recommendation
    }
}
