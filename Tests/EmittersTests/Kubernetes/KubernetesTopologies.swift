@testable import TopologyModel

/// Topologies of the shapes topology files add: `examples/k8s-gateway.yaml` as decoded, and
/// variations built with the model's memberwise initializer.
///
/// For example: ``k8sGateway`` is `examples/k8s-gateway.yaml`: an in-cluster pool and an
/// external one, the VCS gateway behind `ingress-nginx`, Postgres and an OpenTelemetry
/// collector living in the cluster, and an identity provider by address.
enum KubernetesTopologies {
    /// A CIDR of the fixtures; the texts are valid.
    static func cidr(_ text: String) -> CIDR {
        (try? CIDR(parsing: text)) ?? .anyIPv4
    }

    /// A topology with the reference defaults for whatever is not given.
    static func topology(
        usesSQS: Bool = false, usesKMS: Bool = false, workerPools: [WorkerPool],
        vcsGateway: VCSGateway? = nil, egressProxy: EgressProxy? = nil,
        extraEgress: [ExtraEgress] = [], privateEndpoints: Set<Node> = [],
        kubernetes: KubernetesPlacement = KubernetesPlacement(),
        addresses: [Node: [String]] = [:]
    ) -> Topology {
        Topology(
            usesSQS: usesSQS, usesIoTCore: false, usesKMS: usesKMS,
            postgresPort: Topology.defaultPostgresPort, mqttPort: Topology.defaultMQTTPort,
            workerPools: workerPools, vcsGateway: vcsGateway, egressProxy: egressProxy,
            extraEgress: extraEgress, privateEndpoints: privateEndpoints, kubernetes: kubernetes,
            aws: AWSPlacement(),
            addresses: addresses.mapValues { $0.map(cidr).sorted() })
    }

    /// `examples/k8s-gateway.yaml`, decoded.
    static let k8sGateway = ExampleTopology.fileOrReference("k8s-gateway")

    /// `examples/aws-two-pools.yaml` as the Kubernetes target sees it: SQS and KMS, a pool
    /// with addresses in the cluster and an external one, every outbound HTTPS connection
    /// through a proxy known by its address, and private endpoints (no addresses here).
    static let awsTwoPools = topology(
        usesSQS: true, usesKMS: true,
        workerPools: [
            WorkerPool(
                name: "private", placement: .inNetwork, infrastructurePorts: [PortRange(443)],
                namespace: "spacelift-workers-private"),
            WorkerPool(
                name: "partner", placement: .external,
                infrastructurePorts: [PortRange(443), PortRange(6443)],
                namespace: "spacelift-workers-partner"),
        ],
        egressProxy: EgressProxy(port: 3128), privateEndpoints: [.sqs, .kms, .objectStorage],
        addresses: [
            .clients: ["0.0.0.0/0"],
            Node(.worker, name: "worker-partner"): ["198.51.100.0/24"],
            Node(.infrastructure, name: "infrastructure-private"): ["10.50.0.0/16"],
            Node(.infrastructure, name: "infrastructure-partner"): [
                "198.51.100.0/24", "203.0.113.128/25",
            ],
            .egressProxy: ["10.0.0.10/32"],
        ])

    /// Two labelled in-cluster pools sharing a namespace (which then gets a default deny of its
    /// own), a third pool alone in its namespace with labels, the gateway known by its load
    /// balancer's addresses (no ingress namespace), an egress proxy living in the cluster, a
    /// container registry in the cluster reached directly (a private endpoint), and an extra
    /// node both by pod selector and by address.
    static let labelledPools = topology(
        workerPools: [
            WorkerPool(
                name: "blue", infrastructurePorts: [PortRange(443)], namespace: "runners",
                podLabels: ["spacelift.io/pool": "blue"]),
            WorkerPool(
                name: "green", infrastructurePorts: [PortRange(443), PortRange(8443)],
                namespace: "runners", podLabels: ["spacelift.io/pool": "green"]),
            WorkerPool(
                name: "batch", infrastructurePorts: [PortRange(22)], namespace: "batch",
                podLabels: ["app": "batch-runner", "tier": "runs"]),
        ],
        vcsGateway: VCSGateway(grpcPort: 2984, httpPort: 2985),
        egressProxy: EgressProxy(port: 3128),
        extraEgress: [
            ExtraEgress(
                node: Node(.extra, name: "metrics"),
                sources: [.server, Node(.worker, name: "worker-blue")],
                ports: [Port(.tcp, 9090), Port(.udp, 8125)],
                reason: "Metrics: Prometheus remote write and StatsD")
        ], privateEndpoints: [.containerRegistry],
        kubernetes: KubernetesPlacement(
            namespace: "platform",
            podSelectors: [
                .egressProxy: PodSelector(namespace: "proxy", labels: ["app": "squid"]),
                Node(.extra, name: "metrics"): PodSelector(
                    namespace: "monitoring", labels: ["app": "metrics"]),
                .containerRegistry: PodSelector(namespace: "registry", labels: ["app": "harbor"]),
            ]),
        addresses: [
            .vcsGatewayLB: ["10.0.16.0/22"],
            Node(.extra, name: "metrics"): ["10.9.0.0/24"],
        ])

    /// The gateway with neither an ingress namespace nor load balancer addresses, and an
    /// in-cluster object storage selected by namespace alone.
    static let gatewayFromAnywhere = topology(
        workerPools: [WorkerPool()], vcsGateway: VCSGateway(),
        kubernetes: KubernetesPlacement(
            podSelectors: [.objectStorage: PodSelector(namespace: "minio")]))

    /// The load balancers as the ingress controller's pods, which are more precise than its
    /// namespace.
    static let balancersAsPods = topology(
        workerPools: [WorkerPool()], vcsGateway: VCSGateway(),
        kubernetes: KubernetesPlacement(
            ingressNamespace: "ingress-nginx",
            podSelectors: [
                .lb: PodSelector(
                    namespace: "ingress-nginx",
                    labels: ["app.kubernetes.io/name": "ingress-nginx"]),
                .vcsGatewayLB: PodSelector(
                    namespace: "ingress-nginx",
                    labels: ["app.kubernetes.io/name": "ingress-nginx"]),
            ]))

    /// Every topology of this file, by name.
    static let all: [(name: String, topology: Topology)] = [
        ("k8s-gateway", k8sGateway), ("aws-two-pools", awsTwoPools),
        ("labelled pools", labelledPools), ("gateway from anywhere", gatewayFromAnywhere),
        ("load balancers as pods", balancersAsPods),
    ]
}
