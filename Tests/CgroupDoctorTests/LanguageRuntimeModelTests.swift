import CgroupFormats
import Foundation
import SystemPackage
import Testing

@testable import CgroupDoctor

/// The language-runtime models against the test data their upstream projects ship
/// (Fixtures/consumers, copied byte-exact from ../shared/fixtures/consumers; EXPECTED.md there).
@Suite struct LanguageRuntimeModelTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/consumers").path

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(relative)")))
    }

    /// openjdk test/hotspot/jtreg/containers/cgroup/CgroupSubsystemFactory.java (post JDK-8349988,
    /// hence the HotSpot 25 rules): (test name, v2 enabled, controllers file, cgroup, mountinfo, code).
    static let hotspotCases: [(String, Bool, String, String, String, Int)] = [
        ("testCgroupv1SystemdOnly", false, "proc_cgroups.zero_hierarchy", "proc_self_cgroup.v2", "mountinfo.v1_systemd_only", 5),
        ("testCgroupv1NoMounts", false, "proc_cgroups.zero_hierarchy", "proc_self_cgroup.v2", "mountinfo.empty", 5),
        ("testCgroupv2", true, "sys_fs_cgroup_cgroup.controllers.typical", "proc_self_cgroup.v2", "mountinfo.v2_only", 2),
        ("testCgroupv2Double", true, "sys_fs_cgroup_cgroup.controllers.typical", "proc_self_cgroup.v2", "mountinfo.v2_double", 2),
        ("testCgroupv2Double2", true, "sys_fs_cgroup_cgroup.controllers.typical", "proc_self_cgroup.v2", "mountinfo.v2_double2", 2),
        ("testCgroupv2ControllerFileEmpty", true, "sys_fs_cgroup_cgroup.controllers.empty", "proc_self_cgroup.v2", "mountinfo.v2_only", 3),
        ("testCgroupv2ControllerFileBlankLine", true, "sys_fs_cgroup_cgroup.controllers.blank_line", "proc_self_cgroup.v2", "mountinfo.v2_only", 6),
        ("testCgroupv2ControllerFileNoMemory", true, "sys_fs_cgroup_cgroup.controllers.no_memory", "proc_self_cgroup.v2", "mountinfo.v2_only", 6),
        ("testCgroupv2ControllerFileNoCpu", true, "sys_fs_cgroup_cgroup.controllers.no_cpu", "proc_self_cgroup.v2", "mountinfo.v2_only", 6),
        ("testCgroupv2ControllerFileNoPids", true, "sys_fs_cgroup_cgroup.controllers.no_pids", "proc_self_cgroup.v2", "mountinfo.v2_only", 2),
        ("testCgroupv2ControllerFileCpuMemoryOnly", true, "sys_fs_cgroup_cgroup.controllers.cpu_memory_only", "proc_self_cgroup.v2", "mountinfo.v2_only", 2),
        ("testCgroupv2ControllerFileExtraWhitespace", true, "sys_fs_cgroup_cgroup.controllers.extra_whitespace", "proc_self_cgroup.v2", "mountinfo.v2_only", 2),
        ("testCgroupV1Hybrid", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.hybrid", 1),
        ("testCgroupV1HybridMntInfoOrder", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.hybrid_cgroup2_last", 1),
        ("testCgroupv1MissingMemoryController", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.hybrid_missing_memory", 4),
        ("testCgroupv2NoCgroup2Fs", true, "sys_fs_cgroup_cgroup.controllers.typical", "proc_self_cgroup.v2", "mountinfo.hybrid_missing_memory", 3),
        ("testCgroupv1MultipleControllerMounts cpuset", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_cpuset", 1),
        ("testCgroupv1MultipleControllerMounts cpuset2", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_cpuset2", 1),
        ("testCgroupv1MultipleControllerMounts memory", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_memory", 1),
        ("testCgroupv1MultipleControllerMounts memory2", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_memory2", 1),
        ("testCgroupv1MultipleControllerMounts cpu", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_cpu", 1),
        ("testCgroupv1MultipleControllerMounts cpu2", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_cpu2", 1),
        ("testCgroupv1MultipleControllerMounts pids", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_pids", 1),
        ("testCgroupv1MultipleControllerMounts pids2", false, "proc_cgroups.non_zero_hierarchy", "proc_self_cgroup.hybrid", "mountinfo.double_pids2", 1),
        ("testCgroupv1JoinControllerCombo", false, "proc_cgroups.v1_join_controllers", "proc_self_cgroup.v1_join_controllers", "mountinfo.v1_join_controllers", 1),
        ("testNonZeroHierarchyOnlyFreezer", true, "sys_fs_cgroup_cgroup.controllers.typical", "proc_self_cgroup.v2_only_freezer_v1", "mountinfo.v2_plus_v1_freezer", 2),
    ]

    @Test(arguments: hotspotCases.indices)
    func hotspotDetermineType(_ index: Int) throws {
        let (name, v2, controllers, cgroup, mountinfo, expected) = Self.hotspotCases[index]
        let dir = "hotspot/CgroupSubsystemFactory/"
        let controllerBytes = try Self.bytes(dir + controllers)
        let detection = HotSpotCgroups.determineType(
            rules: HotSpot25.rules,
            procCgroups: v2 ? nil : CgroupControllers.parse(controllerBytes, file: controllers),
            statfsV2: v2, controllersFile: v2 ? controllerBytes : nil,
            cgroups: ProcessCgroups.parse(try Self.bytes(dir + cgroup), file: cgroup),
            mountInfo: MountInfo.parse(try Self.bytes(dir + mountinfo), file: mountinfo))
        #expect(detection.type.rawValue == expected, "\(name): \(detection.log)")
        // Derived in EXPECTED.md: duplicates resolve to the /sys/fs/cgroup mount whatever the order.
        if mountinfo.hasPrefix("mountinfo.double_") {
            let controller = String(mountinfo.dropFirst("mountinfo.double_".count).prefix { $0 != "2" })
            #expect(detection.infos[controller]?.mountPoint?.hasPrefix("/sys/fs/cgroup") == true, "\(name)")
        }
    }

    /// golang/go internal/runtime/cgroup TestParseCPUMount.
    @Test(arguments: ["empty", "mixed", "v1", "v2", "v2-escaped"])
    func goParseCPUMount(_ name: String) throws {
        let mounts = MountInfo.parse(try Self.bytes("go-runtime/parseCPUMount/\(name).mountinfo"), file: name)
        let expected = String(decoding: try Self.bytes("go-runtime/parseCPUMount/\(name).expected"), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        let got = GoRuntime125.cpuMount(mounts) ?? "ERROR (ErrNoCgroup)"
        #expect(got == expected)
    }

    /// golang/go TestParseV1Number / TestParseV2Limit and the GOMAXPROCS rule (min 2).
    @Test func goNumbersAndGOMAXPROCS() {
        #expect(GoRuntime125.parseV1Number(Array("-1\n".utf8)) == -1)
        #expect(GoRuntime125.parseV1Number(Array("500000".utf8)) == nil)
        #expect(GoRuntime125.parseV1Number(Array("1000 5000\n".utf8)) == nil)
        #expect(GoRuntime125.parseV2Limit(Array("max 100000\n".utf8)) == .unlimited)
        #expect(GoRuntime125.parseV2Limit(Array("50000 100000\n".utf8)) == .limit(0.5))
        #expect(GoRuntime125.parseV2Limit(Array("500000 100000".utf8)) == nil)
        #expect(GoRuntime125.parseV2Limit(Array("500000us 100000\n".utf8)) == nil)
        #expect(GoRuntime125.gomaxprocs(affinity: 8, limit: 0.5) == 2)
        #expect(GoRuntime125.gomaxprocs(affinity: 8, limit: 2.5) == 3)
        #expect(GoRuntime125.gomaxprocs(affinity: 4, limit: 5) == 4)
    }

    /// uber-go/automaxprocs cgroups2_test.go TestCGroupsCPUQuotaV2 (contents inline, from EXPECTED.md).
    @Test func automaxprocsCPUMax() {
        func quota(_ text: String) -> String {
            switch AutomaxprocsEngine.parseCPUMax(Array(text.utf8)) {
            case .success(.undefined): "undefined"
            case .success(.value(let v)): "\(v)"
            case .failure(let f): "error: \(f.message)"
            }
        }
        #expect(quota("250000 100000\n") == "2.5")
        #expect(quota("max 100000\n") == "undefined")
        #expect(quota("500000\n") == "5.0")
        #expect(quota("250000 0\n") == "error: zero value for period is not allowed")
        #expect(quota("250000 100000 100\n") == "error: invalid format")
        #expect(quota("") == "error: unexpected EOF")
    }

    /// openjdk CgroupV1SubsystemControllerTest / hotspot gtest set_cgroupv1_subsystem_path: HotSpot 17
    /// gives NULL below a non-"/" root (observed with java 17.0.15), HotSpot 25 searches suffixes.
    @Test func hotspotV1PathComposition() {
        #expect(HotSpotCgroups.v1Path(mount: "/sys/fs/cgroup/memory", root: "/", cgroupPath: "/user.slice", mapping: .prefixPointerBug, exists: { _ in true }) == "/sys/fs/cgroup/memory/user.slice")
        #expect(HotSpotCgroups.v1Path(mount: "/sys/fs/cgroup/mem", root: "/a/b", cgroupPath: "/a/b", mapping: .prefixPointerBug, exists: { _ in true }) == "/sys/fs/cgroup/mem")
        #expect(HotSpotCgroups.v1Path(mount: "/sys/fs/cgroup/memory", root: "/foo/bar/baz", cgroupPath: "/foo/bar/baz/some", mapping: .prefixPointerBug, exists: { _ in true }) == nil)
        #expect(HotSpotCgroups.v1Path(mount: "/m", root: "/good/x", cgroupPath: "/bad/x", mapping: .suffixSearch, exists: { $0 == "/m/x" }) == "/m/x")
        #expect(HotSpotCgroups.v1Path(mount: "/m", root: "/good/x", cgroupPath: "/bad/x", mapping: .suffixSearch, exists: { _ in false }) == "/m")
    }

    /// The 8u191 substring chain files name=cpu_mirror under cpu.
    @Test func hotspot8u191SubstringMatch() {
        #expect(HotSpot8u191.match("40 31 0:40 / /sys/fs/cgroup/cpu_mirror rw - cgroup cgroup rw,name=cpu_mirror") == ["cpu"])
        #expect(HotSpot8u191.match("name=cpu_mirror") == ["cpu"])
        #expect(HotSpot8u191.match("cpu,cpuacct") == ["cpu", "cpuacct"])
        #expect(HotSpot8u191.match("name=systemd") == [])
    }
}
