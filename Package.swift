// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "topogen",
    products: [
        .library(name: "TopologyModel", targets: ["TopologyModel"]),
        .library(name: "Emitters", targets: ["Emitters"]),
        .executable(name: "topogen", targets: ["topogen"]),
    ],
    targets: [
        .target(name: "TopologyModel", swiftSettings: strictSettings),
        .target(name: "Emitters", dependencies: ["TopologyModel"], swiftSettings: strictSettings),
        .executableTarget(
            name: "topogen",
            dependencies: ["TopologyModel", "Emitters"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .target(
            name: "FuzzHarnesses",
            dependencies: ["Emitters", "TopologyModel", "TestSupport"],
            path: "Tests/Fuzz/Harnesses",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "topogen-fuzz",
            dependencies: ["FuzzHarnesses"],
            path: "Tests/Fuzz/Main",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TopologyModelTests",
            dependencies: ["TopologyModel"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EmittersTests",
            dependencies: ["Emitters", "TopologyModel", "TestSupport", "FuzzHarnesses"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "topogenTests",
            dependencies: ["topogen", "Emitters", "TopologyModel", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
