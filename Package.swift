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
        .library(name: "MedleySystem", targets: ["MedleySystem"]),
        .library(name: "MedleyEventLog", targets: ["MedleyEventLog"]),
        .library(name: "MedleySecurity", targets: ["MedleySecurity"]),
        .library(name: "MedleyModelDistribution", targets: ["MedleyModelDistribution"]),
        .library(name: "MedleyClient", targets: ["MedleyClient"]),
        .library(name: "MedleyService", targets: ["MedleyService"]),
        .library(name: "MedleyTraining", targets: ["MedleyTraining"]),
        .library(name: "MedleyEvaluation", targets: ["MedleyEvaluation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
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
            dependencies: ["CZeroMQ"],
            exclude: ["README.md"]
        ),
        .target(
            name: "MedleyProtocol",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "MedleyProtocolTests",
            dependencies: [
                "MedleyProtocol",
                "MedleySystem",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The runtime layer every process shares: system calls, files, threads, services.
        .target(
            name: "MedleySystem",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "MedleySystemTests",
            dependencies: [
                "MedleySystem", "MedleyTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The durable event log: written by the service, read by the trainer and the tools.
        .target(
            name: "MedleyEventLog",
            dependencies: [
                "MedleyProtocol",
                "MedleySystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "MedleyEventLogTests",
            dependencies: ["MedleyEventLog", "MedleyProtocol", "MedleySystem", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The one conversion from the protocol's session event to the model's.
        .target(
            name: "MedleyEventConversion",
            dependencies: ["MedleyModel", "MedleyProtocol"],
            exclude: ["README.md"]
        ),
        // Key files and CURVE authentication for every socket that takes keys.
        .target(
            name: "MedleySecurity",
            dependencies: [
                "ZeroMQ",
                "MedleySystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // Publishing, subscribing to, verifying and installing signed models.
        .target(
            name: "MedleyModelDistribution",
            dependencies: [
                "MedleyProtocol",
                "MedleyModel",
                "MedleySecurity",
                "MedleySystem",
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md"]
        ),
        // What a client of `medley serve` links: no broker, no worker, no log.
        .target(
            name: "MedleyClient",
            dependencies: [
                "MedleyProtocol",
                "MedleySecurity",
                "MedleySystem",
                "ZeroMQ",
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "MedleyService",
            dependencies: [
                "MedleyProtocol",
                "MedleyModel",
                "MedleyEventConversion",
                "MedleyEventLog",
                "MedleyModelDistribution",
                "MedleySecurity",
                "MedleySystem",
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "MedleyServiceTests",
            dependencies: [
                "MedleyService", "MedleyEventLog", "MedleyModelDistribution", "MedleySecurity", "MedleySystem",
                "MedleyClient", "MedleyProtocol", "MedleyModel", "MedleyEventConversion", "MedleyTraining", "MedleyEvaluation", "MedleyTestSupport",
            ]
        ),
        // Holds the code to the module graph each module's README states.
        .testTarget(name: "ArchitectureTests"),
        // What every test target shares: temporary directories removed when the tests exit.
        .target(name: "MedleyTestSupport", path: "Tests/MedleyTestSupport"),
        .executableTarget(
            name: "medley",
            dependencies: [
                "ZeroMQ",
                "MedleyProtocol",
                "MedleyModel",
                "MedleyEventLog",
                "MedleyModelDistribution",
                "MedleySecurity",
                "MedleySystem",
                "MedleyClient",
                "MedleyService",
                "MedleyTraining",
                "MedleyEvaluation",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(
            name: "MedleyCLITests",
            dependencies: ["medley", "MedleyModel", "MedleyModelDistribution", "MedleySecurity", "MedleyEventLog", "MedleyClient", "MedleyService", "MedleyProtocol", "MedleyTestSupport"]
        ),
        // cblas.h lives on the compiler's default multiarch include path, so the module map
        // only links libopenblas; no pkg-config flags are needed.
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The int8 table's multiply-adds and the top-K scan for AVX2 and AVX-512, chosen at run
        // time: Swift has no per-function target attributes, so these few loops are C.
        .target(name: "CScoringKernels", exclude: ["README.md"]),
        .target(
            name: "MedleyModel",
            dependencies: ["COpenBLAS", "CScoringKernels", "MedleySystem"],
            exclude: ["README.md"],
            swiftSettings: modelSwiftSettings
        ),
        .testTarget(
            name: "MedleyModelTests",
            dependencies: ["MedleyModel", "MedleySystem", "MedleyTestSupport"]
        ),
        // The trainer calls OpenBLAS directly for the batched softmax's three matrix products,
        // and CScoringKernels for its exponentials with AVX2.
        .target(
            name: "MedleyTraining",
            dependencies: [
                "MedleyProtocol",
                "MedleyModel",
                "MedleyEventConversion",
                "MedleySystem",
                "COpenBLAS",
                "CScoringKernels",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            // Embedded, so that the command-line tool and the tests read the same bytes
            // without a resource bundle that must travel beside the binary.
            resources: [.embedInCode("Resources/movielens-genres-v1.tsv")]
        ),
        // Evaluation protocols, baselines and synthetic data: what measures a trained model.
        .target(
            name: "MedleyEvaluation",
            dependencies: [
                "MedleyTraining",
                "MedleyProtocol",
                "MedleyModel",
                "MedleySystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(name: "MedleyTrainingTests", dependencies: ["MedleyTraining", "MedleyEvaluation", "MedleySystem", "MedleyModel", "MedleyEventConversion", "MedleyProtocol", "MedleyTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
