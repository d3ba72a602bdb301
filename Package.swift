// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Medley",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "medley", targets: ["medley"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "MedleyProtocol", targets: ["MedleyProtocol"]),
        .library(name: "MedleyTraining", targets: ["MedleyTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
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
        .executableTarget(
            name: "medley",
            dependencies: [
                "ZeroMQ",
                "MedleyProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .target(
            name: "MedleyTraining",
            dependencies: ["MedleyProtocol", .product(name: "Logging", package: "swift-log")],
            // Embedded, so that the command-line tool and the tests read the same bytes
            // without a resource bundle that must travel beside the binary.
            resources: [.embedInCode("Resources/movielens-genres-v1.tsv")]
        ),
        .testTarget(name: "MedleyTrainingTests", dependencies: ["MedleyTraining"]),
    ],
    swiftLanguageModes: [.v6]
)
