import CgroupFormats

/// uber-go/automaxprocs `maxprocs.Set()`: the GOMAXPROCS a Go program importing
/// `go.uber.org/automaxprocs` ends up with. Shared by ``Automaxprocs14`` and ``Automaxprocs16``.
///
/// v1 (internal/cgroups/cgroups.go `NewCGroups`, mountpoint.go, subsys.go): every controller token of
/// every /proc/self/cgroup line (including `name=systemd` and the empty v2 token) is a subsystem; for
/// every `cgroup` mountinfo line, every super option that is such a subsystem is translated with
/// `filepath.Rel(root, path)` — a path outside the mount root ("..") aborts the WHOLE call with
/// "path %q is not a descendant of mount point root %q and cannot be exposed from %q" — and the LAST
/// matching mount wins. Any mountinfo line that does not split into exactly the expected fields aborts
/// with "invalid format for MountPoint". cpu.cfs_quota_us ≤ 0 means no quota.
/// GOMAXPROCS = max(1, floor(quota/period)), not capped by the CPU count; without a quota (or on an
/// error) GOMAXPROCS is left at the Go runtime's default, modelled as the affinity count (Go < 1.25).
enum AutomaxprocsEngine {
    struct Failure: Error { var message: String }

    enum Quota {
        case undefined
        case value(Double)
    }

    static func predict(_ model: some ConsumerModel, v2Support: Bool, input: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(input)
        trace.files.append(contentsOf: ["/proc/self/mountinfo", "/proc/self/cgroup"])
        let affinity = HostFacts.affinity(input)
        let result: Result<(Quota, String?), Failure>
        if v2Support, isV2(input) {
            trace.note("cgroup2 mounted at /sys/fs/cgroup: v2")
            result = quotaV2(&trace)
        } else {
            if v2Support { trace.note("no cgroup2 mount at exactly /sys/fs/cgroup: v1 code path (hybrid counts as v1)") }
            result = quotaV1(&trace, zeroPeriodUndefined: v2Support)
        }
        switch result {
        case .failure(let failure):
            trace.note("maxprocs.Set returned an error: GOMAXPROCS left at the runtime default")
            return trace.view(model, cpuCount: affinity, memory: .notComputed, mount: nil, error: failure.message)
        case .success((.undefined, let mount)):
            trace.note("maxprocs: Leaving GOMAXPROCS=\(affinity.map(String.init) ?? "?"): CPU quota undefined")
            return trace.view(model, cpuCount: affinity, memory: .notComputed, mount: mount)
        case .success((.value(let quota), let mount)):
            let procs = max(1, Int(quota.isFinite ? quota.rounded(.down) : 1))
            trace.note("CPU quota \(quota): GOMAXPROCS = max(1, floor(quota)) = \(procs) (not capped by the CPU count)")
            return trace.view(model, cpuCount: procs, memory: .notComputed, mount: mount)
        }
    }

    /// automaxprocs ≥ 1.5 `isCGroupV2`: some mountinfo line is `cgroup2` mounted at exactly /sys/fs/cgroup.
    static func isV2(_ input: ConsumerInput) -> Bool {
        input.mountInfo.entries.contains { $0.fileSystemType == "cgroup2" && $0.mountPoint == "/sys/fs/cgroup" }
    }

    /// The raw space-split fields of a mountinfo line, as `NewMountPointFromLine` takes them.
    struct RawMount {
        var root: String
        var mountPoint: String
        var fsType: String
        var superOptions: [String]
    }

    static func rawMount(_ text: String) -> RawMount? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 10 else { return nil }
        guard let separator = fields[6...].firstIndex(of: "-") else { return nil }
        guard fields.count == separator + 4 else { return nil }
        return RawMount(
            root: fields[3], mountPoint: fields[4], fsType: fields[separator + 1],
            superOptions: fields[separator + 3].split(separator: ",", omittingEmptySubsequences: false).map(String.init))
    }

    static func quotaV1(_ trace: inout ConsumerTrace, zeroPeriodUndefined: Bool) -> Result<(Quota, String?), Failure> {
        let input = trace.input
        if let error = input.cgroups.errors.first {
            return .failure(Failure(message: "invalid format for CGroupSubsys: \"\(error.text)\""))
        }
        var subsystems: [String: String] = [:]
        for entry in input.cgroups.entries {
            var tokens = entry.controllers.map(\.rawValue)
            if let name = entry.name { tokens.append("name=\(name)") }
            if tokens.isEmpty { tokens = [""] }
            for token in tokens { subsystems[token] = entry.path.string }
        }
        if let error = input.mountInfo.errors.first {
            return .failure(Failure(message: "invalid format for MountPoint: \"\(error.text)\""))
        }
        var cgroups: [String: String] = [:]
        var cpuMount: String?
        for entry in input.mountInfo.entries {
            guard let mount = rawMount(entry.text) else {
                return .failure(Failure(message: "invalid format for MountPoint: \"\(entry.text)\""))
            }
            guard mount.fsType == "cgroup" else { continue }
            for option in mount.superOptions {
                guard let path = subsystems[option] else { continue }
                let relative = GoPath.rel(mount.root, path)
                if relative == ".." || relative.hasPrefix("../") {
                    return .failure(
                        Failure(
                            message:
                                "path \"\(path)\" is not a descendant of mount point root \"\(mount.root)\" and cannot be exposed from \"\(mount.mountPoint)\""
                        ))
                }
                cgroups[option] = GoPath.join(mount.mountPoint, relative)
                if option == "cpu" { cpuMount = mount.mountPoint }
            }
        }
        guard let directory = cgroups["cpu"] else {
            trace.note("no cpu cgroup")
            return .success((.undefined, nil))
        }
        trace.note("cpu cgroup directory \(directory)")
        guard let quotaLine = trace.firstLine(directory + "/cpu.cfs_quota_us") else {
            return .failure(Failure(message: "open \(directory)/cpu.cfs_quota_us: no such file or directory"))
        }
        guard let quota = ConsumerText.strictSigned(quotaLine) else {
            return .failure(Failure(message: "strconv.Atoi: parsing \"\(quotaLine)\": invalid syntax"))
        }
        if quota <= 0 { return .success((.undefined, cpuMount)) }
        guard let periodLine = trace.firstLine(directory + "/cpu.cfs_period_us") else {
            return .failure(Failure(message: "open \(directory)/cpu.cfs_period_us: no such file or directory"))
        }
        guard let period = ConsumerText.strictSigned(periodLine) else {
            return .failure(Failure(message: "strconv.Atoi: parsing \"\(periodLine)\": invalid syntax"))
        }
        if period == 0 {
            // 1.4 divides anyway (+Inf; int(+Inf) is the minimum int on amd64, so the minimum 1 wins);
            // 1.6 calls it undefined. The kernel never reports period 0.
            trace.note("cpu.cfs_period_us is 0")
            if zeroPeriodUndefined { return .success((.undefined, cpuMount)) }
            return .success((.value(.infinity), cpuMount))
        }
        return .success((.value(Double(quota) / Double(period)), cpuMount))
    }

    static func quotaV2(_ trace: inout ConsumerTrace) -> Result<(Quota, String?), Failure> {
        let input = trace.input
        let group = input.cgroups.entries.first { $0.hierarchyID == 0 }?.path.string ?? "/"
        let directory = GoPath.join("/sys/fs/cgroup", group)
        guard let bytes = trace.read(directory + "/cpu.max") else { return .success((.undefined, "/sys/fs/cgroup")) }
        switch parseCPUMax(bytes) {
        case .failure(let f): return .failure(f)
        case .success(let q): return .success((q, "/sys/fs/cgroup"))
        }
    }

    /// `CGroups2.CPUQuota` on the contents of cpu.max (automaxprocs 1.6, cgroups2.go).
    static func parseCPUMax(_ bytes: [UInt8]) -> Result<Quota, Failure> {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !(text.isEmpty) else {
            return .failure(Failure(message: "unexpected EOF"))
        }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 1 || fields.count == 2 else { return .failure(Failure(message: "invalid format")) }
        if fields[0] == "max" { return .success(.undefined) }
        guard let quota = ConsumerText.strictSigned(fields[0]) else {
            return .failure(Failure(message: "strconv.Atoi: parsing \"\(fields[0])\": invalid syntax"))
        }
        var period: Int64 = 100_000
        if fields.count == 2 {
            guard let p = ConsumerText.strictSigned(fields[1]) else {
                return .failure(Failure(message: "strconv.Atoi: parsing \"\(fields[1])\": invalid syntax"))
            }
            period = p
        }
        if period == 0 { return .failure(Failure(message: "zero value for period is not allowed")) }
        return .success(.value(Double(quota) / Double(period)))
    }
}
