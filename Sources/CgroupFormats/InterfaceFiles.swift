/// Small cgroup interface files, per Documentation/admin-guide/cgroup-v2.rst, "Interface Files":
/// "flat keyed" files (`cgroup.stat`: `nr_dying_descendants 3`) and space-separated lists
/// (`cgroup.controllers`: `cpuset cpu io memory pids`).

/// A flat-keyed file: one `key value` pair per line (`cgroup.stat`, `memory.events`).
public struct FlatKeyedFile: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var key: String
        public var value: Int
    }

    public var file: String
    public var entries: [Entry]
    public var errors: [ParseError]

    public subscript(key: String) -> Int? { entries.first { $0.key == key }?.value }

    /// Example: `nr_descendants 4\nnr_dying_descendants 1\n`.
    public static func parse(_ bytes: [UInt8], file: String) -> FlatKeyedFile {
        bytes.withUnsafeBufferPointer { buffer in
            var entries: [Entry] = []
            var errors: [ParseError] = []
            forEachLine(buffer) { line, number in
                if line.isEmpty { return }
                guard let space = line.firstIndex(of: ASCII.space) else {
                    errors.append(
                        ParseError(file: file, line: number, field: "line", reason: "expected \"key value\"", text: decodeLossy(line)))
                    return
                }
                let valueBytes = UnsafeBufferPointer(rebasing: line[(space + 1)...])
                guard let value = parseDecimal(valueBytes) else {
                    errors.append(
                        ParseError(
                            file: file, line: number, field: "value",
                            reason: "expected a decimal number, got \"\(decodeLossy(valueBytes))\"", text: decodeLossy(line)))
                    return
                }
                entries.append(Entry(line: number, key: decodeLossy(UnsafeBufferPointer(rebasing: line[..<space])), value: value))
            }
            return FlatKeyedFile(file: file, entries: entries, errors: errors)
        }
    }
}

/// `cgroup.controllers` / `cgroup.subtree_control`: controller names separated by spaces, one line.
public enum ControllerList {
    public static func parse(_ bytes: [UInt8]) -> [Controller] {
        var names: [Controller] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == ASCII.space || byte == ASCII.newline || byte == ASCII.tab {
                if !current.isEmpty { names.append(Controller(String(decoding: current, as: UTF8.self))) }
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { names.append(Controller(String(decoding: current, as: UTF8.self))) }
        return names
    }
}
