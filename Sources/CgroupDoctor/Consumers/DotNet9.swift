/// .NET 9 (coreclr): as .NET 8 for the CPU count; the GC memory limit honours ancestors
/// (dotnet/runtime#93611): v1 `hierarchical_memory_limit` of memory.stat when memory.use_hierarchy is
/// set, v2 the minimum memory.max from the leaf up to the mount point. See ``DotNetEngine``.
///
/// Source: dotnet/runtime src/coreclr/gc/unix/cgroup.cpp @0204545b, src/coreclr/pal/src/misc/cgroup.cpp
/// @04c0bdd0. Unverified against a binary: no .NET here; source-based.
public struct DotNet9: ConsumerModel {
    public init() {}
    public var id: String { "dotnet-9" }
    public var name: String { ".NET 9" }
    public var version: String { "dotnet/runtime release/9.0 src/coreclr/gc/unix/cgroup.cpp @0204545b, src/coreclr/pal/src/misc/cgroup.cpp @04c0bdd0" }
    public var verifiedAgainstBinary: Bool { false }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        DotNetEngine.predict(self, memoryWalk: true, input: process)
    }
}
