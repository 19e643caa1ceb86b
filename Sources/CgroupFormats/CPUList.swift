/// CPU lists: the kernel's "list format" for CPU masks (lib/bitmap-str.c, `bitmap_print_to_pagebuf`
/// with `%*pbl`), as printed by `cpuset.cpus`, `cpuset.effective_cpus` (v1),
/// `cpuset.cpus.effective` (v2), `/sys/devices/system/cpu/online` and the `Cpus_allowed_list:`
/// line of `/proc/<pid>/status`. Example: `"0-3,8,10-11\n"`; an empty set prints as `"\n"`.

/// A set of CPU numbers, kept as sorted, disjoint, non-adjacent ranges (a 4096-CPU mask stays small).
public struct CPUSet: Sendable, Hashable, CustomStringConvertible {
    public private(set) var ranges: [ClosedRange<Int>]

    public init(ranges: [ClosedRange<Int>]) {
        var merged: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    public init(_ cpus: [Int]) { self.init(ranges: cpus.map { $0...$0 }) }

    public static let empty = CPUSet(ranges: [])

    public var count: Int { ranges.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ cpu: Int) -> Bool { ranges.contains { $0.contains(cpu) } }

    /// Every CPU number, ascending.
    public var members: [Int] { ranges.flatMap { Array($0) } }

    public func intersection(_ other: CPUSet) -> CPUSet {
        var result: [ClosedRange<Int>] = []
        for a in ranges {
            for b in other.ranges where a.overlaps(b) {
                result.append(max(a.lowerBound, b.lowerBound)...min(a.upperBound, b.upperBound))
            }
        }
        return CPUSet(ranges: result)
    }

    /// The list format the kernel prints: `0-3,8,10-11`, "" when empty.
    public var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}

public enum CPUList {
    /// Parses a list-format file. `""` and `"\n"` are the empty set (a cpuset with no CPUs, as lxcfs
    /// reads it). Unsorted items (`1-2,5-8,10,12,4`) are accepted; the kernel prints sorted lists,
    /// but `cpuset.cpus` echoes nothing else, and order does not change a set. Reversed ranges
    /// (`3-1`), empty items (`1,,2`) and the stride syntax `0-7:2/4` (accepted by
    /// `bitmap_parselist` on write, never printed) are errors.
    public static func parse(_ bytes: [UInt8], file: String, line: Int = 1) throws(ParseError) -> CPUSet {
        let text = LimitText.trimmedTrailing(bytes)
        if text.isEmpty { return .empty }
        let whole = String(decoding: text, as: UTF8.self)
        if text.contains(ASCII.newline) {
            throw ParseError(file: file, line: line, field: "cpu list", reason: "expected one line, got more", text: whole)
        }
        var ranges: [ClosedRange<Int>] = []
        for item in text.split(separator: ASCII.comma, omittingEmptySubsequences: false) {
            let itemText = String(decoding: item, as: UTF8.self)
            let bounds = item.split(separator: ASCII.hyphen, maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = cpuNumber(bounds[0]), bounds.count == 1 || cpuNumber(bounds[1]) != nil else {
                throw ParseError(
                    file: file, line: line, field: "cpu list",
                    reason: "expected \"N\" or \"N-M\" with decimal CPU numbers, got \"\(itemText)\"", text: whole)
            }
            let high = bounds.count == 2 ? cpuNumber(bounds[1]) ?? low : low
            guard low <= high else {
                throw ParseError(file: file, line: line, field: "cpu list", reason: "range \"\(itemText)\" runs backwards", text: whole)
            }
            ranges.append(low...high)
        }
        return CPUSet(ranges: ranges)
    }

    /// CPU numbers are below NR_CPUS (at most 8192 with CONFIG_MAXSMP); anything past 2^20 is not a CPU.
    private static func cpuNumber(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count <= 7, let value = LimitText.parseUInt64(bytes), value < 1 << 20 else { return nil }
        return Int(value)
    }
}

/// The affinity line of `/proc/<pid>/status` (fs/proc/array.c `task_cpus_allowed`):
/// `Cpus_allowed_list:\t0-1`. Read from the file rather than sched_getaffinity(2) so a capture
/// replays the same answer.
public enum ProcessStatus {
    /// The CPUs the task may run on, with the line it came from; nil when the file has no such
    /// line (kernels before 2.6.26).
    public static func cpusAllowedList(_ bytes: [UInt8], file: String) throws(ParseError) -> (cpus: CPUSet, line: Int)? {
        let key = Array("Cpus_allowed_list:".utf8)
        var number = 0
        for line in bytes.split(separator: ASCII.newline, omittingEmptySubsequences: false) {
            number += 1
            guard line.starts(with: key) else { continue }
            var value = line.dropFirst(key.count)
            while let first = value.first, first == ASCII.tab || first == ASCII.space { value = value.dropFirst() }
            return (try CPUList.parse(Array(value), file: file, line: number), number)
        }
        return nil
    }
}
