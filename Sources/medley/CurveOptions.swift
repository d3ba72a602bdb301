import ArgumentParser
import MedleySecurity
import ZeroMQ

/// CURVE for a command that connects to a server which requires it (`send`, `recommend`,
/// `worker`): this side's key pair and the server's public key (docs/deployment.md).
struct CurveClientOptions: ParsableArguments {
    @Option(help: "This client's CURVE secret key file (NAME.key from `medley keygen --curve`).")
    var curveSecret: String?

    @Option(help: "The server's CURVE public key file (its NAME.pub).")
    var curveServerKey: String?

    func validate() throws {
        guard (curveSecret == nil) == (curveServerKey == nil) else {
            throw ValidationError("--curve-secret and --curve-server-key go together")
        }
    }

    /// The client role these options describe; nil without them.
    func role() throws -> CurveRole? {
        try curveClientRole(secretFile: curveSecret, serverKeyFile: curveServerKey)
    }
}

/// The client role of a key pair file and a server's public key file; nil when neither is given.
func curveClientRole(secretFile: String?, serverKeyFile: String?) throws -> CurveRole? {
    guard let secretFile, let serverKeyFile else { return nil }
    do {
        return .client(keys: try CurveKeyFiles.readSecret(secretFile), serverPublicKey: try CurveKeyFiles.readPublic(serverKeyFile))
    } catch {
        throw ValidationError("\(error)")
    }
}

/// The server side of CURVE: this process's key pair and, per ZAP domain, the directory of
/// public keys allowed in.
func curveServerSecurity(secretFile: String, allowed: [String: String]) throws -> CurveServerSecurity {
    do {
        let keys = try CurveKeyFiles.readSecret(secretFile)
        var directories: [String: AuthorizedCurveKeys] = [:]
        for (domain, directory) in allowed { directories[domain] = try AuthorizedCurveKeys(directory: directory) }
        return CurveServerSecurity(keys: keys, allowed: directories)
    } catch {
        throw ValidationError("\(error)")
    }
}

/// `medley serve`'s CURVE options: its key pair, who may connect as a client or a worker, and
/// the trainer's key for the subscription.
struct ServeSecurityOptions: ParsableArguments {
    @Option(help: "This server's CURVE secret key file (NAME.key from `medley keygen --curve`); the client and worker sockets then require CURVE.")
    var curveSecret: String?

    @Option(help: "With --curve-secret: the directory of CURVE public keys (*.pub) of the clients allowed in; re-read when it changes.")
    var allowClients: String?

    @Option(help: "The directory of public keys of the `medley worker` processes allowed in (default: --allow-clients).")
    var allowWorkers: String?

    @Option(help: "With --subscribe and --curve-secret: the trainer's CURVE public key file.")
    var curveServerKey: String?

    @Flag(help: "Without CURVE keys, bind endpoints reachable from other machines anyway.")
    var insecure = false

    func validate() throws {
        guard (curveSecret == nil) == (allowClients == nil) else {
            throw ValidationError("--curve-secret and --allow-clients go together")
        }
        guard curveSecret != nil || (allowWorkers == nil && curveServerKey == nil) else {
            throw ValidationError("--allow-workers and --curve-server-key need --curve-secret")
        }
    }

    /// The server side these options describe; nil without `--curve-secret`.
    func serverSecurity() throws -> CurveServerSecurity? {
        guard let curveSecret, let allowClients else { return nil }
        return try curveServerSecurity(secretFile: curveSecret, allowed: [
            CurveServerSecurity.clientDomain: allowClients, CurveServerSecurity.workerDomain: allowWorkers ?? allowClients,
        ])
    }
}
