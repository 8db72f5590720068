/// A self-hosted Spacelift installation as topogen models it: which optional services it
/// uses, its ports, its worker pools, its optional VCS gateway, egress proxy and extra egress,
/// and the addresses of every node.
///
/// A `Topology` is always valid: it is made by resolving a ``TopologySpec`` (what the user
/// wrote, on the command line or in a topology file), which collects every problem before
/// failing. ``Topology/reference`` is the installation of the networking reference with every
/// default.
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
    /// The worker pools, at least one; without a topology file, the one pool `worker`.
    public let workerPools: [WorkerPool]
    /// The VCS gateway, when the installation has one.
    public let vcsGateway: VCSGateway?
    /// The proxy outbound HTTPS goes through, when the installation has one.
    public let egressProxy: EgressProxy?
    /// Connections the user allowed beyond Spacelift's own, each with a reason.
    public let extraEgress: [ExtraEgress]
    /// External services reached through private (VPC) endpoints rather than the internet, so
    /// never through the egress proxy.
    public let privateEndpoints: Set<Node>
    /// Where the installation lives in a Kubernetes cluster.
    public let kubernetes: KubernetesPlacement
    /// Where the installation lives on AWS.
    public let aws: AWSPlacement
    /// The addresses the user gave, by node, sorted; a node without an entry is "any".
    public let addresses: [Node: [CIDR]]
    /// The Spacelift components: server, drain, scheduler, every worker pool's workers, and
    /// the VCS gateway when there is one.
    public let components: [Node]
    /// Every node of the installation, in artifact order.
    public let nodes: [Node]
    /// Where each worker and infrastructure node's pool is in ``workerPools``, so that looking a
    /// pool up stays constant time with thousands of pools.
    private let poolIndex: [Node: Int]
    /// The nodes by name.
    private let nodesByName: [String: Node]

    /// The reference installation: every option at its default.
    public static let reference = Topology(
        usesSQS: false, usesIoTCore: false, usesKMS: false,
        postgresPort: defaultPostgresPort, mqttPort: defaultMQTTPort,
        workerPools: [WorkerPool()], vcsGateway: nil, egressProxy: nil, extraEgress: [],
        privateEndpoints: [], kubernetes: KubernetesPlacement(), aws: AWSPlacement(),
        addresses: [:])

    init(
        usesSQS: Bool, usesIoTCore: Bool, usesKMS: Bool, postgresPort: UInt16, mqttPort: UInt16,
        workerPools: [WorkerPool], vcsGateway: VCSGateway?, egressProxy: EgressProxy?,
        extraEgress: [ExtraEgress], privateEndpoints: Set<Node>,
        kubernetes: KubernetesPlacement, aws: AWSPlacement, addresses: [Node: [CIDR]]
    ) {
        self.usesSQS = usesSQS
        self.usesIoTCore = usesIoTCore
        self.usesKMS = usesKMS
        self.postgresPort = postgresPort
        self.mqttPort = mqttPort
        self.workerPools = workerPools
        self.vcsGateway = vcsGateway
        self.egressProxy = egressProxy
        self.extraEgress = extraEgress
        self.privateEndpoints = privateEndpoints
        self.kubernetes = kubernetes
        self.aws = aws
        self.addresses = addresses
        components = Self.components(workerPools: workerPools, hasGateway: vcsGateway != nil)
        nodes = Self.nodes(workerPools: workerPools, extraEgress: extraEgress)
        var poolIndex: [Node: Int] = [:]
        for (index, pool) in workerPools.enumerated() {
            poolIndex[pool.node] = index
            poolIndex[pool.infrastructure] = index
        }
        self.poolIndex = poolIndex
        nodesByName = Dictionary(
            nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether the MQTT broker is the server's built-in one.
    public var usesBuiltInBroker: Bool { !usesIoTCore }

    /// The addresses of a node: the user's CIDRs, or `0.0.0.0/0` and `::/0` when none were given.
    public func addresses(of node: Node) -> [CIDR] {
        addresses[node] ?? [.anyIPv4, .anyIPv6]
    }

    /// The node whose addresses (and, on AWS, security groups and prefix lists) stand for
    /// `node` at the far end of a rule: the clients for an external worker pool without
    /// addresses, which is taken to be among the clients (it reaches the public endpoint from
    /// where they are, so the load balancer admits it as one of them); `node` itself otherwise.
    ///
    /// For example: with `--cidr clients=203.0.113.0/24` and an external pool `partner` without
    /// `cidrs`, the load balancer admits `worker-partner` on 443 from `203.0.113.0/24`.
    public func addressHolder(of node: Node) -> Node {
        guard node.role == .worker, !hasAddresses(node),
            workerPool(of: node)?.placement == .external
        else { return node }
        return .clients
    }

    /// Whether the user gave addresses for the node.
    public func hasAddresses(_ node: Node) -> Bool { addresses[node] != nil }

    /// The components of an installation with these pools, with or without a VCS gateway.
    static func components(workerPools: [WorkerPool], hasGateway: Bool) -> [Node] {
        [.server, .drain, .scheduler] + workerPools.map(\.node) + (hasGateway ? [.vcsGateway] : [])
    }

    /// The nodes of an installation with these pools and extra egress, in artifact order.
    static func nodes(workerPools: [WorkerPool], extraEgress: [ExtraEgress]) -> [Node] {
        let own = Node.allCases.filter { $0.role != .worker && $0.role != .infrastructure }
        return Set(
            own + workerPools.flatMap { [$0.node, $0.infrastructure] } + extraEgress.map(\.node)
        )
        .sorted()
    }

    /// The node of the installation with this name, for example `worker-eu`.
    public func node(named name: String) -> Node? {
        nodesByName[name]
    }

    /// The worker pool whose workers are `node`, when `node` is a worker.
    public func workerPool(of node: Node) -> WorkerPool? {
        guard node.role == .worker, let index = poolIndex[node] else { return nil }
        return workerPools[index]
    }

    /// The worker pool whose infrastructure is `node`, when `node` is infrastructure.
    public func workerPool(managing node: Node) -> WorkerPool? {
        guard node.role == .infrastructure, let index = poolIndex[node] else { return nil }
        return workerPools[index]
    }
}

/// Where a worker pool runs relative to the backend components.
public enum WorkerPlacement: String, Hashable, Sendable, CaseIterable {
    /// In the backend's cluster or network (`--workers in-cluster`, the default): on
    /// Kubernetes, in the pool's namespace, reaching the built-in broker directly.
    case inNetwork = "in-cluster"
    /// Outside it (`--workers external`): workers reach the public endpoint, including the
    /// MQTT port, from the `clients` addresses.
    case external
}

/// A worker pool: workers that run in one place and manage one infrastructure.
///
/// For example: the pool `eu` of a topology file is the node `worker-eu`, which reaches
/// `infrastructure-eu` on its ports; its Kubernetes policy is `spacelift-worker-eu` in its
/// namespace. Without a topology file there is one pool, `worker`, managing `infrastructure`.
public struct WorkerPool: Hashable, Sendable {
    /// The default namespace of the workers' pods.
    public static let defaultNamespace = "spacelift-workers"

    /// The pool's name in the topology file; `nil` for the one pool of the command line.
    public let name: String?
    /// Where the workers run.
    public let placement: WorkerPlacement
    /// The ports of the infrastructure APIs the pool manages, sorted.
    public let infrastructurePorts: [PortRange]
    /// The namespace of the pool's pods on Kubernetes.
    public let namespace: String
    /// The labels that select the pool's pods in its namespace; empty selects every pod.
    public let podLabels: [String: String]

    /// Creates a pool; the defaults are the reference installation's one pool.
    public init(
        name: String? = nil, placement: WorkerPlacement = .inNetwork,
        infrastructurePorts: [PortRange] = Topology.defaultInfrastructurePorts,
        namespace: String = defaultNamespace, podLabels: [String: String] = [:]
    ) {
        self.name = name
        self.placement = placement
        self.infrastructurePorts = infrastructurePorts
        self.namespace = namespace
        self.podLabels = podLabels
    }

    /// The pool's workers: `worker`, or `worker-<name>`.
    public var node: Node { Node(.worker, name: name.map { "worker-\($0)" }) }

    /// What the pool's workers manage: `infrastructure`, or `infrastructure-<name>`.
    public var infrastructure: Node {
        Node(.infrastructure, name: name.map { "infrastructure-\($0)" })
    }
}

/// The VCS gateway: remote VCS agents reach it through its load balancer on 443, which
/// forwards to its gRPC port; the server and the drain call its HTTP port.
///
/// For example: the defaults are gRPC 1984 (not the MQTT broker's 1984: another component)
/// and HTTP 1985.
public struct VCSGateway: Hashable, Sendable {
    /// The default gRPC port, behind the load balancer.
    public static let defaultGRPCPort: UInt16 = 1984
    /// The default HTTP port, called by the server and the drain.
    public static let defaultHTTPPort: UInt16 = 1985

    /// The gRPC port the load balancer forwards to.
    public let grpcPort: UInt16
    /// The HTTP port the server and the drain call.
    public let httpPort: UInt16

    /// Creates a gateway; the defaults are Spacelift's.
    public init(grpcPort: UInt16 = defaultGRPCPort, httpPort: UInt16 = defaultHTTPPort) {
        self.grpcPort = grpcPort
        self.httpPort = httpPort
    }
}

/// The proxy that components reach external HTTPS services through: a flow from a component
/// to an external node on exactly `443/tcp`, unless the node is a private endpoint, goes to the
/// proxy's addresses on its port instead.
///
/// For example: with a proxy on 3128, `server-object-storage` is `server → egress-proxy
/// 3128/tcp`.
public struct EgressProxy: Hashable, Sendable {
    /// The port the proxy listens on.
    public let port: UInt16

    /// Creates a proxy.
    public init(port: UInt16) {
        self.port = port
    }
}

/// A connection the user allowed beyond Spacelift's own: from some components to a node of
/// their own, with a reason every target writes as the rule's description.
///
/// For example: `otel-collector` from every component on `4317/tcp`, "Telemetry:
/// OpenTelemetry collector (OTLP gRPC)", is the flows `server-otel-collector` and so on.
public struct ExtraEgress: Hashable, Sendable {
    /// The destination, a node of role ``Node/Role/extra``.
    public let node: Node
    /// The components that open the connections, in artifact order.
    public let sources: [Node]
    /// The destination ports, sorted.
    public let ports: [Port]
    /// Why the connection is allowed.
    public let reason: String

    /// Creates an extra egress.
    public init(node: Node, sources: [Node], ports: [Port], reason: String) {
        self.node = node
        self.sources = sources
        self.ports = Array(Set(ports)).sorted()
        self.reason = reason
    }
}

/// Pods in a Kubernetes cluster: a namespace and the labels that select them in it.
///
/// For example: an in-cluster Postgres as `namespace: databases`, `labels: {app: postgres}`.
public struct PodSelector: Hashable, Sendable {
    /// The namespace.
    public let namespace: String
    /// The labels; empty selects every pod of the namespace.
    public let labels: [String: String]

    /// Creates a selector.
    public init(namespace: String, labels: [String: String] = [:]) {
        self.namespace = namespace
        self.labels = labels
    }
}

/// Where the installation lives in a Kubernetes cluster.
///
/// For example: the defaults select the server as pods labelled
/// `app.kubernetes.io/name: spacelift-self-hosted` in namespace `spacelift`; the worker pools'
/// namespaces are the pools'.
public struct KubernetesPlacement: Hashable, Sendable {
    /// The default backend namespace.
    public static let defaultNamespace = "spacelift"

    /// The namespace of the server, drain, scheduler and VCS gateway (`--namespace`).
    public let namespace: String
    /// The namespace whose pods send the load balancers' traffic to the server and the VCS
    /// gateway (`--ingress-namespace`); `nil` admits any source.
    public let ingressNamespace: String?
    /// External nodes that run in the cluster, selected as pods rather than by address.
    public let podSelectors: [Node: PodSelector]

    /// Creates a placement; the defaults are Spacelift's chart defaults.
    public init(
        namespace: String = defaultNamespace, ingressNamespace: String? = nil,
        podSelectors: [Node: PodSelector] = [:]
    ) {
        self.namespace = namespace
        self.ingressNamespace = ingressNamespace
        self.podSelectors = podSelectors
    }
}
