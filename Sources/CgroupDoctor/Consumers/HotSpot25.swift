/// OpenJDK HotSpot 25: v2 decided by statfs(/sys/fs/cgroup) and /sys/fs/cgroup/cgroup.controllers
/// (JDK-8349988) instead of /proc/cgroups; v1 paths below a mount root found by suffix search
/// (JDK-8343191: the first existing `mount + suffix`, else the mount point); lowest limit among the
/// ancestors (JDK-8322420).
///
/// Source: openjdk/jdk25u-dev src/hotspot/os/linux/cgroupV1Subsystem_linux.cpp @36340d51,
/// cgroupV2Subsystem_linux.cpp @a5496f9f, openjdk/jdk cgroupSubsystem_linux.cpp @02300bc4,
/// cgroupUtil_linux.cpp @050815c4 (research/consumers.md §1.2). The statfs answer is taken from the
/// process's mountinfo (the last mount at /sys/fs/cgroup) so captures replay. Unverified against a
/// binary: no JDK 25 here; `determine_type` is checked against the jtreg CgroupSubsystemFactory cases.
public struct HotSpot25: ConsumerModel {
    public init() {}
    public var id: String { "hotspot-25" }
    public var name: String { "OpenJDK HotSpot 25" }
    public var version: String { "openjdk/jdk25u-dev src/hotspot/os/linux/cgroupSubsystem_linux.cpp, cgroupV1Subsystem_linux.cpp @36340d51, cgroupUtil_linux.cpp" }
    public var verifiedAgainstBinary: Bool { false }

    static let rules = HotSpotRules(detection: .statfs, v1Paths: .suffixSearch, walkUp: true)

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        HotSpotCgroups.predict(self, rules: Self.rules, input: process)
    }
}
