import MedleySecurity
/// Where a trainer publishes its models, and how it signs them.
public struct ModelPublisherConfiguration: Sendable {
    /// The PUB endpoint to bind, for example `tcp://127.0.0.1:5560` (`tcp://127.0.0.1:*` picks a port).
    public var publicationEndpoint: String
    /// The snapshot ROUTER endpoint to bind; nil: late joiners wait for the next publication.
    public var snapshotEndpoint: String?
    /// Signs every publication; nil: publications are unsigned, and servers that hold a
    /// trainer key refuse them.
    public var signingKey: ModelSigningKey?
    /// Messages queued per subscriber before PUB drops publications to it. Each publication
    /// is three messages and holds a whole model, so this bounds the memory a stalled
    /// subscriber can pin: a dropped publication is caught up by the next one or a snapshot.
    public var sendHighWaterMark: Int32 = 12
    /// CURVE on the publication and snapshot sockets, admitting the keys allowed in
    /// ``CurveServerSecurity/subscriberDomain``; nil: none. The publisher then runs the ZAP
    /// handler of its context.
    public var curve: CurveServerSecurity?

    public init(publicationEndpoint: String, snapshotEndpoint: String? = nil, signingKey: ModelSigningKey? = nil) {
        self.publicationEndpoint = publicationEndpoint
        self.snapshotEndpoint = snapshotEndpoint
        self.signingKey = signingKey
    }
}
