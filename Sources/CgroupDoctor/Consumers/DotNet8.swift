/// .NET 8 (coreclr): ProcessorCount and the GC memory limit from the leaf cgroup only (v1
/// memory.limit_in_bytes, v2 memory.max). See ``DotNetEngine``.
///
/// Source: dotnet/runtime release/8.0 src/coreclr/pal/src/misc/cgroup.cpp, src/coreclr/gc/unix/cgroup.cpp.
/// Unverified against a binary: no .NET here; source-based.
public struct DotNet8: ConsumerModel {
    public init() {}
    public var id: String { "dotnet-8" }
    public var name: String { ".NET 8" }
    public var version: String { "dotnet/runtime release/8.0 src/coreclr/pal/src/misc/cgroup.cpp, src/coreclr/gc/unix/cgroup.cpp" }
    public var verifiedAgainstBinary: Bool { false }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        DotNetEngine.predict(self, memoryWalk: false, input: process)
    }
}
