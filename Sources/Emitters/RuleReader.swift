public import TopologyModel

/// A way of reading one format's deployed rules back into permissions, so that `topogen diff`
/// can compare them with the model. Each format has one, next to its emitter; readers do no
/// I/O: the `topogen` executable reads the files and hands over their text.
///
/// A reader answers two questions in the same terms (``Permission``s whose peers are
/// ``EndpointSet``s): what the model requires of the format (``expectedPermissions(for:options:)``,
/// derived from the same flows and placements the emitter renders), and what some deployed
/// rules allow (``read(_:topology:options:)``).
///
/// For example: the AWS reader reads `aws ec2 describe-security-groups` output and gives, for
/// the group `spacelift-server`, the permission "server ingress tcp 1983 from the group
/// spacelift-lb".
public protocol RuleReader: Sendable {
    /// What the model requires of the deployed rules: one permission per flow, port and peer
    /// the format's emitter writes a rule for, and what the emitter allows besides flows
    /// (such as IPv6 neighbour discovery on hosts).
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission]

    /// Reads deployed rules: every permission they grant, and every construct that cannot be
    /// understood, with its file and line.
    ///
    /// - Throws: ``ReadError`` when an input is not of the format at all (not YAML, not JSON,
    ///   not `iptables-save` output), with the file and line.
    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
}

/// The text of one input file of `topogen diff`, as the user named it.
///
/// For example: `InputText(name: "live/rules.v4", contents: "*filter\n...")`.
public struct InputText: Hashable, Sendable {
    /// The path as the user wrote it, or relative to the directory they gave.
    public var name: String
    /// The whole text.
    public var contents: String

    /// Creates an input.
    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// How to read deployed rules: options of `topogen diff` beyond the model.
///
/// For example: `topogen diff --target iptables --role worker --group ...` gives
/// `ReadOptions(role: .worker)`.
public struct ReadOptions: Hashable, Sendable {
    /// The component host the rules are of (`--role`), for host firewalls.
    public var role: Node?
    /// Which group stands for which node (`--group NODE=ID`), when groups are not named
    /// `<prefix>-<node>`: a group id (`sg-0123`) on AWS, a resource address
    /// (`aws_security_group.api`) in Terraform.
    public var groups: [Node: String]

    /// Creates options.
    public init(role: Node? = nil, groups: [Node: String] = [:]) {
        self.role = role
        self.groups = groups
    }
}

/// Why an input cannot be read at all: not of the format, or malformed, with where.
///
/// For example: `error: rules.yaml:3: anchors ('&ports') are not supported; write the value out`.
public struct ReadError: Error, Hashable, Sendable {
    /// The problems; at least one is an error.
    public var diagnostics: [Diagnostic]

    /// Creates the error.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// The error of one problem in one file.
    public init(_ location: SourceLocation, _ message: String, hint: String? = nil) {
        self.init(diagnostics: [Diagnostic(.error, "\(location): \(message)", hint: hint)])
    }
}
