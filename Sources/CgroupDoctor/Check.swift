/// A diagnosis: a small pure function from a snapshot to findings. One type per file under
/// Checks/, whose doc comment explains the kernel behaviour and names the fixture that triggers it.
public protocol Check: Sendable {
    /// Stable id, used in JSON, `--ignore` and `--list-checks`.
    var id: String { get }
    /// The most severe finding it can produce.
    var severity: Severity { get }
    /// One line for `--list-checks`.
    var title: String { get }
    func run(_ snapshot: HostSnapshot) -> [Finding]
}

/// The catalogue, in report order.
public enum Checks {
    public static let all: [any Check] = [
        HierarchyNotMounted(),
        // group A: host-level checks (systemd, v2-only hosts, ghost 0:: lines, end of life, unbound controllers)
        SystemdHierarchyForeign(),
        V1ConsumersOnV2Host(),
        GhostUnifiedLine(),
        ControllerDisabled(),
        ControllerUnbound(),
        V1EndOfLife(),
        // group B: mount-shape checks (paths outside mount roots, substring collisions, duplicate mounts)
        PathOutsideMountRoot(),
        SubstringCollision(),
        DuplicateHierarchyMount(),
        // group C: resource and security checks (dying cgroups, release_agent, ...)
        DyingCgroups(),
        ReleaseAgentSet(),
        Unparseable(),
    ]

    public static func named(_ id: String) -> (any Check)? { all.first { $0.id == id } }
}
