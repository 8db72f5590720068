@testable import TopologyModel

/// Topologies of the shapes topology files add, built with the model's memberwise initializer:
/// the two example files as the Kubernetes target sees them, and variations of them.
///
/// For example: ``k8sGateway`` is `examples/k8s-gateway.yaml`: an in-cluster pool and an
/// external one, the VCS gateway behind `ingress-nginx`, Postgres and an OpenTelemetry
/// collector living in the cluster, and an identity provider by address.
enum KubernetesTopologies {
    /// The OpenTelemetry collector of `examples/k8s-gateway.yaml`.
    static let otel = Node(.extra, name: "otel-collector")
    /// The identity provider of `examples/k8s-gateway.yaml`.
    static let identityProvider = Node(.extra, name: "identity-provider")

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

    /// The pools of `examples/k8s-gateway.yaml`.
    static let gatewayPools = [
        WorkerPool(
            name: "cluster", placement: .inNetwork,
            infrastructurePorts: [PortRange(443), PortRange(6443)]),
        WorkerPool(
            name: "datacenter", placement: .external, infrastructurePorts: [PortRange(443)],
            namespace: "spacelift-workers-datacenter"),
    ]

    /// The extra egress of `examples/k8s-gateway.yaml`.
    static let gatewayExtraEgress = [
        ExtraEgress(
            node: otel, sources: [.server, .drain, .scheduler], ports: [Port(.tcp, 4317)],
            reason: "Telemetry: traces to the OpenTelemetry collector (OTLP gRPC)"),
        ExtraEgress(
            node: identityProvider, sources: [.server], ports: [Port(.tcp, 443)],
            reason: "Single sign-on: the identity provider's SAML and OIDC endpoints"),
    ]

    /// The in-cluster nodes of `examples/k8s-gateway.yaml`.
    static let gatewayPods: [Node: PodSelector] = [
        .postgres: PodSelector(
            namespace: "databases", labels: ["app.kubernetes.io/name": "postgresql"]),
        otel: PodSelector(
            namespace: "observability",
            labels: ["app.kubernetes.io/name": "opentelemetry-collector"]),
    ]

    /// The addresses of `examples/k8s-gateway.yaml`.
    static let gatewayAddresses: [Node: [String]] = [
        .clients: ["203.0.113.0/24", "2001:db8:100::/48"],
        .vcs: ["10.20.0.0/16"],
        Node(.worker, name: "worker-datacenter"): ["192.0.2.0/24"],
        Node(.infrastructure, name: "infrastructure-datacenter"): ["10.100.0.0/16"],
        identityProvider: ["198.51.100.20/32"],
    ]

    /// `examples/k8s-gateway.yaml`.
    static let k8sGateway = topology(
        workerPools: gatewayPools, vcsGateway: VCSGateway(), extraEgress: gatewayExtraEgress,
        kubernetes: KubernetesPlacement(
            namespace: "spacelift", ingressNamespace: "ingress-nginx", podSelectors: gatewayPods),
        addresses: gatewayAddresses)

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
