@testable import TopologyModel

/// Topologies of the shapes topology files describe, built with the model's memberwise
/// initializer: the two example files (`examples/aws-two-pools.yaml`,
/// `examples/k8s-gateway.yaml`) and variations, for the host firewall tests.
///
/// For example: ``k8sGateway`` has the components server, drain, scheduler, `worker-cluster`,
/// `worker-datacenter` and `vcs-gateway`.
enum HostTopologyFixtures {
    /// Parses CIDRs, failing the test on a typo.
    static func cidrs(_ texts: String...) throws -> [CIDR] {
        try texts.map { text throws(CIDRError) in try CIDR(parsing: text) }.sorted()
    }

    /// `examples/aws-two-pools.yaml`, decoded: SQS and KMS through VPC endpoints, S3 through
    /// a prefix list, postgres and the proxy also as security groups, two pools, a proxy.
    static func awsTwoPools() throws -> Topology { try ExampleTopology.file("aws-two-pools") }

    /// `examples/k8s-gateway.yaml`, decoded: an in-cluster and an external pool, the VCS
    /// gateway, postgres and a telemetry collector as pods, an identity provider by address.
    static func k8sGateway() throws -> Topology { try ExampleTopology.file("k8s-gateway") }

    /// A user reason with everything that could break a quoted comment: quotes, `$`,
    /// backticks, a backslash, `#`, `;`, a line feed, a tab, non-ASCII letters, and more
    /// than 256 bytes.
    static let hostileReason =
        "Audit \"export\" of $HOME `id` \\ 'quoted' # not a comment; {braces}\n\tsecond line: "
        + "Zürich ✓ " + String(repeating: "long text ", count: 30)

    /// The most hostile reason a topology file allows (one line of at most 200 characters):
    /// quotes, `$`, backticks, a backslash, `#`, `;`, braces, non-ASCII letters.
    static let fileReason = String(
        ("Audit \"export\" of $HOME `id` \\ 'quoted' # not a comment; {braces} Zürich ✓ "
            + String(repeating: "long text ", count: 20)).prefix(190)
    ).trimmingSuffix(while: { $0 == " " })

    /// A variation: the gateway and every other component at known addresses (IPv4 and IPv6),
    /// its load balancer too, an egress proxy, a pool and an extra egress node with the longest
    /// names a topology file allows (32 and 40 characters), and extra egress from that pool,
    /// the gateway and the drain with a hostile reason.
    static func gatewayAtAddresses(reason: String = fileReason) throws -> Topology {
        let long = WorkerPool(
            name: String(repeating: "l", count: 32), placement: .external,
            infrastructurePorts: [PortRange(443), PortRange(9000, 9100) ?? PortRange(9000)],
            namespace: "spacelift-workers-\(String(repeating: "l", count: 32))")
        let edge = WorkerPool(
            name: "edge", placement: .inNetwork, namespace: "spacelift-workers-edge")
        let audit = Node(.extra, name: String(repeating: "a", count: 40))
        return Topology(
            usesSQS: true, usesIoTCore: true, usesKMS: true, postgresPort: 6432, mqttPort: 1984,
            workerPools: [edge, long], vcsGateway: VCSGateway(grpcPort: 2984, httpPort: 2985),
            egressProxy: EgressProxy(port: 3128),
            extraEgress: [
                ExtraEgress(
                    node: audit, sources: [.drain, long.node, .vcsGateway],
                    ports: [Port(.tcp, 8443), Port(.udp, 514)], reason: reason)
            ],
            privateEndpoints: [.sqs],
            kubernetes: KubernetesPlacement(), aws: AWSPlacement(),
            addresses: [
                .server: try cidrs("10.0.1.0/24", "2001:db8:1::/64"),
                .drain: try cidrs("10.0.2.0/24"),
                .vcsGateway: try cidrs("10.0.3.0/24"),
                .vcsGatewayLB: try cidrs("10.0.4.0/28", "2001:db8:4::/64"),
                .lb: try cidrs("10.0.5.10/32"),
                .postgres: try cidrs("10.0.6.0/24"),
                .egressProxy: try cidrs("10.0.0.10/32", "2001:db8::10/128"),
                .dns: try cidrs("10.0.0.2/32"),
                .admin: try cidrs("192.0.2.0/24"),
                edge.infrastructure: try cidrs("10.9.0.0/16"),
                audit: try cidrs("10.0.7.7/32"),
            ])
    }

    /// Every fixture, by name.
    static func all() throws -> [(name: String, topology: Topology)] {
        [
            ("aws-two-pools", try awsTwoPools()), ("k8s-gateway", try k8sGateway()),
            ("gateway-at-addresses", try gatewayAtAddresses()),
        ]
    }
}

extension String {
    /// The string without the characters at its end that match.
    fileprivate func trimmingSuffix(while matches: (Character) -> Bool) -> String {
        var text = self
        while let last = text.last, matches(last) { text.removeLast() }
        return text
    }
}
