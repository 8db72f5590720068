import Emitters
import TopologyModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The command-line tool: parse, run, and map every failure to a message and an exit status.
/// Only this module reads, writes, prints and exits.
@main
struct Topogen {
    static func main() {
        let status = run(Array(CommandLine.arguments.dropFirst()))
        exit(status.rawValue)
    }

    static func run(_ arguments: [String]) -> ExitCode {
        do {
            let invocation = try CommandLineParser().parse(arguments)
            return try execute(invocation)
        } catch let error as UsageError {
            report(error.diagnostics)
            let subcommand = error.subcommand.map { " \($0.rawValue)" } ?? ""
            printError(Help.usage(for: error.subcommand))
            printError("  See 'topogen\(subcommand) --help' for more information.")
            return .usage
        } catch let error as InputError {
            report(error.diagnostics)
            return .dataError
        } catch let error as RuntimeError {
            report([Diagnostic(.error, error.message, hint: error.hint)])
            return .failure
        } catch {
            report([Diagnostic(.error, "\(error)")])
            return .failure
        }
    }

    private static func execute(_ invocation: Invocation) throws -> ExitCode {
        switch invocation {
        case .version:
            try printOut(CommandLineParser.version + "\n")
        case .help(let subcommand):
            try printOut(Help.text(for: subcommand))
        case .`init`(let request):
            let text = TopologyFile.starter
            if let path = request.output {
                try StarterFile(path: path, force: request.force).write(text)
            } else {
                try printOut(text)
            }
        case .generate(let request):
            let topology = try resolve(request.model, subcommand: .generate)
            let role = try component(request.role, in: topology, subcommand: .generate)
            let rendering: Rendering
            do {
                rendering = try request.target.emitter.render(topology)
            } catch {
                throw UsageError(diagnostics: error.diagnostics, subcommand: .generate)
            }
            report(rendering.diagnostics)
            let files = rendering.files.filter { role == nil || $0.role == role }
            if let directory = request.outputDirectory {
                try OutputDirectory(path: directory).write(files)
            } else {
                try printOut(files.map(\.contents).joined())
            }
        case .diff(let request):
            let topology = try resolve(request.model, subcommand: .diff)
            let options = ReadOptions(
                role: try component(request.role, in: topology, subcommand: .diff),
                groups: try groups(request.groups, in: topology))
            let inputs = try InputFiles.read(request.against, for: request.target)
            let reader = request.target.reader
            let deployed: DeployedRules
            do {
                deployed = try reader.read(inputs, topology: topology, options: options)
            } catch {
                throw InputError(diagnostics: error.diagnostics)
            }
            let expected = reader.expectedPermissions(for: topology, options: options)
            let drift = Drift(expected: expected, deployed: deployed)
            report(drift.diagnostics)
            switch request.format {
            case .text: try printOut(DiffReport.text(drift, target: request.target))
            case .json: try printOut(try DiffReport.json(drift, target: request.target))
            }
            return drift.isInSync ? .success : .failure
        case .graph(let request):
            let topology = try resolve(request.model, subcommand: .graph)
            try printOut(GraphRenderer.render(topology, format: request.format))
        case .flows(let request):
            let topology = try resolve(request.model, subcommand: .flows)
            let flows = request.target.map { $0.emitter.flows(for: topology) } ?? topology.flows()
            switch request.format {
            case .table: try printOut(FlowsReport.table(flows))
            case .json:
                try printOut(
                    try FlowsReport.json(flows, target: request.target, topology: topology))
            }
        }
        return .success
    }

    /// Reads the topology file, if any, applies the flags over it and resolves the result,
    /// printing its warnings. Without a file, errors are the command line's (exit 64); with
    /// one, they are the input's (exit 65), printed as `FILE:LINE: error: ...` where the line
    /// is known.
    private static func resolve(_ model: ModelSource, subcommand: Subcommand) throws -> Topology {
        var spec = model.flags
        var file: String?
        if let path = model.file {
            let input = try InputFiles.readOne(path)
            file = input.name
            do {
                spec = try TopologyFile.decode(input.contents).overridden(by: model.flags)
            } catch {
                throw InputError(diagnostics: inFileOrder(error.diagnostics, in: input.name))
            }
        }
        do {
            let (topology, warnings) = try spec.resolve()
            report(warnings.map { located($0, in: file) })
            return topology
        } catch {
            guard let file else {
                throw UsageError(diagnostics: error.diagnostics, subcommand: subcommand)
            }
            throw InputError(diagnostics: inFileOrder(error.diagnostics, in: file))
        }
    }

    /// A topology file's diagnostics in the order of its lines, as compilers list them; those
    /// without a line (a flag's, or any in JSON) keep their order, after the others.
    private static func inFileOrder(_ diagnostics: [Diagnostic], in file: String) -> [Diagnostic] {
        diagnostics.enumerated().sorted {
            ($0.element.line ?? Int.max, $0.offset) < ($1.element.line ?? Int.max, $1.offset)
        }.map { located($0.element, in: file) }
    }

    /// The component a `--role` names, among the topology's.
    private static func component(_ name: String?, in topology: Topology, subcommand: Subcommand)
        throws(UsageError) -> Node?
    {
        guard let name else { return nil }
        let names = topology.components.map(\.name)
        guard let node = topology.components.first(where: { $0.name == name }) else {
            throw UsageError(
                "invalid value '\(name)' for '\(OptionSpec.role.usage)'",
                hint: closestMatch(to: name, in: names).map { "did you mean '\($0)'?" }
                    ?? "choose one of: \(names.joined(separator: ", "))",
                subcommand: subcommand)
        }
        return node
    }

    /// The nodes `--group NODE=ID` names, among the topology's.
    private static func groups(_ written: [(node: String, group: String)], in topology: Topology)
        throws(UsageError) -> [Node: String]
    {
        var groups: [Node: String] = [:]
        let names = topology.nodes.map(\.name)
        for (name, group) in written {
            guard let node = topology.node(named: name) else {
                throw UsageError(
                    "unknown node '\(name)' in '\(OptionSpec.group.name) \(name)=\(group)'",
                    hint: closestMatch(to: name, in: names).map { "did you mean '\($0)'?" },
                    subcommand: .diff)
            }
            groups[node] = group
        }
        return groups
    }

    /// A diagnostic of a topology file, with the file and line in front as compilers print
    /// them: `topology.yaml:12: error: ...`.
    private static func located(_ diagnostic: Diagnostic, in file: String?) -> Diagnostic {
        guard let file, let line = diagnostic.line else { return diagnostic }
        return Diagnostic(
            diagnostic.severity, diagnostic.message, hint: diagnostic.hint, line: line,
            location: "\(file):\(line)")
    }

    private static func report(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { printError(diagnostic.description) }
    }

    /// Prints to standard output; a failed write (a full disk, `> /dev/full`) is an error.
    private static func printOut(_ text: String) throws(RuntimeError) {
        do {
            try SystemFiles.write(STDOUT_FILENO, text)
        } catch {
            throw RuntimeError(message: "cannot write to standard output: \(error)")
        }
    }

    /// Prints a line to standard error; where that fails, there is no one left to tell.
    private static func printError(_ line: String) {
        try? SystemFiles.write(STDERR_FILENO, line + "\n")
    }
}
