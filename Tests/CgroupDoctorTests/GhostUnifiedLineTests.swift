import CgroupDoctor
import CgroupFormats
import Testing

/// `ghost-unified-line`: a `0::` line with no cgroup2 mount in the runtime's namespace.
@Suite struct GhostUnifiedLineTests {
    static let cases: [(String, Bool)] = [
        ("lxd-4247-named-unmounted", true),  // `0::/`, mountinfo empty
        ("sandbox-process-api-hybrid", false),  // `0::/` and cgroup2 at /sys/fs/cgroup/unified
        ("moby-38822-nonsystemd", false),  // no 0:: line
        ("rpi5-k3s-9524-memory-disabled-v2", false),  // unified
    ]

    @Test(arguments: cases)
    func firesWhenTheLineHasNoMount(_ host: String, _ fires: Bool) throws {
        let findings = GhostUnifiedLine().run(try FixtureHost.scanner(host).snapshot())
        #expect(findings.count == (fires ? 1 : 0))
        guard let finding = findings.first else { return }
        #expect(finding.severity == .info)
        #expect(finding.hierarchy?.id == 0)
        #expect(finding.evidence.first == Evidence(file: "/proc/1/cgroup", line: 10, text: "0::/"))
        #expect(finding.evidence.contains { $0.file == "/proc/1/mountinfo" && $0.line == nil })
        #expect(finding.mountedElsewhere.isEmpty)
    }

    /// The sandbox with /sys/fs/cgroup/unified gone from PID 1's namespace but still mounted in another
    /// process's (what the live test stages with unshare -m).
    @Test func mountedOnlyInAnotherNamespaceIsNamed() throws {
        var snapshot = try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()
        let index = try #require(snapshot.namespaces.firstIndex { $0.holderPID == 1 })
        let unified = try #require(snapshot.namespaces[index].mountInfo.entries.first { $0.fileSystemType == "cgroup2" })
        snapshot.namespaces[index].mountInfo.entries.removeAll { $0.fileSystemType == "cgroup2" }
        var other = snapshot.namespaces[index]
        other.id = "mnt:[4026532999]"
        other.holderPID = 777
        other.holderCommand = "sshd"
        other.mountInfo.file = "/proc/777/mountinfo"
        other.mountInfo.entries = [unified]
        snapshot.namespaces.append(other)
        let finding = try #require(GhostUnifiedLine().run(snapshot).first)
        #expect(finding.mountedElsewhere.map(\.pid) == [777])
        #expect(finding.explanation.contains("pid 777 (sshd) at /sys/fs/cgroup/unified"))
    }
}
