import Foundation
import SystemPackage
import Testing

@testable import CgroupFormats

// Shared machinery of the conformance runner: where the fixtures are, how a case is loaded, how a
// mismatch is recorded, and how a peer's field names map onto ours. The fixtures are byte-exact
// copies of ../shared/fixtures (never edited), read by path relative to this file.

enum FixturePaths {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let corpus = testsDirectory.appendingPathComponent("Fixtures/corpus")
    static let incidents = testsDirectory.appendingPathComponent("Fixtures/incidents")
    static let conformanceDoc = testsDirectory.appendingPathComponent("../../docs/conformance.md").standardized
}

/// One directory of the corpus: `<source>/<case>`.
struct CorpusCase: Sendable, Hashable, CustomTestStringConvertible, CustomStringConvertible {
    let source: String
    let name: String
    var id: String { "\(source)/\(name)" }
    var directory: URL { FixturePaths.corpus.appendingPathComponent(source).appendingPathComponent(name) }
    var description: String { id }
    var testDescription: String { id }

    /// Every case directory, sorted: nothing is filtered here, so nothing can be dropped silently.
    static let all: [CorpusCase] = {
        let fm = FileManager.default
        var cases: [CorpusCase] = []
        let sources = (try? fm.contentsOfDirectory(atPath: FixturePaths.corpus.path)) ?? []
        for source in sources.sorted() {
            var isDirectory: ObjCBool = false
            let sourcePath = FixturePaths.corpus.appendingPathComponent(source).path
            guard fm.fileExists(atPath: sourcePath, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for name in ((try? fm.contentsOfDirectory(atPath: sourcePath)) ?? []).sorted() {
                var caseIsDirectory: ObjCBool = false
                if fm.fileExists(atPath: sourcePath + "/" + name, isDirectory: &caseIsDirectory), caseIsDirectory.boolValue {
                    cases.append(CorpusCase(source: source, name: name))
                }
            }
        }
        return cases
    }()

    func bytes(_ file: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else { return [] }
        return [UInt8](data)
    }

    func fileExists(_ file: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path)
    }

    func json(_ file: String) -> Any? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else { return nil }
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}

/// The answer for one case.
enum Verdict: Sendable, Equatable {
    case passed
    /// Differences that docs/conformance.md lists for this case, exactly.
    case diverged
    case outOfScope(kind: String)
    case failed([String])
}

/// Differences found while comparing one case, keyed so a divergence can name exactly which ones it
/// accounts for (`entries.2.VFSOptions`, `row:testCgPathSubstring`).
struct Mismatches {
    private(set) var items: [(key: String, detail: String)] = []
    var keys: Set<String> { Set(items.map(\.key)) }
    var isEmpty: Bool { items.isEmpty }

    mutating func fail(_ key: String, _ detail: String) {
        // Some inputs are 70 KiB lines; keep reports readable.
        items.append((key, detail.count > 400 ? String(detail.prefix(400)) + "…" : detail))
    }

    mutating func check(_ key: String, _ ok: Bool, _ detail: @autoclosure () -> String) {
        if !ok { fail(key, detail()) }
    }

    mutating func equal<T: Equatable>(_ key: String, ours: T, theirs: T) {
        if ours != theirs { fail(key, "ours \(ours) != expected \(theirs)") }
    }

    var rendered: [String] { items.map { "\($0.key): \($0.detail)" } }
}

// MARK: - JSON helpers

func jsonInt(_ value: Any?) -> Int? {
    if let number = value as? NSNumber { return number.intValue }
    if let string = value as? String { return Int(string) }
    return nil
}

func jsonString(_ value: Any?) -> String? { value as? String }

func isNull(_ value: Any?) -> Bool { value == nil || value is NSNull }

func pathBytes(_ path: FilePath) -> [UInt8] {
    path.withPlatformString { pointer in
        var bytes: [UInt8] = []
        var cursor = pointer
        while cursor.pointee != 0 {
            bytes.append(UInt8(bitPattern: cursor.pointee))
            cursor += 1
        }
        return bytes
    }
}

// MARK: - Errors must name file, line, field and text

/// Every ParseError we produce must say where and what: a file, a 1-based line, a field and the text
/// of the offending line (issue 2: "every error names what is missing").
func checkErrorQuality(_ error: ParseError, file: String, lines: [[UInt8]], _ m: inout Mismatches) {
    m.check("error.file", error.file == file, "error names file \(error.file), expected \(file)")
    m.check("error.line", error.line >= 1 && error.line <= max(lines.count, 1), "error line \(error.line) out of range")
    m.check("error.field", !error.field.isEmpty, "error names no field")
    m.check("error.reason", !error.reason.isEmpty, "error gives no reason")
    if error.line >= 1 && error.line <= lines.count {
        let expected = String(decoding: lines[error.line - 1], as: UTF8.self)
        m.check("error.text", error.text == expected, "error text \(error.text.debugDescription) is not line \(error.line)")
    }
    m.check(
        "error.description", error.description.hasPrefix("\(file):\(error.line): field \""),
        "description does not start with file:line: \(error.description)")
}

func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    for byte in bytes {
        if byte == 0x0A {
            lines.append(current)
            current = []
        } else {
            current.append(byte)
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

// MARK: - mountinfo entries, compared under the peer's field names

/// How we print a mount point for comparison: the decoded bytes, plus the ` (deleted)` the kernel
/// appended if we stripped it (peers keep it in the field).
func mountPointText(_ entry: MountEntry) -> String {
    entry.mountPoint.string + (entry.isMountPointDeleted ? " (deleted)" : "")
}

/// Compares an option list against a peer's rendering of it: a comma-joined string (moby, libmount),
/// a list (automaxprocs, kubernetes, kata) or a key→value map (prometheus, `"rw": ""`).
func compareOptions(_ key: String, _ expected: Any?, ours: [String], _ m: inout Mismatches) {
    if isNull(expected) {
        m.check(key, ours.isEmpty, "expected none, ours \(ours)")
    } else if let string = expected as? String {
        m.equal(key, ours: ours.joined(separator: ","), theirs: string)
    } else if let list = expected as? [String] {
        m.equal(key, ours: ours, theirs: list)
    } else if let map = expected as? [String: String] {
        var oursMap: [String: String] = [:]
        for token in ours {
            if let eq = token.firstIndex(of: "=") {
                oursMap[String(token[..<eq])] = String(token[token.index(after: eq)...])
            } else {
                oursMap[token] = ""
            }
        }
        m.equal(key, ours: oursMap, theirs: map)
    } else {
        m.fail(key, "unsupported expectation shape \(String(describing: expected))")
    }
}

/// Optional fields as a peer renders them: space-joined (moby `Optional`), a list, a tag→value map
/// (prometheus; `null` and `{}` both mean "none" in our model), or libmount's quoted string.
func compareOptionalFields(_ key: String, _ expected: Any?, ours: [OptionalField], _ m: inout Mismatches) {
    let rendered = ours.map(\.description)
    if isNull(expected) {
        m.check(key, ours.isEmpty, "expected none, ours \(rendered)")
    } else if let string = expected as? String {
        var text = string
        if text.hasPrefix("'") && text.hasSuffix("'") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        m.equal(key, ours: rendered.joined(separator: " "), theirs: text)
    } else if let list = expected as? [String] {
        m.equal(key, ours: rendered, theirs: list)
    } else if let map = expected as? [String: String] {
        var oursMap: [String: String] = [:]
        for field in ours { oursMap[field.tag] = field.value ?? "" }
        m.equal(key, ours: oursMap, theirs: map)
    } else {
        m.fail(key, "unsupported expectation shape \(String(describing: expected))")
    }
}

/// Compares one parsed entry with a peer's assertion about it, key by key. An expectation key we do
/// not know is a failure, never skipped.
func compareMountEntry(_ expected: [String: Any], _ entry: MountEntry, prefix: String, _ m: inout Mismatches) {
    for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
        let key = "\(prefix).\(name)"
        switch name {
        case "MountID", "ID", "mount_id", "id":
            m.equal(key, ours: entry.mountID, theirs: jsonInt(value) ?? -1)
        case "ParentID", "Parent", "parent_id", "parent":
            m.equal(key, ours: entry.parentID, theirs: jsonInt(value) ?? -1)
        case "Major":
            m.equal(key, ours: entry.device.major, theirs: jsonInt(value) ?? -1)
        case "Minor":
            m.equal(key, ours: entry.device.minor, theirs: jsonInt(value) ?? -1)
        case "MajorMinorVer", "DeviceID", "device_id", "devno":
            m.equal(key, ours: entry.device.description, theirs: jsonString(value) ?? "?")
        case "Root", "mount_root", "root":
            m.equal(key, ours: entry.root.string, theirs: jsonString(value) ?? "?")
        case "MountPoint", "Mountpoint", "mount_point", "target":
            m.equal(key, ours: mountPointText(entry), theirs: jsonString(value) ?? "?")
        case "Options", "MountOptions", "options", "VFS-optstr", "mount_options":
            compareOptions(key, value, ours: entry.mountOptions, &m)
        case "SuperOptions", "VFSOptions", "super_opts", "super_options", "FS-opstr":
            compareOptions(key, value, ours: entry.superOptions, &m)
        case "optstr":
            // libmount's merged string: the per-mount options, then the superblock options without
            // the leading rw/ro they repeat.
            let merged = entry.mountOptions + entry.superOptions.filter { $0 != "rw" && $0 != "ro" }
            m.equal(key, ours: merged.joined(separator: ","), theirs: jsonString(value) ?? "?")
        case "OptionalFields", "Optional", "optional_fields", "optional-fields":
            compareOptionalFields(key, value, ours: entry.optionalFields, &m)
        case "propagation":
            // libmount prints the propagation flags derived from the optional fields.
            var flags: [String] = []
            if entry.optionalFields.contains(where: { $0.tag == "shared" }) { flags.append("shared") }
            if entry.optionalFields.contains(where: { $0.tag == "master" }) { flags.append("slave") }
            if entry.optionalFields.contains(where: { $0.tag == "unbindable" }) { flags.append("unbindable") }
            let theirs = (jsonString(value) ?? "").split(separator: " ").map(String.init)
            m.equal(key, ours: flags, theirs: theirs)
        case "FSType", "FsType", "FilesystemType", "fstype":
            m.equal(key, ours: entry.fileSystemType, theirs: jsonString(value) ?? "?")
        case "fs_type":
            if let pair = value as? [Any], pair.count == 2 {
                let type = entry.fileSystemType
                let dot = type.firstIndex(of: ".")
                let main = dot.map { String(type[..<$0]) } ?? type
                let sub = dot.map { String(type[type.index(after: $0)...]) }
                m.equal(key + ".type", ours: main, theirs: jsonString(pair[0]) ?? "?")
                m.equal(key + ".subtype", ours: sub, theirs: isNull(pair[1]) ? nil : jsonString(pair[1]))
            } else {
                m.equal(key, ours: entry.fileSystemType, theirs: jsonString(value) ?? "?")
            }
        case "Source", "MountSource", "source":
            // An empty source field is nil in our model; peers print it as "".
            m.equal(key, ours: entry.source ?? "", theirs: jsonString(value) ?? "?")
        case "mount_source":
            m.equal(key, ours: entry.source, theirs: isNull(value) ? nil : jsonString(value))
        default:
            m.fail(key, "expectation key not understood by the runner")
        }
    }
}
