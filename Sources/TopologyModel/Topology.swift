/// A self-hosted Spacelift installation as topogen models it: which optional services it
/// uses, its ports, where its workers live, and the addresses of every node.
///
/// A `Topology` is always valid: it is made by resolving a ``TopologySpec`` (what the user
/// wrote), which collects every problem before failing. ``Topology/reference`` is the
/// installation of the networking reference with every default.
///
/// For example: `topogen --with-sqs --postgres-port 6543` resolves to a topology whose
/// ``flows(in:)`` include `scheduler-sqs` (`scheduler → sqs 443/tcp`) and
/// `server-postgres` on `6543/tcp`.
public struct Topology: Hashable, Sendable {
    /// The server's HTTP port, fixed by Spacelift.
    public static let httpPort: UInt16 = 1983
    /// The default Postgres port.
    public static let defaultPostgresPort: UInt16 = 5432
    /// The default port of the built-in MQTT broker.
    public static let defaultMQTTPort: UInt16 = 1984
    /// The default infrastructure ports.
    public static let defaultInfrastructurePorts = [PortRange(443)]

    /// Whether the message queue is SQS (`--with-sqs`).
    public let usesSQS: Bool
    /// Whether the MQTT broker is AWS IoT Core (`--with-iot-core`) instead of the server's
    /// built-in broker.
    public let usesIoTCore: Bool
    /// Whether encryption uses KMS (`--with-kms`).
    public let usesKMS: Bool
    /// The port Postgres listens on.
    public let postgresPort: UInt16
    /// The port of the built-in MQTT broker; unused with IoT Core.
    public let mqttPort: UInt16
    /// The ports of the infrastructure APIs the workers manage, sorted.
    public let infrastructurePorts: [PortRange]
    /// Where the workers run relative to the backend.
    public let workers: WorkerPlacement
    /// Where the installation lives in a Kubernetes cluster.
    public let kubernetes: KubernetesPlacement
    /// Where the installation lives on AWS.
    public let aws: AWSPlacement
    /// The addresses the user gave, by node, sorted; a node without an entry is "any".
    public let addresses: [Node: [CIDR]]

    /// The reference installation: every option at its default.
    public static let reference = Topology(
        usesSQS: false, usesIoTCore: false, usesKMS: false,
        postgresPort: defaultPostgresPort, mqttPort: defaultMQTTPort,
        infrastructurePorts: defaultInfrastructurePorts, workers: .inNetwork,
        kubernetes: KubernetesPlacement(), aws: AWSPlacement(), addresses: [:])

    init(
        usesSQS: Bool, usesIoTCore: Bool, usesKMS: Bool, postgresPort: UInt16, mqttPort: UInt16,
        infrastructurePorts: [PortRange], workers: WorkerPlacement,
        kubernetes: KubernetesPlacement, aws: AWSPlacement, addresses: [Node: [CIDR]]
    ) {
        self.aws = aws
        self.usesSQS = usesSQS
        self.usesIoTCore = usesIoTCore
        self.usesKMS = usesKMS
        self.postgresPort = postgresPort
        self.mqttPort = mqttPort
        self.infrastructurePorts = infrastructurePorts
        self.workers = workers
        self.kubernetes = kubernetes
        self.addresses = addresses
    }

    /// Whether the MQTT broker is the server's built-in one.
    public var usesBuiltInBroker: Bool { !usesIoTCore }

    /// The addresses of a node: the user's CIDRs, or `0.0.0.0/0` and `::/0` when none were given.
    public func addresses(of node: Node) -> [CIDR] {
        addresses[node] ?? [.anyIPv4, .anyIPv6]
    }

    /// Whether the user gave addresses for the node.
    public func hasAddresses(_ node: Node) -> Bool { addresses[node] != nil }
}

/// Where the workers run relative to the backend components.
public enum WorkerPlacement: String, Hashable, Sendable, CaseIterable {
    /// In the backend's cluster or network (`--workers in-cluster`, the default): on
    /// Kubernetes, in the worker namespace, reaching the built-in broker directly.
    case inNetwork = "in-cluster"
    /// Outside it (`--workers external`): workers reach the public endpoint, including the
    /// MQTT port, from the `clients` addresses.
    case external
}

/// Where the installation lives in a Kubernetes cluster.
///
/// For example: the defaults select the server as pods labelled
/// `app.kubernetes.io/name: spacelift-self-hosted` in namespace `spacelift`, and workers as
/// every pod of namespace `spacelift-workers`.
public struct KubernetesPlacement: Hashable, Sendable {
    /// The default backend namespace.
    public static let defaultNamespace = "spacelift"
    /// The default worker namespace.
    public static let defaultWorkerNamespace = "spacelift-workers"

    /// The namespace of the server, drain and scheduler (`--namespace`).
    public let namespace: String
    /// The namespace of the worker pods (`--worker-namespace`).
    public let workerNamespace: String
    /// The namespace whose pods send the load balancer's traffic to the server
    /// (`--ingress-namespace`); `nil` admits any source.
    public let ingressNamespace: String?

    /// Creates a placement; the defaults are Spacelift's chart defaults.
    public init(
        namespace: String = defaultNamespace, workerNamespace: String = defaultWorkerNamespace,
        ingressNamespace: String? = nil
    ) {
        self.namespace = namespace
        self.workerNamespace = workerNamespace
        self.ingressNamespace = ingressNamespace
    }
}
