import CgroupDoctor
import Foundation
import Testing

/// Every fixture host under Fixtures/hosts is replayed, and its findings must be exactly those its
/// `expect.json` lists (`{"exitStatus": 1, "runtimePid": 1, "findings": [{"id": ..., "hierarchy": 12}]}`),
/// in report order. A clean host lists none: that is the "does not trigger" half of every check's tests.
@Suite struct FixtureHostExpectationTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var host: String
        var runtimePID: Int32
        var findings: [(id: String, hierarchy: Int?)]
        var description: String { host }
    }

    static let expectations: [Expectation] = {
        let directory = FixtureHost.directory.string
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)/expect.json"),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            let findings = (object["findings"] as? [[String: Any]] ?? []).map {
                (id: $0["id"] as? String ?? "?", hierarchy: $0["hierarchy"] as? Int)
            }
            return Expectation(host: name, runtimePID: Int32(object["runtimePid"] as? Int ?? 1), findings: findings)
        }
    }()

    @Test(arguments: expectations)
    func findingsAreExactlyTheExpectedOnes(_ e: Expectation) throws {
        let report = try Diagnosis.check(FixtureHost.scanner(e.host, runtimePID: e.runtimePID))
        let actual = report.findings.map { "\($0.id)\($0.hierarchy.map { "@\($0.id)" } ?? "")" }
        let expected = e.findings.map { "\($0.id)\($0.hierarchy.map { "@\($0)" } ?? "")" }
        #expect(actual == expected)
        for finding in report.findings {
            #expect(!finding.evidence.isEmpty, "\(finding.id) quotes no evidence")
            #expect(!finding.remediation.text.isEmpty, "\(finding.id) has no remediation")
        }
    }
}
