// swift-tools-version:6.0
// The benchmark programs written in Swift, kept out of the product's Package.swift.
// Run everything with Benchmarks/run.sh (see BENCHMARKS.md); this package only builds
// `cgdoctor-bench-parse`, which links the library's parser exactly as the CLI does.
import Foundation
import PackageDescription

// A path dependency's identity is the last component of its directory, which differs between
// a developer's checkout and CI's clone, so compute it instead of spelling it.
let rootDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = rootDirectory.lastPathComponent.lowercased()

let package = Package(
    name: "cgdoctor-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: rootDirectory.path),
    ],
    targets: [
        .executableTarget(
            name: "cgdoctor-bench-parse",
            dependencies: [.product(name: "CgroupFormats", package: rootIdentity)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
