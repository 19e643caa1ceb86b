import Foundation
import SystemPackage

@testable import CgroupFormats

/// The corpus kinds about finding a hierarchy's mount and turning a cgroup path into a directory.
/// They are answered by `PathResolver.resolve` and `Hierarchy.isMounted` (CgroupDoctor).
enum ResolutionConformance {
    static let kinds: Set<String> = [
        "cgroup-v1-mounts", "cgroup-v1-find-mountpoint", "cgroup-v2-find-mountpoint", "cgroup-mounts",
        "cgroup-v1-resolve", "cgroup-v2-resolve", "cgroup-resolve-cpu", "path-translate",
    ]
}

#if canImport(CgroupDoctor)
import CgroupDoctor

extension ResolutionConformance {
    static let isAvailable = true

    static func check(_ c: CorpusCase, kind: String, json: [String: Any], _ m: inout Mismatches) {
        let expect = json["expect"] as? [String: Any] ?? [:]
        let inputs = json["inputs"] as? [String: Any] ?? [:]
        let expectError = (json["expect_error"] as? Bool) ?? false
        switch kind {
        case "cgroup-v1-mounts": v1Mounts(c, inputs: inputs, expect: expect, &m)
        case "cgroup-v1-find-mountpoint", "cgroup-v2-find-mountpoint": findMountPoint(c, inputs: inputs, expect: expect, &m)
        case "cgroup-mounts": cgroupMounts(c, expect: expect, &m)
        case "cgroup-v1-resolve", "cgroup-v2-resolve": resolveFiles(c, expect: expect, expectError: expectError, &m)
        case "cgroup-resolve-cpu": resolveCPU(c, inputs: inputs, expect: expect, expectError: expectError, &m)
        case "path-translate": translate(c, expect: expect, &m)
        default: m.fail("kind", "ResolutionConformance cannot check \(kind)")
        }
    }

    static func mounts(_ c: CorpusCase, _ m: inout Mismatches) -> MountInfo {
        let parsed = MountInfo.parse(c.bytes("mountinfo"), file: c.id + "/mountinfo")
        for error in parsed.errors { checkErrorQuality(error, file: parsed.file, lines: splitLines(c.bytes("mountinfo")), &m) }
        return parsed
    }

    /// A request for one subsystem as runc/containerd spell it: `cpu`, or `name=systemd`.
    static func hierarchy(forSubsystem subsystem: String) -> Hierarchy {
        if subsystem.hasPrefix("name=") { return Hierarchy(id: 1, controllers: [], name: String(subsystem.dropFirst(5))) }
        return Hierarchy(id: 1, controllers: [Controller(subsystem)], name: nil)
    }

    // MARK: which mounts carry a subsystem

    static func v1Mounts(_ c: CorpusCase, inputs: [String: Any], expect: [String: Any], _ m: inout Mismatches) {
        let info = mounts(c, &m)
        m.check("errors", info.errors.isEmpty, "rejected: \(info.errors.map(\.description))")
        let subsystems = inputs["requested_subsystems"] as? [String] ?? []
        m.check("requested_subsystems", !subsystems.isEmpty, "no subsystems requested")
        let found: [(subsystem: String, mounts: [MountEntry])] = subsystems.map { subsystem in
            (subsystem, info.entries.filter { hierarchy(forSubsystem: subsystem).isMounted(by: $0) })
        }
        for (name, value) in expect.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "every_requested_subsystem_found":
                for item in found {
                    m.check("found.\(item.subsystem)", !item.mounts.isEmpty == ((value as? Bool) ?? true), "found \(item.mounts.count)")
                }
            case "root_for_every_subsystem":
                for item in found {
                    m.equal("root.\(item.subsystem)", ours: item.mounts.first?.root.string, theirs: jsonString(value))
                }
            case "mountpoint_rule":
                for item in found {
                    let point = item.mounts.first?.mountPoint.string ?? ""
                    let bare = item.subsystem.hasPrefix("name=") ? String(item.subsystem.dropFirst(5)) : item.subsystem
                    m.check(
                        "mountpoint.\(item.subsystem)", point.hasPrefix("/sys/fs/cgroup/") || point.contains(bare),
                        "mount point \(point) breaks \(jsonString(value) ?? "")")
                }
            case "all_true_equals_all_false":
                for item in found {
                    m.check("single.\(item.subsystem)", item.mounts.count == 1, "\(item.mounts.count) mounts")
                }
            case "all_true_record_count":
                // runc returns one record per mount, however many requested subsystems it carries.
                m.equal(name, ours: Set(found.flatMap { $0.mounts.map(\.line) }).count, theirs: jsonInt(value) ?? -1)
            case "no_result_has_mountpoint":
                for item in found {
                    m.check(
                        "mountpoint.\(item.subsystem)", !item.mounts.contains { $0.mountPoint.string == jsonString(value) },
                        "\(item.subsystem) matched the mount at \(jsonString(value) ?? "")")
                }
            default:
                m.fail(name, "expectation key not understood by the runner")
            }
        }
    }

    static func findMountPoint(_ c: CorpusCase, inputs: [String: Any], expect: [String: Any], _ m: inout Mismatches) {
        let info = mounts(c, &m)
        m.check("errors", info.errors.isEmpty, "rejected: \(info.errors.map(\.description))")
        let wanted: Hierarchy
        if jsonString(inputs["version"]) == "V2" {
            wanted = Hierarchy(id: 0, controllers: [], name: nil)
        } else {
            wanted = hierarchy(forSubsystem: jsonString(inputs["subsystem"]) ?? jsonString(inputs["controller"]) ?? "?")
        }
        let candidates = info.entries.filter { wanted.isMounted(by: $0) }
        if let queries = expect["queries"] as? [[String: Any]] {
            // runc: the first mount of the subsystem whose mount point has the given string prefix.
            for query in queries {
                let prefix = jsonString(query["cgroupPath_prefix"]) ?? ""
                let hit = candidates.first { $0.mountPoint.string.hasPrefix(prefix) }
                m.equal("query:\(prefix)", ours: hit?.mountPoint.string, theirs: jsonString(query["mountpoint"]))
            }
        } else {
            m.equal("root", ours: candidates.first?.root.string, theirs: jsonString(expect["root"]))
            m.equal("mount_point", ours: candidates.first?.mountPoint.string, theirs: jsonString(expect["mount_point"]))
        }
    }

    static func cgroupMounts(_ c: CorpusCase, expect: [String: Any], _ m: inout Mismatches) {
        let info = mounts(c, &m)
        m.check("errors", info.errors.isEmpty, "rejected: \(info.errors.map(\.description))")
        let v1 = info.entries.filter { $0.fileSystemType == "cgroup" }.map(\.mountPoint.string)
        let v2 = info.entries.filter { $0.fileSystemType == "cgroup2" }.map(\.mountPoint.string)
        m.equal("v1_mount_points", ours: v1.count, theirs: (expect["v1_mount_points"] as? [String: Any])?.count ?? -1)
        m.equal("v2_mount_points", ours: v2.count, theirs: (expect["v2_mount_points"] as? [String: Any])?.count ?? -1)
    }

    // MARK: cgroup file + mountinfo → directories

    static func resolveFiles(_ c: CorpusCase, expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let info = mounts(c, &m)
        let cgroupBytes = c.bytes("cgroup")
        let cgroups = ProcessCgroups.parse(cgroupBytes, file: c.id + "/cgroup")
        for error in cgroups.errors { checkErrorQuality(error, file: cgroups.file, lines: splitLines(cgroupBytes), &m) }
        let paths = PathResolver.resolve(cgroups, pid: 1, mountInfo: info)
        // A line whose hierarchy has a mount but does not resolve is an error for these peers (they
        // translate every mounted subsystem); a hierarchy with no mount is simply absent.
        let broken = paths.lines.filter {
            if case .unresolved(let reason) = $0.resolution, case .notMounted = reason { return false }
            return $0.resolution.directory == nil
        }
        let failed = !info.errors.isEmpty || !cgroups.errors.isEmpty || !broken.isEmpty

        if expectError {
            var ours = failed
            if jsonString(expect["error"]) == "ErrNotV2" { ours = ours || cgroups.unified == nil }
            if c.source == "uber-go-automaxprocs", expect["error_contains"] != nil { ours = ours || cgroups.unified == nil }
            m.check("error", ours, "resolved without error")
            return
        }
        m.check("errors", info.errors.isEmpty && cgroups.errors.isEmpty, "rejected: \((info.errors + cgroups.errors).map(\.description))")
        m.check("resolution", broken.isEmpty, "unresolved: \(broken.map { "\($0.entry.text): \($0.resolution)" })")

        func directory(for controller: String) -> String? {
            let line = paths.lines.first {
                controller.isEmpty ? $0.entry.isUnified : $0.entry.controllers.contains(Controller(controller))
            }
            return line?.resolution.directory?.string
        }
        for (name, value) in expect.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "controller_paths":
                for (controller, path) in (value as? [String: String] ?? [:]) {
                    m.equal("controller_paths.\(controller)", ours: directory(for: controller), theirs: path)
                }
            case "resolved_count":
                let resolved = Set(paths.lines.filter { $0.resolution.directory != nil }.flatMap(\.entry.controllers))
                m.equal(name, ours: resolved.count, theirs: jsonInt(value) ?? -1)
            case "group_path":
                m.equal(name, ours: cgroups.unified?.path.string, theirs: jsonString(value))
            case "memory_limit_in_bytes", "must_not_panic":
                // tikv reads memory.max below the v2 directory; what matters here is that the v2
                // line resolves to a directory at all.
                m.check(
                    "resolution.unified", directory(for: "") != nil,
                    "v2 line unresolved: \(paths.lines.first { $0.entry.isUnified }.map { "\($0.resolution)" } ?? "no 0:: line")")
            default:
                m.fail(name, "expectation key not understood by the runner")
            }
        }
    }

    /// The Go runtime's `ParseCPUMount`: the directory of the CPU controller for a given cgroup path.
    static func resolveCPU(_ c: CorpusCase, inputs: [String: Any], expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let info = mounts(c, &m)
        let path = jsonString(inputs["cgroup_path"]) ?? "/"
        let v1 = jsonString(inputs["version"]) == "V1"
        let entry = CgroupEntry(line: 1, hierarchyID: v1 ? 1 : 0, controllers: v1 ? [.cpu] : [], name: nil, path: FilePath(path))
        let resolution = PathResolver.resolve(entry, mounts: info.entries, mountInfoFile: info.file)
        // The Go scanner fails the whole file on one malformed line.
        let failed = !info.errors.isEmpty || resolution.directory == nil
        if expectError {
            m.check("error", failed, "resolved to \(resolution.directory?.string ?? "")")
            return
        }
        m.check("errors", info.errors.isEmpty, "rejected: \(info.errors.map(\.description))")
        if let dir = jsonString(expect["cpu_cgroup_dir"]) {
            m.equal("cpu_cgroup_dir", ours: resolution.directory?.string, theirs: dir)
        } else if let encoded = jsonString(expect["cpu_cgroup_dir_b64"]), let data = Data(base64Encoded: encoded) {
            m.check(
                "cpu_cgroup_dir_b64", resolution.directory.map(pathBytes) == [UInt8](data),
                "ours \(String(describing: resolution)) differs from the expected bytes")
        } else {
            m.fail("cpu_cgroup_dir", "no expected directory")
        }
    }

    // MARK: path tables

    static func syntheticMount(root: String, mountPoint: String, v2: Bool) -> MountEntry {
        MountEntry(
            line: 1, mountID: 1, parentID: 0, device: DeviceNumber(major: 0, minor: 1), root: FilePath(root),
            mountPoint: FilePath(mountPoint), mountOptions: ["rw"], optionalFields: [],
            fileSystemType: v2 ? "cgroup2" : "cgroup", source: "cgroup", superOptions: v2 ? ["rw"] : ["rw", "cpu"],
            text: "")
    }

    /// Resolves `path` through one mount, parsing it as the kernel line `1:cpu:<path>` (or `0::<path>`),
    /// so a relative path is the parse error it would be in a real file.
    static func translate(_ path: String, through mount: MountEntry) -> FilePath? {
        let line = (mount.fileSystemType == "cgroup2" ? "0::" : "1:cpu:") + path
        guard let entry = try? CgroupEntry.parse(Array(line.utf8), file: "table") else { return nil }
        return PathResolver.resolve(entry, mounts: [mount], mountInfoFile: "table").directory
    }

    static func translate(_ c: CorpusCase, expect: [String: Any], _ m: inout Mismatches) {
        if c.fileExists("resolve_cases.json") {
            // automemlimit: mountpoint/root/cgroup_rel_path → want or want_err.
            for row in c.json("resolve_cases.json") as? [[String: Any]] ?? [] {
                let mount = syntheticMount(root: jsonString(row["root"]) ?? "/", mountPoint: jsonString(row["mountpoint"]) ?? "/", v2: false)
                m.equal(
                    "row:\(jsonString(row["name"]) ?? "?")", ours: translate(jsonString(row["cgroup_rel_path"]) ?? "", through: mount)?.string,
                    theirs: jsonString(row["want"]))
            }
        } else if c.fileExists("translate_cases.json") {
            // num_cpus: null = not under the root.
            for (index, row) in (c.json("translate_cases.json") as? [[String: Any]] ?? []).enumerated() {
                let mount = syntheticMount(root: jsonString(row["mount_root"]) ?? "/", mountPoint: jsonString(row["mount_point"]) ?? "/", v2: false)
                let path = jsonString(row["cgroup_path"]) ?? ""
                m.equal("row:\(index):\(path)", ours: translate(path, through: mount)?.string, theirs: jsonString(row["expected"]))
            }
        } else if c.fileExists("path_cases.json") {
            // JDK: v2 ignores the root; expected_walk[0] is the controller directory itself (the rest
            // of the walk is the JDK's search for limits on ancestors, a consumer behaviour).
            for row in c.json("path_cases.json") as? [[String: Any]] ?? [] {
                let v2 = jsonString(row["controller"]) == "v2"
                let root = jsonString(row["root_path"]) ?? "/"
                let mount = syntheticMount(root: root, mountPoint: jsonString(row["mount_path"]) ?? "/", v2: v2)
                let expected = jsonString(row["expected"]) ?? (row["expected_walk"] as? [String])?.first
                let name = (jsonString(row["test"]) ?? "?").split(separator: " ").last.map(String.init) ?? "?"
                m.equal("row:\(name)", ours: translate(jsonString(row["cgroup_path"]) ?? "", through: mount)?.string, theirs: expected)
            }
        } else {
            // A single mountinfo line and the paths asserted against it.
            let info = mounts(c, &m)
            m.check("errors", info.errors.isEmpty, "rejected: \(info.errors.map(\.description))")
            guard let mount = info.entries.first else {
                m.fail("mountinfo", "no entry")
                return
            }
            for (name, value) in expect.sorted(by: { $0.key < $1.key }) {
                switch name {
                case "ok":
                    for row in value as? [[String: Any]] ?? [] {
                        let path = jsonString(row["path"]) ?? ""
                        m.equal("ok:\(path)", ours: translate(path, through: mount)?.string, theirs: jsonString(row["translated"]))
                    }
                case "not_exposed_error", "error_relative_input":
                    for path in value as? [String] ?? [] {
                        let ours = translate(path, through: mount)
                        m.check("\(name):\(path)", ours == nil, "translated to \(ours?.string ?? "")")
                    }
                case "translate":
                    for (path, directory) in value as? [String: String] ?? [:] {
                        m.equal("translate:\(path)", ours: translate(path, through: mount)?.string, theirs: directory)
                    }
                case "parsed":
                    compareMountEntry(value as? [String: Any] ?? [:], mount, prefix: "parsed", &m)
                default:
                    m.fail(name, "expectation key not understood by the runner")
                }
            }
        }
    }
}
#else
extension ResolutionConformance {
    static let isAvailable = false

    static func check(_ c: CorpusCase, kind: String, json: [String: Any], _ m: inout Mismatches) {
        m.fail(
            "resolver",
            "PathResolver is not linked into CgroupFormatsTests: Package.swift must list CgroupDoctor as a dependency of this test target")
    }
}
#endif
