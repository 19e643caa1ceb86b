#if os(Linux)
import Foundation
import Testing

/// The parts of `cgdoctor check --format json` (schema 1, docs/json-schema.md) the live tests read.
/// Decoded independently of CgroupReport, the way a consumer of the CLI would.
struct CheckJSON: Decodable {
    struct Host: Decodable {
        var cgroupMode: String
        var processes: Int
        var mountNamespaces: Int
        var exitedDuringScan: Int
    }
    struct Hierarchy: Decodable {
        var id: Int
        var name: String?
        var controllers: [String]
    }
    struct Container: Decodable {
        var runtime: String
        var id: String
    }
    struct Pod: Decodable {
        var uid: String
        var qos: String
    }
    struct Affected: Decodable {
        var pid: Int32
        var comm: String?
        var cgroupPath: String
        var container: Container?
        var pod: Pod?
        var unit: String?
    }
    struct NamespaceMount: Decodable {
        var mountNamespace: String
        var pid: Int32
        var comm: String?
        var mountPoint: String
    }
    struct Finding: Decodable {
        var id: String
        var severity: String
        var summary: String
        var hierarchy: Hierarchy?
        var affected: [Affected]
        var affectedTotal: Int
        var mountedElsewhere: [NamespaceMount]?
    }
    struct Problem: Decodable {
        var message: String
    }

    var schemaVersion: Int
    var host: Host
    var problems: [Problem]
    var findings: [Finding]

    static func decode(_ run: Finished) throws -> CheckJSON {
        do {
            return try JSONDecoder().decode(CheckJSON.self, from: Data(run.stdout.utf8))
        } catch {
            Issue.record("not a check JSON document (\(error)):\n\(run)")
            throw error
        }
    }

    /// Findings at warning or above, as `id: summary` lines for failure messages.
    var serious: [String] {
        findings.filter { $0.severity == "warning" || $0.severity == "error" }.map { "\($0.id): \($0.summary)" }
    }
}

/// `cgdoctor paths PID --format json`.
struct PathsJSON: Decodable {
    struct Line: Decodable {
        var line: Int
        var hierarchyId: Int
        var controllers: [String]
        var name: String?
        var cgroupPath: String
        var resolved: Bool
        var directory: String?
        var reason: String?
    }
    var schemaVersion: Int
    var pid: Int32
    var lines: [Line]

    static func decode(_ run: Finished) throws -> PathsJSON {
        do {
            return try JSONDecoder().decode(PathsJSON.self, from: Data(run.stdout.utf8))
        } catch {
            Issue.record("not a paths JSON document (\(error)):\n\(run)")
            throw error
        }
    }
}
#endif
