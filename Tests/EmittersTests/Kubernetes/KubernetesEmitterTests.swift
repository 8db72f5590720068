import Testing
import TopologyModel

@testable import Emitters

@Suite struct KubernetesEmitterTests {
    private func topology(_ configure: (inout TopologySpec) -> Void = { _ in }) throws -> Topology {
        var spec = TopologySpec()
        configure(&spec)
        return try spec.resolve().topology
    }

    @Test func referenceInstallationHasDefaultDeniesThenOnePolicyPerComponent() {
        let policies = KubernetesEmitter().policies(for: .reference)
        #expect(
            policies.map { "\($0.namespace)/\($0.name)" } == [
                "spacelift/spacelift-default-deny", "spacelift/spacelift-server",
                "spacelift/spacelift-drain", "spacelift/spacelift-scheduler",
                "spacelift-workers/spacelift-worker",
            ])
        for policy in policies {
            #expect(policy.labels == ["app.kubernetes.io/managed-by": "topogen"])
        }
        let deny = policies[0]
        #expect(deny.podSelector.isEmpty && deny.ingress.isEmpty && deny.egress.isEmpty)
    }

    @Test func everyFlowOfTheScopeIsAnnotatedAndCommented() throws {
        let topology = try topology { $0.withSQS = Written(true, at: "--with-sqs") }
        let emitter = KubernetesEmitter()
        let policies = emitter.policies(for: topology)
        let annotated = policies.flatMap {
            $0.annotations[KubernetesEmitter.flowsAnnotation]?.split(separator: ",").map(
                String.init)
                ?? []
        }
        let flows = emitter.flows(for: topology)
        // A flow between two in-cluster components is implemented at both ends.
        let inCluster = flows.filter {
            $0.source.kind == .component && $0.destination.kind == .component
        }
        #expect(annotated.sorted() == (flows.map(\.id) + inCluster.map(\.id)).sorted())
        let commented = Set(
            policies.flatMap { $0.ingress + $0.egress }.flatMap(\.comments).compactMap {
                $0.split(separator: ":").first.map(String.init)
            })
        #expect(Set(flows.map(\.id)).isSubset(of: commented))
        #expect(!flows.contains { $0.id.hasSuffix("image-pull") })
    }

    @Test func rulesWithTheSamePeersAndPortsAreOneAndNarrowerRulesFold() throws {
        let topology = try topology {
            $0.infrastructurePorts = ["443", "6443"].map {
                Written($0, at: "--infrastructure-port")
            }
            $0.addresses = [
                AddressEntry(node: "infrastructure", cidrs: ["10.0.0.0/8"], origin: "--cidr")
            ]
        }
        let worker = try #require(
            KubernetesEmitter().policies(for: topology).first { $0.name == "spacelift-worker" })
        // lb, object storage, VCS, registries and infrastructure's 443 share the "any" rule.
        let any = try #require(worker.egress.first)
        #expect(any.peers == [.ipBlock(.anyIPv4), .ipBlock(.anyIPv6)])
        #expect(any.ports == [Port(.tcp, 443)])
        #expect(any.comments.count == 5)
        let infrastructure = try #require(
            worker.egress.first { $0.peers == [.ipBlock(try CIDR(parsing: "10.0.0.0/8"))] })
        #expect(infrastructure.ports == [Port(.tcp, 6443)])
        // No rule lies inside another.
        for (index, rule) in worker.egress.enumerated() {
            for (other, wider) in worker.egress.enumerated() where other != index {
                #expect(!(rule.ports.allSatisfy(wider.ports.contains) && rule.peers == wider.peers))
            }
        }
    }

    @Test func serverPolicyRendersAsDocumented() throws {
        let topology = try topology {
            $0.ingressNamespace = Written("ingress-nginx", at: "--ingress-namespace")
            $0.addresses = [
                AddressEntry(node: "postgres", cidrs: ["10.20.0.0/16"], origin: "--cidr")
            ]
        }
        let server = try #require(
            KubernetesEmitter().policies(for: topology).first { $0.name == "spacelift-server" })
        let text = YAMLNode.render(documents: [server.yaml], header: [])
        #expect(
            text.hasPrefix(
                """
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata:
                  name: spacelift-server
                  namespace: spacelift
                  labels:
                    app.kubernetes.io/managed-by: topogen
                  annotations:
                    topogen.dev/flows: lb-server-http,worker-mqtt,server-postgres,server-object-storage,server-vcs,server-dns
                spec:
                  podSelector:
                    matchLabels:
                      app.kubernetes.io/name: spacelift-self-hosted
                  policyTypes:
                    - Ingress
                    - Egress
                  ingress:
                    # lb-server-http: Server ingress HTTP 1983
                    - from:
                        - namespaceSelector:
                            matchLabels:
                              kubernetes.io/metadata.name: ingress-nginx
                      ports:
                        - protocol: TCP
                          port: 1983
                    # worker-mqtt: Workers egress MQTT Broker
                    - from:
                        - namespaceSelector:
                            matchLabels:
                              kubernetes.io/metadata.name: spacelift-workers
                      ports:
                        - protocol: TCP
                          port: 1984
                  egress:
                    # server-postgres: Server egress Postgres
                    - to:
                        - ipBlock:
                            cidr: 10.20.0.0/16
                      ports:
                        - protocol: TCP
                          port: 5432

                """), "\(text)")
    }

    @Test func externalWorkersGetNoPoliciesAndTheServerAdmitsClientsOnMQTT() throws {
        let topology = try topology {
            $0.workers = Written("external", at: "--workers")
            $0.addresses = [
                AddressEntry(node: "clients", cidrs: ["203.0.113.0/24"], origin: "--cidr")
            ]
        }
        let policies = KubernetesEmitter().policies(for: topology)
        #expect(!policies.contains { $0.namespace == "spacelift-workers" })
        let server = try #require(policies.first { $0.name == "spacelift-server" })
        let mqtt = try #require(server.ingress.first { $0.ports == [Port(.tcp, 1984)] })
        #expect(mqtt.peers == [.ipBlock(try CIDR(parsing: "203.0.113.0/24"))])
    }

    @Test func iotCoreLeavesTheMQTTPortClosed() throws {
        let topology = try topology {
            $0.withSQS = Written(true, at: "--with-sqs")
            $0.withIoTCore = Written(true, at: "--with-iot-core")
        }
        let policies = KubernetesEmitter().policies(for: topology)
        let server = try #require(policies.first { $0.name == "spacelift-server" })
        #expect(server.ingress.map(\.ports) == [[Port(.tcp, 1983)]])
        let worker = try #require(policies.first { $0.name == "spacelift-worker" })
        #expect(!worker.egress.contains { $0.ports.contains(Port(.tcp, 1984)) })
    }

    @Test func dnsGoesToTheClusterDNSPodsUnlessAddressesAreGiven() throws {
        let pods = KubernetesEmitter().policies(for: .reference)
        let dnsRules = pods.flatMap(\.egress).filter { $0.ports.contains(Port(.udp, 53)) }
        #expect(dnsRules.count == 4)
        #expect(dnsRules.allSatisfy { $0.ports == [Port(.tcp, 53), Port(.udp, 53)] })
        #expect(dnsRules.allSatisfy { $0.peers == [KubernetesEmitter.clusterDNS] })
        let local = try topology {
            $0.addresses = [AddressEntry(node: "dns", cidrs: ["169.254.20.10"], origin: "--cidr")]
        }
        let cached = KubernetesEmitter().policies(for: local).flatMap(\.egress).filter {
            $0.ports.contains(Port(.udp, 53))
        }
        let nodeLocal = try CIDR(parsing: "169.254.20.10/32")
        #expect(cached.count == 4)
        #expect(cached.allSatisfy { $0.peers == [.ipBlock(nodeLocal)] })
    }

    @Test func componentAddressesAreReportedAsUnused() throws {
        let topology = try topology {
            $0.addresses = [AddressEntry(node: "server", cidrs: ["10.0.0.0/24"], origin: "--cidr")]
        }
        let rendering = KubernetesEmitter().render(topology)
        #expect(rendering.diagnostics.map(\.severity) == [.warning])
        #expect(rendering.files.map(\.name) == ["networkpolicies.yaml"])
    }
}
