import Foundation
import MedleyModel
import Testing

@testable import MedleyModelDistribution
@testable import MedleyService

/// medley.proto's description of `ModelAnnouncement` names what announcements carry.
@Suite("ModelAnnouncement as medley.proto describes it")
struct AnnouncementDocumentTests {
    @Test func theDocumentedKeysAndArchitecturesAreTheOnesSent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let proto = try String(contentsOf: root.appendingPathComponent("protocol/medley.proto"), encoding: .utf8)
        let message = try #require(proto.components(separatedBy: "message ModelAnnouncement {").last?.components(separatedBy: "\n}").first)
        let quoted = Set(message.matches(of: /"([a-z_]+)"/).map { String($0.output.1) })
        var sent: Set<String> = []
        for architecture in [ModelConfiguration.Architecture.mlp, .mmoe(experts: 2)] {
            var contents = try HotReloadFixtures.contents(version: 1)
            contents.configuration.architecture = architecture
            let announcement = ModelPublication.announcement(describing: contents, bytes: [], signingKey: nil, createdAtMs: 0)
            sent.formUnion(announcement.dimensions.keys)
            sent.insert(announcement.architecture)
        }
        #expect(quoted == sent)
    }
}
