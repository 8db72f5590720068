import Emitters
import Foundation
import TopologyModel

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
            printOut(CommandLineParser.version + "\n")
        case .help(let subcommand):
            printOut(Help.text(for: subcommand))
        case .generate(let request):
            let topology = try resolve(request.spec, subcommand: .generate)
            let rendering: Rendering
            do {
                rendering = try request.target.emitter.render(topology)
            } catch {
                throw UsageError(diagnostics: error.diagnostics, subcommand: .generate)
            }
            report(rendering.diagnostics)
            let files = rendering.files.filter { request.role == nil || $0.role == request.role }
            if let directory = request.outputDirectory {
                try OutputDirectory(path: directory).write(files)
            } else {
                printOut(files.map(\.contents).joined())
            }
        case .diff(let request):
            let topology = try resolve(request.spec, subcommand: .diff)
            let inputs = try InputFiles.read(request.against, for: request.target)
            let reader = request.target.reader
            let deployed: DeployedRules
            do {
                deployed = try reader.read(inputs, topology: topology, options: request.options)
            } catch {
                throw InputError(diagnostics: error.diagnostics)
            }
            let expected = reader.expectedPermissions(for: topology, options: request.options)
            let drift = Drift(expected: expected, deployed: deployed)
            report(drift.diagnostics)
            switch request.format {
            case .text: printOut(DiffReport.text(drift, target: request.target))
            case .json: printOut(try DiffReport.json(drift, target: request.target))
            }
            return drift.isInSync ? .success : .failure
        case .flows(let request):
            let topology = try resolve(request.spec, subcommand: .flows)
            let flows = request.target.map { $0.emitter.flows(for: topology) } ?? topology.flows()
            switch request.format {
            case .table: printOut(FlowsReport.table(flows))
            case .json:
                printOut(try FlowsReport.json(flows, target: request.target, topology: topology))
            }
        }
        return .success
    }

    /// Resolves the spec, printing its warnings; its errors become a usage error, since every
    /// value came from the command line.
    private static func resolve(_ spec: TopologySpec, subcommand: Subcommand) throws -> Topology {
        do {
            let (topology, warnings) = try spec.resolve()
            report(warnings)
            return topology
        } catch {
            throw UsageError(diagnostics: error.diagnostics, subcommand: subcommand)
        }
    }

    private static func report(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { printError(diagnostic.description) }
    }

    private static func printOut(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
