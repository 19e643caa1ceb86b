import CgroupFormats
import SystemPackage

/// Reads a process's effective CPU, memory and pids limits: the library call behind
/// `cgdoctor limits PID`.
///
/// Whose view: the process's cgroup directories are resolved against the *reader's* mounts (the
/// mountinfo of ``referencePID``, PID 1 by default), exactly as ``HostScanner/paths(of:)`` does,
/// because cgdoctor has to open the files itself and only mounts in its own namespace lead to them.
/// The process's own mountinfo is what consumers (JVM, Go, ...) see; that is the consumer models'
/// business, not this one's. From the process's directory the walk goes up, level by level, to the
/// mount point: every level's file is read and the smallest value binds, because the kernel enforces
/// every ancestor's limit (cgroup-v2.rst "Top-down Constraint"; v1 memory with use_hierarchy and
/// CFS bandwidth of parents likewise). Levels above the mount root are invisible; v1 memory's
/// `hierarchical_memory_limit` is the kernel's own minimum over all of them, so it is taken as the
/// effective v1 memory limit when readable.
///
/// Hybrid hosts: a controller bound to a v1 hierarchy is read there; otherwise from the v2
/// hierarchy (the `0::` line), where its files are missing if it is not enabled.
public struct LimitsReader: Sendable {
    public var sysroot: Sysroot
    /// The process whose mount namespace the files are found through (PID 1 unless told otherwise).
    public var referencePID: Int32

    public init(sysroot: Sysroot = .live, referencePID: Int32 = 1) {
        self.sysroot = sysroot
        self.referencePID = referencePID
    }

    /// Reads `pid`'s limits. Throws only when the process's cgroup file or the reader's mountinfo
    /// cannot be read at all; every other failure is part of the answer.
    public func limits(of pid: Int32) throws(PathsError) -> ProcessLimits {
        let paths = try HostScanner(sysroot: sysroot, referencePID: referencePID).paths(of: pid)
        return limits(for: paths)
    }

    /// Reads the limits of a process whose paths are already resolved (`explain` resolves once).
    public func limits(for paths: ProcessPaths) -> ProcessLimits {
        let pid = paths.pid
        let cpuWalk = walk(.cpu, paths) { level, directory -> LimitLevel<CPUBandwidth> in
            level.version == 1 ? cpuV1(level, directory) : cpuV2(level, directory)
        }
        let cpusetWalk = walk(.cpuset, paths) { level, directory -> LimitLevel<CPUSet> in
            cpuset(level, directory)
        }
        let memoryIsV1 = version(of: .memory, paths) == 1
        let memoryWalk = walk(.memory, paths) { level, directory -> LimitLevel<UInt64> in
            level.version == 1
                ? number(level, directory, "memory.limit_in_bytes", V1MemoryLimitFile.parse)
                : number(level, directory, "memory.max", MaxOrNumberFile.parse)
        }
        let memoryHighWalk: LimitWalk<UInt64>? =
            memoryIsV1
            ? nil
            : walk(.memory, paths, fileName: "memory.high") { level, directory in
                number(level, directory, "memory.high", MaxOrNumberFile.parse)
            }
        let pidsWalk = walk(.pids, paths) { level, directory -> LimitLevel<UInt64> in
            number(level, directory, "pids.max", MaxOrNumberFile.parse)
        }

        var hierarchical: SingleReading<UInt64>?
        if memoryIsV1, case .resolved(_, _, _, _, let directory) = memoryWalk.source {
            hierarchical = hierarchicalMemoryLimit(directory)
        }
        let affinity = readAffinity(pid)
        let online = readOnline()

        var memoryEffective = Self.summarize(memoryWalk).effective
        if let hierarchical {
            memoryEffective = Self.combineHierarchical(memoryEffective, hierarchical, walk: memoryWalk)
        }
        let cpuEffective = Self.effectiveCPU(
            cpuWalk, cpuset: cpusetWalk, affinity: affinity.reading.value, online: online.reading.value)

        return ProcessLimits(
            pid: pid, cgroupFile: paths.cgroupFile, mountInfoFile: paths.mountInfoFile,
            cpu: cpuWalk, cpuset: cpusetWalk, memory: memoryWalk, memoryHigh: memoryHighWalk,
            hierarchicalMemoryLimit: hierarchical, pids: pidsWalk, affinity: affinity, onlineCPUs: online,
            effectiveCPU: cpuEffective, effectiveMemory: memoryEffective,
            effectiveMemoryHigh: memoryHighWalk.map { Self.summarize($0).effective },
            pidsMax: Self.summarize(pidsWalk).effective, errors: paths.errors)
    }

    // MARK: Locating a controller

    /// One level of a resolved walk, as handed to the per-file readers.
    struct LevelContext {
        var version: Int
        var cgroupPath: FilePath
    }

    /// The line that carries `controller`: a v1 line listing it, else the v2 line.
    static func line(for controller: Controller, in paths: ProcessPaths) -> ResolvedLine? {
        paths.lines.first { !$0.entry.isUnified && $0.entry.controllers.contains(controller) }
            ?? paths.lines.first { $0.entry.isUnified }
    }

    func version(of controller: Controller, _ paths: ProcessPaths) -> Int? {
        Self.line(for: controller, in: paths).map { $0.entry.isUnified ? 2 : 1 }
    }

    /// Walks from the process's directory up to the mount point, reading one level at a time.
    func walk<Value>(
        _ controller: Controller, _ paths: ProcessPaths, fileName: String? = nil,
        _ readLevel: (LevelContext, FilePath) -> LimitLevel<Value>
    ) -> LimitWalk<Value> {
        let name = fileName ?? Self.defaultFileName(controller, version: version(of: controller, paths))
        guard let line = Self.line(for: controller, in: paths) else {
            return LimitWalk(
                controller: controller, fileName: name,
                source: .unresolved(
                    "\(paths.cgroupFile) has no line for the \(controller) controller and no cgroup v2 (\"0::\") line"),
                levels: [], binding: nil, notes: [])
        }
        guard case .resolved(let directory, let mount) = line.resolution else {
            if case .unresolved(let reason) = line.resolution {
                return LimitWalk(
                    controller: controller, fileName: name, source: .unresolved(reason.explanation(pid: paths.pid)),
                    levels: [], binding: nil, notes: [])
            }
            return LimitWalk(controller: controller, fileName: name, source: .unresolved("unresolved"), levels: [], binding: nil, notes: [])
        }
        let version = line.entry.isUnified ? 2 : 1
        let relative = Array(PathResolver.relative(line.entry.path, below: mount.root).components)
        var levels: [LimitLevel<Value>] = []
        for depth in stride(from: relative.count, through: 0, by: -1) {
            let tail = FilePath(root: nil, relative[0..<depth])
            let levelDirectory = tail.isEmpty ? mount.mountPoint : mount.mountPoint.pushing(tail)
            let cgroupPath = tail.isEmpty ? mount.root : mount.root.pushing(tail)
            levels.append(readLevel(LevelContext(version: version, cgroupPath: cgroupPath), levelDirectory))
        }
        var notes: [String] = []
        if mount.root != "/" {
            notes.append(
                "levels above \(mount.root.string) are not visible through the mount at \(mount.mountPoint.string); their limits apply but cannot be read here"
                    + (controller == .memory && version == 1 ? " (hierarchical_memory_limit includes them)" : ""))
        }
        // cpuset is the exception: the v2 root has cpuset.cpus.effective, and its absence means something else.
        if controller != .cpuset, let last = levels.last, last.cgroupPath == "/", case .missing = last.reading {
            notes.append("the root cgroup has no \(name): the kernel does not limit the root")
        }
        let hierarchy = Hierarchy(line.entry)
        var result = LimitWalk(
            controller: controller, fileName: name,
            source: .resolved(version: version, hierarchy: hierarchy, entry: line.entry, mount: mount, directory: directory),
            levels: levels, binding: nil, notes: notes)
        result.binding = controller == .cpuset ? levels.firstIndex { $0.reading.value != nil } : Self.smallest(result)
        return result
    }

    static func defaultFileName(_ controller: Controller, version: Int?) -> String {
        switch (controller, version) {
        case (.cpu, 1): "cpu.cfs_quota_us"
        case (.cpu, _): "cpu.max"
        case (.cpuset, 1): "cpuset.effective_cpus"
        case (.cpuset, _): "cpuset.cpus.effective"
        case (.memory, 1): "memory.limit_in_bytes"
        case (.memory, _): "memory.max"
        default: "\(controller).max"
        }
    }

    // MARK: Per-level readers

    /// Reads and parses one file; ENOENT is `.missing`, other errors `.unreadable`.
    func read<Value>(_ path: FilePath, _ parse: ([UInt8], String) throws(ParseError) -> Value) -> Reading<Value> {
        let bytes: [UInt8]
        do {
            bytes = try sysroot.read(path)
        } catch {
            return error.isNotFound ? .missing(path: path) : .unreadable(error)
        }
        do {
            return .value(try parse(bytes, path.string))
        } catch {
            return .unparseable(error)
        }
    }

    func number(
        _ level: LevelContext, _ directory: FilePath, _ name: String,
        _ parse: ([UInt8], String) throws(ParseError) -> Limit
    ) -> LimitLevel<UInt64> {
        let path = directory.appending(name)
        return LimitLevel(
            cgroupPath: level.cgroupPath, directory: directory, files: [path], reading: Self.flatten(read(path, parse)))
    }

    func cpuV1(_ level: LevelContext, _ directory: FilePath) -> LimitLevel<CPUBandwidth> {
        let quotaPath = directory.appending("cpu.cfs_quota_us")
        let periodPath = directory.appending("cpu.cfs_period_us")
        var files = [quotaPath]
        let reading = read(quotaPath, CFSBandwidthFile.parseQuota).flatMap { quota -> Reading<CPUBandwidth> in
            guard case .value(let microseconds) = quota else { return .unlimited }
            // The period matters only when there is a quota to divide.
            files.append(periodPath)
            return read(periodPath, CFSBandwidthFile.parsePeriod).flatMap { .value(CPUBandwidth(quota: microseconds, period: $0)) }
        }
        return LimitLevel(cgroupPath: level.cgroupPath, directory: directory, files: files, reading: reading)
    }

    func cpuV2(_ level: LevelContext, _ directory: FilePath) -> LimitLevel<CPUBandwidth> {
        let path = directory.appending("cpu.max")
        let reading = read(path, CPUMax.parse).flatMap { max -> Reading<CPUBandwidth> in
            max.quota.value.map { .value(CPUBandwidth(quota: $0, period: max.period)) } ?? .unlimited
        }
        return LimitLevel(cgroupPath: level.cgroupPath, directory: directory, files: [path], reading: reading)
    }

    /// v2 `cpuset.cpus.effective`; v1 `cpuset.effective_cpus` (kernel 3.16+), else `cpuset.cpus`.
    func cpuset(_ level: LevelContext, _ directory: FilePath) -> LimitLevel<CPUSet> {
        let parse: ([UInt8], String) throws(ParseError) -> CPUSet = { bytes, file throws(ParseError) in
            try CPUList.parse(bytes, file: file)
        }
        if level.version == 2 {
            let path = directory.appending("cpuset.cpus.effective")
            return LimitLevel(cgroupPath: level.cgroupPath, directory: directory, files: [path], reading: read(path, parse))
        }
        let effective = directory.appending("cpuset.effective_cpus")
        let reading = read(effective, parse)
        if case .missing = reading {
            let configured = directory.appending("cpuset.cpus")
            return LimitLevel(
                cgroupPath: level.cgroupPath, directory: directory, files: [effective, configured], reading: read(configured, parse))
        }
        return LimitLevel(cgroupPath: level.cgroupPath, directory: directory, files: [effective], reading: reading)
    }

    /// v1 `memory.stat` `hierarchical_memory_limit` of the process's own cgroup.
    func hierarchicalMemoryLimit(_ directory: FilePath) -> SingleReading<UInt64> {
        let path = directory.appending("memory.stat")
        var line: Int?
        let reading = read(path) { bytes, file in MemoryStat.parse(bytes, file: file) }.flatMap { stat -> Reading<UInt64> in
            if let found = stat.hierarchicalMemoryLimit {
                line = found.line
                return Self.flatten(.value(found.limit))
            }
            if let error = stat.errors.first(where: { $0.text.hasPrefix("hierarchical_memory_limit") }) {
                line = error.line
                return .unparseable(error)
            }
            return .unparseable(Self.absentLine("hierarchical_memory_limit", in: path))
        }
        return SingleReading(file: path, line: line, reading: reading)
    }

    func readAffinity(_ pid: Int32) -> SingleReading<CPUSet> {
        let path = FilePath("/proc/\(pid)/status")
        var line: Int?
        let reading = read(path) { bytes, file throws(ParseError) -> CPUSet? in
            let found = try ProcessStatus.cpusAllowedList(bytes, file: file)
            line = found?.line
            return found?.cpus
        }.flatMap { cpus -> Reading<CPUSet> in
            cpus.map { .value($0) } ?? .unparseable(Self.absentLine("Cpus_allowed_list", in: path))
        }
        return SingleReading(file: path, line: line, reading: reading)
    }

    static func absentLine(_ key: String, in path: FilePath) -> ParseError {
        ParseError(file: path.string, line: 0, field: key, reason: "no such line in the file", text: "")
    }

    func readOnline() -> SingleReading<CPUSet> {
        let path = FilePath("/sys/devices/system/cpu/online")
        return SingleReading(
            file: path, line: 1, reading: read(path) { bytes, file throws(ParseError) in try CPUList.parse(bytes, file: file) })
    }

    // MARK: Deciding what binds (pure)

    static func flatten(_ reading: Reading<Limit>) -> Reading<UInt64> {
        reading.flatMap { limit in limit.value.map { .value($0) } ?? .unlimited }
    }

    /// Index of the smallest value; ties go to the level nearest the process (the first).
    static func smallest<Value>(_ walk: LimitWalk<Value>) -> Int? {
        var best: (index: Int, key: Double)?
        for (index, level) in walk.levels.enumerated() {
            guard let value = level.reading.value, let key = sortKey(value) else { continue }
            if key < (best?.key ?? .infinity) { best = (index, key) }
        }
        return best?.index
    }

    static func sortKey<Value>(_ value: Value) -> Double? {
        switch value {
        case let bandwidth as CPUBandwidth: bandwidth.cores
        case let number as UInt64: Double(number)
        case let set as CPUSet: Double(set.count)
        default: nil
        }
    }

    /// The effective limit of a walk, from its binding level and the levels that could not be read.
    static func summarize<Value>(_ walk: LimitWalk<Value>) -> (binding: Int?, effective: EffectiveLimit<Value>) {
        if case .unresolved(let reason) = walk.source { return (nil, .unknown(reason)) }
        let failed = walk.levels.filter {
            switch $0.reading {
            case .unreadable, .unparseable: true
            default: false
            }
        }
        if let binding = walk.binding, let value = walk.levels[binding].reading.value {
            return (binding, .limited(value, file: walk.levels[binding].files[0], complete: failed.isEmpty))
        }
        if let first = failed.first {
            return (nil, .unknown("\(failed.count) level\(failed.count == 1 ? "" : "s") could not be read: \(describe(first.reading))"))
        }
        if walk.levels.contains(where: { if case .unlimited = $0.reading { true } else { false } }) {
            return (nil, .unlimited)
        }
        let top = walk.levels.last?.cgroupPath.string ?? "/"
        let leaf = walk.levels.first?.cgroupPath.string ?? "/"
        return (nil, .noLimitFile("no level from \(leaf) up to \(top) has \(walk.fileName)"))
    }

    /// v1: `hierarchical_memory_limit` is the kernel's own minimum over every ancestor, visible or
    /// not, so when readable it is the answer; the walk shows which visible level (if any) sets it.
    static func combineHierarchical(
        _ walkEffective: EffectiveLimit<UInt64>, _ hierarchical: SingleReading<UInt64>, walk: LimitWalk<UInt64>
    ) -> EffectiveLimit<UInt64> {
        switch hierarchical.reading {
        case .value(let bytes):
            if case .limited(let walkBytes, let file, _) = walkEffective, walkBytes == bytes {
                return .limited(bytes, file: file, complete: true)
            }
            return .limited(bytes, file: hierarchical.file, complete: true)
        case .unlimited:
            return .unlimited
        default:
            // Without the kernel's minimum, the visible levels are all there is; above the mount root
            // may be smaller.
            if case .limited(let v, let file, _) = walkEffective { return .limited(v, file: file, complete: false) }
            return walkEffective
        }
    }

    static func effectiveCPU(
        _ cpu: LimitWalk<CPUBandwidth>, cpuset: LimitWalk<CPUSet>, affinity: CPUSet?, online: CPUSet?
    ) -> EffectiveCPU {
        let summary = summarize(cpu)
        var bandwidth: CPUBandwidth?
        let quota: EffectiveLimit<Double>
        switch summary.effective {
        case .limited(let b, let file, let complete):
            bandwidth = b
            quota = .limited(b.cores, file: file, complete: complete)
        case .unlimited: quota = .unlimited
        case .noLimitFile(let reason): quota = .noLimitFile(reason)
        case .unknown(let reason): quota = .unknown(reason)
        }
        let cpusetCPUs = cpuset.bindingLevel?.reading.value
        // The CPUs it may run on: the most specific set known, labelled by what restricts it.
        var runnable: (count: Int, bound: EffectiveCPU.CPUBound)?
        if let online, !online.isEmpty { runnable = (online.count, .online) }
        if let cpusetCPUs, !cpusetCPUs.isEmpty, cpusetCPUs.count < (runnable?.count ?? Int.max) {
            runnable = (cpusetCPUs.count, .cpuset)
        }
        if let affinity, !affinity.isEmpty, affinity.count < (runnable?.count ?? Int.max) {
            runnable = (affinity.count, .affinity)
        }
        var cpus = runnable?.count
        var bound = runnable?.bound
        if let bandwidth {
            let rounded = max(1, Int(bandwidth.cores.rounded(.up)))
            if rounded < (cpus ?? Int.max) {
                cpus = rounded
                bound = .quota
            }
        }
        return EffectiveCPU(
            quota: quota, bandwidth: bandwidth, cpuset: cpusetCPUs, affinity: affinity, online: online, cpus: cpus,
            limitedBy: bound)
    }

    static func describe<Value>(_ reading: Reading<Value>) -> String {
        switch reading {
        case .value(let v): "\(v)"
        case .unlimited: "unlimited"
        case .missing(let path): "\(path.string) missing"
        case .unreadable(let error): "\(error)"
        case .unparseable(let error): "\(error)"
        }
    }
}
