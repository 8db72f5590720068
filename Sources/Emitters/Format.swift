public import TopologyModel

/// The formats topogen renders. Adding a target is adding a case here, then answering every
/// `switch` the compiler points at (see CONTRIBUTING.md).
///
/// For example: `Format(rawValue: "k8s")` is ``kubernetes``, rendered by ``KubernetesEmitter``.
public enum Format: String, CaseIterable, Sendable {
    /// Kubernetes `networking.k8s.io/v1` NetworkPolicies, one multi-document YAML stream.
    case kubernetes = "k8s"

    /// The emitter that renders this format.
    public var emitter: any Emitter {
        switch self {
        case .kubernetes: KubernetesEmitter()
        }
    }

    /// One sentence on what the format is, for help texts.
    public var summary: String {
        switch self {
        case .kubernetes: "Kubernetes NetworkPolicies (networking.k8s.io/v1)"
        }
    }
}

/// A way of rendering a topology's flows as the files of one format.
public protocol Emitter: Sendable {
    /// What the format enforces, which decides the flows it implements for `topology`.
    func scope(for topology: Topology) -> FlowScope

    /// Renders the topology's flows, within ``scope(for:)``, as files.
    func render(_ topology: Topology) -> Rendering
}

extension Emitter {
    /// The flows this format implements for `topology`.
    public func flows(for topology: Topology) -> [Flow] {
        topology.flows(in: scope(for: topology))
    }
}

/// What an emitter produced: files, and notes on what of the topology it could not use.
public struct Rendering: Hashable, Sendable {
    /// The files, in the order they are written.
    public var files: [RenderedFile]
    /// Warnings about the topology as this format sees it.
    public var diagnostics: [Diagnostic]

    /// Creates a rendering.
    public init(files: [RenderedFile], diagnostics: [Diagnostic] = []) {
        self.files = files
        self.diagnostics = diagnostics
    }
}

/// One file of a rendering: a name relative to the output directory, and its text.
public struct RenderedFile: Hashable, Sendable {
    /// The file name, for example `networkpolicies.yaml`.
    public var name: String
    /// The file's text, ending with exactly one newline.
    public var contents: String

    /// Creates a file.
    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}
