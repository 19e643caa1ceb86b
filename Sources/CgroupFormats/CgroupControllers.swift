/// `/proc/cgroups`: the controllers compiled into the kernel and the v1 hierarchy each is bound to.
///
/// Kernel: `proc_cgroupstats_show()` in kernel/cgroup/cgroup-v1.c. Man page: cgroups(7), "/proc/cgroups".
/// Example (fields separated by TAB):
///
///     #subsys_name	hierarchy	num_cgroups	enabled
///     cpuset	3	1	1
///     memory	4	45	1
///     net_cls	0	1	1
///
/// `hierarchy` is 0 when the controller is bound to no v1 hierarchy (it is then on the v2
/// hierarchy, or unused). `num_cgroups` counts live and dying cgroups of the hierarchy the
/// controller is in. Fields are separated by TABs; runs of blanks are accepted too.
public struct CgroupControllers: Sendable, Hashable {
    public var file: String
    public var entries: [ControllerEntry]
    public var errors: [ParseError]

    public init(file: String, entries: [ControllerEntry], errors: [ParseError]) {
        self.file = file
        self.entries = entries
        self.errors = errors
    }

    public static func parse(_ bytes: [UInt8], file: String) -> CgroupControllers {
        bytes.withUnsafeBufferPointer { parse($0, file: file) }
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, file: String) -> CgroupControllers {
        var entries: [ControllerEntry] = []
        var errors: [ParseError] = []
        forEachLine(buffer) { line, number in
            if line.isEmpty || line[0] == ASCII.hash { return }
            do throws(ParseError) {
                entries.append(try ControllerEntry.parse(line, number: number, file: file))
            } catch {
                errors.append(error)
            }
        }
        return CgroupControllers(file: file, entries: entries, errors: errors)
    }

    public func entry(for controller: Controller) -> ControllerEntry? {
        entries.first { $0.controller == controller }
    }
}

/// One line of `/proc/cgroups`.
public struct ControllerEntry: Sendable, Hashable {
    public var line: Int
    public var controller: Controller
    /// The v1 hierarchy ID, or 0 when bound to none.
    public var hierarchyID: Int
    /// Number of cgroups in that hierarchy, live and dying.
    public var cgroupCount: Int
    public var enabled: Bool
    public var text: String

    public init(line: Int, controller: Controller, hierarchyID: Int, cgroupCount: Int, enabled: Bool, text: String) {
        self.line = line
        self.controller = controller
        self.hierarchyID = hierarchyID
        self.cgroupCount = cgroupCount
        self.enabled = enabled
        self.text = text
    }

    public static func parse(_ line: [UInt8], number: Int = 1, file: String) throws(ParseError) -> ControllerEntry {
        let result: Result<ControllerEntry, ParseError> = line.withUnsafeBufferPointer { buffer in
            do throws(ParseError) { return .success(try parse(buffer, number: number, file: file)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int, file: String) throws(ParseError) -> ControllerEntry {
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var start: Int? = nil
        for index in 0..<line.count {
            let blank = line[index] == ASCII.tab || line[index] == ASCII.space
            if blank, let s = start {
                fields.append(UnsafeBufferPointer(rebasing: line[s..<index]))
                start = nil
            } else if !blank && start == nil {
                start = index
            }
        }
        if let s = start { fields.append(UnsafeBufferPointer(rebasing: line[s...])) }
        func failure(_ field: String, _ reason: String) -> ParseError {
            ParseError(file: file, line: number, field: field, reason: reason, text: decodeLossy(line))
        }
        guard fields.count == 4 else {
            throw failure("line", "expected 4 fields (subsys_name hierarchy num_cgroups enabled), found \(fields.count)")
        }
        guard let hierarchy = parseDecimal(fields[1]) else {
            throw failure("hierarchy", "expected a decimal number, got \"\(decodeLossy(fields[1]))\"")
        }
        guard let count = parseDecimal(fields[2]) else {
            throw failure("num_cgroups", "expected a decimal number, got \"\(decodeLossy(fields[2]))\"")
        }
        guard let enabled = parseDecimal(fields[3]), enabled <= 1 else {
            throw failure("enabled", "expected 0 or 1, got \"\(decodeLossy(fields[3]))\"")
        }
        return ControllerEntry(
            line: number, controller: Controller(rawValue: decodeLossy(fields[0])), hierarchyID: hierarchy,
            cgroupCount: count, enabled: enabled == 1, text: decodeLossy(line))
    }
}
