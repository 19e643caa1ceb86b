import Foundation
import Testing

/// Runs the built `cgdoctor` binary, the way users and node-problem-detector do.
enum Binary {
    /// `swift test` builds every product into the directory that holds the test bundle.
    static var path: String? {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The bundle may be a directory (`X.xctest/...`) on some toolchains: walk up to find the binary.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("cgdoctor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let binary = try #require(path, "the cgdoctor binary was not built next to the test bundle")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        env.removeValue(forKey: "NO_COLOR")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a large report cannot fill the pipe and deadlock.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let hostsDirectory = packageRoot.appendingPathComponent("Tests/CgroupDoctorTests/Fixtures/hosts").path
    static let goldenDirectory = packageRoot.appendingPathComponent("Tests/cgdoctorTests/Golden").path
}

/// Golden files: compare output with a file; `CGDOCTOR_RECORD_GOLDEN=1 swift test` re-records them.
enum Golden {
    static var recording: Bool { ProcessInfo.processInfo.environment["CGDOCTOR_RECORD_GOLDEN"] == "1" }

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = Binary.goldenDirectory + "/" + name
        if recording {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try #require(
            try? String(contentsOfFile: path, encoding: .utf8), "missing golden file \(path); run with CGDOCTOR_RECORD_GOLDEN=1",
            sourceLocation: sourceLocation)
        #expect(actual == expected, "output differs from \(name); re-record with CGDOCTOR_RECORD_GOLDEN=1 if intended", sourceLocation: sourceLocation)
    }
}
