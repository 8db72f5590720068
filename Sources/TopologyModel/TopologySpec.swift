/// A value as the user wrote it, with where it was written, so that a problem with it can be
/// reported in the user's terms.
///
/// For example: `Written("70000", at: "--postgres-port")`.
public struct Written<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The value as written.
    public var value: Value
    /// Where it was written: an option such as `--postgres-port`, or a field path such as
    /// `workerPools[1].cidrs[0]`.
    public var origin: String
    /// The line of a topology file it was written on, for YAML.
    public var line: Int?

    /// Creates a written value.
    public init(_ value: Value, at origin: String, line: Int? = nil) {
        self.value = value
        self.origin = origin
        self.line = line
    }
}

/// The addresses the user gave for one node, as written: `--cidr NODE=CIDR[,CIDR...]`.
public struct AddressEntry: Hashable, Sendable {
    /// The node name as written, for example `postgres`.
    public var node: String
    /// The CIDRs as written.
    public var cidrs: [String]
    /// Where the entry was written: `--cidr` (whose value names the node), or an option or
    /// field that stands for one node, such as `--allow-ssh-from`.
    public var origin: String

    /// How messages name the entry: `--cidr postgres`, or `--allow-ssh-from`.
    var place: String { origin == "--cidr" ? "\(origin) \(node)" : origin }

    /// Creates an entry.
    public init(node: String, cidrs: [String], origin: String) {
        self.node = node
        self.cidrs = cidrs
        self.origin = origin
    }
}

/// What the user asked for, as written, before validation. ``resolve()`` turns it into a
/// ``Topology`` or reports every problem at once.
///
/// For example: `topogen --with-iot-core --mqtt-port 1983` resolves to two errors, that IoT
/// Core needs `--with-sqs` and that 1983 is the server's HTTP port.
public struct TopologySpec: Hashable, Sendable {
    /// `--with-sqs`.
    public var withSQS: Written<Bool>?
    /// `--with-iot-core`.
    public var withIoTCore: Written<Bool>?
    /// `--with-kms`.
    public var withKMS: Written<Bool>?
    /// `--postgres-port N`.
    public var postgresPort: Written<String>?
    /// `--mqtt-port N`.
    public var mqttPort: Written<String>?
    /// `--infrastructure-port N` or `N-M`, repeatable.
    public var infrastructurePorts: [Written<String>] = []
    /// `--cidr NODE=CIDR[,CIDR...]`, repeatable; entries for one node add up.
    /// `--allow-ssh-from CIDR` is an entry for the `admin` node.
    public var addresses: [AddressEntry] = []
    /// `--workers in-cluster|external`.
    public var workers: Written<String>?
    /// `--namespace NS`.
    public var namespace: Written<String>?
    /// `--worker-namespace NS`.
    public var workerNamespace: Written<String>?
    /// `--ingress-namespace NS`.
    public var ingressNamespace: Written<String>?
    /// `--vpc-id vpc-...`.
    public var vpcID: Written<String>?
    /// `--name-prefix P`.
    public var namePrefix: Written<String>?
    /// `--max-rules N`.
    public var maxRules: Written<String>?
    /// `--prefix-list NODE=pl-ID[:ENTRIES]`, repeatable.
    public var prefixLists: [Written<String>] = []
    /// A topology file's `nodes`: where the reference installation's nodes are.
    public var nodes: [NodeSpec] = []
    /// A topology file's `privateEndpoints`: external services reached privately, and where.
    public var privateEndpoints: [NodeSpec] = []
    /// A topology file's `workerPools`; none is the one pool of the command line.
    public var workerPools: [WorkerPoolSpec] = []
    /// A topology file's `vcsGateway`.
    public var vcsGateway: VCSGatewaySpec?
    /// A topology file's `egressProxy`.
    public var egressProxy: EgressProxySpec?
    /// A topology file's `extraEgress`.
    public var extraEgress: [ExtraEgressSpec] = []

    /// Creates an empty spec: the reference installation.
    public init() {}

    /// This spec (a topology file's) with the values of `flags` (the command line's) in place
    /// of its own: a flag overrides the field it stands for. `--cidr NODE=...` and
    /// `--prefix-list NODE=...` replace that node's CIDRs or prefix lists; `--workers`,
    /// `--worker-namespace` and `--infrastructure-port` apply to the only worker pool.
    public func overridden(by flags: TopologySpec) -> TopologySpec {
        var merged = self
        merged.withSQS = flags.withSQS ?? withSQS
        merged.withIoTCore = flags.withIoTCore ?? withIoTCore
        merged.withKMS = flags.withKMS ?? withKMS
        merged.postgresPort = flags.postgresPort ?? postgresPort
        merged.mqttPort = flags.mqttPort ?? mqttPort
        if !flags.infrastructurePorts.isEmpty {
            merged.infrastructurePorts = flags.infrastructurePorts
        }
        merged.workers = flags.workers ?? workers
        merged.namespace = flags.namespace ?? namespace
        merged.workerNamespace = flags.workerNamespace ?? workerNamespace
        merged.ingressNamespace = flags.ingressNamespace ?? ingressNamespace
        merged.vpcID = flags.vpcID ?? vpcID
        merged.namePrefix = flags.namePrefix ?? namePrefix
        merged.maxRules = flags.maxRules ?? maxRules
        merged.addresses += flags.addresses
        merged.prefixLists += flags.prefixLists
        return merged
    }

    /// Validates the spec and builds the topology it describes.
    ///
    /// - Returns: The topology and any warnings.
    /// - Throws: ``TopologyError`` with every problem found, when any of them is an error.
    public func resolve() throws(TopologyError) -> (topology: Topology, warnings: [Diagnostic]) {
        var resolver = Resolver()
        let topology = resolver.resolve(self)
        guard let topology, !resolver.diagnostics.contains(where: { $0.severity == .error })
        else { throw TopologyError(diagnostics: resolver.diagnostics) }
        return (topology, resolver.diagnostics)
    }
}
