/// OpenJDK HotSpot 21 (jdk21u-dev as of 2025): HotSpot 17's detection and v1 path mapping (the
/// NULL path below a non-"/" mount root is still there), plus the JDK-8322420 backport that looks
/// for a lower CPU quota or memory limit in every ancestor cgroup up to the mount point
/// (`CgroupUtil::adjust_controller`, src/hotspot/os/linux/cgroupUtil_linux.cpp).
///
/// Source: openjdk/jdk21u-dev src/hotspot/os/linux/cgroupV1Subsystem_linux.cpp @d460d076 (includes
/// cgroupUtil_linux.hpp), cgroupSubsystem_linux.cpp. Unverified against a binary: no JDK 21 here.
public struct HotSpot21: ConsumerModel {
    public init() {}
    public var id: String { "hotspot-21" }
    public var name: String { "OpenJDK HotSpot 21" }
    public var version: String { "openjdk/jdk21u-dev src/hotspot/os/linux/cgroupV1Subsystem_linux.cpp @d460d076, cgroupUtil_linux.cpp" }
    public var verifiedAgainstBinary: Bool { false }

    static let rules = HotSpotRules(detection: .procCgroups, v1Paths: .prefixPointerBug, walkUp: true)

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        HotSpotCgroups.predict(self, rules: Self.rules, input: process)
    }
}
