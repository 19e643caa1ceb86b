import CgroupDoctor
import CgroupFormats
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ScannerTests {
    @Test func modeComesFromMountinfoFileSystemTypes() throws {
        #expect(try FixtureHost.scanner("netdata-563-centos72-host").snapshot().mode == .legacy)
        #expect(try FixtureHost.scanner("lxd-4247-named-unmounted").snapshot().mode == CgroupMode.none)
    }

    @Test func hierarchiesMergeProcCgroupsAndCgroupFiles() throws {
        let hierarchies = try FixtureHost.scanner("synthetic-cpu-mirror-unmounted").snapshot().hierarchies
        #expect(hierarchies.map(\.id) == Array(1...12))
        #expect(hierarchies.first { $0.id == 12 }?.label == "name=cpu_mirror")
        #expect(hierarchies.first { $0.id == 2 }?.controllers == ["cpuacct", "cpu"])
    }

    @Test func eachMountNamespaceIsReadOnce() throws {
        let snapshot = try FixtureHost.scanner("synthetic-cpu-mirror-unmounted").snapshot()
        #expect(snapshot.namespaces.map(\.id) == ["mnt:[4026531841]", "mnt:[4026532201]"])
        #expect(snapshot.namespaces.map(\.processCount) == [2, 1])
        #expect(snapshot.namespaces.map(\.holderCommand) == ["systemd", "java"])
    }

    @Test func missingReferenceMountinfoIsAnErrorNamingTheFile() throws {
        let scanner = HostScanner(sysroot: FixtureHost.sysroot("netdata-563-centos72-host"), referencePID: 777)
        #expect {
            _ = try scanner.snapshot()
        } throws: { error in
            guard let error = error as? SystemError else { return false }
            return error.path.hasPrefix("/proc/777/mountinfo") && error.syscall == "open" && error.isNotFound
        }
    }

    @Test func pathsOfAProcessOutsideItsMountRoot() throws {
        let paths = try FixtureHost.scanner("jdk-8343191-outside-root").paths(of: 1)
        #expect(paths.lines.count == 1)
        let line = try #require(paths.lines.first)
        guard case .unresolved(.outsideMountRoot(let hierarchy, let path, let mounts, let file)) = line.resolution else {
            Issue.record("expected outsideMountRoot, got \(line.resolution)")
            return
        }
        #expect(hierarchy.id == 11)
        #expect(path == "/system.slice/garden.service/garden/bad/2f57368b-0eda-4e52-64d8-af5c")
        #expect(mounts.map(\.line) == [1])
        #expect(file == "/proc/1/mountinfo")
    }

    @Test func pathsInsideAContainerWhoseRootIsItsCgroup() throws {
        let paths = try FixtureHost.scanner("likakuli-k8s-pod").paths(of: 1)
        #expect(paths.unresolved.isEmpty)
        #expect(paths.lines.first { $0.entry.hierarchyID == 2 }?.resolution.directory == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(paths.lines.first { $0.entry.hierarchyID == 1 }?.resolution.directory == "/sys/fs/cgroup/systemd")
    }

    @Test func pathsOfAnUnmountedNamedHierarchyNamesIt() throws {
        let paths = try FixtureHost.scanner("synthetic-cpu-mirror-unmounted").paths(of: 5000)
        let line = try #require(paths.unresolved.first)
        #expect(paths.unresolved.count == 1)
        guard case .unresolved(let reason) = line.resolution else { return }
        #expect(
            reason.explanation(pid: 5000)
                == "pid 5000: hierarchy 12 (name=cpu_mirror) has no cgroup mount in /proc/1/mountinfo: none of its 11 cgroup mounts carries the super option name=cpu_mirror"
        )
    }

    @Test func pathsOfAMissingProcessSaysItDoesNotExist() throws {
        #expect {
            _ = try FixtureHost.scanner("likakuli-k8s-pod").paths(of: 31337)
        } throws: { error in
            guard case PathsError.noSuchProcess(let pid, _) = error else { return false }
            return pid == 31337
        }
    }

    @Test func unparseableLinesAreFindingsNotCrashes() throws {
        let report = try Diagnosis.check(FixtureHost.scanner("unparseable-lines"), checks: [Unparseable()])
        #expect(report.findings.map(\.id) == ["unparseable", "unparseable", "unparseable"])
        let quoted = report.findings.flatMap(\.evidence).map { "\($0.file):\($0.line ?? 0)" }
        #expect(Set(quoted) == ["/proc/cgroups:4", "/proc/1/mountinfo:4", "/proc/1/cgroup:2"])
        #expect(report.findings.allSatisfy { $0.summary.contains("field \"") })
    }

    /// A /proc/<pid> directory whose cgroup file is gone is a process that exited between the
    /// listing and the read: counted, never a problem or an error.
    @Test func vanishedProcessIsCountedNotAnError() throws {
        let root = FilePath("/tmp/cgdoctor-test-scanner-\(UInt64.random(in: 0...UInt64.max))")
        let host = FixtureHost.directory.appending("netdata-563-centos72-host")
        #expect(system("mkdir -p '\(root)/proc/1' '\(root)/proc/777' && cp '\(host)/proc/1/'* '\(root)/proc/1/'") == 0)
        defer { _ = system("rm -rf '\(root)'") }
        let snapshot = try HostScanner(sysroot: Sysroot(root)).snapshot()
        #expect(snapshot.exitedDuringScan == 1)
        #expect(snapshot.problems.isEmpty)
        #expect(snapshot.processes.map(\.pid) == [1])
    }
}
