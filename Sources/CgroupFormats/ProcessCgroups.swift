import SystemPackage

/// `/proc/<pid>/cgroup`: the cgroup of a process in every live hierarchy.
///
/// Kernel: `proc_cgroup_show()` in kernel/cgroup/cgroup.c. Man page: cgroups(7), "/proc/[pid]/cgroup".
/// Example:
///
///     12:name=cpu_mirror:/agent/job-1
///     2:cpu,cpuacct:/kubepods/burstable/pod1234/abcd
///     0::/system.slice/containerd.service
///
/// Each line is `hierarchy-ID:controller-list:cgroup-path`:
/// - the kernel lists every live hierarchy, mounted or not (an unmounted v1 hierarchy with child
///   cgroups stays listed, which is the whole point of cgdoctor);
/// - the controller list is comma-separated and may be empty (the v2 `0::` line, and any v1 hierarchy
///   made with `-o none,name=X` shows only `name=X`);
/// - the path is everything after the second colon: it may itself contain `:` (systemd units such as
///   `sshd@1-10.0.0.1:22-10.0.0.2:5000.service`, containerd's `...slice:cri-containerd:<id>`), and in a
///   cgroup namespace it may climb above the namespace root (`/../../init.scope`).
public struct ProcessCgroups: Sendable, Hashable {
    public var file: String
    public var entries: [CgroupEntry]
    public var errors: [ParseError]

    public init(file: String, entries: [CgroupEntry], errors: [ParseError]) {
        self.file = file
        self.entries = entries
        self.errors = errors
    }

    public static func parse(_ bytes: [UInt8], file: String) -> ProcessCgroups {
        bytes.withUnsafeBufferPointer { parse($0, file: file) }
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, file: String) -> ProcessCgroups {
        var entries: [CgroupEntry] = []
        entries.reserveCapacity(14)
        var errors: [ParseError] = []
        forEachLine(buffer) { line, number in
            if line.isEmpty { return }
            do throws(ParseError) {
                entries.append(try CgroupEntry.parse(line, number: number, file: file))
            } catch {
                errors.append(error)
            }
        }
        return ProcessCgroups(file: file, entries: entries, errors: errors)
    }

    /// The v2 (`0::`) entry, if the kernel printed one.
    public var unified: CgroupEntry? { entries.first { $0.isUnified } }
}

/// One line of `/proc/<pid>/cgroup`.
public struct CgroupEntry: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the file.
    public var line: Int
    /// The hierarchy ID: 0 for the cgroup v2 hierarchy, otherwise the v1 hierarchy's ID, which also
    /// appears in the second column of /proc/cgroups.
    public var hierarchyID: Int
    /// The controllers bound to the hierarchy, in the kernel's order (`cpu,cpuacct`). Empty for v2
    /// and for named hierarchies without controllers.
    public var controllers: [Controller]
    /// The hierarchy's name, without the `name=` prefix (`systemd`, `cpu_mirror`), nil if unnamed.
    public var name: String?
    /// The cgroup of the process in this hierarchy, relative to the reader's cgroup namespace root.
    public var path: FilePath

    public init(line: Int, hierarchyID: Int, controllers: [Controller], name: String?, path: FilePath) {
        self.line = line
        self.hierarchyID = hierarchyID
        self.controllers = controllers
        self.name = name
        self.path = path
    }

    /// The line as the kernel printed it. Rebuilt rather than stored: a node scan keeps ~10 entries
    /// for each of 10,000 processes, and the fields already hold every byte of the line.
    public var text: String { "\(hierarchyID):\(controllerField):\(path.string)" }

    /// True for the cgroup v2 line (`0::/path`).
    public var isUnified: Bool { hierarchyID == 0 && controllers.isEmpty && name == nil }

    /// How the kernel prints the controller field: `cpu,cpuacct`, `name=systemd`, `` for v2.
    public var controllerField: String {
        var tokens = controllers.map(\.rawValue)
        if let name { tokens.append("name=\(name)") }
        return tokens.joined(separator: ",")
    }

    /// A human label for the hierarchy: `name=cpu_mirror`, `cpu,cpuacct`, or `cgroup2` for the `0::` line.
    public var hierarchyLabel: String { isUnified ? "cgroup2" : controllerField }

    public var description: String { text }

    /// Parses one line (without its newline).
    public static func parse(_ line: [UInt8], number: Int = 1, file: String) throws(ParseError) -> CgroupEntry {
        let result: Result<CgroupEntry, ParseError> = line.withUnsafeBufferPointer { buffer in
            do throws(ParseError) { return .success(try parse(buffer, number: number, file: file)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int, file: String) throws(ParseError) -> CgroupEntry {
        func failure(_ field: String, _ reason: String) -> ParseError {
            ParseError(file: file, line: number, field: field, reason: reason, text: decodeLossy(line))
        }
        guard let firstColon = line.firstIndex(of: ASCII.colon) else {
            throw failure("line", "expected \"hierarchy-ID:controller-list:cgroup-path\", found no colon")
        }
        let rest = UnsafeBufferPointer(rebasing: line[(firstColon + 1)...])
        guard let secondOffset = rest.firstIndex(of: ASCII.colon) else {
            throw failure("line", "expected \"hierarchy-ID:controller-list:cgroup-path\", found only one colon")
        }
        let secondColon = firstColon + 1 + secondOffset
        let idField = UnsafeBufferPointer(rebasing: line[..<firstColon])
        guard let hierarchyID = parseDecimal(idField) else {
            throw failure("hierarchy ID", "expected a decimal number, got \"\(decodeLossy(idField))\"")
        }
        let controllerField = UnsafeBufferPointer(rebasing: line[(firstColon + 1)..<secondColon])
        let pathField = UnsafeBufferPointer(rebasing: line[(secondColon + 1)...])
        guard !pathField.isEmpty else { throw failure("cgroup path", "empty") }
        // cgroup_path_ns() always yields an absolute path ("/", "/a/b", "/../../init.scope").
        guard pathField[0] == ASCII.slash else {
            throw failure("cgroup path", "expected an absolute path starting with \"/\", got \"\(decodeLossy(pathField))\"")
        }
        guard let path = filePath(pathField) else { throw failure("cgroup path", "contains a NUL byte") }

        var controllers: [Controller] = []
        var name: String?
        for token in splitComma(controllerField) {
            if token.hasPrefix("name=") {
                let value = String(token.dropFirst(5))
                guard !value.isEmpty else { throw failure("controller list", "empty hierarchy name in \"name=\"") }
                name = value
            } else if token.isEmpty {
                throw failure("controller list", "empty controller name in \"\(decodeLossy(controllerField))\"")
            } else {
                controllers.append(Controller(rawValue: token))
            }
        }
        if hierarchyID != 0 && controllers.isEmpty && name == nil {
            // A v1 hierarchy always has at least one controller or a name (cgroup1_parse_param:
            // "No subsys list or none specified" / "none used incorrectly").
            throw failure("controller list", "hierarchy \(hierarchyID) has neither controllers nor a name")
        }
        return CgroupEntry(
            line: number, hierarchyID: hierarchyID, controllers: controllers, name: name, path: path)
    }
}
