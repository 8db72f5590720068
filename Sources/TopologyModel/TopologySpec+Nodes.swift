/// Where a node is, as written in a topology file: its CIDRs, the security groups and prefix
/// lists that stand for it on AWS, and the pods that are it on Kubernetes.
///
/// For example: `postgres: {securityGroups: [sg-0d1e2f3a4b5c6d7e8]}` is an `AddressSpec` at
/// `nodes.postgres` with one security group written at `nodes.postgres.securityGroups[0]`.
public struct AddressSpec: Hashable, Sendable {
    /// The path of the mapping that holds the fields, for example `workerPools[0]`.
    public var origin: String
    /// The line of that mapping, in YAML.
    public var line: Int?
    /// `cidrs`.
    public var cidrs: [Written<String>] = []
    /// `securityGroups`: existing group ids.
    public var securityGroups: [Written<String>] = []
    /// `prefixLists`: `pl-ID[:ENTRIES]`.
    public var prefixLists: [Written<String>] = []
    /// `kubernetes`: the pods that are the node.
    public var kubernetes: PodSelectorSpec?

    /// Creates an empty spec at a path.
    public init(origin: String, line: Int? = nil) {
        self.origin = origin
        self.line = line
    }
}

/// `kubernetes: {namespace, labels}` as written.
///
/// For example: `{namespace: databases, labels: {app: postgres}}`.
public struct PodSelectorSpec: Hashable, Sendable {
    /// `namespace`.
    public var namespace: Written<String>?
    /// `labels`, in the order written.
    public var labels: [LabelSpec] = []

    /// Creates a selector spec.
    public init(namespace: Written<String>? = nil, labels: [LabelSpec] = []) {
        self.namespace = namespace
        self.labels = labels
    }
}

/// One label of a ``PodSelectorSpec``: `app.kubernetes.io/name: postgresql`.
public struct LabelSpec: Hashable, Sendable {
    /// The key, written at `....labels`.
    public var key: Written<String>
    /// The value, written at `....labels.KEY`.
    public var value: Written<String>

    /// Creates a label.
    public init(key: Written<String>, value: Written<String>) {
        self.key = key
        self.value = value
    }
}

/// A node of the reference installation and where it is: an entry of `nodes` or
/// `privateEndpoints`.
///
/// For example: `nodes.postgres`.
public struct NodeSpec: Hashable, Sendable {
    /// The node's name, written as the entry's key.
    public var node: Written<String>
    /// Where it is.
    public var addresses: AddressSpec

    /// Creates a node spec.
    public init(node: Written<String>, addresses: AddressSpec) {
        self.node = node
        self.addresses = addresses
    }
}

/// A worker pool as written: an entry of `workerPools`.
///
/// For example: `{name: eu, placement: external, cidrs: [192.0.2.0/24]}`.
public struct WorkerPoolSpec: Hashable, Sendable {
    /// `name`; every pool has one.
    public var name: Written<String>
    /// `placement`: `in-cluster` or `external`.
    public var placement: Written<String>?
    /// Where the workers are; `kubernetes` is the pool's namespace and pod labels.
    public var addresses: AddressSpec
    /// `infrastructure.ports`.
    public var infrastructurePorts: [Written<String>] = []
    /// Where the pool's infrastructure is.
    public var infrastructure: AddressSpec

    /// Creates a pool spec.
    public init(name: Written<String>, addresses: AddressSpec, infrastructure: AddressSpec) {
        self.name = name
        self.addresses = addresses
        self.infrastructure = infrastructure
    }
}

/// `vcsGateway` as written.
public struct VCSGatewaySpec: Hashable, Sendable {
    /// `grpcPort`.
    public var grpcPort: Written<String>?
    /// `httpPort`.
    public var httpPort: Written<String>?
    /// Where the gateway is.
    public var addresses: AddressSpec
    /// `loadBalancer`: where its load balancer is.
    public var loadBalancer: AddressSpec

    /// Creates a gateway spec.
    public init(addresses: AddressSpec, loadBalancer: AddressSpec) {
        self.addresses = addresses
        self.loadBalancer = loadBalancer
    }
}

/// `egressProxy` as written.
public struct EgressProxySpec: Hashable, Sendable {
    /// `port`; required.
    public var port: Written<String>?
    /// Where the proxy is.
    public var addresses: AddressSpec

    /// Creates a proxy spec.
    public init(port: Written<String>?, addresses: AddressSpec) {
        self.port = port
        self.addresses = addresses
    }
}

/// An entry of `extraEgress` as written.
///
/// For example: `{name: otel-collector, from: [server], ports: [4317], reason: "Telemetry"}`.
public struct ExtraEgressSpec: Hashable, Sendable {
    /// `name`: the new node's name.
    public var name: Written<String>
    /// `from`: component names.
    public var sources: [Written<String>] = []
    /// `ports`: `N`, `N-M`, `N/udp`, `N-M/tcp`.
    public var ports: [Written<String>] = []
    /// `reason`.
    public var reason: Written<String>?
    /// Where the destination is.
    public var addresses: AddressSpec

    /// Creates an extra egress spec.
    public init(name: Written<String>, addresses: AddressSpec) {
        self.name = name
        self.addresses = addresses
    }
}
