/// uber-go/automaxprocs 1.4.0 as packaged by Debian bookworm (golang-uber-automaxprocs-dev
/// 1.4.0-3): cgroup v1 only. On a v2-only host there is no cpu subsystem and GOMAXPROCS is left
/// alone. See ``AutomaxprocsEngine`` for the rules.
///
/// Source: /usr/share/gocode/src/go.uber.org/automaxprocs (v1.4.0) internal/cgroups/cgroups.go,
/// mountpoint.go, subsys.go, internal/runtime/cpu_quota_linux.go, maxprocs/maxprocs.go. Verified
/// against a Go 1.19 program built with that package (LanguageRuntimeGroundTruthTests; staged v2
/// layouts, where it finds no cpu subsystem, in CgroupV2GroundTruthTests).
public struct Automaxprocs14: ConsumerModel {
    public init() {}
    public var id: String { "automaxprocs-1.4" }
    public var name: String { "uber-go/automaxprocs 1.4 (Debian)" }
    public var version: String { "go.uber.org/automaxprocs v1.4.0 internal/cgroups/cgroups.go, mountpoint.go" }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        AutomaxprocsEngine.predict(self, v2Support: false, input: process)
    }
}
