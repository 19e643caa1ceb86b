import SystemPackage

/// `/proc/<pid>/mountinfo`: the mounts of one mount namespace, as seen by one process.
///
/// Kernel: `show_mountinfo()` in fs/proc_namespace.c. Man page: proc_pid_mountinfo(5).
/// Example line:
///
///     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
///     (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
///
/// Rules this parser follows, each from the kernel's printing code:
/// - lines end at `\n` only; a raw CR is data (the kernel escapes only space, TAB, newline, backslash);
/// - fields are separated by exactly one space, so an empty field (`tmpfs  rw`, an empty source)
///   stays empty instead of shifting the rest;
/// - there are zero or more optional fields (`shared:N`, `master:N`, `propagate_from:N`,
///   `unbindable`), ended by a field that is exactly `-`;
/// - root, mount point and source carry `\ooo` octal escapes, decoded here;
/// - a mount point whose dentry was deleted ends in `\040(deleted)`; it is stripped and flagged;
/// - the super options are everything after the source, spaces included (old cifs `unc=` and WSL
///   9p `path=` print raw spaces there).
public struct MountInfo: Sendable, Hashable {
    /// The file the bytes came from, used only to label errors and evidence.
    public var file: String
    /// The mounts kept by the selection, in file order.
    public var entries: [MountEntry]
    /// Lines the parser rejected. Every line is validated, kept or not.
    public var errors: [ParseError]

    public init(file: String, entries: [MountEntry], errors: [ParseError]) {
        self.file = file
        self.entries = entries
        self.errors = errors
    }

    /// Which entries to materialise. Every line is still tokenized and validated; only the kept
    /// ones pay for decoding their fields into Swift values.
    public enum Selection: Sendable {
        case all
        /// Keep only mounts whose filesystem type is one of these (`cgroup`, `cgroup2`, ...).
        case fileSystemTypes([String])
    }

    /// Parses a whole mountinfo file.
    public static func parse(_ bytes: [UInt8], file: String, selecting selection: Selection = .all) -> MountInfo {
        bytes.withUnsafeBufferPointer { parse($0, file: file, selecting: selection) }
    }

    /// Parses a whole mountinfo file from a buffer (no copy).
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, file: String, selecting selection: Selection = .all
    ) -> MountInfo {
        let table = MountTable.parse(buffer, file: file, selection: selection)
        var entries: [MountEntry] = []
        entries.reserveCapacity(table.count)
        for index in 0..<table.count { entries.append(table.entry(at: index)) }
        return MountInfo(file: file, entries: entries, errors: table.errors)
    }

    /// Parses one line (no trailing newline).
    public static func parseLine(_ line: [UInt8], number: Int = 1, file: String) throws(ParseError) -> MountEntry {
        var parser = MountInfoLineParser(file: file, selection: .all)
        let result: Result<MountEntry?, ParseError> = line.withUnsafeBufferPointer { buffer in
            do throws(ParseError) { return .success(try parser.parse(buffer, number: number)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let entry?): return entry
        case .success(nil):
            throw ParseError(file: file, line: number, field: "line", reason: "empty line", text: "")
        case .failure(let error): throw error
        }
    }
}

/// One line of mountinfo.
public struct MountEntry: Sendable, Hashable {
    /// 1-based line number in ``MountInfo/file``.
    public var line: Int
    /// (1) Unique id of the mount (may be reused after unmount; repeats in some captured tables).
    public var mountID: Int
    /// (2) Id of the parent mount (the mount itself for the namespace root; may be absent from the table).
    public var parentID: Int
    /// (3) `st_dev` of files on this filesystem. All mounts of one cgroup v1 hierarchy share it.
    public var device: DeviceNumber
    /// (4) The directory within the filesystem that forms the root of this mount, decoded.
    public var root: FilePath
    /// (5) Where it is mounted, relative to the process's root directory, decoded, without the
    /// ` (deleted)` suffix (see ``isMountPointDeleted``).
    public var mountPoint: FilePath
    /// The kernel appended ` (deleted)`: the mount point's dentry was unlinked.
    public var isMountPointDeleted: Bool
    /// (6) Per-mount options (`rw,nosuid,relatime`).
    public var mountOptions: [String]
    /// (7) Optional fields, in order.
    public var optionalFields: [OptionalField]
    /// (9) Filesystem type (`cgroup`, `cgroup2`, `tmpfs`, `fuse.lxcfs`).
    public var fileSystemType: String
    /// (10) Source, decoded; nil when the kernel printed an empty field.
    public var source: String?
    /// (11) Per-superblock options split on `,` (for cgroup v1: the controllers, `name=X`, `release_agent=...`).
    public var superOptions: [String]
    /// The raw line, decoded leniently, for evidence.
    public var text: String

    public init(
        line: Int, mountID: Int, parentID: Int, device: DeviceNumber, root: FilePath, mountPoint: FilePath,
        isMountPointDeleted: Bool = false, mountOptions: [String], optionalFields: [OptionalField],
        fileSystemType: String, source: String?, superOptions: [String], text: String
    ) {
        self.line = line
        self.mountID = mountID
        self.parentID = parentID
        self.device = device
        self.root = root
        self.mountPoint = mountPoint
        self.isMountPointDeleted = isMountPointDeleted
        self.mountOptions = mountOptions
        self.optionalFields = optionalFields
        self.fileSystemType = fileSystemType
        self.source = source
        self.superOptions = superOptions
        self.text = text
    }

    /// True for a super option token equal to `option` (exact match, never a substring).
    public func hasSuperOption(_ option: String) -> Bool { superOptions.contains(option) }

    /// The value of a `key=value` super option (`name`, `release_agent`).
    public func superOptionValue(_ key: String) -> String? {
        let prefix = key + "="
        for option in superOptions where option.hasPrefix(prefix) {
            return String(option.dropFirst(prefix.count))
        }
        return nil
    }
}

/// `major:minor` of field (3).
public struct DeviceNumber: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
    public var description: String { "\(major):\(minor)" }
}

/// One optional field of mountinfo field (7): `shared:N`, `master:N`, `propagate_from:N`, `unbindable`.
/// Unknown tags are kept, since the man page says new ones may appear.
public struct OptionalField: Sendable, Hashable, CustomStringConvertible {
    public var tag: String
    public var value: String?
    public init(tag: String, value: String?) {
        self.tag = tag
        self.value = value
    }
    public var description: String { value.map { "\(tag):\($0)" } ?? tag }
}

/// The reusable state of the mountinfo line parser (field table and scratch buffer), so a
/// 10,000-line table allocates only for the values it keeps.
/// The reusable state of the mountinfo tokenizer (field table and scratch buffer), so a
/// 10,000-line table allocates only for what it keeps.
struct MountInfoLineParser {
    let file: String
    let selection: MountInfo.Selection
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var scratch: [UInt8] = []
    private let wantedTypes: [[UInt8]]

    init(file: String, selection: MountInfo.Selection) {
        self.file = file
        self.selection = selection
        if case .fileSystemTypes(let types) = selection {
            wantedTypes = types.map { Array($0.utf8) }
        } else {
            wantedTypes = []
        }
        starts.reserveCapacity(16)
        ends.reserveCapacity(16)
    }

    /// Parses one line into a ``MountEntry``, or nil when the selection does not keep it.
    mutating func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(ParseError) -> MountEntry? {
        var table = MountTable(file: file)
        guard try tokenize(line, number: number, into: &table) else { return nil }
        return table.entry(at: table.rows.count - 1)
    }

    /// Validates one line and, when the selection keeps it, appends it to `table` (its fields
    /// decoded into the table's arena). Returns whether it was kept.
    mutating func tokenize(_ line: UnsafeBufferPointer<UInt8>, number: Int, into table: inout MountTable) throws(ParseError) -> Bool {
        // Split on single spaces (memchr: most bytes are not spaces). Empty fields are kept.
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        guard let base = line.baseAddress else {
            throw ParseError(file: file, line: number, field: "line", reason: "empty line", text: "")
        }
        var fieldStart = 0
        while let hit = memchr(base + fieldStart, Int32(ASCII.space), line.count - fieldStart) {
            let index = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
            starts.append(fieldStart)
            ends.append(index)
            fieldStart = index + 1
        }
        starts.append(fieldStart)
        ends.append(line.count)

        func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: line[starts[i]..<ends[i]])
        }
        func failure(_ name: String, _ reason: String) -> ParseError {
            ParseError(file: file, line: number, field: name, reason: reason, text: decodeLossy(line))
        }

        guard starts.count >= 10 else {
            throw failure("line", "expected at least 10 space-separated fields, found \(starts.count)")
        }
        guard let mountID = parseDecimal(field(0)) else {
            throw failure("mount ID", "expected a decimal number, got \"\(decodeLossy(field(0)))\"")
        }
        guard let parentID = parseDecimal(field(1)) else {
            throw failure("parent ID", "expected a decimal number, got \"\(decodeLossy(field(1)))\"")
        }
        let deviceField = field(2)
        guard let colon = deviceField.firstIndex(of: ASCII.colon),
            let major = parseDecimal(UnsafeBufferPointer(rebasing: deviceField[..<colon])),
            let minor = parseDecimal(UnsafeBufferPointer(rebasing: deviceField[(colon + 1)...]))
        else {
            throw failure("major:minor", "expected MAJOR:MINOR, got \"\(decodeLossy(deviceField))\"")
        }
        // The separator is the first field equal to "-" after the mount options (field 6).
        var separator = -1
        var index = 6
        while index < starts.count {
            if ends[index] - starts[index] == 1 && line[starts[index]] == ASCII.hyphen {
                separator = index
                break
            }
            index += 1
        }
        guard separator >= 0 else {
            throw failure("separator", "no \" - \" field after the mount options")
        }
        guard separator + 3 < starts.count else {
            throw failure(
                "separator",
                "expected filesystem type, source and super options after \" - \", found \(starts.count - separator - 1) field(s)"
            )
        }
        let fsType = field(separator + 1)
        guard !fsType.isEmpty else { throw failure("filesystem type", "empty") }

        if !wantedTypes.isEmpty {
            var wanted = false
            for candidate in wantedTypes where candidate.count == fsType.count {
                if candidate.withUnsafeBufferPointer({ memcmp($0.baseAddress!, fsType.baseAddress!, fsType.count) == 0 }) {
                    wanted = true
                    break
                }
            }
            if !wanted { return false }
        }

        // Decode into the arena; a NUL in a decoded path is an error (no kernel path has one,
        // and a raw NUL must fail too rather than become an empty path).
        let rowStart = table.arena.count
        let root = appendDecoded(field(3), to: &table.arena)
        var mountPoint = appendDecoded(field(4), to: &table.arena)
        if table.arena[root.range].contains(0) {
            table.arena.removeSubrange(rowStart...)
            throw failure("root", "contains a NUL byte")
        }
        if table.arena[mountPoint.range].contains(0) {
            table.arena.removeSubrange(rowStart...)
            throw failure("mount point", "contains a NUL byte")
        }
        var deleted = false
        let deletedSuffix = MountTable.deletedSuffix
        if mountPoint.count > deletedSuffix.count,
            table.arena[mountPoint.range].suffix(deletedSuffix.count).elementsEqual(deletedSuffix)
        {
            mountPoint.count -= Int32(deletedSuffix.count)
            deleted = true
        }
        let sourceField = field(separator + 2)
        let source = appendDecoded(sourceField, to: &table.arena)
        let options = MountTable.Span(start: Int32(starts[5]), count: Int32(ends[5] - starts[5]))
        let optional =
            separator > 6
            ? MountTable.Span(start: Int32(starts[6]), count: Int32(ends[separator - 1] - starts[6]))
            : MountTable.Span(start: Int32(starts[6]), count: 0)
        let fsSpan = MountTable.Span(start: Int32(starts[separator + 1]), count: Int32(fsType.count))
        // Super options: everything after the source, raw spaces included.
        let superStart = starts[separator + 3]
        let superSpan = MountTable.Span(start: Int32(superStart), count: Int32(line.count - superStart))
        // The raw line, kept for evidence; the spans above that point into it are relative to it.
        let textStart = Int32(table.arena.count)
        table.arena.append(contentsOf: line)
        func shifted(_ span: MountTable.Span) -> MountTable.Span {
            MountTable.Span(start: textStart + span.start, count: span.count)
        }
        table.rows.append(
            MountTable.Row(
                line: Int32(number), mountID: mountID, parentID: parentID, major: Int32(truncatingIfNeeded: major),
                minor: Int32(truncatingIfNeeded: minor), root: root, mountPoint: mountPoint, isMountPointDeleted: deleted,
                options: shifted(options), optional: shifted(optional), fsType: shifted(fsSpan),
                source: source, superOptions: shifted(superSpan),
                text: MountTable.Span(start: textStart, count: Int32(line.count))))
        return true
    }

    /// Appends `raw` with octal escapes decoded; returns where it landed.
    private mutating func appendDecoded(_ raw: UnsafeBufferPointer<UInt8>, to arena: inout [UInt8]) -> MountTable.Span {
        let start = arena.count
        if containsBackslash(raw) {
            unescapeOctal(raw, into: &scratch)
            arena.append(contentsOf: scratch)
        } else {
            arena.append(contentsOf: raw)
        }
        return MountTable.Span(start: Int32(start), count: Int32(arena.count - start))
    }
}

/// A mountinfo file tokenized into one byte arena: every row is a handful of integers pointing
/// into it, so parsing 10,000 mounts costs two growing arrays instead of tens of thousands of
/// Strings and paths. ``entry(at:)`` materialises a ``MountEntry`` when one is needed; the node
/// scan materialises only the cgroup mounts. Validation is the same as ``MountInfo/parse(_:file:selecting:)``,
/// which is built on it.
public struct MountTable: Sendable {
    struct Span: Sendable, Hashable {
        var start: Int32
        var count: Int32
        var range: Range<Int> { Int(start)..<Int(start + count) }
    }

    /// One mount, as offsets into the arena. Plain integers: no reference counting.
    public struct Row: Sendable, Hashable {
        public var line: Int32
        public var mountID: Int
        public var parentID: Int
        public var major: Int32
        public var minor: Int32
        var root: Span
        var mountPoint: Span
        public var isMountPointDeleted: Bool
        var options: Span
        var optional: Span
        var fsType: Span
        var source: Span
        var superOptions: Span
        var text: Span
    }

    static let deletedSuffix: [UInt8] = Array(" (deleted)".utf8)

    public let file: String
    public internal(set) var rows: [Row] = []
    public internal(set) var errors: [ParseError] = []
    var arena: [UInt8] = []

    init(file: String) { self.file = file }

    /// Tokenizes and validates every line. Rejected lines become ``errors``.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, file: String) -> MountTable {
        parse(buffer, file: file, selection: .all)
    }

    public static func parse(_ bytes: [UInt8], file: String) -> MountTable {
        bytes.withUnsafeBufferPointer { parse($0, file: file, selection: .all) }
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, file: String, selection: MountInfo.Selection) -> MountTable {
        var table = MountTable(file: file)
        table.arena.reserveCapacity(buffer.count + buffer.count / 2)
        table.rows.reserveCapacity(buffer.count / 128)
        var parser = MountInfoLineParser(file: file, selection: selection)
        forEachLine(buffer) { line, number in
            if line.isEmpty { return }
            do throws(ParseError) {
                _ = try parser.tokenize(line, number: number, into: &table)
            } catch {
                table.errors.append(error)
            }
        }
        return table
    }

    public var count: Int { rows.count }

    /// The filesystem type of row `index`, compared without building a String.
    public func fileSystemType(at index: Int, is name: StaticString) -> Bool {
        let span = rows[index].fsType
        guard Int(span.count) == name.utf8CodeUnitCount else { return false }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(span.start), name.utf8Start, Int(span.count)) == 0 }
    }

    /// Row `index` as a ``MountEntry``.
    public func entry(at index: Int) -> MountEntry {
        let row = rows[index]
        return arena.withUnsafeBufferPointer { arena in
            func bytes(_ span: Span) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: arena[span.range]) }
            var optional: [OptionalField] = []
            if row.optional.count > 0 {
                let raw = bytes(row.optional)
                var start = 0
                for end in (0..<raw.count).filter({ raw[$0] == ASCII.space }) + [raw.count] {
                    let token = UnsafeBufferPointer(rebasing: raw[start..<end])
                    start = end + 1
                    // The kernel writes each optional field as " tag[:value]", so an empty one only comes
                    // from a hand-edited line (two spaces before " - "); it carries nothing, skip it.
                    if token.isEmpty { continue }
                    if let colon = token.firstIndex(of: ASCII.colon) {
                        optional.append(
                            OptionalField(
                                tag: decodeLossy(UnsafeBufferPointer(rebasing: token[..<colon])),
                                value: decodeLossy(UnsafeBufferPointer(rebasing: token[(colon + 1)...]))))
                    } else {
                        optional.append(OptionalField(tag: decodeLossy(token), value: nil))
                    }
                }
            }
            return MountEntry(
                line: Int(row.line),
                mountID: row.mountID,
                parentID: row.parentID,
                device: DeviceNumber(major: Int(row.major), minor: Int(row.minor)),
                root: filePath(bytes(row.root)) ?? FilePath(""),
                mountPoint: filePath(bytes(row.mountPoint)) ?? FilePath(""),
                isMountPointDeleted: row.isMountPointDeleted,
                mountOptions: splitComma(bytes(row.options)),
                optionalFields: optional,
                fileSystemType: decodeLossy(bytes(row.fsType)),
                source: row.source.count == 0 ? nil : decodeLossy(bytes(row.source)),
                superOptions: splitComma(bytes(row.superOptions)),
                text: decodeLossy(bytes(row.text)))
        }
    }
}

/// Splits a comma-separated option list. An empty list gives `[]`.
///
/// A comma between double quotes does not split: SELinux prints a context that contains a comma
/// quoted (`context="system_u:object_r:container_file_t:s0:c314,c894"`, `selinux_sb_show_options()`
/// in security/selinux/hooks.c), and the quotes are kept in the token, as the kernel printed them.
func splitComma(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
    if bytes.isEmpty { return [] }
    var result: [String] = []
    var start = 0
    var quoted = false
    for index in 0..<bytes.count {
        let byte = bytes[index]
        if byte == ASCII.quote {
            quoted.toggle()
        } else if byte == ASCII.comma && !quoted {
            result.append(decodeLossy(UnsafeBufferPointer(rebasing: bytes[start..<index])))
            start = index + 1
        }
    }
    result.append(decodeLossy(UnsafeBufferPointer(rebasing: bytes[start...])))
    return result
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
