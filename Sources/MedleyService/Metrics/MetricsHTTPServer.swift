import Foundation
import MedleySystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the metrics endpoint could not start.
public enum MetricsServerError: Error, Equatable, CustomStringConvertible {
    /// `--metrics` is not `HOST:PORT` with a numeric IPv4 or bracketed IPv6 host.
    case badAddress(String)
    /// A system call failed while binding.
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .badAddress(let text): "\(text) is not HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)"
        case .system(let error): "\(error)"
        }
    }
}

/// A minimal HTTP/1.x server for Prometheus scrapes: `GET /metrics` (or `/`) answers the text
/// exposition, anything else 404 or 405, one request per connection (`Connection: close`).
///
/// It runs on a thread of its own and never touches the serving path: each scrape renders
/// what the counters hold. A request must arrive within two seconds and fit in 8 KiB, so a
/// slow or hostile client cannot hold the thread.
public final class MetricsHTTPServer: Sendable {
    /// The address bound, with the port the system chose for port 0.
    public let boundAddress: String
    private let listener: CInt
    private let thread: OwnedThread

    /// Binds `address` (`HOST:PORT`) and serves until `stopDescriptor` becomes readable.
    public init(address: String, stopDescriptor: CInt, render: @escaping @Sendable () -> String) throws(MetricsServerError) {
        let (listener, bound) = try Self.bindListener(on: address)
        self.listener = listener
        boundAddress = bound
        thread = OwnedThread(name: "metrics") {
            Self.serve(listener: listener, stopDescriptor: stopDescriptor, render: render)
        }
    }

    /// Waits for the thread (after the stop descriptor became readable) and closes the socket.
    public func join() {
        thread.join()
        close(listener)
    }

    // MARK: Serving

    private static func serve(listener: CInt, stopDescriptor: CInt, render: @Sendable () -> String) {
        var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0)]
        while true {
            guard (try? systemCall("poll", path: "metrics listener") { poll(&descriptors, 2, -1) }) != nil else { return }
            if descriptors[1].revents != 0 { return }
            guard descriptors[0].revents != 0,
                  let connection = try? systemCall("accept", path: "metrics listener", { accept(listener, nil, nil) }) else { continue }
            answer(connection, render: render)
            close(connection)
        }
    }

    private static func answer(_ connection: CInt, render: () -> String) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let head = readHead(connection) else {
            respond(connection, status: "400 Bad Request", body: "bad request\n")
            return
        }
        let (status, body) = response(to: head, render: render)
        respond(connection, status: status, body: body)
    }

    /// The status and body for a request head; separate from the socket so it can be tested.
    static func response(to head: String, render: () -> String) -> (status: String, body: String) {
        let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return ("400 Bad Request", "bad request\n") }
        let path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard path == "/metrics" || path == "/" else { return ("404 Not Found", "only /metrics is here\n") }
        guard parts[0] == "GET" || parts[0] == "HEAD" else { return ("405 Method Not Allowed", "GET only\n") }
        return ("200 OK", render())
    }

    /// Reads until the blank line that ends the head; nil on a time-out, a close, or more than 8 KiB.
    private static func readHead(_ connection: CInt) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while bytes.count < 8192 {
            // A time-out (EAGAIN) or a reset ends the request like a close.
            guard let count = try? systemCall("recv", path: "metrics connection", { chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) } }),
                  count > 0 else { return nil }
            bytes += chunk[..<count]
            if let text = String(bytes: bytes, encoding: .utf8), text.contains("\r\n\r\n") { return text }
        }
        return nil
    }

    private static func respond(_ connection: CInt, status: String, body: String) {
        let payload = Array(body.utf8)
        let head = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + payload
        var sent = 0
        while sent < bytes.count {
            guard let count = try? systemCall("send", path: "metrics connection", {
                bytes.withUnsafeBytes { send(connection, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            }), count > 0 else { return }
            sent += count
        }
    }

    // MARK: Binding

    private static func bindListener(on address: String) throws(MetricsServerError) -> (CInt, String) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw .badAddress(address)
        }
        var host = String(address[..<colon])
        let isIPv6 = host.hasPrefix("[") && host.hasSuffix("]")
        if isIPv6 { host = String(host.dropFirst().dropLast()) }
        var storage = sockaddr_storage()
        let length: socklen_t
        if isIPv6 {
            var address6 = sockaddr_in6()
            address6.sin6_family = sa_family_t(AF_INET6)
            address6.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address6.sin6_addr) == 1 else { throw .badAddress(address) }
            withUnsafeBytes(of: address6) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var address4 = sockaddr_in()
            address4.sin_family = sa_family_t(AF_INET)
            address4.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address4.sin_addr) == 1 else { throw .badAddress(address) }
            withUnsafeBytes(of: address4) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let descriptor: CInt
        do {
            descriptor = try systemCall("socket", path: address) { socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        } catch {
            throw .system(error)
        }
        var actual = sockaddr_storage()
        do {
            var reuse: CInt = 1
            _ = try systemCall("setsockopt", path: address) { setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<CInt>.size)) }
            _ = try systemCall("bind", path: address) { withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } } }
            _ = try systemCall("listen", path: address) { listen(descriptor, 16) }
            var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = try systemCall("getsockname", path: address) { withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &actualLength) } } }
        } catch {
            close(descriptor)
            throw .system(error)
        }
        let actualPort = isIPv6
            ? withUnsafeBytes(of: actual) { $0.load(as: sockaddr_in6.self).sin6_port.bigEndian }
            : withUnsafeBytes(of: actual) { $0.load(as: sockaddr_in.self).sin_port.bigEndian }
        return (descriptor, isIPv6 ? "[\(host)]:\(actualPort)" : "\(host):\(actualPort)")
    }
}
