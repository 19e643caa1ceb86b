/// A cgroup controller (subsystem) name as the kernel prints it.
///
/// Kernel names are an open set: `misc`, `rdma` or next year's controller round-trip unchanged.
/// Named v1 hierarchies (`name=systemd`) are not controllers; see ``CgroupEntry/name``.
public struct Controller: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: Controller, rhs: Controller) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let cpu: Controller = "cpu"
    public static let cpuacct: Controller = "cpuacct"
    public static let cpuset: Controller = "cpuset"
    public static let memory: Controller = "memory"
    public static let devices: Controller = "devices"
    public static let freezer: Controller = "freezer"
    public static let netCls: Controller = "net_cls"
    public static let netPrio: Controller = "net_prio"
    public static let blkio: Controller = "blkio"
    public static let io: Controller = "io"
    public static let perfEvent: Controller = "perf_event"
    public static let hugetlb: Controller = "hugetlb"
    public static let pids: Controller = "pids"
    public static let rdma: Controller = "rdma"
    public static let misc: Controller = "misc"
}
