import CgroupFormats
import CgroupReport
import Foundation
import SystemPackage
import Testing

@testable import CgroupDoctor

/// `cgdoctor limits`: fixture trees under Fixtures/limits (each with a README saying what it
/// stages) replayed through the same Sysroot as a live host, plus parser edge cases.
@Suite("Limits")
struct LimitsTests {
    static let directory: FilePath = {
        var path = FilePath(#filePath)
        path.removeLastComponent()
        return path.appending("Fixtures").appending("limits")
    }()

    static func limits(_ name: String, pid: Int32 = 4242) throws -> ProcessLimits {
        try LimitsReader(sysroot: Sysroot(directory.appending(name))).limits(of: pid)
    }

    static func cgroupPaths<V>(_ walk: LimitWalk<V>) -> [String] { walk.levels.map(\.cgroupPath.string) }

    @Test func v1QuotaOnThePodBinds() throws {
        let l = try Self.limits("v1-quota-pod-binds")
        #expect(Self.cgroupPaths(l.cpu) == ["/kubepods/pod1/ctr", "/kubepods/pod1", "/kubepods", "/"])
        #expect(l.cpu.binding == 1)
        #expect(l.cpu.levels[1].reading == .value(CPUBandwidth(quota: 150000, period: 100000)))
        #expect(l.cpu.levels[1].files.map(\.string) == [
            "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us",
        ])
        #expect(l.cpu.levels[0].reading == .unlimited)
        #expect(l.effectiveCPU.quota == .limited(1.5, file: "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us", complete: true))
        #expect(l.effectiveCPU.quotaCPUsRoundedUp == 2)
        #expect(l.effectiveCPU.cpus == 2)
        #expect(l.effectiveCPU.limitedBy == .quota)
        #expect(l.effectiveCPU.affinity?.count == 4)
        // Memory: the container's own limit binds; the kernel's hierarchical minimum agrees.
        #expect(l.memory.binding == 0)
        #expect(l.memory.levels.last?.reading == .unlimited)  // 9223372036854771712 on the root
        #expect(l.hierarchicalMemoryLimit?.reading == .value(536_870_912))
        #expect(l.effectiveMemory == .limited(536_870_912, file: "/sys/fs/cgroup/memory/kubepods/pod1/ctr/memory.limit_in_bytes", complete: true))
        #expect(l.memoryHigh == nil)
        // pids: the pod's 100; the v1 pids root has no pids.max.
        #expect(l.pids.binding == 1)
        #expect(l.pidsMax == .limited(100, file: "/sys/fs/cgroup/pids/kubepods/pod1/pids.max", complete: true))
        #expect(l.pids.levels.last?.reading == .missing(path: "/sys/fs/cgroup/pids/pids.max"))
    }

    @Test func v2LeafBinds() throws {
        let l = try Self.limits("v2-leaf-binds")
        #expect(Self.cgroupPaths(l.memory) == ["/app/worker", "/app", "/"])
        #expect(l.memory.binding == 0)
        #expect(l.effectiveMemory == .limited(268_435_456, file: "/sys/fs/cgroup/app/worker/memory.max", complete: true))
        #expect(l.cpu.binding == 0)
        #expect(l.effectiveCPU.quota.value == 0.5)
        #expect(l.effectiveCPU.cpus == 1)
        #expect(l.hierarchicalMemoryLimit == nil)
        // memory.high is a throttle, reported apart from the limit.
        #expect(l.effectiveMemoryHigh == .limited(209_715_200, file: "/sys/fs/cgroup/app/memory.high", complete: true))
        #expect(l.pidsMax == .limited(50, file: "/sys/fs/cgroup/app/pids.max", complete: true))
        // The root has none of the files: missing, noted, not a limit.
        #expect(l.memory.levels[2].reading == .missing(path: "/sys/fs/cgroup/memory.max"))
        #expect(l.memory.notes.contains { $0.contains("root cgroup has no memory.max") })
    }

    @Test func v2ParentBinds() throws {
        let l = try Self.limits("v2-parent-binds")
        #expect(l.memory.binding == 1)
        #expect(l.effectiveMemory == .limited(134_217_728, file: "/sys/fs/cgroup/app/memory.max", complete: true))
        #expect(l.cpu.binding == 1)
        #expect(l.effectiveCPU.quota == .limited(1.0, file: "/sys/fs/cgroup/app/cpu.max", complete: true))
        #expect(l.effectiveCPU.cpus == 1)
        #expect(l.effectiveCPU.limitedBy == .quota)
        #expect(l.effectiveCPU.cpuset == CPUSet(ranges: [2...3]))
        #expect(l.pidsMax == .unlimited)
    }

    @Test func unlimitedIsNotANumber() throws {
        let l = try Self.limits("v2-unlimited")
        #expect(l.effectiveMemory == .unlimited)
        #expect(l.effectiveMemoryHigh == .unlimited)
        #expect(l.pidsMax == .unlimited)
        #expect(l.effectiveCPU.quota == .unlimited)
        #expect(l.effectiveCPU.cpus == 4)
        #expect(l.effectiveCPU.limitedBy == .online)
    }

    @Test func missingFilesAreTheirOwnAnswer() throws {
        let l = try Self.limits("v2-missing-files")
        guard case .noLimitFile(let reason) = l.effectiveMemory else {
            Issue.record("expected noLimitFile, got \(l.effectiveMemory)")
            return
        }
        #expect(reason.contains("memory.max"))
        if case .noLimitFile = l.pidsMax {} else { Issue.record("pids: \(l.pidsMax)") }
        #expect(l.cpu.levels[0].reading == .missing(path: "/sys/fs/cgroup/svc/task/cpu.max"))
        #expect(l.effectiveCPU.quota.value == 3.0)
        // cpuset not enabled below the root: the root's effective set binds.
        #expect(l.cpuset.binding == 2)
        #expect(l.effectiveCPU.cpus == 3)
    }

    @Test func unreadableAndUnparseableLevels() throws {
        let l = try Self.limits("v2-unreadable-level")
        guard case .unreadable(let error) = l.memory.levels[1].reading else {
            Issue.record("expected unreadable, got \(l.memory.levels[1].reading)")
            return
        }
        #expect(error.errno == EISDIR)
        #expect(error.path.hasPrefix("/sys/fs/cgroup/a/memory.max"))
        // The leaf's 1 GiB stands, but the unreadable parent might be lower.
        #expect(l.effectiveMemory == .limited(1_073_741_824, file: "/sys/fs/cgroup/a/b/memory.max", complete: false))
        guard case .unparseable(let parse) = l.pids.levels[0].reading else {
            Issue.record("expected unparseable, got \(l.pids.levels[0].reading)")
            return
        }
        #expect(parse.file == "/sys/fs/cgroup/a/b/pids.max")
        #expect(parse.text == "lots")
        if case .unknown = l.pidsMax {} else { Issue.record("pids should be unknown, got \(l.pidsMax)") }
    }

    @Test func containerViewTakesTheKernelsHierarchicalLimit() throws {
        let l = try Self.limits("v1-container-view")
        #expect(Self.cgroupPaths(l.memory) == ["/docker/abc"])
        #expect(l.memory.levels[0].directory == "/sys/fs/cgroup/memory")
        #expect(l.memory.levels[0].reading == .unlimited)
        #expect(l.memory.notes.contains { $0.contains("levels above /docker/abc are not visible") })
        #expect(l.effectiveMemory == .limited(268_435_456, file: "/sys/fs/cgroup/memory/memory.stat", complete: true))
        #expect(l.hierarchicalMemoryLimit?.line == 5)
        #expect(l.effectiveCPU.quota.value == 2.0)
    }

    @Test func hybridReadsPidsFromTheUnifiedHierarchy() throws {
        let l = try Self.limits("hybrid-pids-on-v2")
        guard case .resolved(let version, _, _, let mount, _) = l.pids.source else {
            Issue.record("pids unresolved: \(l.pids.source)")
            return
        }
        #expect(version == 2)
        #expect(mount.mountPoint == "/sys/fs/cgroup/unified")
        #expect(l.pidsMax == .limited(1000, file: "/sys/fs/cgroup/unified/user.slice/pids.max", complete: true))
        guard case .resolved(let memoryVersion, _, _, _, _) = l.memory.source else {
            Issue.record("memory unresolved")
            return
        }
        #expect(memoryVersion == 1)
        #expect(l.effectiveMemory == .limited(2_147_483_648, file: "/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes", complete: true))
        // No cpuset.effective_cpus: cpuset.cpus is read, and both files are named.
        #expect(l.cpuset.levels[0].files.map(\.string) == ["/sys/fs/cgroup/cpuset/cpuset.effective_cpus", "/sys/fs/cgroup/cpuset/cpuset.cpus"])
        #expect(l.effectiveCPU.cpuset?.count == 4)
        #expect(l.memoryHigh == nil)
    }

    @Test func unresolvedControllerIsUnknown() throws {
        // The incident host: cpu_mirror is not a controller, and a process with no v1 cpu line and
        // no 0:: line has nothing to read.
        let cgroups = ProcessCgroups.parse(Array("10:name=cpu_mirror:/agent\n".utf8), file: "/proc/7/cgroup")
        let paths = PathResolver.resolve(cgroups, pid: 7, mountInfo: MountInfo.parse([], file: "/proc/1/mountinfo"))
        let l = LimitsReader(sysroot: Sysroot(Self.directory.appending("v2-unlimited"))).limits(for: paths)
        if case .unknown(let reason) = l.effectiveMemory {
            #expect(reason.contains("memory"))
        } else {
            Issue.record("expected unknown, got \(l.effectiveMemory)")
        }
        #expect(l.effectiveCPU.quota.value == nil)
    }

    @Test func processGoneIsAnError() {
        #expect(throws: PathsError.self) { try Self.limits("v2-unlimited", pid: 999) }
    }

    @Test func jsonCarriesStatesNotMagicNumbers() throws {
        let json = LimitsReport.renderJSON(try Self.limits("v2-unreadable-level"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let effective = try #require(object["effective"] as? [String: Any])
        let memory = try #require(effective["memory"] as? [String: Any])
        #expect(memory["state"] as? String == "limited")
        #expect(memory["complete"] as? Bool == false)
        #expect((effective["pids"] as? [String: Any])?["state"] as? String == "unknown")
        let resources = try #require(object["resources"] as? [String: Any])
        let levels = try #require((resources["memory"] as? [String: Any])?["levels"] as? [[String: Any]])
        #expect(levels.map { $0["state"] as? String } == ["value", "unreadable", "missing"])
        // SystemError.errnoName has no EISDIR spelling yet ("errno 21"); the message carries strerror.
        #expect((levels[1]["message"] as? String)?.contains("Is a directory") == true)
        #expect(levels[0]["binds"] as? Bool == true)
        let text = LimitsReport.render(try Self.limits("v1-quota-pod-binds"))
        #expect(text.contains("150000/100000 us = 1.5 CPUs  <- binds"))
    }

    // MARK: Parsers

    @Test(arguments: [
        ("0-3,8,10-11", [0, 1, 2, 3, 8, 10, 11]), ("", []), ("\n", []), ("5\n", [5]), ("1-2,5-8,10,12,4", [1, 2, 4, 5, 6, 7, 8, 10, 12]),
    ])
    func cpuLists(_ text: String, _ members: [Int]) throws {
        #expect(try CPUList.parse(Array(text.utf8), file: "cpuset.cpus").members == members)
    }

    @Test(arguments: ["3-1", "1,,2", "0-7:2/4", "a", "1-", " 1", "1\n2"])
    func badCPULists(_ text: String) {
        #expect(throws: ParseError.self) { try CPUList.parse(Array(text.utf8), file: "cpuset.cpus") }
    }

    @Test func cpuSetOperations() {
        let set = CPUSet(ranges: [8...8, 0...3, 10...11, 4...4])
        #expect(set.description == "0-4,8,10-11")
        #expect(set.count == 8)
        #expect(set.intersection(CPUSet(ranges: [3...9])).description == "3-4,8")
    }

    @Test func affinityLine() throws {
        let status = Array("Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n".utf8)
        let found = try #require(try ProcessStatus.cpusAllowedList(status, file: "/proc/1/status"))
        #expect(found.cpus.description == "0-1")
        #expect(found.line == 3)
        #expect(try ProcessStatus.cpusAllowedList(Array("Name:\tx\n".utf8), file: "s") == nil)
    }

    @Test(arguments: [
        ("9223372036854771712", Limit.unlimited),  // 4 KiB pages
        ("9223372036854759424", Limit.unlimited),  // 16 KiB pages
        ("9223372036854710272", Limit.unlimited),  // 64 KiB pages
        ("9223372036854710271", Limit.value(9_223_372_036_854_710_271)),
        ("536870912\n", Limit.value(536_870_912)),
    ])
    func v1MemoryUnlimitedIsPageRoundedLongMax(_ text: String, _ expected: Limit) throws {
        #expect(try V1MemoryLimitFile.parse(Array(text.utf8), file: "memory.limit_in_bytes") == expected)
    }

    @Test func memoryStatWithNineteenDigits() {
        let stat = MemoryStat.parse(Array("cache 1\nhierarchical_memory_limit 9223372036854771712\nbad\n".utf8), file: "memory.stat")
        #expect(stat.hierarchicalMemoryLimit?.limit == .unlimited)
        #expect(stat.hierarchicalMemoryLimit?.line == 2)
        #expect(stat.errors.map(\.line) == [3])
    }

    @Test func cpuMaxForms() throws {
        #expect(try CPUMax.parse(Array("max 100000\n".utf8), file: "cpu.max") == CPUMax(quota: .unlimited, period: 100000))
        #expect(try CPUMax.parse(Array("150000 100000\n".utf8), file: "cpu.max") == CPUMax(quota: .value(150000), period: 100000))
        #expect(
            try CPUMax.parse(Array("max".utf8), file: "cpu.max") == CPUMax(quota: .unlimited, period: 100000, periodStated: false))
        let error = #expect(throws: ParseError.self) { try CPUMax.parse(Array("150000 0\n".utf8), file: "/x/cpu.max") }
        #expect(error?.field == "period")
        #expect(error?.file == "/x/cpu.max")
        #expect(throws: ParseError.self) { try CFSBandwidthFile.parseQuota(Array("-2\n".utf8), file: "q") }
        #expect(try MaxOrNumberFile.parse(Array("max\n".utf8), file: "pids.max") == .unlimited)
        #expect(throws: ParseError.self) { try MaxOrNumberFile.parse(Array("-1\n".utf8), file: "memory.max") }
    }
}
