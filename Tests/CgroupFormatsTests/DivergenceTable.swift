/// Cases answered differently on purpose. Each row names exactly the comparisons that differ; the
/// same cases, with what the peer asserts, what we answer and why, are in docs/conformance.md
/// ("Diverging cases"), and a test checks the two lists are the same.
enum DivergenceTable {
    typealias Row = CorpusConformanceTests.Divergence

    static let all: [Row] = [
        // /proc/<pid>/cgroup
        Row(caseID: "automemlimit/cgroup-line-line-with-empty-controller-list-but-valid-fields", keys: ["error"],
            reason: "v1 hierarchy with neither controllers nor name: the kernel refuses to create one"),
        Row(caseID: "rust-num_cpus/v2-subsys-nonzero-ids", keys: ["base", "errors", "version"],
            reason: "N:: with N != 0 rejected; only 0:: is the v2 line"),
        Row(caseID: "rust-num_cpus/v2-subsys-v1-cpu-wins", keys: ["errors"],
            reason: "N:: with N != 0 rejected (the v1 cpu answer itself agrees)"),
        Row(caseID: "containerd-cgroups/hybrid-gnome-terminal-leading-tabs", keys: ["errors", "unified_path"],
            reason: "TAB-indented lines (Go raw-string artefact) have no decimal hierarchy ID"),
        Row(caseID: "containerd-cgroups/systemd240-hybrid-net-prio-missing", keys: ["errors", "unified_path"],
            reason: "TAB-indented lines (Go raw-string artefact) have no decimal hierarchy ID"),
        Row(caseID: "tikv-cgroup/proc-cgroup-v1-indented", keys: ["controller_paths.cpu", "controller_paths.cpuset", "controller_paths.memory", "errors"],
            reason: "12-space-indented lines (Rust raw-string artefact) have no decimal hierarchy ID"),
        Row(caseID: "golang-go-runtime-cgroup/cpu-cgroup-too-long", keys: ["error"],
            reason: "Go's fixed PathSize buffer; we have no length limit"),
        Row(caseID: "golang-go-runtime-cgroup/cpu-cgroup-too-long-line", keys: ["error"],
            reason: "Go's fixed ParseSize scratch buffer; we have no line-length limit"),
        // mountinfo
        Row(caseID: "moby-sys-mountinfo/escapes-spaces-newline-tab-backslash", keys: ["entries.1.VFSOptions"],
            reason: "super options are the rest of the line, raw spaces included; moby keeps the first chunk"),
        Row(caseID: "moby-sys-mountinfo/unescape-table", keys: ["row:18:\\222"],
            reason: "\\ooo decoded up to 0377; moby stops at 0177"),
        Row(caseID: "prometheus-procfs/fixture-pid26231-mountinfo", keys: ["entries.0.OptionalFields"],
            reason: "unknown optional-field tags are kept; prometheus drops them"),
        Row(caseID: "prometheus-procfs/line-unknown-optional-tag-dropped", keys: ["entry.OptionalFields"],
            reason: "unknown optional-field tags are kept; prometheus drops them"),
        Row(caseID: "golang-go-runtime-cgroup/cpu-mount-invalid-mount", keys: ["error"],
            reason: "a backslash not followed by three octal digits is kept literally; Go rejects \\1"),
        Row(caseID: "golang-go-runtime-cgroup/cpu-mount-long-escaped-path", keys: ["cpu_cgroup_dir_b64", "errors"],
            reason: "a mount point with a NUL byte is rejected: no kernel path contains NUL"),
        // resolution
        Row(caseID: "openjdk-cgroup-path-composition/subsystem-path-table",
            keys: ["row:(nested_path_doubleslash)", "row:CgroupV1SubsystemControllerTest.testCgPathSubstring",
                   "row:CgroupV1SubsystemControllerTest.testCgPathToMovedPath"],
            reason: "JDK falls back to the mount point; we join below the root and refuse outside it; // is one separator"),
        Row(caseID: "tikv-cgroup/cgroup2-root-outside-namespace", keys: ["resolution", "resolution.unified"],
            reason: "mount root above the cgroup namespace root: outsideCgroupNamespace, not lexically normalised"),
        Row(caseID: "tikv-cgroup/k8s-burstable-pod-v1", keys: ["controller_paths.cpu", "controller_paths.cpuacct", "controller_paths.memory"],
            reason: "no trailing slash on the mount point itself"),
        Row(caseID: "tikv-cgroup/translate-root-equals-path", keys: ["translate:/docker"],
            reason: "no trailing slash on the mount point itself"),
    ]
}
