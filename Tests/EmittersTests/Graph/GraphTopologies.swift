@testable import TopologyModel

/// Topologies for the graph tests, built with the model's internal initializer: the two example
/// files (`examples/aws-two-pools.yaml`, `examples/k8s-gateway.yaml`) as the topology file
/// decoder resolves them, and variations that reach the other shapes (IoT Core, SSH access, an
/// egress proxy without private endpoints, names that need escaping).
///
/// For example: `GraphTopologies.all` names each topology for test arguments, `reference` first.
enum GraphTopologies {
    /// A topology with the name tests show for it.
    struct Named: CustomStringConvertible, Sendable {
        /// The name tests show.
        let description: String
        /// The topology.
        let topology: Topology
    }

    /// Every topology of the graph tests.
    static let all: [Named] = [
        Named(description: "reference", topology: .reference),
        Named(description: "aws-two-pools", topology: awsTwoPools),
        Named(description: "k8s-gateway", topology: kubernetesGateway),
        Named(description: "iot-core-ssh-proxy", topology: iotCoreSSHProxy),
        Named(description: "odd-names", topology: oddNames),
    ]

    /// `examples/aws-two-pools.yaml`, decoded.
    static let awsTwoPools = ExampleTopology.fileOrReference("aws-two-pools")

    /// The identity provider of `examples/k8s-gateway.yaml`.
    static let identityProvider = Node(.extra, name: "identity-provider")

    /// `examples/k8s-gateway.yaml`, decoded.
    static let kubernetesGateway = ExampleTopology.fileOrReference("k8s-gateway")

    /// IoT Core, SQS and KMS, administrators' SSH, an egress proxy with no private endpoint,
    /// one unnamed external pool with a port range, and extra egress over UDP and a range.
    static let iotCoreSSHProxy = Topology(
        usesSQS: true, usesIoTCore: true, usesKMS: true, postgresPort: 6543, mqttPort: 1984,
        workerPools: [
            WorkerPool(
                placement: .external, infrastructurePorts: [PortRange(443), range(8000, 8100)])
        ],
        vcsGateway: VCSGateway(grpcPort: 2984, httpPort: 2985),
        egressProxy: EgressProxy(port: 8080),
        extraEgress: [
            ExtraEgress(
                node: Node(.extra, name: "syslog"), sources: [.server, .drain, .scheduler],
                ports: [Port(.udp, 514), Port(.tcp, 6514)], reason: "Logs: the syslog relay"),
            ExtraEgress(
                node: Node(.extra, name: "statsd"), sources: [.drain],
                ports: [Port(.udp, range(8125, 8126))], reason: "Metrics"),
        ],
        privateEndpoints: [], kubernetes: KubernetesPlacement(), aws: AWSPlacement(),
        addresses: [
            .admin: cidrs("192.0.2.10/32"), .server: cidrs("10.0.1.0/24"),
            .egressProxy: cidrs("10.0.0.10/32"),
        ])

    /// Names and labels with characters that Mermaid and Graphviz give a meaning to: the
    /// renderer must escape them, and its ids must stay safe and distinct.
    static let oddNames = Topology(
        usesSQS: false, usesIoTCore: false, usesKMS: false, postgresPort: 5432, mqttPort: 1984,
        workerPools: [WorkerPool(name: "end", namespace: "end", podLabels: ["team": "a\"b"])],
        vcsGateway: nil, egressProxy: nil,
        extraEgress: [
            ExtraEgress(
                node: Node(.extra, name: "quote\"back\\slash"), sources: [.server],
                ports: [Port(.tcp, 9000)], reason: "odd"),
            ExtraEgress(
                node: Node(.extra, name: "x_1"), sources: [.server], ports: [Port(.tcp, 9001)],
                reason: "underscore"),
            ExtraEgress(
                node: Node(.extra, name: "x-1"), sources: [.server], ports: [Port(.tcp, 9002)],
                reason: "dash"),
            ExtraEgress(
                node: Node(.extra, name: "<b>#1;"), sources: [.drain], ports: [Port(.tcp, 9003)],
                reason: "markup"),
        ],
        privateEndpoints: [],
        kubernetes: KubernetesPlacement(
            podSelectors: [Node(.extra, name: "x-1"): PodSelector(namespace: "end")]),
        aws: AWSPlacement(), addresses: [:])

    /// CIDRs from text known to be valid.
    static func cidrs(_ texts: String...) -> [CIDR] {
        texts.compactMap { try? CIDR(parsing: $0) }.sorted()
    }

    /// A port range known to be valid.
    static func range(_ lower: UInt16, _ upper: UInt16) -> PortRange {
        PortRange(lower, upper) ?? PortRange(lower)
    }
}
