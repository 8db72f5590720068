import Testing

@testable import TopologyModel

/// Topologies of the shapes topology files make, built with the model's memberwise initializer:
/// equivalents of `examples/aws-two-pools.yaml` and `examples/k8s-gateway.yaml` as the AWS and
/// Terraform targets see them, and variations of them.
///
/// For example: ``awsTwoPools`` has two worker pools, `private` (in the VPC) and `partner`
/// (external), an egress proxy that is a security group, SQS and KMS behind one VPC endpoint's
/// group, object storage behind a prefix list, and an RDS database given by its group.
enum AWSTopologyShapes {
    /// CIDRs from text; a test fails on a malformed one.
    static func cidrs(_ texts: [String]) -> [CIDR] {
        texts.compactMap { try? CIDR(parsing: $0) }.sorted()
    }

    /// A topology from the parts a topology file sets.
    static func topology(
        sqs: Bool = false, kms: Bool = false, pools: [WorkerPool] = [WorkerPool()],
        gateway: VCSGateway? = nil, proxy: EgressProxy? = nil, extra: [ExtraEgress] = [],
        privateEndpoints: Set<Node> = [], aws: AWSPlacement = AWSPlacement(),
        addresses: [Node: [String]] = [:]
    ) -> Topology {
        Topology(
            usesSQS: sqs, usesIoTCore: false, usesKMS: kms,
            postgresPort: Topology.defaultPostgresPort, mqttPort: Topology.defaultMQTTPort,
            workerPools: pools, vcsGateway: gateway, egressProxy: proxy, extraEgress: extra,
            privateEndpoints: privateEndpoints, kubernetes: KubernetesPlacement(), aws: aws,
            addresses: addresses.mapValues(cidrs))
    }

    /// `examples/aws-two-pools.yaml`, decoded.
    static var awsTwoPools: Topology { ExampleTopology.fileOrReference("aws-two-pools") }

    /// `examples/k8s-gateway.yaml`, decoded.
    static var k8sGateway: Topology { ExampleTopology.fileOrReference("k8s-gateway") }

    /// Variations: a proxy known only by CIDRs with a gateway and workers' extra egress whose
    /// reason has characters AWS refuses; an endpoint given by a group and a prefix list
    /// together; a database given by CIDRs and groups; several pools of one name length.
    static var variations: [(String, Topology)] {
        [
            (
                "proxy by CIDRs, gateway, odd reason",
                topology(
                    pools: [WorkerPool(name: "eu"), WorkerPool(name: "us", placement: .external)],
                    gateway: VCSGateway(grpcPort: 2984, httpPort: 2985),
                    proxy: EgressProxy(port: 8080),
                    extra: [
                        ExtraEgress(
                            node: Node(.extra, name: "usage"),
                            sources: [.drain, Node(.worker, name: "worker-eu")],
                            ports: [Port(.tcp, 443), Port(.udp, 514)],
                            reason: "Usage reporting — 'café' ${var} <b>\"quoted\"</b>")
                    ],
                    addresses: [
                        .egressProxy: ["10.0.0.10/32", "2001:db8::10/128"],
                        Node(.infrastructure, name: "infrastructure-eu"): ["10.1.0.0/16"],
                    ])
            ),
            (
                "endpoint by group and prefix list, database by CIDRs and group",
                topology(
                    sqs: true,
                    pools: [
                        WorkerPool(
                            name: "a1",
                            infrastructurePorts: [PortRange(30000, 32767) ?? PortRange(443)])
                    ],
                    proxy: EgressProxy(port: 3128), privateEndpoints: [.sqs, .vcs],
                    aws: AWSPlacement(
                        prefixLists: [.sqs: [PrefixList(id: "pl-0abc1234", entries: 2)]],
                        securityGroups: [
                            .sqs: ["sg-0123456789abcdef0", "sg-89abcdef"],
                            .postgres: ["sg-0d1e2f3a4b5c6d7e8"], .vcs: ["sg-0aaaabbbbccccdddd"],
                        ]),
                    addresses: [.postgres: ["10.0.8.0/22"], .sqs: ["10.0.9.0/24"]])
            ),
        ]
    }

    /// Every shape: the two examples and the variations.
    static var all: [(String, Topology)] {
        [("aws-two-pools", awsTwoPools), ("k8s-gateway", k8sGateway)] + variations
    }
}
