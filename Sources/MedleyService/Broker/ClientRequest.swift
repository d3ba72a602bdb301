import MedleyProtocol

/// Where a client's request came from and where its one reply goes: the routing envelope the
/// broker keeps while others work on the request, the request's id and when it arrived.
struct ClientAddress {
    let envelope: [[UInt8]]
    let requestID: UInt64
    let arrivedAt: ContinuousClock.Instant
}

/// A recommend request on its way to the worker that owns its user: held while an ingest of
/// the same user is on its way to disk (``UserOrdering``), then dispatched.
struct HeldRequest {
    let client: ClientAddress
    let userID: String
    let body: [UInt8]
}
