import SystemPackage
import Testing

@testable import CgroupFormats

struct CgroupLineCase: Sendable, CustomTestStringConvertible {
    let name: String
    let line: String
    let id: Int
    let controllers: [Controller]
    var hierarchyName: String? = nil
    let path: String
    var unified = false
    var label: String
    var testDescription: String { name }
}

struct ProcessCgroupsTests {
    static let lines: [CgroupLineCase] = [
        CgroupLineCase(name: "coreosSshdColonsInPath", line: "4:cpu,cpuacct:/system.slice/sshd@126-10.240.0.15:22-1.2.3.4:33678.service",
                       id: 4, controllers: ["cpu", "cpuacct"], path: "/system.slice/sshd@126-10.240.0.15:22-1.2.3.4:33678.service", label: "cpu,cpuacct"),
        CgroupLineCase(name: "criContainerdSystemdDriver", line: "12:cpu,cpuacct:/kubepods-besteffort-podb416.slice:cri-containerd:1753b7",
                       id: 12, controllers: ["cpu", "cpuacct"], path: "/kubepods-besteffort-podb416.slice:cri-containerd:1753b7", label: "cpu,cpuacct"),
        CgroupLineCase(name: "prometheusUnifiedLine", line: "0::/user.slice/user-1000.slice", id: 0, controllers: [],
                       path: "/user.slice/user-1000.slice", unified: true, label: "cgroup2"),
        CgroupLineCase(name: "prometheusUnifiedColon", line: "0::/some/long/path:foobar", id: 0, controllers: [],
                       path: "/some/long/path:foobar", unified: true, label: "cgroup2"),
        CgroupLineCase(name: "lxd4247NamedUnmounted", line: "1:name=openrc:/", id: 1, controllers: [], hierarchyName: "openrc",
                       path: "/", label: "name=openrc"),
        CgroupLineCase(name: "cpuMirrorIncident", line: "12:name=cpu_mirror:/agent/job-1", id: 12, controllers: [],
                       hierarchyName: "cpu_mirror", path: "/agent/job-1", label: "name=cpu_mirror"),
        CgroupLineCase(name: "namedWithController", line: "3:cpu,name=mixed:/x", id: 3, controllers: ["cpu"], hierarchyName: "mixed",
                       path: "/x", label: "cpu,name=mixed"),
        CgroupLineCase(name: "goOutOfNamespace", line: "0::/../../../../init.scope", id: 0, controllers: [],
                       path: "/../../../../init.scope", unified: true, label: "cgroup2"),
        CgroupLineCase(name: "prometheusRdma", line: "10:rdma:/", id: 10, controllers: ["rdma"], path: "/", label: "rdma"),
    ]

    @Test(arguments: lines)
    func parsesLine(_ c: CgroupLineCase) throws {
        let entry = try CgroupEntry.parse(Array(c.line.utf8), number: 3, file: "/proc/1/cgroup")
        #expect(entry.line == 3)
        #expect(entry.hierarchyID == c.id)
        #expect(entry.controllers == c.controllers)
        #expect(entry.name == c.hierarchyName)
        #expect(entry.path == FilePath(c.path))
        #expect(entry.isUnified == c.unified)
        #expect(entry.hierarchyLabel == c.label)
        #expect(entry.text == c.line)
    }

    struct BadLine: Sendable, CustomTestStringConvertible {
        let name: String
        let line: String
        let field: String
        var testDescription: String { name }
    }

    static let badLines: [BadLine] = [
        BadLine(name: "opencontainersNoColons", line: "malformed", field: "line"),
        BadLine(name: "automaxprocsFewerFields", line: "1:cpu", field: "line"),
        BadLine(name: "automaxprocsIllegalID", line: "not-a-number:cpu:/", field: "hierarchy ID"),
        BadLine(name: "containerdLeadingTab", line: "\t9:net_cls,net_prio:/", field: "hierarchy ID"),
        BadLine(name: "goEmptyPath", line: "0::", field: "cgroup path"),
        BadLine(name: "goRelativePath", line: "0::a", field: "cgroup path"),
        BadLine(name: "automemlimitEmptyControllerNonZeroID", line: "2::/my_cgroup", field: "controller list"),
        BadLine(name: "emptyName", line: "2:name=:/", field: "controller list"),
        BadLine(name: "emptyControllerToken", line: "2:cpu,,memory:/", field: "controller list"),
    ]

    @Test(arguments: badLines)
    func errorNamesFileLineFieldAndText(_ c: BadLine) {
        let text = "\n12:name=systemd:/\n" + c.line + "\n0::/\n"
        let parsed = ProcessCgroups.parse(Array(text.utf8), file: "/proc/4242/cgroup")
        #expect(parsed.entries.map(\.line) == [2, 4])
        guard let error = parsed.errors.first else {
            Issue.record("\(c.name) was accepted")
            return
        }
        #expect(error.file == "/proc/4242/cgroup")
        #expect(error.line == 3)
        #expect(error.field == c.field)
        #expect(error.text == c.line)
        #expect(error.description.hasPrefix("/proc/4242/cgroup:3: field \"\(c.field)\": "))
    }

    @Test func lxd4247WholeFile() {
        let text = "9:name=systemd:/\n8:freezer:/\n3:cpu:/\n2:cpuset:/\n1:name=openrc:/\n0::/\n"
        let parsed = ProcessCgroups.parse(Array(text.utf8), file: "/proc/1/cgroup")
        #expect(parsed.errors.isEmpty)
        #expect(parsed.entries.compactMap(\.name) == ["systemd", "openrc"])
        #expect(parsed.unified?.line == 6)
    }

    @Test func noTrailingNewline() {
        let parsed = ProcessCgroups.parse(Array("0::/test-all".utf8), file: "f")
        #expect(parsed.unified?.path == FilePath("/test-all"))
    }
}

struct CgroupControllersTests {
    @Test func kernelTable() {
        let text = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\nmemory\t4\t45\t1\nnet_cls\t0\t1\t1\nmisc\t0\t1\t0"
        let parsed = CgroupControllers.parse(Array(text.utf8), file: "/proc/cgroups")
        #expect(parsed.errors.isEmpty)
        #expect(parsed.entries.map(\.controller) == ["cpuset", "memory", "net_cls", "misc"])
        #expect(parsed.entry(for: .memory)?.cgroupCount == 45)
        #expect(parsed.entry(for: .memory)?.line == 3)
        #expect(parsed.entry(for: .netCls)?.hierarchyID == 0)
        #expect(parsed.entry(for: .misc)?.enabled == false)
    }

    struct BadLine: Sendable, CustomTestStringConvertible {
        let name: String
        let line: String
        let field: String
        var testDescription: String { name }
    }

    static let badLines: [BadLine] = [
        BadLine(name: "prometheusBadNumCgroups", line: "memory\t9\tabc\t1", field: "num_cgroups"),
        BadLine(name: "badHierarchy", line: "memory\tx\t1\t1", field: "hierarchy"),
        BadLine(name: "enabledNotBoolean", line: "memory\t9\t1\t2", field: "enabled"),
        BadLine(name: "threeFields", line: "memory\t9\t1", field: "line"),
    ]

    @Test(arguments: badLines)
    func errorNamesFileLineFieldAndText(_ c: BadLine) {
        let parsed = CgroupControllers.parse(Array("#subsys_name\thierarchy\tnum_cgroups\tenabled\n\(c.line)\n".utf8), file: "/proc/cgroups")
        #expect(parsed.entries.isEmpty)
        #expect(parsed.errors.first?.line == 2)
        #expect(parsed.errors.first?.field == c.field)
        #expect(parsed.errors.first?.text == c.line)
        #expect(parsed.errors.first?.file == "/proc/cgroups")
    }
}
