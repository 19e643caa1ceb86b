// swift-tools-version:6.0
import PackageDescription

// Targets are split so the compiler enforces the architecture (see docs/architecture.md):
// parsers cannot read files, the domain cannot print, the CLI only connects the pieces.
let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "cgdoctor",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "CgroupFormats", targets: ["CgroupFormats"]),
        .library(name: "CgroupDoctor", targets: ["CgroupDoctor"]),
        .library(name: "CgroupReport", targets: ["CgroupReport"]),
        .executable(name: "cgdoctor", targets: ["cgdoctor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // statfs(2) and a few Linux constants are not exported by Glibc to Swift.
        .target(name: "CSystemShims"),
        // Pure parsers: bytes in, values out. No file access.
        .target(
            name: "CgroupFormats",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        // The domain: Sysroot (the one way in to a host), the host model, path resolution, checks.
        .target(
            name: "CgroupDoctor",
            dependencies: [
                "CgroupFormats", "CSystemShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // Renderers: report -> text / JSON. Pure functions.
        .target(
            name: "CgroupReport",
            dependencies: ["CgroupDoctor", "CgroupFormats"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "cgdoctor",
            dependencies: [
                "CgroupDoctor", "CgroupReport", "CgroupFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CgroupFormatsTests",
            dependencies: ["CgroupFormats", "CgroupDoctor"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CgroupDoctorTests",
            dependencies: ["CgroupDoctor", "CgroupFormats", "CgroupReport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "cgdoctorTests",
            dependencies: ["CgroupDoctor"],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LiveKernelTests",
            dependencies: ["CgroupDoctor", "CgroupFormats"],
            exclude: ["live-leftovers.sh", "packages.txt"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
