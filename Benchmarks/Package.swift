// swift-tools-version: 6.0
import PackageDescription

// The benchmarks live in their own package so that the harness never becomes a dependency
// of the library. Build and run them in release mode:
//   MEDLEY_TARGET_CPU=haswell swift run -c release --scratch-path .build-bench ScoringBenchmark
//   swift run -c release --scratch-path .build-bench TrainingBenchmark
//   swift run -c release --scratch-path .build-bench ServiceBenchmark
//   swift run -c release --scratch-path .build-bench HotReloadBenchmark
//   swift run -c release --scratch-path .build-bench DecodingBenchmark
//   swift run -c release --scratch-path .build-bench EventLogBenchmark
let service: [Target.Dependency] = [
    .product(name: "MedleyModel", package: "Medley"),
    .product(name: "MedleyProtocol", package: "Medley"),
    .product(name: "MedleyService", package: "Medley"),
    .product(name: "MedleyClient", package: "Medley"),
    .product(name: "MedleyEventLog", package: "Medley"),
    .product(name: "MedleyModelDistribution", package: "Medley"),
    .product(name: "MedleySystem", package: "Medley"),
    .product(name: "ZeroMQ", package: "Medley"),
]

let package = Package(
    name: "MedleyBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Medley", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "ScoringBenchmark",
            dependencies: [
                .product(name: "MedleyModel", package: "Medley"),
                .product(name: "MedleySystem", package: "Medley"),
            ]
        ),
        .executableTarget(
            name: "TrainingBenchmark",
            dependencies: [
                .product(name: "MedleyModel", package: "Medley"),
                .product(name: "MedleyTraining", package: "Medley"),
                .product(name: "MedleyProtocol", package: "Medley"),
                .product(name: "MedleySystem", package: "Medley"),
            ]
        ),
        .executableTarget(name: "ServiceBenchmark", dependencies: service),
        .executableTarget(name: "HotReloadBenchmark", dependencies: service),
        .executableTarget(
            name: "DecodingBenchmark",
            dependencies: [.product(name: "MedleyProtocol", package: "Medley")]
        ),
        .executableTarget(
            name: "EventLogBenchmark",
            dependencies: [
                .product(name: "MedleyEventLog", package: "Medley"),
                .product(name: "MedleyProtocol", package: "Medley"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
