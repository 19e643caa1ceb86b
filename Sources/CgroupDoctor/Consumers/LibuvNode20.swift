/// libuv 1.46.0 as bundled in Node 20 (20.20.2 here): `os.availableParallelism()` is
/// `uv_available_parallelism()` = the sched_getaffinity count (no cgroup awareness before libuv 1.49),
/// and `process.constrainedMemory()` is `uv_get_constrained_memory()` (see ``LibuvEngine``).
///
/// Source: libuv/libuv v1.46.0 src/unix/linux.c (`uv_get_constrained_memory`,
/// `uv__get_cgroup1_memory_limits`, `uv__get_cgroup2_memory_limits`), src/unix/core.c
/// (`uv_available_parallelism`). Verified against `node` 20.20.2 here (LanguageRuntimeGroundTruthTests; v2
/// leaf/parent memory.max and memory.high, crafted v1 memory in CgroupV2GroundTruthTests).
public struct LibuvNode20: ConsumerModel {
    public init() {}
    public var id: String { "node-20" }
    public var name: String { "Node.js 20 / libuv 1.46" }
    public var version: String { "libuv/libuv v1.46.0 src/unix/linux.c, src/unix/core.c (bundled in Node 20.20.2)" }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        trace.files.append("/proc/self/cgroup")
        let memory = LibuvEngine.memoryView(LibuvEngine.constrainedMemory(&trace), &trace)
        trace.note("availableParallelism = sched_getaffinity count (libuv < 1.49 reads no CPU limit)")
        return trace.view(self, cpuCount: HostFacts.affinity(process), memory: memory, mount: nil)
    }
}
