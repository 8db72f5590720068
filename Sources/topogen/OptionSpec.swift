import Emitters
import TopologyModel

/// One command-line option: its spelling, its value, and its help line.
struct OptionSpec: Hashable, Sendable {
    /// The groups options are listed under in help.
    enum Group: String, Sendable, CaseIterable {
        case target = "TARGET OPTIONS"
        case model = "MODEL OPTIONS"
        case kubernetes = "KUBERNETES OPTIONS"
        case hosts = "HOST FIREWALL OPTIONS"
        case aws = "AWS OPTIONS"
        case output = "OUTPUT OPTIONS"
        case general = "OPTIONS"
    }

    var name: String
    var short: Character? = nil
    /// The value's name in help, for example `port`; `nil` for a flag.
    var valueName: String? = nil
    var repeatable = false
    var group: Group
    var help: String

    /// `--postgres-port <port>` or `-o, --output <directory>`.
    var synopsis: String {
        var text = short.map { "-\($0), " } ?? ""
        text += name
        if let valueName { text += " <\(valueName)>" }
        if repeatable { text += " ..." }
        return text
    }

    /// How the option reads in an error message: `--postgres-port <port>`.
    var usage: String { valueName.map { "\(name) <\($0)>" } ?? name }

    static let target = OptionSpec(
        name: "--target", valueName: "target", group: .target,
        help: "The format to render: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    static let topology = OptionSpec(
        name: "--topology", valueName: "file", group: .model,
        help:
            "A topology file (YAML or JSON, - for stdin) describing the installation; the options below override its fields."
    )
    static let withSQS = OptionSpec(
        name: "--with-sqs", group: .model, help: "The message queue is AWS SQS.")
    static let withIoTCore = OptionSpec(
        name: "--with-iot-core", group: .model,
        help: "The MQTT broker is AWS IoT Core instead of the built-in one (needs --with-sqs).")
    static let withKMS = OptionSpec(
        name: "--with-kms", group: .model, help: "Encryption uses AWS KMS.")
    static let postgresPort = OptionSpec(
        name: "--postgres-port", valueName: "port", group: .model,
        help: "The Postgres port. (default: \(Topology.defaultPostgresPort))")
    static let mqttPort = OptionSpec(
        name: "--mqtt-port", valueName: "port", group: .model,
        help: "The built-in MQTT broker's port; not 1983. (default: \(Topology.defaultMQTTPort))")
    static let infrastructurePort = OptionSpec(
        name: "--infrastructure-port", valueName: "port", repeatable: true, group: .model,
        help: "A port or range (N-M) of the infrastructure APIs workers manage. (default: 443)")
    static let cidr = OptionSpec(
        name: "--cidr", valueName: "node=cidr[,cidr...]", repeatable: true, group: .model,
        help: "The addresses of a node, IPv4 or IPv6. (default: 0.0.0.0/0 and ::/0)")
    static let workers = OptionSpec(
        name: "--workers", valueName: "placement", group: .model,
        help: "Where workers run: in-cluster or external. (default: in-cluster)")
    static let namespace = OptionSpec(
        name: "--namespace", valueName: "namespace", group: .kubernetes,
        help:
            "The namespace of the server, drain and scheduler. (default: \(KubernetesPlacement.defaultNamespace))"
    )
    static let workerNamespace = OptionSpec(
        name: "--worker-namespace", valueName: "namespace", group: .kubernetes,
        help:
            "The namespace of the worker pods. (default: \(WorkerPool.defaultNamespace))"
    )
    static let ingressNamespace = OptionSpec(
        name: "--ingress-namespace", valueName: "namespace", group: .kubernetes,
        help:
            "The namespace of the ingress controller that reaches the server. (default: any source)"
    )
    static let allowSSHFrom = OptionSpec(
        name: "--allow-ssh-from", valueName: "cidr", repeatable: true, group: .hosts,
        help:
            "Administrators' addresses that may reach SSH (22/tcp) on every host. (default: none, SSH is cut)"
    )
    static let vpcID = OptionSpec(
        name: "--vpc-id", valueName: "vpc-id", group: .aws,
        help: "The VPC of the security groups; apply.sh also reads VPC_ID.")
    static let namePrefix = OptionSpec(
        name: "--name-prefix", valueName: "prefix", group: .aws,
        help:
            "Security groups are named <prefix>-<node>. (default: \(AWSPlacement.defaultNamePrefix))"
    )
    static let prefixList = OptionSpec(
        name: "--prefix-list", valueName: "node=pl-id[:entries]", repeatable: true, group: .aws,
        help:
            "A managed prefix list that stands for an external node, and its weight in the rule quota. (default entries: 1)"
    )
    static let maxRules = OptionSpec(
        name: "--max-rules", valueName: "n", group: .aws,
        help:
            "Rules per security group and direction, counted as AWS counts them. (default: \(AWSPlacement.defaultMaxRules))"
    )
    static let role = OptionSpec(
        name: "--role", valueName: "role", group: .output,
        help:
            "Print only this host's file: server, drain, scheduler or worker (iptables, nftables).")
    static let output = OptionSpec(
        name: "--output", short: "o", valueName: "directory", group: .output,
        help: "Write the files into this directory instead of printing them.")
    static let format = OptionSpec(
        name: "--format", valueName: "format", group: .output,
        help:
            "How to print: \(FlowsFormat.allCases.map(\.rawValue).joined(separator: " or ")). (default: table)"
    )
    static let against = OptionSpec(
        name: "--against", valueName: "path", repeatable: true, group: .target,
        help:
            "Deployed rules to compare: a file, a directory (every .tf file for terraform), or - for stdin."
    )
    static let group = OptionSpec(
        name: "--group", valueName: "node=id", repeatable: true, group: .aws,
        help:
            "The security group of a node when it is not named <prefix>-<node>: a group id (aws) or a resource address (terraform)."
    )
    static let diffRole = OptionSpec(
        name: "--role", valueName: "role", group: .target,
        help:
            "The host the rules are from: server, drain, scheduler or worker (iptables, nftables).")
    static let diffFormat = OptionSpec(
        name: "--format", valueName: "format", group: .output,
        help:
            "How to print: \(DiffFormat.allCases.map(\.rawValue).joined(separator: " or ")). (default: text)"
    )
    static let initOutput = OptionSpec(
        name: "--output", short: "o", valueName: "file", group: .output,
        help: "Write the starter file here instead of printing it.")
    static let force = OptionSpec(
        name: "--force", group: .output, help: "Replace the file if it exists.")
    static let graphFormat = OptionSpec(
        name: "--format", valueName: "format", group: .output,
        help:
            "The picture's language: \(GraphFormat.allCases.map(\.rawValue).joined(separator: " or ")). (default: mermaid)"
    )
    static let help = OptionSpec(
        name: "--help", short: "h", group: .general, help: "Show help information.")
    static let version = OptionSpec(
        name: "--version", group: .general, help: "Show the version.")

    /// The options that describe the installation, shared by `generate` and `flows`.
    static let modelOptions: [OptionSpec] = [
        topology, withSQS, withIoTCore, withKMS, postgresPort, mqttPort, infrastructurePort, cidr,
        workers,
        namespace, workerNamespace, ingressNamespace, allowSSHFrom, vpcID, namePrefix, prefixList,
        maxRules,
    ]

    /// The options a subcommand takes.
    static func options(for subcommand: Subcommand?) -> [OptionSpec] {
        switch subcommand {
        case .generate: [target] + modelOptions + [role, output, help]
        case .flows:
            [
                OptionSpec(
                    name: "--target", valueName: "target", group: .target,
                    help: "List only the flows this target implements. (default: every flow)")
            ] + modelOptions + [format, help]
        case .diff:
            [
                OptionSpec(
                    name: "--target", valueName: "target", group: .target,
                    help:
                        "The format of the deployed rules: \(Format.allCases.map(\.rawValue).joined(separator: ", "))."
                ),
                against, diffRole,
            ] + modelOptions + [group, diffFormat, help]
        case .graph: modelOptions + [graphFormat, help]
        case .`init`: [initOutput, force, help]
        case .help, nil: [version, help]
        }
    }
}
