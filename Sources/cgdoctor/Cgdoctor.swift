import ArgumentParser
import CgroupDoctor
import CgroupReport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Cgdoctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cgdoctor",
        abstract: "Tells what is wrong with a node's cgroups, why, who is affected and how to fix it.",
        discussion: """
            Exit status: 0 nothing at warning or above, 1 findings (or unresolved paths), 2 could not run.
            """,
        version: CgdoctorVersion.current,
        subcommands: [
            CheckCommand.self,
            PathsCommand.self,
            // limits
            LimitsCommand.self,
            // explain
            ExplainCommand.self,
        ],
        defaultSubcommand: CheckCommand.self
    )

    /// Exit codes are part of the contract (0 clean, 1 findings, 2 could not run), so usage errors
    /// exit 2 rather than ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            FileHandleOutput.standardError(fullMessage(for: error))
            Glibc.exit(2)
        }
    }
}

/// Options every command shares.
struct HostOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the host from this directory instead of / (a capture, a fixture, or the host's root mounted in a pod).",
            valueName: "dir"))
    var root: String = "/"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The process whose mount namespace is the container runtime's view (containerd's pid; default PID 1).",
            valueName: "pid"))
    var runtimePid: Int32 = 1

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .long, inversion: .prefixedNo, help: "Colour the text report (default: only on a terminal).")
    var color: Bool?

    func validate() throws {
        guard runtimePid > 0 else { throw ValidationError("--runtime-pid must be a positive process id, got \(runtimePid)") }
        guard !root.isEmpty else { throw ValidationError("--root must name a directory") }
    }

    var sysroot: Sysroot { Sysroot(.init(root)) }
    var scanner: HostScanner { HostScanner(sysroot: sysroot, referencePID: runtimePid) }

    var textStyle: TextStyle {
        let terminal = isatty(STDOUT_FILENO) == 1
        let useColor = color ?? (terminal && getenv("NO_COLOR") == nil)
        var width = 100
        if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }) {
            width = columns
        } else if terminal {
            var size = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { width = Int(size.ws_col) }
        }
        return TextStyle(color: useColor, width: width)
    }
}

/// The process a per-process command is about.
struct ProcessArgument: ParsableArguments {
    @Argument(help: "The process id.")
    var pid: Int32

    func validate() throws {
        guard pid > 0 else { throw ValidationError("PID must be a positive process id, got \(pid)") }
    }
}

/// Runs `body`; an error means the command could not run: it is printed, naming the command, and
/// the exit status is 2.
func orCouldNotRun<T>(_ command: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        FileHandleOutput.standardError("cgdoctor \(command): \(error)")
        throw ExitCode(2)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

enum FileHandleOutput {
    static func standardError(_ message: String) {
        var text = message
        if !text.hasSuffix("\n") { text += "\n" }
        // write(2) directly: the C `stderr` global is not concurrency-safe in Swift 6.
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }
}
