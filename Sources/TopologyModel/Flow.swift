/// One allowed connection: a source node may open connections to a destination node on the
/// given ports. Nothing that no flow allows is ever emitted.
///
/// Every flow carries the stable id of `flows.md`, the condition that turned it on, and the
/// text of the networking reference row it comes from, so every emitted rule can say why it
/// exists. A flow lists several ports where the reference row does: DNS is `53/udp` and
/// `53/tcp`; infrastructure is every infrastructure port.
///
/// For example: the flow `server-postgres` is `server → postgres 5432/tcp`, condition
/// ``Condition/always``, description `Server egress Postgres`.
public struct Flow: Hashable, Sendable, Identifiable {
    /// The stable id, for example `worker-mqtt`.
    public let id: String
    /// The node that opens the connection.
    public let source: Node
    /// The node that accepts the connection.
    public let destination: Node
    /// The destination ports, sorted.
    public let ports: [Port]
    /// The option or placement that turned the flow on.
    public let condition: Condition
    /// The networking reference row the flow comes from.
    public let description: String

    /// Creates a flow; the ports are sorted and deduplicated.
    public init(
        id: String, source: Node, destination: Node, ports: [Port], condition: Condition,
        description: String
    ) {
        self.id = id
        self.source = source
        self.destination = destination
        self.ports = Array(Set(ports)).sorted()
        self.condition = condition
        self.description = description
    }
}

/// What turns a flow on.
public enum Condition: String, Hashable, Sendable, CaseIterable {
    /// Every installation has the flow.
    case always
    /// `--with-sqs`: the message queue is SQS.
    case sqs = "with-sqs"
    /// `--with-iot-core`: the MQTT broker is AWS IoT Core.
    case iotCore = "with-iot-core"
    /// `--with-kms`: encryption uses KMS.
    case kms = "with-kms"
    /// The MQTT broker is the server's built-in one (no `--with-iot-core`).
    case builtInBroker = "built-in-broker"
    /// The built-in broker, with workers outside the cluster or network (`--workers external`).
    case builtInBrokerExternalWorkers = "built-in-broker-external-workers"
    /// Targets where a component's own network identity pulls its image (hosts, ECS tasks);
    /// not Kubernetes pods, whose images the node pulls.
    case imagePull = "image-pull"
    /// Targets that filter DNS (Kubernetes, host firewalls); not AWS security groups.
    case dnsFiltered = "dns-filtered"
    /// Host firewalls, when administrators' addresses are given (`--allow-ssh-from`).
    case sshAccess = "ssh-access"
    /// The topology file's `vcsGateway`: the installation has a VCS gateway.
    case vcsGateway = "vcs-gateway"
    /// The topology file's `extraEgress`: a connection the user allowed, with a reason.
    case extraEgress = "extra-egress"

    /// The condition in words, as `topogen flows` shows it.
    public var summary: String {
        switch self {
        case .always: "always"
        case .sqs: "--with-sqs"
        case .iotCore: "--with-iot-core"
        case .kms: "--with-kms"
        case .builtInBroker: "built-in MQTT broker"
        case .builtInBrokerExternalWorkers: "built-in MQTT broker, external workers"
        case .imagePull: "targets where components pull their own images"
        case .dnsFiltered: "targets that filter DNS"
        case .sshAccess: "host firewalls, --allow-ssh-from"
        case .vcsGateway: "topology file: vcsGateway"
        case .extraEgress: "topology file: extraEgress"
        }
    }
}
