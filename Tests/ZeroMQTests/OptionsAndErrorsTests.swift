import Testing
import ZeroMQ

@Suite("Options and errors")
struct OptionsAndErrorsTests {
    @Test func optionsRoundTrip() throws {
        let context = try Context()
        let socket = try context.socket(.router)
        #expect(try socket.get(.lingerMilliseconds) == context.configuration.defaultLingerMilliseconds)
        try socket.set(.lingerMilliseconds, 0)
        #expect(try socket.get(.lingerMilliseconds) == 0)
        try socket.set(.sendHighWaterMark, 123)
        #expect(try socket.get(.sendHighWaterMark) == 123)
        try socket.set(.receiveHighWaterMark, 456)
        #expect(try socket.get(.receiveHighWaterMark) == 456)
        try socket.set(.maxMessageSize, 1 << 20)
        #expect(try socket.get(.maxMessageSize) == 1 << 20)
        try socket.set(.heartbeatIntervalMilliseconds, 1000)
        #expect(try socket.get(.heartbeatIntervalMilliseconds) == 1000)
        try socket.set(.heartbeatTimeoutMilliseconds, 3000)
        #expect(try socket.get(.heartbeatTimeoutMilliseconds) == 3000)
        try socket.set(.heartbeatTimeToLiveMilliseconds, 6000)
        #expect(try socket.get(.heartbeatTimeToLiveMilliseconds) == 6000)
        try socket.set(.reconnectIntervalMilliseconds, 250)
        #expect(try socket.get(.reconnectIntervalMilliseconds) == 250)
        try socket.set(.reconnectIntervalMaxMilliseconds, 5000)
        #expect(try socket.get(.reconnectIntervalMaxMilliseconds) == 5000)
        try socket.set(.zapDomain, "medley")
        #expect(try socket.get(.zapDomain) == "medley")
        try socket.set(.routerMandatory, true)
        try socket.set(.immediate, true)
        #expect(try socket.get(.immediate))
    }

    @Test func lastEndpointNamesTheChosenPort() throws {
        let context = try Context()
        let socket = try context.socket(.router)
        try socket.bind("tcp://127.0.0.1:*")
        let endpoint = try socket.lastEndpoint
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(Int(endpoint.split(separator: ":").last ?? "") ?? 0 > 0)
    }

    @Test func bindingTwiceIsAddressInUse() throws {
        let context = try Context()
        let first = try context.socket(.router)
        try first.bind("tcp://127.0.0.1:*")
        let endpoint = try first.lastEndpoint
        let second = try context.socket(.router)
        expectZMQError(.addressInUse) { () throws(ZMQError) in try second.bind(endpoint) }
    }

    @Test func malformedEndpointIsInvalidArgument() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        expectZMQError(.invalidArgument) { () throws(ZMQError) in try socket.connect("tcp://no-port-here") }
    }

    @Test func errorsKeepTheirNumberAndText() throws {
        let context = try Context()
        let socket = try context.socket(.pull)
        try socket.set(.receiveTimeoutMilliseconds, 1)
        do {
            _ = try socket.receive()
            Issue.record("expected a time-out")
        } catch {
            #expect(error.kind == .wouldBlock)
            #expect(error.operation == "zmq_msg_recv")
            #expect(!error.message.isEmpty)
            #expect(error.description.contains("would block"))
        }
    }

    @Test func libraryVersionIsFourThree() {
        let version = Context.libraryVersion
        #expect(version.major == 4 && version.minor >= 3)
    }
}

@Suite("CURVE security", .enabled(if: Context.hasCapability("curve")))
struct CurveTests {
    @Test func z85RoundTrips() throws {
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(try Z85.encode(bytes) == "HelloWorld")
        #expect(try Z85.decode("HelloWorld") == bytes)
        expectZMQError(.invalidArgument) { () throws(ZMQError) in try Z85.encode([1, 2, 3]) }
    }

    @Test func encryptedRoundTripNeedsTheRightServerKey() throws {
        let context = try Context()
        let serverKeys = try CurveKeyPair.generate()
        let server = try context.socket(.reply)
        try server.set(.curveServer, true)
        try server.set(.curveSecretKey, serverKeys.secretKey)
        try server.set(.receiveTimeoutMilliseconds, 5_000)
        let endpoint = try Transport.tcp.bind(server)

        func client(trusting serverKey: [UInt8]) throws -> Socket {
            let keys = try CurveKeyPair.generate()
            let client = try context.socket(.request)
            try client.set(.curveServerKey, serverKey)
            try client.set(.curvePublicKey, keys.publicKey)
            try client.set(.curveSecretKey, keys.secretKey)
            try client.set(.receiveTimeoutMilliseconds, 300)
            try client.connect(endpoint)
            return client
        }

        let impostor = try client(trusting: try CurveKeyPair.generate().publicKey)
        try impostor.send("let me in".bytes)
        expectZMQError(.wouldBlock) { () throws(ZMQError) in try impostor.receive() }

        let trusted = try client(trusting: serverKeys.publicKey)
        try trusted.set(.receiveTimeoutMilliseconds, 5_000)
        try trusted.send("hello".bytes)
        #expect(try server.receive().text == "hello")
        try server.send("welcome".bytes)
        #expect(try trusted.receive().text == "welcome")
    }
}
