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
    /// `topogen graph`: draw the installation as a Mermaid or Graphviz picture.
    case graph
    /// `topogen init`: write a starter topology file.
    case `init`
    /// `topogen help [<subcommand>]`.
    case help

    /// One sentence on what the subcommand does.
    var abstract: String {
        switch self {
        case .generate: "Render the installation's flows as firewall rules for a target."
        case .flows: "List the flows (allowed connections) the installation implies."
        case .diff: "Compare deployed firewall rules with the flows the installation needs."
        case .graph: "Draw the installation's nodes and flows as a Mermaid or Graphviz graph."
        case .`init`: "Write a commented starter topology file with every default spelled out."
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
    /// Draw the installation.
    case graph(GraphRequest)
    /// Write a starter topology file.
    case `init`(InitRequest)
    /// Print help, for the tool or for a subcommand.
    case help(Subcommand?)
    /// Print the version.
    case version
}

/// The installation a request is about: a topology file, if one was named, overridden by
/// the model options of the command line.
struct ModelSource: Sendable {
    /// `--topology FILE`; `-` is stdin.
    var file: String?
    /// The model options, as written.
    var flags: TopologySpec
}

/// `topogen generate`.
struct GenerateRequest: Sendable {
    var target: Format
    var model: ModelSource
    /// The directory to write into; stdout when `nil`.
    var outputDirectory: String?
    /// The one host whose file to write, in formats with one file per host, by name; checked
    /// against the topology's components once it is resolved.
    var role: String?
}

/// `topogen flows`.
struct FlowsRequest: Sendable {
    /// The target whose flows to list; every flow of the model when `nil`.
    var target: Format?
    var model: ModelSource
    var format: FlowsFormat
}

/// `topogen graph`.
struct GraphRequest: Sendable {
    var model: ModelSource
    var format: GraphFormat
}

/// `topogen init`.
struct InitRequest: Sendable {
    /// The file to write; stdout when `nil`.
    var output: String?
    /// Whether to replace an existing file.
    var force: Bool
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
    var model: ModelSource
    /// The files or directories of deployed rules, as the user named them; `-` is stdin.
    var against: [String]
    /// `--role`, by name; checked against the topology's components once it is resolved.
    var role: String?
    /// `--group NODE=ID`, in the order given; the node names are checked once the topology
    /// is resolved.
    var groups: [(node: String, group: String)]
    var format: DiffFormat
}

/// How `topogen diff` prints.
enum DiffFormat: String, CaseIterable, Sendable {
    /// Findings grouped by component, one line each, for terminals and CI logs.
    case text
    /// JSON for programs.
    case json
}
