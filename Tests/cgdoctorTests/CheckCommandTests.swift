import Foundation
import Testing

/// The built binary, end to end, on the fixture hosts: exit codes, the JSON contract, golden output.
@Suite struct CheckCommandTests {
    /// Every fixture host, with the exit status its `expect.json` promises. Adding a directory
    /// under Tests/CgroupDoctorTests/Fixtures/hosts adds it here.
    static let hosts: [(String, Int32)] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Binary.hostsDirectory)) ?? []
        return names.sorted().compactMap { name in
            let path = Binary.hostsDirectory + "/" + name + "/expect.json"
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let status = object["exitStatus"] as? Int
            else { return nil }
            return (name, Int32(status))
        }
    }()

    @Test func everyFixtureHostHasAnExpectation() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Binary.hostsDirectory)
        #expect(Set(names) == Set(Self.hosts.map(\.0)), "every fixture host needs an expect.json with exitStatus")
        #expect(Self.hosts.count >= 8)
    }

    @Test(arguments: hosts)
    func textReportMatchesGolden(_ host: String, _ status: Int32) throws {
        let result = try Binary.run(["check", "--root", host], in: Binary.hostsDirectory)
        #expect(result.status == status, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(!result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        try Golden.check(result.stdout, "check-\(host).txt")
    }

    @Test(arguments: hosts)
    func jsonReportMatchesGoldenAndContract(_ host: String, _ status: Int32) throws {
        let result = try Binary.run(["check", "--root", host, "--format", "json"], in: Binary.hostsDirectory)
        #expect(result.status == status)
        try Golden.check(result.stdout, "check-\(host).json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["schemaVersion"] as? Int == 1)
        let findings = try #require(document["findings"] as? [[String: Any]])
        for finding in findings {
            #expect(["error", "warning", "info"].contains(finding["severity"] as? String))
            for key in ["id", "summary", "evidence", "affected", "remediation"] { #expect(finding[key] != nil, "missing \(key)") }
            for evidence in finding["evidence"] as? [[String: Any]] ?? [] {
                #expect(evidence["file"] is String && evidence["text"] is String && evidence.keys.contains("line"))
            }
            for affected in finding["affected"] as? [[String: Any]] ?? [] {
                #expect(affected["pid"] is Int && affected.keys.contains("comm") && affected["cgroupPath"] is String)
            }
            let remediation = try #require(finding["remediation"] as? [String: Any])
            #expect(remediation["text"] is String && remediation["commands"] is [String])
            if finding["id"] as? String == "hierarchy-not-mounted" {
                let hierarchy = try #require(finding["hierarchy"] as? [String: Any])
                #expect(hierarchy["id"] is Int && hierarchy.keys.contains("name") && hierarchy["controllers"] is [String])
                if let name = hierarchy["name"] as? String { #expect(!name.hasPrefix("name=")) }
            }
        }
    }

    @Test func cpuMirrorJSONNamesTheHierarchy() throws {
        let result = try Binary.run(["check", "--root", "synthetic-cpu-mirror-unmounted", "--format", "json"], in: Binary.hostsDirectory)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let finding = try #require((document["findings"] as? [[String: Any]])?.first)
        let hierarchy = try #require(finding["hierarchy"] as? [String: Any])
        #expect(hierarchy["id"] as? Int == 12)
        #expect(hierarchy["name"] as? String == "cpu_mirror")
        #expect(hierarchy["controllers"] as? [String] == [])
        let affected = try #require(finding["affected"] as? [[String: Any]])
        #expect(affected.first?["pid"] as? Int == 5000)
        #expect(affected.first?["comm"] as? String == "cpu-agent")
    }

    @Test func unnamedHierarchyHasNullName() throws {
        let result = try Binary.run(["check", "--root", "lxd-4247-named-unmounted", "--format", "json"], in: Binary.hostsDirectory)
        #expect(result.stdout.contains("\"name\" : null"))
    }

    @Test func missingRootExitsTwoAndNamesThePath() throws {
        let result = try Binary.run(["check", "--root", "/nonexistent-cgdoctor-root"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/proc/1/mountinfo"))
        #expect(result.stderr.contains("ENOENT"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Binary.run(["check", "--format", "yaml"]).status == 2)
        #expect(try Binary.run(["check", "--ignore", "no-such-check"]).status == 2)
        #expect(try Binary.run(["paths", "notapid"]).status == 2)
    }

    @Test func ignoreSkipsACheck() throws {
        let result = try Binary.run(
            ["check", "--root", "synthetic-cpu-mirror-unmounted", "--ignore", "hierarchy-not-mounted", "--ignore", "v1-end-of-life"],
            in: Binary.hostsDirectory)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("cgdoctor: no cgroup problems found"))
    }

    @Test func listChecksDocumentsEveryCheck() throws {
        let result = try Binary.run(["check", "--list-checks"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("hierarchy-not-mounted"))
        #expect(result.stdout.contains("unparseable"))
    }

    @Test func colourIsForcedWithFlag() throws {
        let result = try Binary.run(["check", "--root", "moby-38822-nonsystemd", "--color"], in: Binary.hostsDirectory)
        #expect(result.stdout.contains("\u{1B}[1;31mERROR"))
    }
}

@Suite struct PathsCommandTests {
    @Test(arguments: [
        ("jdk-8343191-outside-root", Int32(1), Int32(1)),
        ("likakuli-k8s-pod", 1, 0),
        ("synthetic-cpu-mirror-unmounted", 5000, 1),
    ])
    func pathsMatchGolden(_ host: String, _ pid: Int32, _ status: Int32) throws {
        let text = try Binary.run(["paths", "\(pid)", "--root", host], in: Binary.hostsDirectory)
        #expect(text.status == status)
        try Golden.check(text.stdout, "paths-\(host)-\(pid).txt")
        let json = try Binary.run(["paths", "\(pid)", "--root", host, "--format", "json"], in: Binary.hostsDirectory)
        #expect(json.status == status)
        try Golden.check(json.stdout, "paths-\(host)-\(pid).json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        for line in try #require(document["lines"] as? [[String: Any]]) {
            for key in ["hierarchyId", "controllers", "name", "cgroupPath", "resolved", "directory", "reason"] {
                #expect(line.keys.contains(key), "missing \(key)")
            }
            let resolved = try #require(line["resolved"] as? Bool)
            #expect((line["directory"] is String) == resolved)
            #expect((line["reason"] is String) == !resolved)
        }
    }

    @Test func unresolvedReasonNamesPidHierarchyAndMountinfo() throws {
        let json = try Binary.run(["paths", "5000", "--root", "synthetic-cpu-mirror-unmounted", "--format", "json"], in: Binary.hostsDirectory)
        #expect(json.stdout.contains("pid 5000: hierarchy 12 (name=cpu_mirror) has no cgroup mount in /proc/1/mountinfo"))
    }

    @Test func exitedProcessExitsTwo() throws {
        let result = try Binary.run(["paths", "31337", "--root", "likakuli-k8s-pod"], in: Binary.hostsDirectory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no process 31337"))
    }
}
