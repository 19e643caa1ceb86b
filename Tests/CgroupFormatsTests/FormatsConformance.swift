import Foundation
import SystemPackage

@testable import CgroupFormats

/// Checks the corpus kinds that exercise the three formats directly: mountinfo (whole files and
/// single lines), `/proc/<pid>/cgroup` (whole files and single lines), `/proc/cgroups` lines, the
/// octal-escape tables, and the two mount-table lookups that need only parsed mount points.
enum FormatsConformance {
    static let kinds: Set<String> = [
        "mountinfo-parse", "mountinfo-line", "proc-pid-cgroup", "proc-pid-cgroup-line", "proc-cgroups-line",
        "field-unescape", "mountinfo-find", "mount-ancestor",
    ]

    static func check(_ c: CorpusCase, kind: String, json: [String: Any], _ m: inout Mismatches) {
        let expect = json["expect"] as? [String: Any] ?? [:]
        let expectError = (json["expect_error"] as? Bool) ?? false
        switch kind {
        case "mountinfo-parse", "mountinfo-line":
            mountInfo(c, kind: kind, expect: expect, expectError: expectError, &m)
        case "proc-pid-cgroup-line":
            cgroupLine(c, expect: expect, expectError: expectError, &m)
        case "proc-pid-cgroup":
            cgroupFile(c, expect: expect, expectError: expectError, &m)
        case "proc-cgroups-line":
            controllersLine(c, expect: expect, expectError: expectError, &m)
        case "field-unescape":
            unescapeTable(c, &m)
        case "mountinfo-find":
            mountInfoFind(c, json: json, expect: expect, &m)
        case "mount-ancestor":
            mountAncestor(c, expect: expect, &m)
        default:
            m.fail("kind", "FormatsConformance cannot check \(kind)")
        }
    }

    // MARK: mountinfo

    static func mountInfo(_ c: CorpusCase, kind: String, expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let file = c.id + "/mountinfo"
        let bytes = c.bytes("mountinfo")
        let lines = splitLines(bytes)
        let parsed = MountInfo.parse(bytes, file: file)
        for error in parsed.errors { checkErrorQuality(error, file: file, lines: lines, &m) }

        if expectError {
            if kind == "mountinfo-line" && !bytes.contains(0x0A) {
                // A single-line test passes the line itself, so an empty line must be an error too.
                do throws(ParseError) {
                    let entry = try MountInfo.parseLine(bytes, file: file)
                    m.fail("error", "accepted: \(entry.text)")
                } catch {
                    checkErrorQuality(error, file: file, lines: [bytes], &m)
                }
            } else {
                m.check("error", !parsed.errors.isEmpty, "no line rejected")
            }
            return
        }
        m.check("errors", parsed.errors.isEmpty, "rejected: \(parsed.errors.map(\.description))")
        let entries = parsed.entries

        for (name, value) in expect.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "entry":
                guard entries.count == 1 else {
                    m.fail("entry", "expected one entry, parsed \(entries.count)")
                    continue
                }
                compareMountEntry(value as? [String: Any] ?? [:], entries[0], prefix: "entry", &m)
            case "entries":
                for (index, fields) in (value as? [String: Any] ?? [:]) {
                    guard let i = Int(index), i < entries.count else {
                        m.fail("entries.\(index)", "no entry \(index) (parsed \(entries.count))")
                        continue
                    }
                    compareMountEntry(fields as? [String: Any] ?? [:], entries[i], prefix: "entries.\(index)", &m)
                }
            case "entry_count":
                m.equal("entry_count", ours: entries.count, theirs: jsonInt(value) ?? -1)
            case "lookup_by_id":
                // "first entry in file order with that ID": IDs repeat in captured tables.
                for (id, fields) in (value as? [String: Any] ?? [:]) {
                    guard let entry = entries.first(where: { $0.mountID == Int(id) }) else {
                        m.fail("lookup_by_id.\(id)", "no entry with mount ID \(id)")
                        continue
                    }
                    compareMountEntry(fields as? [String: Any] ?? [:], entry, prefix: "lookup_by_id.\(id)", &m)
                }
            case "parses_ok":
                m.check("parses_ok", entries.count == 1 && parsed.errors.isEmpty, "did not parse to one entry")
            case "fs_type", "mount_source", "source", "target":
                guard entries.count == 1 else {
                    m.fail(name, "expected one entry, parsed \(entries.count)")
                    continue
                }
                compareMountEntry([name: value], entries[0], prefix: "entry", &m)
            case "super_options_contains":
                for (option, optionValue) in (value as? [String: Any] ?? [:]) {
                    let token = isNull(optionValue) ? option : "\(option)=\(jsonString(optionValue) ?? "")"
                    m.check(
                        "super_options_contains.\(option)", entries.first?.superOptions.contains(token) ?? false,
                        "no super option \(token)")
                }
            case "filters":
                mobyFilters(value as? [[String: Any]] ?? [], entries: entries, &m)
            case "may_fail", "note_on_asserts", "lookup_rule", "vfs_table_subtest":
                // Informational: may_fail only lets old libmount fail; we must parse it anyway
                // (checked by "errors" above).
                continue
            default:
                m.fail(name, "expectation key not understood by the runner")
            }
        }
    }

    /// moby/sys mountinfo filters, applied to our parsed mount points.
    static func mobyFilters(_ filters: [[String: Any]], entries: [MountEntry], _ m: inout Mismatches) {
        for filter in filters {
            let text = jsonString(filter["filter"]) ?? ""
            let want = jsonInt(filter["count"]) ?? -1
            let name = String(text.prefix { $0 != "(" })
            let call = text.split(separator: ")", maxSplits: 1).first.map(String.init) ?? text
            let args = call.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
            let count: Int
            switch name {
            case "SingleEntryFilter":
                count = min(1, entries.count { $0.mountPoint.string == args.first })
            case "PrefixFilter":
                let prefix = args.first ?? ""
                count = entries.count { $0.mountPoint.string == prefix || $0.mountPoint.string.hasPrefix(prefix + "/") }
            case "ParentsFilter":
                let path = FilePath(args.first ?? "")
                count = entries.count { path.starts(with: $0.mountPoint) }
            case "FSTypeFilter":
                count = entries.count { args.contains($0.fileSystemType) }
            default:
                m.fail("filters.\(text)", "filter not understood by the runner")
                continue
            }
            m.equal("filters.\(text)", ours: count, theirs: want)
        }
    }

    // MARK: /proc/<pid>/cgroup

    static func cgroupLine(_ c: CorpusCase, expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let file = c.id + "/cgroup"
        let bytes = c.bytes("cgroup")
        do throws(ParseError) {
            let entry = try CgroupEntry.parse(bytes, file: file)
            if expectError {
                m.fail("error", "accepted: \(entry.text)")
                return
            }
            compareCgroupEntry(expect["entry"] as? [String: Any] ?? [:], entry, prefix: "entry", &m)
        } catch {
            checkErrorQuality(error, file: file, lines: [bytes], &m)
            m.check("error", expectError, "rejected: \(error)")
        }
    }

    static func compareCgroupEntry(_ expected: [String: Any], _ entry: CgroupEntry, prefix: String, _ m: inout Mismatches) {
        let tokens = entry.controllerField.split(separator: ",").map(String.init)
        for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
            let key = "\(prefix).\(name)"
            switch name {
            case "HierarchyID", "ID":
                m.equal(key, ours: entry.hierarchyID, theirs: jsonInt(value) ?? -1)
            case "Controllers", "Subsystems":
                m.equal(key, ours: tokens, theirs: isNull(value) ? [] : (value as? [String] ?? ["?"]))
            case "ControllerList":
                m.equal(key, ours: entry.controllerField, theirs: jsonString(value) ?? "?")
            case "Path", "Name", "CgroupPath":
                m.equal(key, ours: entry.path.string, theirs: jsonString(value) ?? "?")
            default:
                m.fail(key, "expectation key not understood by the runner")
            }
        }
    }

    /// The Go runtime's and num_cpus's CPU cgroup choice, over our entries: a v1 line whose
    /// controllers include `cpu` wins; otherwise the v2 line.
    static func cpuSelection(_ parsed: ProcessCgroups) -> (path: String, version: String)? {
        if let v1 = parsed.entries.first(where: { $0.controllers.contains(.cpu) }) { return (v1.path.string, "V1") }
        if let v2 = parsed.unified { return (v2.path.string, "V2") }
        return nil
    }

    static func cgroupFile(_ c: CorpusCase, expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let file = c.id + "/cgroup"
        let bytes = c.bytes("cgroup")
        let parsed = ProcessCgroups.parse(bytes, file: file)
        for error in parsed.errors { checkErrorQuality(error, file: file, lines: splitLines(bytes), &m) }

        if expectError {
            // What "error" means follows the peer's operation: a parse error always counts; the
            // containerd/runc v2 helpers also fail without a `0::` line, the Go runtime without a cpu
            // or `0::` line.
            var failed = !parsed.errors.isEmpty
            if c.source == "containerd-cgroups" { failed = failed || parsed.unified == nil }
            if c.source == "golang-go-runtime-cgroup" { failed = failed || cpuSelection(parsed) == nil }
            m.check("error", failed, "accepted: \(parsed.entries.map(\.text))")
            return
        }
        m.check("errors", parsed.errors.isEmpty, "rejected: \(parsed.errors.map(\.description))")

        for (name, value) in expect.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "unified_path":
                m.equal("unified_path", ours: parsed.unified?.path.string, theirs: jsonString(value))
            case "controller_paths":
                for (controller, path) in (value as? [String: String] ?? [:]) {
                    let entry: CgroupEntry?
                    if controller.isEmpty {
                        entry = parsed.unified
                    } else if controller.hasPrefix("name=") {
                        entry = parsed.entries.first { $0.name == String(controller.dropFirst(5)) }
                    } else {
                        entry = parsed.entries.first { $0.controllers.contains(Controller(controller)) }
                    }
                    m.equal("controller_paths.\(controller)", ours: entry?.path.string, theirs: path)
                }
            case "path", "base":
                m.equal(name, ours: cpuSelection(parsed)?.path, theirs: jsonString(value))
            case "version":
                m.equal("version", ours: cpuSelection(parsed)?.version, theirs: jsonString(value))
            case "lookup":
                // containerd: asking for a controller no line lists fails ("not active").
                let lookup = value as? [String: Any] ?? [:]
                let controller = Controller(jsonString(lookup["controller"]) ?? "?")
                m.check(
                    "lookup", !parsed.entries.contains { $0.controllers.contains(controller) },
                    "\(controller) is listed, expected it to be absent")
            case "no_empty_controller_keys_in_map":
                m.check(
                    name, parsed.entries.allSatisfy { $0.controllers.allSatisfy { !$0.rawValue.isEmpty } },
                    "an empty controller name was produced")
            default:
                m.fail(name, "expectation key not understood by the runner")
            }
        }
    }

    // MARK: /proc/cgroups

    static func controllersLine(_ c: CorpusCase, expect: [String: Any], expectError: Bool, _ m: inout Mismatches) {
        let file = c.id + "/cgroups"
        let bytes = c.bytes("cgroups")
        do throws(ParseError) {
            let entry = try ControllerEntry.parse(bytes, file: file)
            if expectError {
                m.fail("error", "accepted: \(entry.text)")
                return
            }
            for (name, value) in (expect["entry"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                switch name {
                case "SubsysName": m.equal(name, ours: entry.controller.rawValue, theirs: jsonString(value) ?? "?")
                case "Hierarchy": m.equal(name, ours: entry.hierarchyID, theirs: jsonInt(value) ?? -1)
                case "Cgroups": m.equal(name, ours: entry.cgroupCount, theirs: jsonInt(value) ?? -1)
                case "Enabled": m.equal(name, ours: entry.enabled ? 1 : 0, theirs: jsonInt(value) ?? -1)
                default: m.fail(name, "expectation key not understood by the runner")
                }
            }
        } catch {
            checkErrorQuality(error, file: file, lines: [bytes], &m)
            m.check("error", expectError, "rejected: \(error)")
        }
    }

    // MARK: octal escapes

    static func unescape(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        bytes.withUnsafeBufferPointer { unescapeOctal($0, into: &output) }
        return output
    }

    static func decodeBase64(_ value: Any?) -> [UInt8]? {
        guard let text = value as? String, let data = Data(base64Encoded: text) else { return nil }
        return [UInt8](data)
    }

    static func unescapeTable(_ c: CorpusCase, _ m: inout Mismatches) {
        if c.fileExists("unescape_cases.json") {
            // moby/sys: input → output.
            let rows = c.json("unescape_cases.json") as? [[String: Any]] ?? []
            m.check("rows", !rows.isEmpty, "no rows")
            for (index, row) in rows.enumerated() {
                guard let input = decodeBase64(row["input_b64"]), let output = decodeBase64(row["output_b64"]) else {
                    m.fail("row:\(index)", "row not understood")
                    continue
                }
                let key = "row:\(index):\(String(decoding: input, as: UTF8.self))"
                m.check(key, unescape(input) == output, "ours \(unescape(input)) != expected \(output)")
            }
        } else if c.fileExists("escape_cases.json") {
            // Go runtime: UnescapePath(escaped) == unescaped (we only decode; the kernel escapes).
            let rows = c.json("escape_cases.json") as? [[String: Any]] ?? []
            m.check("rows", !rows.isEmpty, "no rows")
            for row in rows {
                let name = jsonString(row["name"]) ?? "?"
                let escaped = decodeBase64(row["escaped_b64"]) ?? (jsonString(row["escaped"]).map { Array($0.utf8) } ?? [])
                let unescaped = decodeBase64(row["unescaped_b64"]) ?? (jsonString(row["unescaped"]).map { Array($0.utf8) } ?? [])
                m.check("row:\(name)", unescape(escaped) == unescaped, "ours \(unescape(escaped)) != expected \(unescaped)")
            }
        } else {
            m.fail("cases", "no table file")
        }
    }

    // MARK: mount-table lookups that need only parsed mount points

    /// util-linux `mnt_table_find_target(..., MNT_ITER_BACKWARD)`: the last entry mounted at target.
    static func mountInfoFind(_ c: CorpusCase, json: [String: Any], expect: [String: Any], _ m: inout Mismatches) {
        let parsed = MountInfo.parse(c.bytes("mountinfo"), file: c.id + "/mountinfo")
        m.check("errors", parsed.errors.isEmpty, "rejected: \(parsed.errors.map(\.description))")
        let target = jsonString((json["inputs"] as? [String: Any])?["target"]) ?? "?"
        let index = parsed.entries.lastIndex { $0.mountPoint.string == target }
        m.equal("index_1_based", ours: index.map { $0 + 1 }, theirs: jsonInt(expect["index_1_based"]))
        m.equal("entry_id", ours: index.map { parsed.entries[$0].mountID }, theirs: jsonInt(expect["entry_id"]))
        m.check("stdout", expect["stdout"] != nil, "runner expects stdout")
    }

    /// runc `GetClosestMountpointAncestor`: the deepest mount point that is the directory or an
    /// ancestor of it, by path component (`/foo/bar/bazza` is not an ancestor of `/foo/bar/baz/x`).
    static func mountAncestor(_ c: CorpusCase, expect: [String: Any], _ m: inout Mismatches) {
        let parsed = MountInfo.parse(c.bytes("mountinfo"), file: c.id + "/mountinfo")
        m.check("errors", parsed.errors.isEmpty, "rejected: \(parsed.errors.map(\.description))")
        for query in expect["queries"] as? [[String: Any]] ?? [] {
            let dir = FilePath(jsonString(query["dir"]) ?? "")
            var best: MountEntry?
            for entry in parsed.entries where dir.starts(with: entry.mountPoint) {
                if best == nil || entry.mountPoint.components.count > best!.mountPoint.components.count { best = entry }
            }
            m.equal("query:\(dir)", ours: best?.mountPoint.string, theirs: jsonString(query["closest_mountpoint"]))
        }
    }
}
