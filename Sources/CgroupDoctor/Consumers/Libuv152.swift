/// libuv 1.51+ (rules of 1.52.1; Node 22.x/24.x bundles): `uv_available_parallelism()` caps the
/// affinity count with a cgroup CPU quota. v2: the leaf and every ancestor under the hard-coded
/// /sys/fs/cgroup (requires <leaf>/cgroup.controllers), integer L / P per level, 0 becomes 1
/// (1.52.0), and the value of the OUTERMOST limited level is used, not the minimum. v1: the text after
/// ":cpu," in /proc/self/cgroup is used as a directory under /sys/fs/cgroup (`8:cpu,cpuacct:/x` gives
/// /sys/fs/cgroup/cpuacct:/x), so v1 CPU limits are never found on standard layouts. Memory as in
/// ``LibuvNode20``; 1.52.1 also caps it with RLIMIT_AS/RLIMIT_DATA, which a capture cannot show.
///
/// Source: libuv/libuv src/unix/linux.c, src/unix/core.c @6179e7af and tag v1.52.1 (commits 69d2dfec1
/// v1.51.0, 2e7c07f4d v1.52.0). Unverified against a binary here (Node 20 bundles 1.46).
public struct Libuv152: ConsumerModel {
    public init() {}
    public var id: String { "libuv-1.52" }
    public var name: String { "libuv 1.51+ (Node 22+)" }
    public var version: String { "libuv/libuv v1.52.1 src/unix/linux.c uv__get_constrained_cpu, src/unix/core.c" }
    public var verifiedAgainstBinary: Bool { false }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        trace.files.append("/proc/self/cgroup")
        let affinity = HostFacts.affinity(process)
        var count = affinity
        if let quota = LibuvEngine.constrainedCPU(&trace), quota > 0 {
            if let a = affinity, quota < a { count = quota } else if affinity == nil { count = quota }
        }
        let memory = LibuvEngine.memoryView(LibuvEngine.constrainedMemory(&trace), &trace)
        return trace.view(self, cpuCount: count.map { max($0, 1) }, memory: memory, mount: nil)
    }
}
