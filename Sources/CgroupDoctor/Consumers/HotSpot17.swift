/// OpenJDK HotSpot 17 (17.0.5 and later; the JDK installed here is 17.0.15): what
/// `Runtime.availableProcessors()` and the default heap see.
///
/// Follows openjdk/jdk17u-dev src/hotspot/os/linux/cgroupSubsystem_linux.cpp (`determine_type`:
/// v1/v2 from the /proc/cgroups hierarchy ids of memory/cpu/cpuacct, exact controller tokens in
/// /proc/self/cgroup and the mountinfo super options, duplicate mounts resolved in favour of the one
/// under /sys/fs/cgroup; `active_processor_count` = min(affinity, ceil(quota/period)) with cpu.shares
/// ignored since JDK-8281181 in 17.0.5), cgroupV1Subsystem_linux.cpp (`set_subsystem_path`: a cgroup
/// path below a mount root that is not "/" leaves the path NULL because of the `p == _root` pointer
/// comparison, so every read fails and the host CPU count is used) and cgroupV2Subsystem_linux.cpp
/// (leaf cpu.max / memory.max only, no walk up).
///
/// Verified against the real `java` 17.0.15 here (LanguageRuntimeGroundTruthTests): v1 quota, v1
/// cpuset, a named `cpu_mirror` hierarchy, a duplicate cpu mount, a container view (mount root =
/// cgroup path), a process below its mount root; and (CgroupV2GroundTruthTests) staged v2 leaf and
/// parent cpu.max/memory.max in both directions (17.0.15 reads the leaf only: no JDK-8322420 walk-up),
/// memory.high (ignored), a memory.max above physical memory (ignored), and crafted v1 memory with
/// hierarchical_memory_limit.
public struct HotSpot17: ConsumerModel {
    public init() {}
    public var id: String { "hotspot-17" }
    public var name: String { "OpenJDK HotSpot 17" }
    public var version: String { "openjdk/jdk17u 17.0.15 src/hotspot/os/linux/cgroupSubsystem_linux.cpp, cgroupV1Subsystem_linux.cpp, cgroupV2Subsystem_linux.cpp" }
    public var verifiedAgainstBinary: Bool { true }

    static let rules = HotSpotRules(detection: .procCgroups, v1Paths: .prefixPointerBug, walkUp: false)

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        HotSpotCgroups.predict(self, rules: Self.rules, input: process)
    }
}
