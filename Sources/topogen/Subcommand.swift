import Emitters
import TopologyModel

/// The subcommands of topogen.
enum Subcommand: String, CaseIterable, Sendable {
    /// `topogen generate`: render the flows as a target's files. The default subcommand.
    case generate
    /// `topogen flows`: list the flows the installation allows.
    case flows
    /// `topogen diff`: compare deployed rules with the installation's flows.
    case diff
    /// `topogen help [<subcommand>]`.
    case help

    /// One sentence on what the subcommand does.
    var abstract: String {
        switch self {
        case .generate: "Render the installation's flows as firewall rules for a target."
        case .flows: "List the flows (allowed connections) the installation implies."
        case .diff: "Compare deployed firewall rules with the flows the installation needs."
        case .help: "Show subcommand help information."
        }
    }
}

/// What the command line asks topogen to do.
enum Invocation: Sendable {
    /// Render a target's files, to stdout or into a directory.
    case generate(GenerateRequest)
    /// List flows.
    case flows(FlowsRequest)
    /// Compare deployed rules with the model.
    case diff(DiffRequest)
    /// Print help, for the tool or for a subcommand.
    case help(Subcommand?)
    /// Print the version.
    case version
}

/// `topogen generate`.
struct GenerateRequest: Sendable {
    var target: Format
    var spec: TopologySpec
    /// The directory to write into; stdout when `nil`.
    var outputDirectory: String?
    /// The one host whose file to write, in formats with one file per host.
    var role: Node?
}

/// `topogen flows`.
struct FlowsRequest: Sendable {
    /// The target whose flows to list; every flow of the model when `nil`.
    var target: Format?
    var spec: TopologySpec
    var format: FlowsFormat
}

/// How `topogen flows` prints.
enum FlowsFormat: String, CaseIterable, Sendable {
    /// An aligned table for people.
    case table
    /// JSON for programs.
    case json
}

/// `topogen diff`.
struct DiffRequest: Sendable {
    var target: Format
    var spec: TopologySpec
    /// The files or directories of deployed rules, as the user named them; `-` is stdin.
    var against: [String]
    var options: ReadOptions
    var format: DiffFormat
}

/// How `topogen diff` prints.
enum DiffFormat: String, CaseIterable, Sendable {
    /// Findings grouped by component, one line each, for terminals and CI logs.
    case text
    /// JSON for programs.
    case json
}
