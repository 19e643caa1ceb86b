import CgroupDoctor
import CgroupFormats
import Testing

/// `release-agent-set`: the CVE-2022-0492 fixture, the agents systemd and cgmanager install, and
/// agents set by someone else.
@Suite struct ReleaseAgentSetTests {
    @Test func cve20220492ExploitLeftoverIsAnError() throws {
        let findings = ReleaseAgentSet().run(try FixtureHost.scanner("cve-2022-0492-release-agent").snapshot())
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == .error)
        #expect(finding.hierarchy?.id == 10)
        #expect(finding.hierarchy?.controllers == [.rdma])
        #expect(finding.summary.contains("container escape"))
        #expect(finding.evidence.first?.file == "/sys/fs/cgroup/rdma/release_agent")
        #expect(finding.evidence.first?.line == 1)
        #expect(finding.evidence.contains { $0.file == "/proc/1/mountinfo" && $0.text.contains("release_agent=/var/lib/docker/overlay2/") })
        // The exploit's own mount in the container's namespace is quoted and named.
        #expect(finding.mountedElsewhere.map(\.pid) == [4242])
        #expect(finding.mountedElsewhere.first?.mountPoint == "/mnt")
        #expect(finding.remediation.commands.contains("echo > /sys/fs/cgroup/rdma/release_agent   # clear it (needs CAP_SYS_ADMIN in the initial user namespace)"))
    }

    /// Real CentOS 7 mountinfo: systemd's agent on name=systemd is expected.
    @Test(arguments: ["netdata-563-centos72-host", "k8s-61937-memcg-id-limit-v1", "moby-29638-dying-memcg-v1", "synthetic-cpu-mirror-unmounted"])
    func cleanHosts(_ host: String) throws {
        #expect(ReleaseAgentSet().run(try FixtureHost.scanner(host).snapshot()).isEmpty)
    }

    struct AgentCase: Sendable, CustomStringConvertible {
        var origin: String
        var agent: String
        var hierarchy: Hierarchy
        var expected: Severity?
        var description: String { origin }
    }

    static let systemd = Hierarchy(id: 1, controllers: [], name: "systemd")
    static let cpu = Hierarchy(id: 3, controllers: [.cpu, .cpuacct], name: nil)

    static let agents: [AgentCase] = [
        AgentCase(origin: "centos7SystemdAgent", agent: "/usr/lib/systemd/systemd-cgroups-agent", hierarchy: systemd, expected: nil),
        AgentCase(origin: "debianSystemdAgent", agent: "/lib/systemd/systemd-cgroups-agent", hierarchy: systemd, expected: nil),
        // opencontainers/cgroups corpus docker-v1-container-systemd: cgmanager on every controller.
        AgentCase(origin: "cgmanagerPerfEvent", agent: "/run/cgmanager/agents/cgm-release-agent.perf_event", hierarchy: cpu, expected: nil),
        AgentCase(origin: "systemdAgentOnController", agent: "/usr/lib/systemd/systemd-cgroups-agent", hierarchy: cpu, expected: .warning),
        AgentCase(origin: "liveTestBinTrue", agent: "/bin/true", hierarchy: cpu, expected: .warning),
        AgentCase(origin: "unit42Overlay", agent: "/var/lib/docker/overlay2/abc/diff/exp.sh", hierarchy: cpu, expected: .error),
        AgentCase(origin: "containerdSnapshot", agent: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs/x", hierarchy: systemd, expected: .error),
    ]

    @Test(arguments: agents)
    func policy(_ c: AgentCase) throws {
        var snapshot = try FixtureHost.scanner("netdata-563-centos72-host").snapshot()
        // The file read through the mount point decides; mountinfo of this host carries systemd's agent only.
        let mountText = "30 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuacct,cpu"
        let mount = try MountInfo.parseLine(Array(mountText.utf8), number: 13, file: "/proc/1/mountinfo")
        snapshot.hierarchyRoots = [HierarchyRoot(hierarchy: c.hierarchy, mount: mount, releaseAgent: c.agent, liveCgroups: nil)]
        let findings = ReleaseAgentSet().run(snapshot).filter { $0.hierarchy?.id == c.hierarchy.id }
        #expect(findings.map(\.severity) == (c.expected.map { [$0] } ?? []))
        if let finding = findings.first {
            #expect(finding.evidence.first == Evidence(file: "/sys/fs/cgroup/cpu,cpuacct/release_agent", line: 1, text: c.agent))
            #expect(finding.summary.contains("\"\(c.agent)\""))
        }
    }
}
