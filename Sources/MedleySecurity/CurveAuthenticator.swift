import Dispatch
import Logging
import MedleySystem
import Synchronization
import ZeroMQ

/// The CURVE settings of a process's server sockets: its key pair and, per ZAP domain, the
/// client keys allowed in.
public struct CurveServerSecurity: Sendable {
    /// The ZAP domain of `medley serve`'s client socket.
    public static let clientDomain = "clients"
    /// The ZAP domain of `medley serve`'s worker socket.
    public static let workerDomain = "workers"
    /// The ZAP domain of the trainer's publication and snapshot sockets.
    public static let subscriberDomain = "subscribers"

    public var keys: CurveKeyPair
    /// Who may connect, per ZAP domain; a domain not listed admits no one.
    public var allowed: [String: AuthorizedCurveKeys]

    public init(keys: CurveKeyPair, allowed: [String: AuthorizedCurveKeys]) {
        self.keys = keys
        self.allowed = allowed
    }

    /// The role of a server socket in `domain`.
    public func role(domain: String) -> CurveRole {
        .server(secretKey: keys.secretKey, zapDomain: domain)
    }

    /// Admits a CURVE handshake whose key is allowed in its domain; refuses everything else
    /// (another mechanism, an unknown domain or key).
    func decide(_ request: ZAPRequest) -> ZAPDecision {
        guard let key = request.curvePublicKey else { return .deny(reason: "CURVE required") }
        guard let keys = allowed[request.domain] else { return .deny(reason: "no clients allowed in \(request.domain)") }
        guard keys.contains(key) else { return .deny(reason: "key not allowed") }
        return .allow(userID: (try? Z85.encode(key)) ?? "")
    }
}

/// Runs a context's ZAP handler on its own thread with a process's ``CurveServerSecurity``.
/// Start it before binding the sockets it guards; it stops when the context shuts down.
public final class CurveAuthenticator: Sendable {
    private let thread: OwnedThread

    public init(context: Context, security: CurveServerSecurity, logger: Logger = Logger(label: "medley.security")) throws(ZMQError) {
        let bound = DispatchSemaphore(value: 0)
        let failure = Mutex<ZMQError?>(nil)
        thread = OwnedThread(name: "zap") {
            let handler: ZAPHandler
            do throws(ZMQError) {
                handler = try ZAPHandler(context: context) { request in
                    let decision = security.decide(request)
                    if case .deny(let reason) = decision {
                        logger.notice("connection refused", metadata: [
                            "domain": "\(request.domain)", "address": "\(request.address)", "reason": "\(reason)",
                        ])
                    }
                    return decision
                }
            } catch {
                failure.withLock { $0 = error }
                bound.signal()
                return
            }
            bound.signal()
            do {
                try handler.run()
            } catch {
                logger.error("ZAP handler failed; new connections are refused: \(error)")
            }
        }
        bound.wait()
        if let error = failure.withLock({ $0 }) {
            thread.join()
            throw error
        }
    }

    /// Waits for the handler's thread; call after shutting the context down.
    public func join() {
        thread.join()
    }
}
