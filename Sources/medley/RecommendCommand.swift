import ArgumentParser
import Foundation
import MedleyClient
import MedleyProtocol
import SwiftProtobuf
import ZeroMQ

struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Ask a running server for recommendations for a user.",
        discussion: """
            Prints each domain's ranked list, the session head's cross-domain list, the \
            next-domain probabilities, the blended list and the model version that answered, \
            readably or as JSON.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var client: ClientOptions

    @Option(help: "The user.") var user: String
    @Option(name: .shortAndLong, help: "Items per list.") var k: UInt32 = 10
    @Option(name: .customLong("domain"), help: "A domain to answer for; repeat for several; default all.") var domains: [String] = []
    @Flag(help: "Keep items the user has already seen.") var includeSeen = false
    @Flag(help: "Print the scores.") var scores = false

    func run() throws {
        global.bootstrapLogging()
        var request = Medley_V1_RecommendRequest()
        request.userID = user
        request.k = k
        request.domains = domains
        request.includeSeen = includeSeen
        request.includeScores = scores
        let context = try Context()
        let service = try ServiceClient(context: context, endpoint: client.endpoint, timeoutMilliseconds: client.timeoutMilliseconds, curve: try client.curve.role())
        let reply = try service.recommend(request)
        if client.json {
            print(try reply.jsonString())
            return
        }
        print("user \(user)  session \(reply.sessionID.isEmpty ? "(none)" : reply.sessionID)  model \(reply.modelVersion)")
        let probabilities = reply.nextDomainProbability.sorted { $0.value > $1.value }
            .map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: "  ")
        print("next domain: \(probabilities)")
        func show(_ title: String, _ items: [Medley_V1_RankedItem]) {
            print("\n\(title)")
            for (rank, item) in items.enumerated() {
                let score = item.hasScore ? String(format: "  %.4f", item.score) : ""
                print(String(format: "%3d. ", rank + 1) + "\(item.itemID) [\(item.domain)]\(score)")
            }
        }
        for ranking in reply.domains { show(ranking.domain, ranking.items) }
        show("what next (session head)", reply.sessionNext)
        show("blended", reply.blended)
    }
}
