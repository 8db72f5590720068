import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias K = KubernetesReaderTesting
private typealias T = KubernetesTopologies

/// The Kubernetes target on the shapes of topology files: worker pools, the VCS gateway,
/// external nodes living in the cluster, the egress proxy and extra egress. Each is rendered,
/// read back in sync, and mutated so that the reader names the flow that changed.
@Suite struct KubernetesTopologyTests {
    static func render(_ topology: Topology) throws -> String {
        try #require(KubernetesEmitter().render(topology).files.first).contents
    }

    @Test(arguments: T.all.map(\.name))
    func renderedPoliciesReadBackInSync(name: String) throws {
        let topology = try #require(T.all.first { $0.name == name }).topology
        let text = try Self.render(topology)
        if let dump = ProcessInfo.processInfo.environment["TOPOGEN_K8S_DUMP"] {
            try Data(text.utf8).write(
                to: URL(fileURLWithPath: dump).appendingPathComponent("\(name).yaml"))
        }
        let deployed = try K.read([(KubernetesEmitter.fileName, text)], topology)
        let drift = Drift(
            expected: KubernetesReader().expectedPermissions(for: topology, options: ReadOptions()),
            deployed: deployed)
        #expect(drift.isInSync, "\(name): \(K.describe(drift))")
        #expect(deployed.unreadable.isEmpty, "\(name): \(deployed.unreadable)")
        #expect(deployed.diagnostics.isEmpty, "\(name): \(deployed.diagnostics)")
    }
}

extension KubernetesTopologyTests {
    /// The policies of a topology, as `namespace/name`.
    static func names(_ topology: Topology) -> [String] {
        KubernetesEmitter().policies(for: topology).map { "\($0.namespace)/\($0.name)" }
    }

    @Test func everyInClusterPoolHasItsPolicyAndEveryPoolNamespaceADefaultDeny() {
        #expect(
            Self.names(T.k8sGateway) == [
                "spacelift/spacelift-default-deny", "spacelift/spacelift-server",
                "spacelift/spacelift-drain", "spacelift/spacelift-scheduler",
                "spacelift-workers/spacelift-worker-cluster", "spacelift/spacelift-vcs-gateway",
            ])
        #expect(
            Self.names(T.labelledPools) == [
                "platform/spacelift-default-deny", "runners/spacelift-default-deny",
                "batch/spacelift-default-deny", "platform/spacelift-server",
                "platform/spacelift-drain", "platform/spacelift-scheduler",
                "runners/spacelift-worker-blue", "runners/spacelift-worker-green",
                "batch/spacelift-worker-batch", "platform/spacelift-vcs-gateway",
            ])
        let policies = KubernetesEmitter().policies(for: T.labelledPools)
        let green = policies.first { $0.name == "spacelift-worker-green" }
        #expect(green?.podSelector == ["spacelift.io/pool": "green"])
        for policy in T.all.flatMap({ KubernetesEmitter().policies(for: $0.topology) }) {
            #expect(policy.name.count <= 63)
            #expect(policy.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" })
        }
    }

    @Test func theGatewayAcceptsGRPCFromItsLoadBalancerAndHTTPFromServerAndDrain() throws {
        let policies = KubernetesEmitter().policies(for: T.k8sGateway)
        let gateway = try #require(policies.first { $0.name == "spacelift-vcs-gateway" })
        #expect(
            gateway.podSelector == ["app.kubernetes.io/name": "spacelift-self-hosted-vcs-gateway"])
        #expect(
            gateway.ingress.map(\.peers) == [
                [.pods(namespace: "ingress-nginx", labels: [:])],
                [
                    .pods(
                        namespace: "spacelift",
                        labels: KubernetesEmitter.componentLabels[.server] ?? [:]),
                    .pods(
                        namespace: "spacelift",
                        labels: KubernetesEmitter.componentLabels[.drain] ?? [:]),
                ],
            ])
        #expect(gateway.ingress.map(\.ports) == [[Port(.tcp, 1984)], [Port(.tcp, 1985)]])
        let anywhere = KubernetesEmitter().policies(for: T.gatewayFromAnywhere)
        let open = try #require(anywhere.first { $0.name == "spacelift-vcs-gateway" })
        #expect(open.ingress.first?.peers == nil)
        #expect(
            open.ingress.first?.comments.last
                == "no --ingress-namespace or vcs-gateway-lb addresses: any source")
        let labelled = KubernetesEmitter().policies(for: T.labelledPools)
        let byAddress = try #require(labelled.first { $0.name == "spacelift-vcs-gateway" })
        #expect(byAddress.ingress.first?.peers == [.ipBlock(T.cidr("10.0.16.0/22"))])
        #expect(byAddress.ingress.first?.ports == [Port(.tcp, 2984)])
    }

    @Test func externalNodesInTheClusterAreSelectedAsPodsAndByTheirAddresses() throws {
        let policies = KubernetesEmitter().policies(for: T.labelledPools)
        let server = try #require(policies.first { $0.name == "spacelift-server" })
        let metrics = try #require(
            server.egress.first { $0.comments.first?.hasPrefix("server-metrics:") == true })
        #expect(
            metrics.peers == [
                .pods(namespace: "monitoring", labels: ["app": "metrics"]),
                .ipBlock(T.cidr("10.9.0.0/24")),
            ])
        #expect(metrics.comments == ["server-metrics: Metrics: Prometheus remote write and StatsD"])
        #expect(metrics.ports == [Port(.udp, 8125), Port(.tcp, 9090)])
        let proxy = try #require(server.egress.first { $0.ports == [Port(.tcp, 3128)] })
        #expect(proxy.peers == [.pods(namespace: "proxy", labels: ["app": "squid"])])
        #expect(
            proxy.comments.contains(
                "server-object-storage: Server egress Object Storage, through the egress proxy"))
        let gateway = KubernetesEmitter().policies(for: T.k8sGateway)
        let gatewayServer = try #require(gateway.first { $0.name == "spacelift-server" })
        let otel = try #require(
            gatewayServer.egress.first {
                $0.comments.first?.hasPrefix("server-otel-collector:") == true
            })
        #expect(
            otel.comments == [
                "server-otel-collector: Telemetry: traces to the OpenTelemetry collector (OTLP gRPC)"
            ])
        let mqtt = try #require(gatewayServer.ingress.first { $0.ports == [Port(.tcp, 1984)] })
        #expect(mqtt.peers?.contains(.ipBlock(T.cidr("192.0.2.0/24"))) == true)
        let aws = KubernetesEmitter().policies(for: T.awsTwoPools)
        let drain = try #require(aws.first { $0.name == "spacelift-drain" })
        #expect(
            drain.egress.contains {
                $0.peers == [.ipBlock(T.cidr("10.0.0.10/32"))] && $0.ports == [Port(.tcp, 3128)]
            })
    }

    @Test func removingARuleOfAPoolPolicyIsMissingWithThePoolsFlow() throws {
        let text = try Self.render(T.k8sGateway)
        let rule = """
                # worker-cluster-mqtt: Workers of pool 'cluster' egress MQTT Broker
                - to:
                    - namespaceSelector:
                        matchLabels:
                          kubernetes.io/metadata.name: spacelift
                      podSelector:
                        matchLabels:
                          app.kubernetes.io/name: spacelift-self-hosted
                  ports:
                    - protocol: TCP
                      port: 1984

            """
        let mutated = try K.replacing(
            rule, with: "", after: "name: spacelift-worker-cluster", in: text)
        let drift = try K.drift(mutated, T.k8sGateway)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .missing)
        #expect(finding.subject == Subject(Node(.worker, name: "worker-cluster"), .egress))
        #expect(finding.flows == ["worker-cluster-mqtt"])
    }

    @Test func removingALabelledPoolsPolicyLeavesItsPodsToTheDefaultDeny() throws {
        let text = try Self.render(T.labelledPools)
        let mutated = K.removingDocument(containing: "name: spacelift-worker-green\n", from: text)
        let drift = try K.drift(mutated, T.labelledPools)
        let green = Node(.worker, name: "worker-green")
        #expect(!drift.findings.isEmpty)
        for finding in drift.findings {
            #expect(finding.kind == .missing, "\(K.describe(drift))")
            #expect(finding.subject?.node == green, "\(K.describe(drift))")
        }
        let flows = Set(drift.findings.flatMap(\.flows))
        #expect(flows.contains("worker-green-infrastructure"))
        #expect(flows.contains("worker-green-mqtt"))
    }

    @Test func aPoolPolicyForEveryPodOfASharedNamespaceGivesItsRulesToTheOtherPool() throws {
        let text = try Self.render(T.labelledPools)
        let mutated = try K.replacing(
            "  podSelector:\n    matchLabels:\n      spacelift.io/pool: green\n",
            with: "  podSelector: {}\n", after: "name: spacelift-worker-green", in: text)
        let drift = try K.drift(mutated, T.labelledPools)
        let blue = Node(.worker, name: "worker-blue")
        #expect(!drift.findings.isEmpty)
        #expect(
            drift.findings.allSatisfy { $0.subject?.node == blue && $0.kind != .missing },
            "\(K.describe(drift))")
        #expect(drift.findings.contains { $0.message.contains("8443") }, "\(K.describe(drift))")
    }

    @Test func aBroaderSelectorOfAnInClusterNodeIsDetected() throws {
        let text = try Self.render(T.k8sGateway)
        let mutated = try K.replacing(
            "          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: postgresql\n",
            with: "", after: "# server-postgres", in: text)
        let drift = try K.drift(mutated, T.k8sGateway)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.server, .egress))
        #expect(finding.flows == ["server-postgres"])
        #expect(
            finding.reasons.first?.contains("other pods in databases") == true, "\(finding.reasons)"
        )
    }

    @Test func theGatewaysGRPCPortFromAnywhereIsBroader() throws {
        let text = try Self.render(T.k8sGateway)
        let mutated = try K.replacing(
            "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: ingress-nginx\n      ports:",
            with: "    - ports:", after: "name: spacelift-vcs-gateway", in: text)
        let drift = try K.drift(mutated, T.k8sGateway)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.vcsGateway, .ingress))
        #expect(finding.flows == ["vcs-gateway-lb-grpc"])
    }

    @Test func loadBalancersGivenAsPodsAreThosePods() throws {
        let policies = KubernetesEmitter().policies(for: T.balancersAsPods)
        let controller = NetworkPolicyPeer.pods(
            namespace: "ingress-nginx", labels: ["app.kubernetes.io/name": "ingress-nginx"])
        let server = try #require(policies.first { $0.name == "spacelift-server" })
        #expect(server.ingress.first?.peers == [controller])
        let gateway = try #require(policies.first { $0.name == "spacelift-vcs-gateway" })
        #expect(gateway.ingress.first?.peers == [controller])
        let text = try Self.render(T.balancersAsPods)
        let mutated = try K.replacing(
            "          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: ingress-nginx\n",
            with: "", after: "# vcs-gateway-lb-grpc", in: text)
        let drift = try K.drift(mutated, T.balancersAsPods)
        #expect(drift.findings.map(\.kind) == [.broader], "\(K.describe(drift))")
        #expect(
            drift.findings.first?.reasons.first?.contains("other pods in ingress-nginx") == true)
    }

    @Test func anExternalPoolsNamespaceFromTheFlagsIsWarnedAbout() {
        let flags = T.topology(
            workerPools: [WorkerPool(placement: .external, namespace: "edge-runners")])
        let diagnostics = KubernetesEmitter().render(flags).diagnostics.map(\.description)
        #expect(
            diagnostics.contains {
                $0.contains("'--worker-namespace' has no effect with '--workers external'")
            }, "\(diagnostics)")
        #expect(!Self.names(flags).contains { $0.contains("worker") })
        // A file's external pool has a namespace by default; the resolver warns about a written
        // one. The only warning is the true one: the external pool's infrastructure is reached
        // by no rule of this target, since external workers have no policy.
        #expect(
            KubernetesEmitter().render(T.k8sGateway).diagnostics.map(\.message) == [
                "addresses of 'infrastructure-datacenter' have no effect on the k8s target with these options"
            ])
    }
}

extension KubernetesTopologyTests {
    /// The topology files the oracle reads, with the fixture topology each stands for.
    static let files: [(file: String, name: String)] = [
        ("examples/k8s-gateway.yaml", "k8s-gateway"),
        ("Tests/Fixtures/topologies/k8s-aws-two-pools.yaml", "aws-two-pools"),
        ("Tests/Fixtures/topologies/k8s-labelled-pools.yaml", "labelled pools"),
    ]

    /// topogen's decoder reads each file as the fixture it stands for, so that the oracle (which
    /// reads the file) and the tests (which build the fixture) judge the same installation.
    @Test(arguments: [
        "examples/k8s-gateway.yaml", "Tests/Fixtures/topologies/k8s-aws-two-pools.yaml",
        "Tests/Fixtures/topologies/k8s-labelled-pools.yaml",
    ])
    func theOraclesTopologyFilesAreTheFixtures(file: String) throws {
        let name = try #require(Self.files.first { $0.file == file }).name
        let fixture = try #require(T.all.first { $0.name == name }).topology
        let path = Repository.root.appendingPathComponent(file).path
        let decoded = try ExampleTopology.topology(["--topology", path])
        #expect(decoded == fixture, "\(decoded)")
    }

    /// The two example files, decoded by topogen, render policies that read back in sync.
    @Test(arguments: ["k8s-gateway.yaml", "aws-two-pools.yaml"])
    func theExampleFilesReadBackInSync(file: String) throws {
        let path = Repository.examples.appendingPathComponent(file).path
        let topology = try ExampleTopology.topology(["--topology", path])
        let text = try Self.render(topology)
        let drift = try K.drift(text, topology)
        #expect(drift.isInSync, "\(K.describe(drift))")
        #expect(drift.diagnostics.isEmpty, "\(drift.diagnostics)")
    }
}
