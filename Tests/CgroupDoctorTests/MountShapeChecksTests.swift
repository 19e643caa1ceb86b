import CgroupDoctor
import CgroupFormats
import SystemPackage
import Testing

/// Builds a one-namespace snapshot from mountinfo and cgroup text (pid 1 is the runtime).
private func snapshot(mountinfo: String, cgroups: [Int32: String], namespaces: [Int32: (String, String)] = [:]) -> HostSnapshot {
    let processes = cgroups.keys.sorted().map { pid in
        ProcessRecord(
            pid: pid, cgroups: ProcessCgroups.parse(Array(cgroups[pid]!.utf8), file: "/proc/\(pid)/cgroup"),
            mountNamespace: pid == 1 ? "mnt:[1]" : namespaces[pid]?.0 ?? "mnt:[1]")
    }
    var spaces = [
        MountNamespace(
            id: "mnt:[1]", holderPID: 1, holderCommand: "systemd", processCount: 1,
            mountInfo: MountInfo.parse(Array(mountinfo.utf8), file: "/proc/1/mountinfo"))
    ]
    for (pid, (id, text)) in namespaces.sorted(by: { $0.key < $1.key }) {
        spaces.append(
            MountNamespace(
                id: id, holderPID: pid, holderCommand: nil, processCount: 1,
                mountInfo: MountInfo.parse(Array(text.utf8), file: "/proc/\(pid)/mountinfo")))
    }
    return HostSnapshot(
        sysroot: Sysroot(FilePath("/nonexistent")), referencePID: 1, controllers: nil, processes: processes, namespaces: spaces,
        exitedDuringScan: 0, problems: [], commands: [1: "systemd"])
}

@Suite struct PathOutsideMountRootTests {
    /// openjdk/jdk#21808 (JDK-8343191): garden moved the process from .../good/<id> to .../bad/<id>.
    @Test func jdk8343191GardenBadSibling() throws {
        let findings = PathOutsideMountRoot().run(try FixtureHost.scanner("jdk-8343191-outside-root").snapshot())
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == .warning)
        #expect(finding.hierarchy?.id == 11)
        #expect(finding.affected.map(\.pid) == [1])
        // containerd's Join("/", Rel(root, path)) and runc's Join(mnt, Rel(root, path)), computed.
        #expect(finding.impacts.contains { $0.effect.contains("wrong cgroup /bad/2f57368b-0eda-4e52-64d8-af5c ") })
        #expect(finding.impacts.contains { $0.effect.contains("/sys/fs/bad/2f57368b-0eda-4e52-64d8-af5c ") })
        #expect(finding.evidence.first == Evidence(file: "/proc/1/cgroup", line: 1, text: "11:cpu,cpuacct:/system.slice/garden.service/garden/bad/2f57368b-0eda-4e52-64d8-af5c"))
    }

    /// uber-go/automaxprocs testdata/proc/untranslatable: cpuacct mounted at a root below the process's path.
    @Test func automaxprocsUntranslatableNamesItsExactMessage() throws {
        let findings = PathOutsideMountRoot().run(try FixtureHost.scanner("automaxprocs-untranslatable-cpuacct").snapshot())
        #expect(findings.map { $0.hierarchy?.id } == [2])
        #expect(
            findings.first?.impacts.contains {
                $0.message == "path \"/docker\" is not a descendant of mount point root \"/docker/0123456789abcdef\" and cannot be exposed from \"/sys/fs/cgroup/cpuacct\""
            } == true)
    }

    /// uber-go/automaxprocs mountpoint_test.go TestMountPointTranslate: component-wise, so a string-prefix sibling is outside.
    @Test(arguments: [
        ("/docker/0123456789abcdef", false), ("/docker/0123456789abcdef/large", false), ("/", true), ("/docker", true),
        ("/docker/0123456789abcdef-let-me-hack-this-path", true), ("/system.slice/docker.service", true),
    ])
    func automaxprocsTranslateDockerRoot(_ path: String, _ outside: Bool) {
        let mountinfo = "31 23 0:24 /docker/0123456789abcdef /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:1 - cgroup cgroup rw,cpu\n"
        let findings = PathOutsideMountRoot().run(snapshot(mountinfo: mountinfo, cgroups: [1: "1:cpu:\(path)\n"]))
        #expect(findings.count == (outside ? 1 : 0))
    }

    /// A process's own namespace (a container mounting its cgroup) is checked, and so is the runtime's;
    /// one finding per (hierarchy, roots), every affected process grouped.
    @Test func containerNamespacesGroupedByRoot() {
        let host = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        let pod = "900 899 0:29 /pod/good /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n"
        let findings = PathOutsideMountRoot().run(
            snapshot(
                mountinfo: host,
                cgroups: [1: "1:cpu:/\n", 100: "1:cpu:/pod/bad\n", 101: "1:cpu:/pod/bad/x\n", 102: "1:cpu:/pod/good/y\n"],
                namespaces: [100: ("mnt:[100]", pod), 101: ("mnt:[100]", pod), 102: ("mnt:[100]", pod)]))
        #expect(findings.count == 1)
        #expect(findings.first?.affected.map(\.pid) == [100, 101])
        #expect(findings.first?.summary.contains("mnt:[100]") == true)
        #expect(findings.first?.summary.contains("the runtime's") == false)
    }

    /// The healthy shapes: host roots "/", pod roots equal to the path (likakuli), nested below the root.
    @Test(arguments: ["likakuli-k8s-pod", "netdata-563-centos72-host", "runc-258-no-optional-fields", "synthetic-cpu-mirror-unmounted"])
    func cleanHosts(_ host: String) throws {
        #expect(PathOutsideMountRoot().run(try FixtureHost.scanner(host).snapshot()).isEmpty)
    }
}

@Suite struct SubstringCollisionTests {
    /// The pre-fix HotSpot strstr chain, branch by branch (osContainer_linux.cpp, OSContainer::init()).
    @Test(arguments: [
        ("34 25 0:29 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset", "cpuset"),
        ("30 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu", "cpu+cpuacct"),
        ("33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct", "cpuacct"),
        ("32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu", "cpu"),
        ("38 25 0:33 / /sys/fs/cgroup/cpu_mirror rw - cgroup cgroup rw,name=cpu_mirror", "cpu"),
        ("40 25 0:35 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,name=memory_hog,blkio", "memory"),
        ("26 25 0:21 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd", "-"),
    ])
    func preFixChain(_ line: String, _ expected: String) {
        let slots = SubstringCollision.preFixMatch(line)?.map(\.rawValue).joined(separator: "+") ?? "-"
        #expect(slots == expected)
    }

    @Test func cpuMirrorMountedIsTakenForCpuInEveryNamespace() throws {
        let findings = SubstringCollision().run(try FixtureHost.scanner("synthetic-cpu-mirror-mounted").snapshot())
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.hierarchy?.id == 12)
        #expect(finding.summary.contains("for the cpu controller"))
        #expect(finding.hostWide)
        #expect(finding.affected.map(\.pid) == [4242])
        #expect(finding.evidence.map(\.file) == ["/proc/1/mountinfo", "/proc/4242/mountinfo"])
    }

    /// The collision is about the LAST match: a cpu_mirror line before the real cpu line is overwritten.
    @Test func earlierCollidingLineIsOverwritten() {
        let mountinfo = """
            38 25 0:33 / /sys/fs/cgroup/cpu_mirror rw - cgroup cgroup rw,name=cpu_mirror
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu

            """
        #expect(SubstringCollision().run(snapshot(mountinfo: mountinfo, cgroups: [1: "2:name=cpu_mirror:/\n1:cpu:/\n"])).isEmpty)
    }

    /// The /proc/self/cgroup side: a named line listed after the real one takes the path.
    @Test func cgroupFileSideCollision() {
        let mountinfo = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        let findings = SubstringCollision().run(snapshot(mountinfo: mountinfo, cgroups: [1: "2:cpu:/\n1:name=cpu_x:/\n"]))
        #expect(findings.map { $0.hierarchy?.id } == [1])
        #expect(findings.first?.evidence.first?.text == "1:name=cpu_x:/")
    }

    /// Standard layouts never fire: CentOS 7 (cpuacct,cpu), split cpu/cpuacct, k8s pod bind mounts, this sandbox's shape.
    @Test(arguments: [
        "netdata-563-centos72-host", "runc-258-no-optional-fields", "likakuli-k8s-pod", "synthetic-cpu-mirror-unmounted",
        "bedrock-v1-duplicated-mounts", "jdk-8343191-outside-root",
    ])
    func cleanHosts(_ host: String) throws {
        #expect(SubstringCollision().run(try FixtureHost.scanner(host).snapshot()).isEmpty)
    }
}

@Suite struct DuplicateHierarchyMountTests {
    /// opencontainers/cgroups bedrockMountinfo: every hierarchy ×5, all root "/": info only.
    @Test func bedrockFiveTimesIsInfo() throws {
        let findings = DuplicateHierarchyMount().run(try FixtureHost.scanner("bedrock-v1-duplicated-mounts").snapshot())
        #expect(findings.map { $0.hierarchy?.id } == Array(1...10))
        #expect(findings.allSatisfy { $0.severity == .info && $0.summary.contains("mounted 5 times") })
    }

    /// opencontainers/cgroups TestFindCgroupMountpointAndRoot: containerd takes /foo (first), runc /sys/fs/cgroup/devices.
    @Test func findMountpointByPrefixPicks() throws {
        let finding = try #require(DuplicateHierarchyMount().run(try FixtureHost.scanner("runc-find-mountpoint-by-prefix").snapshot()).first)
        #expect(finding.severity == .info)
        #expect(finding.impacts.contains { $0.consumer.hasPrefix("containerd") && $0.effect.hasPrefix("picks /foo ") })
        #expect(finding.impacts.contains { $0.consumer.hasPrefix("runc / opencontainers") && $0.effect.hasPrefix("picks /sys/fs/cgroup/devices ") })
    }

    /// OpenJDK mntInfoCgroupv1DoubleCpu with the extra mount's root changed: picks disagree on the root.
    @Test func differentRootsAndDifferentPicksWarn() throws {
        let finding = try #require(DuplicateHierarchyMount().run(try FixtureHost.scanner("jdk-duplicate-cpu-other-root").snapshot()).first)
        #expect(finding.severity == .warning)
        #expect(finding.hierarchy?.id == 8)
        #expect(finding.hostWide)
        #expect(finding.impacts.contains { $0.consumer.hasPrefix("Go runtime") && $0.effect.contains("root /user.slice") })
        #expect(finding.impacts.contains { $0.consumer.hasPrefix("HotSpot with JDK-8293472") && $0.effect.hasPrefix("picks /sys/fs/cgroup/cpu,cpuacct ") })
        #expect(finding.remediation.commands == ["umount /cpu,cpuacct   # root /user.slice"])
    }

    /// Different roots, but every modelled consumer picks the same one: still info.
    @Test func differentRootsSamePicksIsInfo() {
        let mountinfo = """
            40 30 0:36 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
            41 30 0:36 /sub /mnt/devices-view rw - cgroup cgroup rw,devices

            """
        let findings = DuplicateHierarchyMount().run(snapshot(mountinfo: mountinfo, cgroups: [1: "1:devices:/\n"]))
        #expect(findings.map(\.severity) == [.info])
    }

    @Test(arguments: ["netdata-563-centos72-host", "likakuli-k8s-pod", "synthetic-cpu-mirror-mounted", "jdk-8343191-outside-root"])
    func cleanHosts(_ host: String) throws {
        #expect(DuplicateHierarchyMount().run(try FixtureHost.scanner(host).snapshot()).isEmpty)
    }
}
