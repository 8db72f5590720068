public import TopologyModel

/// The formats topogen renders. Adding a target is adding a case here, then answering every
/// `switch` the compiler points at (see CONTRIBUTING.md).
///
/// For example: `Format(rawValue: "k8s")` is ``kubernetes``, rendered by ``KubernetesEmitter``.
public enum Format: String, CaseIterable, Sendable {
    /// Kubernetes `networking.k8s.io/v1` NetworkPolicies, one multi-document YAML stream.
    case kubernetes = "k8s"
    /// A POSIX `sh` script per component host that applies its rules with iptables and
    /// ip6tables.
    case iptables
    /// An nftables ruleset per component host, one `table inet topogen`, loaded with `nft -f`.
    case nftables
    /// AWS security groups as `describe-security-groups` JSON, and a script that applies them.
    case aws
    /// The same security groups as a Terraform module.
    case terraform

    /// The emitter that renders this format.
    public var emitter: any Emitter {
        switch self {
        case .kubernetes: KubernetesEmitter()
        case .iptables: IptablesEmitter()
        case .nftables: NftablesEmitter()
        case .aws: SecurityGroupEmitter()
        case .terraform: TerraformEmitter()
        }
    }

    /// The reader of the format's deployed rules, for `topogen diff`.
    public var reader: any RuleReader {
        switch self {
        case .kubernetes: KubernetesReader()
        case .iptables: IptablesReader()
        case .nftables: NftablesReader()
        case .aws: SecurityGroupReader()
        case .terraform: TerraformReader()
        }
    }

    /// One sentence on what the format is, for help texts.
    public var summary: String {
        switch self {
        case .kubernetes: "Kubernetes NetworkPolicies (networking.k8s.io/v1)"
        case .iptables: "A POSIX sh script per host that applies iptables and ip6tables rules"
        case .nftables: "An nftables ruleset per host (table inet topogen)"
        case .aws: "AWS security groups as describe-security-groups JSON, with apply.sh"
        case .terraform: "A Terraform module of the same security groups (needs -o)"
        }
    }

    /// Whether the format's files only make sense together in a directory (a Terraform module),
    /// so that it cannot be printed.
    public var needsDirectory: Bool {
        switch self {
        case .terraform: true
        case .kubernetes, .iptables, .nftables, .aws: false
        }
    }

    /// Whether the format writes one file per component host, so that printing one needs
    /// `--role`.
    public var hasRoles: Bool {
        switch self {
        case .kubernetes, .aws, .terraform: false
        case .iptables, .nftables: true
        }
    }
}

/// A way of rendering a topology's flows as the files of one format.
public protocol Emitter: Sendable {
    /// What the format enforces, which decides the flows it implements for `topology`.
    func scope(for topology: Topology) -> FlowScope

    /// Renders the topology's flows, within ``scope(for:)``, as files.
    ///
    /// - Throws: ``RenderError`` when the format cannot express the topology, for example a
    ///   security group over its rule quota.
    func render(_ topology: Topology) throws(RenderError) -> Rendering
}

extension Emitter {
    /// The flows this format implements for `topology`.
    public func flows(for topology: Topology) -> [Flow] {
        topology.flows(in: scope(for: topology))
    }
}

extension Emitter {
    /// Warnings for what the user gave that this target does not use: the addresses of
    /// components, which the target selects otherwise (unless `addressed` holds them: a host
    /// firewall uses the server's addresses on the VCS gateway), and of nodes no flow of the
    /// target reaches; Kubernetes namespaces on other targets.
    ///
    /// - Parameters:
    ///   - topology: The topology the target renders.
    ///   - addressed: The nodes whose addresses the target's rules use.
    ///   - target: The target's name in messages.
    ///   - componentHint: How the target selects components instead.
    /// - Returns: One warning for the components, one for each other unused node.
    func unusedAddressWarnings(
        _ topology: Topology, addressed: Set<Node>, target: String, componentHint: String
    ) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let components = topology.components.filter {
            topology.hasAddresses($0) && !addressed.contains($0)
        }
        if !components.isEmpty {
            let names = components.map { "'\($0)'" }.joined(separator: ", ")
            diagnostics.append(
                Diagnostic(
                    .warning, "addresses of \(names) have no effect on the \(target) target",
                    hint: componentHint))
        }
        if target != "k8s" && topology.kubernetes != KubernetesPlacement() {
            diagnostics.append(
                Diagnostic(.warning, "Kubernetes namespaces have no effect on the \(target) target")
            )
        }
        for node in topology.nodes
        where node.kind != .component && topology.hasAddresses(node) && !addressed.contains(node) {
            let name = node == .admin ? "'--allow-ssh-from'" : "addresses of '\(node)'"
            diagnostics.append(
                Diagnostic(
                    .warning, "\(name) have no effect on the \(target) target with these options",
                    hint: "no rule of this target reaches '\(node)'"
                        + (node == .admin ? "; SSH is opened by host firewalls" : "")))
        }
        return diagnostics
    }
}

/// Why a format cannot express a topology: every problem, as diagnostics.
///
/// For example: `error: security group 'spacelift-worker' would have 75 IPv4 egress rules; the
/// quota is 60`.
public struct RenderError: Error, Hashable, Sendable {
    /// The problems; at least one is an error.
    public var diagnostics: [Diagnostic]

    /// Creates the error.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
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
    /// Whether the file is a script to be made executable.
    public var isExecutable: Bool
    /// The component host the file is for, in formats with one file per host.
    public var role: Node?

    /// Creates a file.
    public init(name: String, contents: String, isExecutable: Bool = false, role: Node? = nil) {
        self.name = name
        self.contents = contents
        self.isExecutable = isExecutable
        self.role = role
    }
}
