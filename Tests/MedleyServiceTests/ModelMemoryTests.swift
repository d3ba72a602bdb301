import Foundation
import MedleyModel
import Testing

@testable import MedleyModelDistribution
@testable import MedleyService

/// Resident memory over 100 swaps of a 50,000-item model is measured by the hot-reload
/// benchmark (BENCHMARKS.md): in a debug build it takes too long for a test. This checks the
/// mechanism it relies on, exactly.
@Suite("old models are freed after a swap")
struct ModelMemoryTests {
    @Test func anOldModelIsFreedOnceTheLastBatchUsingItLetsGo() throws {
        let installer = ModelInstaller(models: ServingModel(try ServiceFixtures.model(version: 1)), modelDirectory: nil)
        func publish(_ version: UInt64) throws {
            let contents = try HotReloadFixtures.contents(version: version)
            try installer.install(try ModelPublication(contents: contents, signingKey: nil), source: "test")
        }
        try publish(2)
        weak let two = installer.models.model
        // A worker's batch holds the model it started with.
        var batch = installer.models.model
        try publish(3)
        try publish(4)
        // Neither serving nor kept for rollback, but the batch still answers with it.
        #expect(two != nil)
        #expect(batch?.configuration.modelVersion == 2)
        batch = nil
        #expect(two == nil, "version 2 outlived its last user")
        #expect(batch == nil)

        // Rollback keeps exactly one previous model.
        #expect(try installer.rollback().currentVersion == 3)
        weak let three = installer.models.model
        #expect(three?.configuration.modelVersion == 3)
        try publish(5)
        try publish(6)
        #expect(three == nil)
    }
}
