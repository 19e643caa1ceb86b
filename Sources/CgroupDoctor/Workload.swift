import CgroupFormats
import SystemPackage

/// Who a process belongs to, derived from its cgroup path: the container, the Kubernetes pod, the
/// systemd unit. Paths are what every runtime writes, so this works on any node without asking a
/// runtime API.
///
/// Shapes recognised (cgroupfs and systemd drivers):
/// - Docker: `/docker/<id>`, `/system.slice/docker-<id>.scope`
/// - containerd/CRI: `.../cri-containerd-<id>.scope`, `/kubepods/.../pod<uid>/<id>`
/// - CRI-O: `.../crio-<id>.scope` (and `crio-conmon-<id>.scope` for its monitor)
/// - Podman: `.../libpod-<id>.scope`, `/machine.slice/libpod-<id>.scope`
/// - Kubernetes pods: `/kubepods/burstable/pod<uid>/...`, `/kubepods/pod<uid>/...` (guaranteed),
///   `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_with_underscores>.slice/...`
/// - systemd: the innermost `.service` or `.scope` unit (`containerd.service`, `session-3.scope`)
public struct Workload: Sendable, Hashable, Comparable, CustomStringConvertible {
    public struct Container: Sendable, Hashable {
        /// `docker`, `containerd`, `cri-o`, `podman`, or `unknown` for a bare 64-hex id.
        public var runtime: String
        /// The full id as it appears in the path.
        public var id: String
        public var shortID: String { String(id.prefix(12)) }
    }

    public struct Pod: Sendable, Hashable {
        /// The pod UID with dashes (`ef9e6830-7199-11eb-9004-246e967c4f1c`).
        public var uid: String
        /// `guaranteed`, `burstable` or `besteffort`.
        public var qos: String
    }

    public var container: Container?
    public var pod: Pod?
    /// The innermost systemd unit (`docker-<id>.scope`, `sshd.service`), if any.
    public var unit: String?

    public init(container: Container? = nil, pod: Pod? = nil, unit: String? = nil) {
        self.container = container
        self.pod = pod
        self.unit = unit
    }

    public var isEmpty: Bool { container == nil && pod == nil && unit == nil }

    /// `pod ef9e6830 (burstable) container bcab873e8fab (containerd)`, `unit sshd.service`, `host`.
    public var description: String {
        var parts: [String] = []
        if let pod { parts.append("pod \(pod.uid) (\(pod.qos))") }
        if let container { parts.append("container \(container.shortID) (\(container.runtime))") }
        if parts.isEmpty, let unit { parts.append("unit \(unit)") }
        return parts.isEmpty ? "host" : parts.joined(separator: " ")
    }

    public static func < (lhs: Workload, rhs: Workload) -> Bool { lhs.description < rhs.description }

    /// Classifies one cgroup path.
    public static func classify(_ path: FilePath) -> Workload {
        var workload = Workload()
        var qos = "guaranteed"
        var sawKubepods = false
        for component in path.components {
            let name = component.string
            if name == "kubepods" || name == "kubepods.slice" {
                sawKubepods = true
                continue
            }
            if sawKubepods, workload.pod == nil {
                if name == "burstable" || name == "besteffort" {
                    qos = name
                    continue
                }
                if name == "kubepods-burstable.slice" || name == "kubepods-besteffort.slice" {
                    qos = String(name.dropFirst("kubepods-".count).dropLast(".slice".count))
                    continue
                }
                if let uid = podUID(name) {
                    workload.pod = Pod(uid: uid, qos: qos)
                    continue
                }
            }
            if name.hasSuffix(".service") || name.hasSuffix(".scope") { workload.unit = name }
            if let container = containerID(name, insidePod: workload.pod != nil) { workload.container = container }
        }
        return workload
    }

    /// The workload of a process: from the first of its paths that names a container or pod,
    /// else the first that names a unit (processes in v1 hierarchies a runtime does not manage
    /// sit at `/` there).
    public static func of(_ cgroups: ProcessCgroups) -> Workload {
        var fallback = Workload()
        for entry in cgroups.entries where entry.path != "/" {
            let workload = classify(entry.path)
            if workload.container != nil || workload.pod != nil { return workload }
            if fallback.isEmpty { fallback = workload }
        }
        return fallback
    }

    /// `pod<uid>` (cgroupfs) or `kubepods-<qos>-pod<uid_with_underscores>.slice` / `kubepods-pod<uid>.slice` (systemd).
    static func podUID(_ name: String) -> String? {
        var rest = Substring(name)
        if rest.hasSuffix(".slice") {
            rest = rest.dropLast(".slice".count)
            guard let range = rest.firstRange(of: "-pod") else { return nil }
            rest = rest[range.upperBound...]
            return rest.replacingUnderscores()
        }
        guard rest.hasPrefix("pod") else { return nil }
        rest = rest.dropFirst(3)
        guard rest.count >= 32, rest.allSatisfy({ $0.isHexDigit || $0 == "-" || $0 == "_" }) else { return nil }
        return rest.replacingUnderscores()
    }

    static func containerID(_ name: String, insidePod: Bool) -> Container? {
        let scopes: [(prefix: String, runtime: String)] = [
            ("docker-", "docker"), ("cri-containerd-", "containerd"), ("crio-conmon-", "cri-o"), ("crio-", "cri-o"),
            ("libpod-conmon-", "podman"), ("libpod-", "podman"),
        ]
        if name.hasSuffix(".scope") {
            let stem = name.dropLast(".scope".count)
            for (prefix, runtime) in scopes where stem.hasPrefix(prefix) {
                let id = stem.dropFirst(prefix.count)
                if isContainerID(id) { return Container(runtime: runtime, id: String(id)) }
            }
            return nil
        }
        // containerd's systemd driver can also produce `<slice>:cri-containerd:<id>` as a name.
        if let range = name.firstRange(of: ":cri-containerd:") {
            let id = name[range.upperBound...]
            if isContainerID(id) { return Container(runtime: "containerd", id: String(id)) }
        }
        if isContainerID(Substring(name)) {
            // A bare id: Docker's cgroupfs driver puts it under /docker; kubelet's cgroupfs driver under the pod.
            return Container(runtime: insidePod ? "containerd" : "unknown", id: name)
        }
        return nil
    }

    static func isContainerID(_ id: Substring) -> Bool {
        id.count == 64 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

extension Substring {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
