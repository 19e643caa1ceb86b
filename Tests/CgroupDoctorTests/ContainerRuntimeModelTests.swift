import CgroupFormats
import Foundation
import SystemPackage
import Testing

@testable import CgroupDoctor

/// The containerd and runc models replayed over the fixture hosts and the containerd/cgroups and
/// opencontainers/cgroups corpus cases (the answers their own tests assert).
@Suite("Container runtime models")
struct ContainerRuntimeModelTests {
    static func input(_ host: String, pid: Int32) throws -> ConsumerInput {
        let sysroot = FixtureHost.sysroot(host)
        let cgroupFile = "/proc/\(pid)/cgroup"
        let cgroups = ProcessCgroups.parse(try sysroot.read(FilePath(cgroupFile)), file: cgroupFile)
        // A process without its own mountinfo in the capture shares PID 1's namespace.
        var mountFile = "/proc/\(pid)/mountinfo"
        if (try? sysroot.read(FilePath(mountFile))) == nil { mountFile = "/proc/1/mountinfo" }
        let mountInfo = MountInfo.parse(try sysroot.read(FilePath(mountFile)), file: mountFile)
        return ConsumerInput(
            sysroot: sysroot, pid: pid, cgroups: cgroups, mountInfo: mountInfo, controllers: nil, onlineCPUs: nil,
            affinityCPUs: nil)
    }

    static let sentinel = "cgroups: cannot find cgroup mount destination"

    // MARK: Fixture hosts

    /// DESIGN.md's incident: name=cpu_mirror listed, mounted nowhere. containerd's v1 runtime fails
    /// with the sentinel and cgdoctor's notes name the hierarchy; the runc shim only logs; runc
    /// never looks at named hierarchies.
    @Test(arguments: [Int32(4242), 1, 5000])
    func syntheticCpuMirrorUnmounted(pid: Int32) throws {
        let process = try Self.input("synthetic-cpu-mirror-unmounted", pid: pid)
        let containerd = ContainerdV1Model().predict(process)
        #expect(containerd.consumer == "containerd-v1")
        #expect(containerd.error == Self.sentinel)
        #expect(containerd.cpuCount == nil)
        #expect(containerd.memory == .notComputed)
        #expect(!containerd.error!.contains("cpu_mirror"), "containerd's own message names nothing")
        let named = containerd.notes.filter { $0.contains("hierarchy 12 (name=cpu_mirror)") }
        #expect(named.count == 1, "\(containerd.notes)")
        #expect(named.first?.contains("/proc/1/mountinfo") == true)
        #expect(containerd.notes.contains { $0.contains("fatal in io.containerd.runtime.v1.linux") })
        #expect(containerd.files.first == "/proc/\(pid)/cgroup")
        #expect(containerd.files.contains("/proc/1/mountinfo"))

        let shim = ContainerdRuncV2Model().predict(process)
        #expect(shim.error == nil)
        #expect(
            shim.notes.contains { $0.contains("msg=\"loading cgroup for \(pid)\" error=\"\(Self.sentinel)\"") }, "\(shim.notes)")

        let runc = RuncModel().predict(process)
        #expect(runc.error == nil, "\(runc.notes)")
        #expect(runc.notes.contains { $0.contains("ignored: runc does not look at name=cpu_mirror") })
        #expect(runc.mount == "/sys/fs/cgroup/cpu,cpuacct")
        let cgroupPath = [4242: "/kubepods/burstable/pod0000/0000", 1: "/", 5000: "/system.slice/cpu-agent.service"][pid] ?? "?"
        #expect(runc.files.contains(GoPath.join("/sys/fs/cgroup/cpu,cpuacct", cgroupPath)))
    }

    /// canonical/lxd#4247: no cgroup mount at all. `V1()` fails before `PidPath` is consulted, so the
    /// message is the v2-only-host one; the notes still name every unmounted hierarchy behind it.
    @Test func lxd4247NamedUnmounted() throws {
        let process = try Self.input("lxd-4247-named-unmounted", pid: 1)
        let containerd = ContainerdV1Model().predict(process)
        #expect(containerd.error == "cgroups: cgroup mountpoint does not exist")
        let behind = try #require(containerd.notes.first { $0.hasPrefix("behind it, PidPath would fail too") })
        #expect(behind.contains("hierarchy 1 (name=openrc)"))
        #expect(behind.contains("hierarchy 9 (name=systemd)"))
        #expect(behind.contains(Self.sentinel))
        #expect(ContainerdRuncV2Model().predict(process).error == nil)
        // runc: devices is listed but mounted nowhere, and devices is the one it refuses to skip.
        #expect(RuncModel().predict(process).error == "mountpoint for devices not found")
    }

    /// The likakuli pod view: every mount's root is the process's cgroup, so `Rel == "."` and
    /// containerd substitutes the root itself (the host path) below /sys/fs/cgroup/<name>; runc's
    /// `Join(mnt, Rel)` gives the mount point.
    @Test func likakuliK8sPodRelDotBranch() throws {
        let process = try Self.input("likakuli-k8s-pod", pid: 1)
        let pod = "/kubepods/burstable/podef9e6830-7199-11eb-9004-246e967c4f1c/bcab873e8fabfd242de0b6277d0e2a2ec44ae0f14081f0302169da1bcbc8d987"
        let containerd = ContainerdV1Model().predict(process)
        #expect(containerd.error == nil)
        #expect(containerd.files.contains("/sys/fs/cgroup/cpu" + pod))
        #expect(containerd.mount == "/sys/fs/cgroup/cpu" + pod)
        #expect(containerd.notes.contains { $0.hasPrefix("cpu: path \(pod) equals the root of its mount") && $0.contains("Rel == \".\"") })
        #expect(containerd.notes.contains { $0.contains("cannot be listed in this capture") })

        let exported = ContainerdCgroupsV1.existingPath(
            try #require(try? ContainerdCgroupsV1.parseCgroupFile(FixtureHost.sysroot("likakuli-k8s-pod").read("/proc/1/cgroup")).get().keys),
            mountInfoLines: ContainerdCgroupsV1.scanLines(try FixtureHost.sysroot("likakuli-k8s-pod").read("/proc/1/mountinfo")))
        #expect(exported.error == nil)
        #expect(Set(exported.paths.values) == [pod])
        #expect(exported.atRoot.count == 13)  // 11 lines, two of them with two controllers

        let runc = RuncModel().predict(process)
        #expect(runc.error == nil)
        #expect(runc.mount == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(runc.files.contains("/sys/fs/cgroup/cpu,cpuacct"))
        #expect(runc.files.contains("/sys/fs/cgroup/memory"))
    }

    /// JDK-8343191: the process was moved outside its mount's root. containerd raises nothing and
    /// uses `/bad/...`; runc joins the `..` into the mount point.
    @Test func jdk8343191OutsideRoot() throws {
        let process = try Self.input("jdk-8343191-outside-root", pid: 1)
        let containerd = ContainerdV1Model().predict(process)
        #expect(containerd.error == nil)
        #expect(containerd.mount == "/sys/fs/cgroup/cpu/bad/2f57368b-0eda-4e52-64d8-af5c")
        #expect(containerd.notes.contains { $0.contains("silently uses Join(\"/\", Rel(root, path)) = /bad/2f57368b-0eda-4e52-64d8-af5c") })

        // Only cpu,cpuacct is in this one-line capture: runc meets devices (second in its list,
        // absent) before cpu and refuses to go on.
        let runc = RuncModel().predict(process)
        #expect(runc.error == "mountpoint for devices not found")
        #expect(runc.files == ["/proc/1/cgroup", "/proc/1/mountinfo"])
        // The join runc's getCgroupPathHelper would make for cpu: the `..` climbs out of the mount.
        let mount = try #require(process.mountInfo.entries.first)
        #expect(
            RuncCgroupsV1.cgroupPath(mount: mount, cgroup: process.cgroups.entries[0].path.string)
                == "/sys/fs/bad/2f57368b-0eda-4e52-64d8-af5c")
    }

    // MARK: Pure rules

    @Test func cgroupDestinationIsExactTokenFstypeCgroupFirstMatch() {
        let lines = [
            "40 31 0:37 / /sys/fs/cgroup/cpu_mirror rw,relatime - cgroup cgroup rw,name=cpu_mirror",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,cpu",
            "42 31 0:29 /a /x rw,relatime - cgroup cgroup rw,cpu,cpuacct",
            "43 31 0:29 /b /y rw,relatime - cgroup cgroup rw,cpu,cpuacct",
            "short line - cgroup cgroup cpuset",
        ]
        #expect(ContainerdCgroupsV1.cgroupDestination("cpu", mountInfoLines: lines)?.root == "/a")
        #expect(ContainerdCgroupsV1.cgroupDestination("cpu", mountInfoLines: lines)?.line == 3)
        #expect(ContainerdCgroupsV1.cgroupDestination("name=cpu_mirror", mountInfoLines: lines)?.root == "/")
        #expect(ContainerdCgroupsV1.cgroupDestination("cpu_mirror", mountInfoLines: lines) == nil)
        #expect(ContainerdCgroupsV1.cgroupDestination("cpuset", mountInfoLines: lines) == nil)
    }

    @Test func goPathRules() {
        #expect(GoPath.rel("/a/good/x", "/a/bad/x") == "../../bad/x")
        #expect(GoPath.join("/", "../../bad/x") == "/bad/x")
        #expect(GoPath.dir("/sys/fs/cgroup/cpu,cpuacct") == "/sys/fs/cgroup")
        #expect(GoPath.dir("/cpu") == "/")
        #expect(GoPath.base("/sys/fs/cgroup/cpu,cpuacct") == "cpu,cpuacct")
        #expect(ContainerdCgroupsV1.scanLines(Array("a\r\nb\n\nc".utf8)) == ["a", "b", "", "c"])
    }

    @Test func modeDetectionFromMountinfo() {
        let hybrid = [
            "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw", "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
        ]
        #expect(ContainerdLoadReplay.detectMode(hybrid) == .hybrid)
        #expect(ContainerdLoadReplay.detectMode(["31 23 0:28 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"]) == .unified)
        #expect(ContainerdLoadReplay.detectMode(Array(hybrid.prefix(1))) == .legacy)
    }

    // MARK: Corpus: containerd-cgroups

    static let corpus: FilePath = {
        var path = FilePath(#filePath)
        path.removeLastComponent()
        path.removeLastComponent()
        return path.appending("CgroupFormatsTests/Fixtures/corpus")
    }()

    struct CorpusCase: Decodable {
        var kind: String
        var inputs: [String: JSONValue]
        var expect: [String: JSONValue]
        var expect_error: Bool?
    }

    indirect enum JSONValue: Decodable, Equatable {
        case string(String), bool(Bool), number(Double), array([JSONValue]), object([String: JSONValue]), null
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
            else { self = .object(try container.decode([String: JSONValue].self)) }
        }
        var string: String? { if case .string(let s) = self { s } else { nil } }
        var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
        var object: [String: JSONValue] { if case .object(let o) = self { o } else { [:] } }
    }

    static func load(_ source: String, _ name: String) throws -> (CorpusCase, FilePath) {
        let directory = corpus.appending(source).appending(name)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.appending("expected.json").string))
        return (try JSONDecoder().decode(CorpusCase.self, from: data), directory)
    }

    static func bytes(_ directory: FilePath, _ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: directory.appending(file).string)))
    }

    /// `cgroup2.parseCgroupFromReader` (containerd) = `fs2` parseCgroupFromReader (runc), same table.
    @Test(arguments: ["cgroup2-hybrid-with-unified-line", "cgroup2-v1-only-no-unified-line", "cgroup2-v2-only-session-scope"])
    func containerdCgroup2GroupPath(_ name: String) throws {
        let (testCase, directory) = try Self.load("containerd-cgroups", name)
        let result = ContainerdCgroupsV2.groupPath(try Self.bytes(directory, "cgroup"))
        if testCase.expect_error == true {
            #expect(throws: GoError(try #require(testCase.expect["error_message"]?.string))) { try result.get() }
        } else {
            #expect(try result.get() == testCase.expect["unified_path"]?.string)
        }
    }

    /// `ParseCgroupFromReaderUnified` over lines indented with a TAB: the ID is never parsed, so
    /// every line counts; the `0::` line is the unified path, never a map key.
    @Test func containerdHybridGnomeTerminalLeadingTabs() throws {
        let (testCase, directory) = try Self.load("containerd-cgroups", "hybrid-gnome-terminal-leading-tabs")
        let parsed = try ContainerdCgroupsV1.parseCgroupFile(try Self.bytes(directory, "cgroup")).get()
        #expect(parsed.unified == testCase.expect["unified_path"]?.string)
        #expect(!parsed.keys.contains { $0.key.isEmpty })
        #expect(parsed.keys.map(\.key).contains("name=systemd"))
        #expect(parsed.keys.count == 12)
    }

    /// TestSystemd240: net_cls mounted alone, net_prio absent from the cgroup file: with every
    /// listed key mounted, `existingPath` succeeds and the lookup of net_prio is ErrControllerNotActive.
    @Test func containerdSystemd240NetPrioMissing() throws {
        let (testCase, directory) = try Self.load("containerd-cgroups", "systemd240-hybrid-net-prio-missing")
        let parsed = try ContainerdCgroupsV1.parseCgroupFile(try Self.bytes(directory, "cgroup")).get()
        #expect(parsed.unified == testCase.expect["unified_path"]?.string)
        // A host mounting each listed hierarchy at /sys/fs/cgroup/<tokens> with root "/".
        var mountInfo: [String] = []
        for (index, key) in Set(parsed.keys.map(\.key)).sorted().enumerated() {
            mountInfo.append("\(30 + index) 25 0:\(30 + index) / /sys/fs/cgroup/\(key) rw - cgroup cgroup rw,\(key)")
        }
        let existing = ContainerdCgroupsV1.existingPath(parsed.keys, mountInfoLines: mountInfo)
        #expect(existing.error == nil)
        let lookup = testCase.expect["lookup"]?.object ?? [:]
        #expect(lookup["controller"]?.string == "net_prio")
        #expect(throws: GoError(ContainerdCgroupsV1.errControllerNotActive)) {
            try ContainerdCgroupsV1.lookup("net_prio", in: existing.paths).get()
        }
        #expect(lookup["error"]?.string?.contains(ContainerdCgroupsV1.errControllerNotActive) == true)
        #expect(try ContainerdCgroupsV1.lookup("systemd", in: existing.paths).get() == "/system.slice/docker.service")
    }

    // MARK: Corpus: opencontainers-cgroups

    @Test func runcParseCgroupFileCoreosColons() throws {
        let (testCase, directory) = try Self.load("opencontainers-cgroups", "proc-self-cgroup-coreos-colons-in-path")
        let map = try RuncCgroupsV1.parseCgroupFile(try Self.bytes(directory, "cgroup")).get()
        let expected = (testCase.expect["controller_paths"]?.object ?? [:]).compactMapValues(\.string)
        #expect(map == expected)
    }

    @Test func runcParseCgroupFileMalformed() throws {
        let (testCase, directory) = try Self.load("opencontainers-cgroups", "proc-self-cgroup-malformed")
        #expect(testCase.expect_error == true)
        #expect(throws: GoError(try #require(testCase.expect["error_message"]?.string))) {
            try RuncCgroupsV1.parseCgroupFile(try Self.bytes(directory, "cgroup")).get()
        }
    }

    /// `getCgroupMountsHelper` / `findCgroupMountpointAndRootFromMI` tables: first fstype-cgroup
    /// mount carrying the exact token (name=systemd literally), cgroup2 lines ignored.
    @Test(arguments: ["bedrock-v1-duplicated-mounts", "docker-v1-container-systemd", "fedora-v1-host", "cgroup2-mounted-at-systemd-path"])
    func runcFindsMountsFirstExactToken(_ name: String) throws {
        let (testCase, directory) = try Self.load("opencontainers-cgroups", name)
        let mounts = MountInfo.parse(try Self.bytes(directory, "mountinfo"), file: "mountinfo").entries
        let requested = (testCase.inputs["requested_subsystems"]?.array ?? []).compactMap(\.string)
        #expect(!requested.isEmpty)
        for subsystem in requested {
            let found = RuncCgroupsV1.findMountpointAndRoot(subsystem, mounts: mounts)
            if testCase.expect["every_requested_subsystem_found"] == .bool(true) {
                let mount = try #require(found, "\(name): \(subsystem) not found")
                #expect(mount.root.string == testCase.expect["root_for_every_subsystem"]?.string)
                let bare = subsystem.hasPrefix("name=") ? String(subsystem.dropFirst(5)) : subsystem
                #expect(mount.mountPoint.string.hasPrefix("/sys/fs/cgroup/") || mount.mountPoint.string.contains(bare))
                // First match in file order.
                #expect(mounts.first { $0.fileSystemType == "cgroup" && $0.superOptions.contains(subsystem) } == mount)
            }
            if let forbidden = testCase.expect["no_result_has_mountpoint"]?.string {
                #expect(found?.mountPoint.string != forbidden)
            }
        }
    }

    @Test(arguments: ["find-mountpoint-by-prefix", "runc-find-mountpoint-blank-lines"])
    func runcFindMountpointByPrefix(_ name: String) throws {
        let (testCase, directory) = try Self.load("opencontainers-cgroups", name)
        let mounts = MountInfo.parse(try Self.bytes(directory, "mountinfo"), file: "mountinfo").entries
        let subsystem = try #require(testCase.inputs["subsystem"]?.string)
        for query in testCase.expect["queries"]?.array ?? [] {
            let prefix = try #require(query.object["cgroupPath_prefix"]?.string)
            let found = RuncCgroupsV1.findMountpointAndRoot(subsystem, prefix: prefix, mounts: mounts)
            #expect(found?.mountPoint.string == query.object["mountpoint"]?.string, "prefix \(prefix)")
        }
    }
}
