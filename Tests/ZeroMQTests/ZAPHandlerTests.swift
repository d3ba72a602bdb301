import Dispatch
import Synchronization
import Testing
@testable import ZeroMQ

@Suite("ZAP handler", .enabled(if: Context.hasCapability("curve")))
struct ZAPHandlerTests {
    @Test func admitsOnlyTheKeysItAllowsAndSeesTheDomain() throws {
        let context = try Context()
        let serverKeys = try CurveKeyPair.generate()
        let allowed = try CurveKeyPair.generate()
        let refused = try CurveKeyPair.generate()
        let seen = Mutex<[ZAPRequest]>([])
        let bound = DispatchSemaphore(value: 0)
        let allowedKey = allowed.publicKey
        let handlerThread = PeerThread {
            let handler = try ZAPHandler(context: context) { request in
                seen.withLock { $0.append(request) }
                return request.curvePublicKey == allowedKey ? .allow(userID: "alice") : .deny(reason: "unknown key")
            }
            bound.signal()
            try handler.run()
        }
        bound.wait()

        let server = try context.socket(.router)
        try server.configureCurve(.server(secretKey: serverKeys.secretKey, zapDomain: "clients"))
        try server.set(.receiveTimeoutMilliseconds, 5_000)
        let endpoint = try Transport.tcp.bind(server)

        func client(_ keys: CurveKeyPair) throws -> Socket {
            let socket = try context.socket(.dealer)
            try socket.configureCurve(.client(keys: keys, serverPublicKey: serverKeys.publicKey))
            try socket.set(.receiveTimeoutMilliseconds, 300)
            try socket.connect(endpoint)
            return socket
        }

        let stranger = try client(refused)
        try stranger.send("let me in".bytes)
        let friend = try client(allowed)
        try friend.send("hello".bytes)
        let frames = try server.receiveMultipart()
        #expect(frames.last.map { String(decoding: $0, as: UTF8.self) } == "hello")
        try server.send(multipart: [frames[0], "welcome".bytes])
        try friend.set(.receiveTimeoutMilliseconds, 5_000)
        #expect(try friend.receive().text == "welcome")
        // The refused client's message never reached the server.
        try server.set(.receiveTimeoutMilliseconds, 300)
        expectZMQError(.wouldBlock) { () throws(ZMQError) in _ = try server.receiveMultipart() }

        let requests = seen.withLock { $0 }
        #expect(requests.contains { $0.curvePublicKey == refused.publicKey && $0.domain == "clients" })
        #expect(requests.contains { $0.curvePublicKey == allowed.publicKey && $0.mechanism == "CURVE" })

        stranger.close()
        friend.close()
        server.close()
        context.shutdown()
        handlerThread.join()
        try context.terminate()
    }

    @Test func answersAMalformedRequestWithAFailureStatus() {
        let reply = ZAPHandler.reply(to: [Array("0.9".utf8), [7]]) { _ in .allow(userID: "") }
        #expect(reply.count == 6)
        #expect(reply[1] == [7])
        #expect(String(decoding: reply[2], as: UTF8.self) == "500")
        let allowed = ZAPHandler.reply(
            to: ["1.0", "1", "workers", "127.0.0.1", "", "CURVE"].map { Array($0.utf8) } + [[UInt8](repeating: 1, count: 32)]
        ) { request in request.domain == "workers" ? .allow(userID: "w") : .deny(reason: "no") }
        #expect(String(decoding: allowed[2], as: UTF8.self) == "200")
        #expect(String(decoding: allowed[4], as: UTF8.self) == "w")
    }

    @Test func derivesThePublicKeyFromTheSecretKey() throws {
        let pair = try CurveKeyPair.generate()
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        expectZMQError(.invalidArgument) { () throws(ZMQError) in _ = try CurveKeyPair(secretKey: [1, 2, 3]) }
    }
}
