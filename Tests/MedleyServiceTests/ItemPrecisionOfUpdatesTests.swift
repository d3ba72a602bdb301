import MedleyModel
import Testing

@testable import MedleyModelDistribution

@Suite("each published model's item table chosen by its own catalogue")
struct ItemPrecisionOfUpdatesTests {
    private func verified(itemsPerDomain: Int, embeddingDimension: Int, version: UInt64,
                          precision: ItemPrecisionChoice? = nil) throws -> MultitaskModel {
        var configuration = ModelUpdateConfiguration()
        configuration.maxModelBytes = 64 << 20
        if let precision { configuration.itemPrecision = precision }
        let contents = try HotReloadFixtures.contents(version: version, itemsPerDomain: itemsPerDomain, embeddingDimension: embeddingDimension)
        let publication = HotReloadFixtures.publication(of: contents, bytes: ModelFile.encode(contents), signedWith: nil)
        return try #require(try ModelVerifier(configuration: configuration).verify(publication, serving: nil))
    }

    @Test func byDefaultALargeCatalogueIsScoredFromInt8AndASmallOneFromFloat32() throws {
        // 3 × 11,000 items of d = 64 are 8.4 MB of float32: int8 on any machine, portable loops
        // included; 3 × 20 items of d = 8 stay float32 on any.
        #expect(try verified(itemsPerDomain: 20, embeddingDimension: 8, version: 1).itemPrecision == .float32)
        #expect(try verified(itemsPerDomain: 11_000, embeddingDimension: 64, version: 2).itemPrecision == .int8)
    }

    @Test func aFixedPrecisionAppliesToEveryModel() throws {
        #expect(try verified(itemsPerDomain: 20, embeddingDimension: 8, version: 1, precision: .fixed(.bfloat16)).itemPrecision == .bfloat16)
        #expect(try verified(itemsPerDomain: 11_000, embeddingDimension: 64, version: 2, precision: .fixed(.float32)).itemPrecision == .float32)
    }
}
