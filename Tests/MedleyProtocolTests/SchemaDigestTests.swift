import Foundation
import MedleyProtocol
import Testing

/// Fails when protocol/medley.proto was edited without regenerating the Swift code.
@Suite struct SchemaDigestTests {
    /// protocol/medley.proto, found from this file's place in the repository
    /// (Tests/MedleyProtocolTests/ → two levels up).
    static let schemaURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("protocol/medley.proto")

    @Test func generatedCodeMatchesSchema() throws {
        let schema = try Data(contentsOf: Self.schemaURL)
        #expect(
            SHA256.hexDigest(Array(schema)) == MedleyProtocolSchema.sourceSHA256,
            "Sources/MedleyProtocol/Generated is stale: run scripts/generate-protocol.sh"
        )
    }
}
