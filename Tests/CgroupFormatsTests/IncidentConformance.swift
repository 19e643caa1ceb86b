import Foundation
import SystemPackage
import Testing

@testable import CgroupFormats

#if canImport(CgroupDoctor)
import CgroupDoctor
#endif

/// The incident samples (../shared/fixtures/incidents) carry a `.source.txt` instead of an
/// expected.json. What each one must show is written here, from its source text, one stem each.
struct IncidentCase: Sendable, Hashable, CustomTestStringConvertible, CustomStringConvertible {
    let stem: String
    var id: String { "incidents/\(stem)" }
    var description: String { id }
    var testDescription: String { id }

    func bytes(_ suffix: String) -> [UInt8]? {
        FileManager.default.contents(atPath: FixturePaths.incidents.appendingPathComponent("\(stem).\(suffix)").path).map { [UInt8]($0) }
    }

    /// Every stem in the folder (a stem is a file name up to its last dot).
    static let all: [IncidentCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: FixturePaths.incidents.path)) ?? []
        let stems = Set(names.compactMap { name -> String? in
            guard let dot = name.lastIndex(of: ".") else { return nil }
            var stem = String(name[..<dot])
            if stem.hasSuffix(".source") { stem = String(stem.dropLast(7)) }
            return stem
        })
        return stems.sorted().map(IncidentCase.init)
    }()
}

enum IncidentConformance {
    static func check(_ incident: IncidentCase, _ m: inout Mismatches) {
        let cgroupBytes = incident.bytes("cgroup")
        let mountBytes = incident.bytes("mountinfo")
        let cgroups = cgroupBytes.map { ProcessCgroups.parse($0, file: incident.id + ".cgroup") }
        let info = mountBytes.map { MountInfo.parse($0, file: incident.id + ".mountinfo") }
        m.check("source", incident.bytes("source.txt") != nil, "no .source.txt")
        m.check("errors.cgroup", cgroups?.errors.isEmpty ?? true, "rejected: \(cgroups?.errors.map(\.description) ?? [])")
        m.check("errors.mountinfo", info?.errors.isEmpty ?? true, "rejected: \(info?.errors.map(\.description) ?? [])")

        switch incident.stem {
        case "jdk-8343191-outside-root":
            m.equal("cgroup.count", ours: cgroups?.entries.count, theirs: 1)
            m.equal("mountinfo.count", ours: info?.entries.count, theirs: 1)
            m.equal("mountinfo.optional", ours: info?.entries.first?.optionalFields, theirs: [OptionalField(tag: "master", value: "25")])
        case "likakuli-k8s-pod":
            m.equal("cgroup.count", ours: cgroups?.entries.count, theirs: 11)
            m.equal("mountinfo.count", ours: info?.entries.count, theirs: 13)
            m.equal("cgroup.1.controllers", ours: cgroups?.entries.first { $0.hierarchyID == 2 }?.controllers, theirs: ["cpuacct", "cpu"])
        case "lxd-4247-named-unmounted":
            m.equal("cgroup.count", ours: cgroups?.entries.count, theirs: 10)
            m.equal("mountinfo.count", ours: info?.entries.count, theirs: 0)
            m.equal("names", ours: cgroups?.entries.compactMap(\.name), theirs: ["systemd", "openrc"])
            m.check("unified", cgroups?.unified != nil, "no 0:: line")
        case "moby-38822-nonsystemd":
            m.equal("cgroup.count", ours: cgroups?.entries.count, theirs: 2)
            m.equal("first", ours: cgroups?.entries.first?.hierarchyLabel, theirs: "name=systemd")
            m.check("mountinfo", info == nil, "the report has no mountinfo")
        case "netdata-563-centos72-host":
            m.equal("mountinfo.count", ours: info?.entries.count, theirs: 13)
            m.check(
                "optional", info?.entries.allSatisfy { $0.optionalFields.first?.tag == "shared" } ?? false,
                "every line carries shared:N")
            m.equal(
                "cpu.superOptions", ours: info?.entries.last?.superOptions, theirs: ["rw", "cpuacct", "cpu"])
        case "runc-258-no-optional-fields":
            m.equal("mountinfo.count", ours: info?.entries.count, theirs: 6)
            m.check("optional", info?.entries.allSatisfy { $0.optionalFields.isEmpty } ?? false, "no optional fields")
            m.equal("source.none", ours: info?.entries.first?.source, theirs: "none")
        case "synthetic-cpu-mirror-unmounted":
            m.equal("cgroup.count", ours: cgroups?.entries.count, theirs: 12)
            m.equal("mirror", ours: cgroups?.entries.first?.name, theirs: "cpu_mirror")
            m.equal("mirror.controllers", ours: cgroups?.entries.first?.controllers, theirs: [])
        default:
            m.fail("stem", "no expectation written for this incident")
        }
        resolve(incident, cgroups: cgroups, info: info, &m)
    }

    #if canImport(CgroupDoctor)
    static func resolve(_ incident: IncidentCase, cgroups: ProcessCgroups?, info: MountInfo?, _ m: inout Mismatches) {
        guard let cgroups else { return }
        let mountInfo = info ?? MountInfo(file: incident.id + ".mountinfo (absent)", entries: [], errors: [])
        let lines = PathResolver.resolve(cgroups, pid: 1, mountInfo: mountInfo).lines
        switch incident.stem {
        case "jdk-8343191-outside-root":
            // .../garden/bad/... is not below the mount root .../garden/good/...: say so, never join "../../bad".
            guard case .unresolved(.outsideMountRoot(let hierarchy, _, let mounts, _))? = lines.first?.resolution else {
                m.fail("resolution", "expected outsideMountRoot, got \(String(describing: lines.first?.resolution))")
                return
            }
            m.equal("hierarchy", ours: hierarchy.id, theirs: 11)
            m.equal("mounts", ours: mounts.count, theirs: 1)
        case "likakuli-k8s-pod":
            // Mount root == cgroup path: the directory is the mount point itself.
            for line in lines {
                guard case .resolved(let directory, let mount) = line.resolution else {
                    m.fail("line:\(line.entry.line)", "unresolved: \(line.resolution)")
                    continue
                }
                m.equal("line:\(line.entry.line)", ours: directory, theirs: mount.mountPoint)
            }
        case "lxd-4247-named-unmounted", "moby-38822-nonsystemd":
            for line in lines {
                guard case .unresolved(.notMounted(let hierarchy, _, _)) = line.resolution else {
                    m.fail("line:\(line.entry.line)", "expected notMounted, got \(line.resolution)")
                    continue
                }
                m.check(
                    "explanation:\(line.entry.line)", hierarchy.isUnified || line.resolution.explanationNames(hierarchy.label),
                    "the explanation does not name \(hierarchy.label)")
            }
        case "synthetic-cpu-mirror-unmounted":
            for line in lines {
                if line.entry.name == "cpu_mirror" {
                    guard case .unresolved(.notMounted(let hierarchy, _, _)) = line.resolution else {
                        m.fail("cpu_mirror", "expected notMounted, got \(line.resolution)")
                        continue
                    }
                    m.equal("cpu_mirror.id", ours: hierarchy.id, theirs: 12)
                } else {
                    m.check(
                        "line:\(line.entry.line)", line.resolution.directory?.string.hasPrefix("/sys/fs/cgroup/") ?? false,
                        "unresolved: \(line.resolution)")
                }
            }
        default:
            m.check("resolution", lines.isEmpty, "no resolution expectation written")
        }
    }
    #else
    static func resolve(_ incident: IncidentCase, cgroups: ProcessCgroups?, info: MountInfo?, _ m: inout Mismatches) {
        if cgroups != nil {
            m.fail("resolver", "PathResolver is not linked into CgroupFormatsTests (Package.swift)")
        }
    }
    #endif
}

#if canImport(CgroupDoctor)
extension Resolution {
    func explanationNames(_ label: String) -> Bool {
        if case .unresolved(let reason) = self { return reason.explanation(pid: 1).contains(label) }
        return false
    }
}
#endif
