/// uber-go/automaxprocs 1.6.0: 1.4's v1 rules plus cgroup v2 — used only when a `cgroup2` mount sits
/// at exactly /sys/fs/cgroup (a hybrid host's /sys/fs/cgroup/unified does not count), reading
/// /sys/fs/cgroup/<0:: path>/cpu.max ("max" = no quota, one field = period 100000, period 0 = error);
/// a v1 period of 0 is "no quota" instead of a division.
///
/// Source: uber-go/automaxprocs @1ea14c35 (v1.6.0) internal/cgroups/cgroups2.go, cgroups.go,
/// internal/runtime/cpu_quota_linux.go. Unverified against a binary (Debian ships 1.4); checked
/// against the upstream test data (fixtures/consumers/automaxprocs).
public struct Automaxprocs16: ConsumerModel {
    public init() {}
    public var id: String { "automaxprocs-1.6" }
    public var name: String { "uber-go/automaxprocs 1.6" }
    public var version: String { "go.uber.org/automaxprocs v1.6.0 internal/cgroups/cgroups2.go, cgroups.go" }
    public var verifiedAgainstBinary: Bool { false }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        AutomaxprocsEngine.predict(self, v2Support: true, input: process)
    }
}
