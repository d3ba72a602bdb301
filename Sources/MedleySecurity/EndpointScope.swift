/// Whether an endpoint can be reached from other machines: the rule `medley serve` applies
/// when it runs without CURVE (only endpoints on this machine, unless told otherwise).
public enum EndpointScope {
    /// True for `inproc://` and `ipc://` endpoints and for `tcp://` on a loopback address
    /// (`127.0.0.0/8`, `localhost`, `[::1]`); false for everything else, wildcards included.
    public static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("inproc://") || endpoint.hasPrefix("ipc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let address = endpoint.dropFirst("tcp://".count)
        // An interface name or source address may come before ';' (tcp://source;host:port).
        let target = address.split(separator: ";").last ?? address
        guard let colon = target.lastIndex(of: ":") else { return false }
        var host = target[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
