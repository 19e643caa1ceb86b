#if os(Linux)
import Foundation
import Glibc
import Testing

/// What every live test needs from the machine: root, one run at a time, the built binary, and a
/// way to run it.
enum Live {
    static let isRoot = geteuid() == 0
    /// A skip never counts as a pass in CI: with `CI=true` the suite runs and fails at
    /// ``requireRoot()`` instead of being skipped.
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var runnable: Bool { isRoot || isCI }

    /// Fails the current test (and stops it) when not root. Only reached when not root under CI=true.
    static func requireRoot() throws {
        try #require(
            isRoot,
            "LiveKernelTests need root: they mount cgroup hierarchies and write cgroup.procs (euid \(geteuid())). Outside CI they are skipped instead.")
    }

    // MARK: One live run at a time, machine-wide

    /// `.serialized` orders the tests of one suite, but Swift Testing runs different suites in
    /// parallel. This lock serializes every live test that takes it: across suites of one run (flock
    /// locks belong to the open file description, so two opens in one process exclude each other)
    /// and across `swift test` runs (other worktrees, other engineers), which would otherwise stage
    /// hierarchies under each other and make the clean-host test see the other run's staging.
    static var lockPath: String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/run/lock", isDirectory: &isDirectory), isDirectory.boolValue {
            return "/run/lock/cgdoctor-test-live.lock"
        }
        return "/tmp/cgdoctor-test-live.lock"
    }

    /// Runs `body` holding the machine-wide lock (flock(2), released when the fd closes, even if the
    /// test process dies).
    static func exclusive<T>(_ body: () throws -> T) throws -> T {
        try requireRoot()
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0, "open(\(lockPath)): \(String(cString: strerror(errno)))")
        defer { close(fd) }
        // Generous: the other live suites' tests queue on this lock too.
        let deadline = Date().addingTimeInterval(600)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            try #require(
                failure == EWOULDBLOCK || failure == EINTR, "flock(\(lockPath)): \(String(cString: strerror(failure)))")
            try #require(Date() < deadline, "other live tests have held \(lockPath) for 600 s")
            usleep(50_000)
        }
        return try body()
    }

    // MARK: The built binary

    /// The `cgdoctor` executable this test run built. `swift test` on Linux runs
    /// `<scratch>/<triple>/debug/cgdoctorPackageTests.xctest`, an executable that sits next to
    /// `cgdoctor`, so `dirname(readlink /proc/self/exe)` is the first place to look. Then the
    /// executable's ancestors (a bundle layout), then every `.build*` scratch directory of the
    /// package, newest first. `CGDOCTOR_BINARY` overrides all of it. Missing is a failure, not a skip.
    static func cgdoctorBinary() throws -> String {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["CGDOCTOR_BINARY"] {
            try #require(fm.isExecutableFile(atPath: explicit), "CGDOCTOR_BINARY=\(explicit) is not an executable file")
            return explicit
        }
        var searched: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("cgdoctor").path
                searched.append(candidate)
                if isRegularExecutable(candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        // Tests/LiveKernelTests/Support/Live.swift -> package root.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var found: [(path: String, modified: Date)] = []
        let scratchDirectories = ((try? fm.contentsOfDirectory(atPath: packageRoot.path)) ?? []).filter { $0.hasPrefix(".build") }
        for scratch in scratchDirectories {
            let scratchURL = packageRoot.appendingPathComponent(scratch)
            var configurations = [scratchURL.appendingPathComponent("debug"), scratchURL.appendingPathComponent("release")]
            for triple in (try? fm.contentsOfDirectory(atPath: scratchURL.path)) ?? [] where triple.contains("-") {
                configurations.append(scratchURL.appendingPathComponent(triple).appendingPathComponent("debug"))
                configurations.append(scratchURL.appendingPathComponent(triple).appendingPathComponent("release"))
            }
            for configuration in configurations {
                let candidate = configuration.appendingPathComponent("cgdoctor").path
                searched.append(candidate)
                if isRegularExecutable(candidate),
                    let modified = (try? fm.attributesOfItem(atPath: candidate))?[.modificationDate] as? Date
                {
                    found.append((candidate, modified))
                }
            }
        }
        let newest = found.max { $0.modified < $1.modified }
        return try #require(
            newest?.path,
            "the cgdoctor executable was not built; looked at \(searched.joined(separator: ", ")). Run `swift build` first or set CGDOCTOR_BINARY.")
    }

    private static func isRegularExecutable(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    /// The first of `candidates` that is executable (util-linux moved between /bin and /usr/bin).
    static func tool(_ candidates: String...) throws -> String {
        let path = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(path, "none of \(candidates.joined(separator: ", ")) is installed")
    }

    // MARK: Reading /proc

    /// A whole procfs file (read(2) to EOF; Foundation's readers may stop at the first short read).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readLink(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    static func commandName(_ pid: Int32) -> String? {
        read("/proc/\(pid)/comm")?.trimmingCharacters(in: .newlines)
    }
}

// MARK: Running processes

/// A finished process: exit status and its whole output.
struct Finished: CustomStringConvertible {
    var command: String
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String {
        "`\(command)` exited \(status)\n--- stdout ---\n\(stdout.prefix(4000))\n--- stderr ---\n\(stderr.prefix(4000))"
    }
}

/// A started child process. Output goes to files, never to pipes: a child that fills a 64 KiB pipe
/// while nobody reads it would block forever.
final class Spawned {
    let process = Process()
    let command: String
    private let outputDirectory: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    init(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        command = ([executable] + arguments).joined(separator: " ")
        outputDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cgdoctor-test-out-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: false)
        stdoutURL = outputDirectory.appendingPathComponent("stdout")
        stderrURL = outputDirectory.appendingPathComponent("stderr")
        for url in [stdoutURL, stderrURL] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
            throw StagingError("cannot create \(url.path)", 0)
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputDirectory)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Waits until it exits; after `timeout` seconds kills it and fails the test.
    func finish(timeout: TimeInterval = 120) -> Finished {
        if !waitForExit(timeout: timeout) {
            Issue.record("`\(command)` still running after \(timeout) s; killed")
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
        let status = process.isRunning ? -1 : process.terminationStatus
        let stdout = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return Finished(command: command, status: status, stdout: stdout, stderr: stderr)
    }

    /// SIGKILL and wait (Foundation reaps it, so its pid leaves every cgroup.procs).
    func terminate() {
        if process.isRunning {
            kill(pid, SIGKILL)
            if !waitForExit(timeout: 5) { Issue.record("`\(command)` (pid \(pid)) survived SIGKILL for 5 s") }
        }
    }

    @discardableResult
    func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(5_000)
        }
        return true
    }
}

extension Live {
    /// `cgdoctor <arguments>`, wide and colourless so text assertions do not depend on wrapping.
    static func startCgdoctor(_ arguments: [String]) throws -> Spawned {
        try Spawned(try cgdoctorBinary(), arguments, environment: ["COLUMNS": "1000", "NO_COLOR": "1"])
    }
}
#endif
