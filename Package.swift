// swift-tools-version: 6.0
import PackageDescription

// Per-machine CPU choice for the numeric kernels. Unset, Swift builds for baseline x86-64
// (SSE2), which runs anywhere but leaves the SIMD dot products far slower than they could be.
// Set MEDLEY_TARGET_CPU=haswell (AVX2+FMA), znver3, skylake-avx512 or native on machines that
// have those features; BENCHMARKS.md records the effect. The value is passed to swiftc as is.
// CPUs in this list also get MEDLEY_FMA, which makes the kernels use fused multiply-add.
let medleyTargetCPU = Context.environment["MEDLEY_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
let cpusWithFMA: Set<String> = [
    "haswell", "core-avx2", "broadwell", "skylake", "skylake-avx512", "skx", "cascadelake",
    "cooperlake", "icelake-client", "icelake-server", "tigerlake", "sapphirerapids", "alderlake",
    "znver1", "znver2", "znver3", "znver4", "znver5",
]
let modelSwiftSettings: [SwiftSetting] = medleyTargetCPU.map { cpu in
    [.unsafeFlags(["-target-cpu", cpu])] + (cpusWithFMA.contains(cpu) ? [.define("MEDLEY_FMA")] : [])
} ?? []

let package = Package(
    name: "Medley",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "medley", targets: ["medley"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "MedleyProtocol", targets: ["MedleyProtocol"]),
        .library(name: "MedleyModel", targets: ["MedleyModel"]),
        .library(name: "MedleyService", targets: ["MedleyService"]),
        .library(name: "MedleyTraining", targets: ["MedleyTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libzmq's pkg-config file adds `-isystem` flags (krb5, pgm, libxml2) that SwiftPM
        // warns about and that zmq.h does not need, so the module map links libzmq itself.
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(
            name: "ZeroMQ",
            dependencies: ["CZeroMQ"]
        ),
        .target(
            name: "MedleyProtocol",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .testTarget(
            name: "MedleyProtocolTests",
            dependencies: [
                "MedleyProtocol",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "MedleyService",
            dependencies: [
                "MedleyProtocol",
                "MedleyModel",
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "MedleyServiceTests", dependencies: ["MedleyService", "MedleyProtocol", "MedleyModel", "MedleyTraining", "MedleyTestSupport"]),
        // What every test target shares: temporary directories removed when the tests exit.
        .target(name: "MedleyTestSupport", path: "Tests/MedleyTestSupport"),
        .executableTarget(
            name: "medley",
            dependencies: [
                "ZeroMQ",
                "MedleyProtocol",
                "MedleyModel",
                "MedleyService",
                "MedleyTraining",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(
            name: "MedleyCLITests",
            dependencies: ["medley", "MedleyModel", "MedleyService", "MedleyProtocol", "MedleyTestSupport"]
        ),
        // cblas.h lives on the compiler's default multiarch include path, so the module map
        // only links libopenblas; no pkg-config flags are needed.
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "MedleyModel",
            dependencies: ["COpenBLAS"],
            swiftSettings: modelSwiftSettings
        ),
        .testTarget(
            name: "MedleyModelTests",
            dependencies: ["MedleyModel", "MedleyTestSupport"]
        ),
        // The trainer calls OpenBLAS directly for the batched softmax's three matrix products.
        .target(
            name: "MedleyTraining",
            dependencies: [
                "MedleyProtocol",
                "MedleyModel",
                "COpenBLAS",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Embedded, so that the command-line tool and the tests read the same bytes
            // without a resource bundle that must travel beside the binary.
            resources: [.embedInCode("Resources/movielens-genres-v1.tsv")]
        ),
        .testTarget(name: "MedleyTrainingTests", dependencies: ["MedleyTraining", "MedleyModel", "MedleyProtocol", "MedleyTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
