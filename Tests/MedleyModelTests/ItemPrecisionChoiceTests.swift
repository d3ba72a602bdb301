import MedleyModel
import Testing

@Suite("the item table's precision chosen by the catalogue")
struct ItemPrecisionChoiceTests {
    @Test func automaticScoresFromInt8FromAboutOneCoresL2() {
        let threshold = ItemPrecisionChoice.int8MinimumTableBytes
        for kernel in [VectorKernel.avx2, .avx512VNNI] {
            #expect(ItemPrecisionChoice.automatic.precision(itemTableBytes: threshold - 1, kernel: kernel) == .float32)
            #expect(ItemPrecisionChoice.automatic.precision(itemTableBytes: threshold, kernel: kernel) == .int8)
        }
        // The portable loops gain less per row, so int8 starts at a larger table.
        let portable = ItemPrecisionChoice.portableInt8MinimumTableBytes
        #expect(portable > threshold)
        #expect(ItemPrecisionChoice.automatic.precision(itemTableBytes: threshold, kernel: .portable) == .float32)
        #expect(ItemPrecisionChoice.automatic.precision(itemTableBytes: portable - 1, kernel: .portable) == .float32)
        #expect(ItemPrecisionChoice.automatic.precision(itemTableBytes: portable, kernel: .portable) == .int8)
    }

    @Test func aFixedPrecisionIsKeptWhateverTheSize() {
        for precision in ItemPrecision.allCases {
            for bytes in [0, 1 << 10, 1 << 30] {
                #expect(ItemPrecisionChoice.fixed(precision).precision(itemTableBytes: bytes, kernel: .best) == precision)
            }
        }
    }

    @Test func aModelsTableSizeIsItsItemsTimesItsDimension() throws {
        // 4,096 items of d = 64 are exactly 1 MiB of float32; one item fewer is below it.
        let kernel = VectorKernel.avx2
        let atThreshold = try Fixtures.catalogueModel(itemsPerDomain: [2048, 1024, 1024], dimension: 64).contents
        let below = try Fixtures.catalogueModel(itemsPerDomain: [2047, 1024, 1024], dimension: 64).contents
        #expect(ItemPrecisionChoice.automatic.precision(for: atThreshold, kernel: kernel) == .int8)
        #expect(ItemPrecisionChoice.automatic.precision(for: below, kernel: kernel) == .float32)
    }

    @Test func namesParseBackAndOthersAreRefused() {
        #expect(ItemPrecisionChoice.allNames == ["auto", "float32", "bfloat16", "int8"])
        for name in ItemPrecisionChoice.allNames {
            #expect(ItemPrecisionChoice(name)?.description == name)
        }
        #expect(ItemPrecisionChoice("auto") == .automatic)
        #expect(ItemPrecisionChoice("int8") == .fixed(.int8))
        #expect(ItemPrecisionChoice("int4") == nil)
        #expect(ItemPrecisionChoice("") == nil)
    }
}
