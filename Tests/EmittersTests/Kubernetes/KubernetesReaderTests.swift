import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias K = KubernetesReaderTesting

/// The Kubernetes reader of `topogen diff`: topogen's own policies read back in sync, mutations
/// are exactly the findings they should be, hand-written and `kubectl` forms read as Kubernetes
/// reads them, and what cannot be read is said with its line.
@Suite struct KubernetesReaderTests {
    // MARK: Round trip

    @Test(arguments: Example.all)
    func everyGoldenReadsBackInSync(example: Example) throws {
        let topology = try ExampleTopology.topology(of: example)
        let text = try K.golden(example.name)
        let deployed = try K.read([(KubernetesEmitter.fileName, text)], topology)
        let drift = Drift(
            expected: KubernetesReader().expectedPermissions(for: topology, options: ReadOptions()),
            deployed: deployed)
        #expect(drift.isInSync, "\(K.describe(drift))")
        #expect(deployed.unreadable.isEmpty)
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        #expect(!deployed.permissions.isEmpty)
    }

    @Test(arguments: [
        [],
        ["--workers", "external"],
        ["--workers", "external", "--cidr", "clients=203.0.113.0/24", "--with-kms"],
        ["--ingress-namespace", "kube-system"],
        ["--cidr", "lb=198.51.100.0/24,2001:db8:1::/48"],
        ["--namespace", "platform", "--worker-namespace", "runners", "--cidr", "dns=10.96.0.10"],
        [
            "--with-sqs", "--with-iot-core", "--with-kms", "--infrastructure-port", "443",
            "--infrastructure-port", "8000-9000", "--cidr", "infrastructure=10.0.0.0/8",
            "--cidr", "postgres=10.0.1.0/24",
        ],
    ])
    func renderedPoliciesReadBackInSync(arguments: [String]) throws {
        let topology = try ExampleTopology.topology(arguments)
        let text = try #require(KubernetesEmitter().render(topology).files.first).contents
        let drift = try K.drift(text, topology)
        #expect(drift.isInSync, "\(arguments): \(K.describe(drift))")
        #expect(drift.diagnostics.isEmpty)
    }

    @Test func expectedPermissionsAreTheEmittersPeersFlowByFlow() throws {
        let expected = KubernetesReader().expectedPermissions(
            for: .reference, options: ReadOptions())
        func find(_ flow: String, _ node: Node, _ direction: Subject.Direction) -> [Permission] {
            expected.filter { $0.flows == [flow] && $0.subject == Subject(node, direction) }
        }
        #expect(find("lb-server-http", .server, .ingress).map(\.peer) == [.everything])
        #expect(
            find("worker-mqtt", .server, .ingress).map(\.peer) == [
                EndpointSet(names: ["pods of worker (spacelift-workers)"])
            ])
        #expect(
            find("worker-mqtt", .worker, .egress).map(\.peer) == [
                EndpointSet(names: ["pods of server (spacelift)"])
            ])
        #expect(
            find("server-postgres", .server, .egress).map(\.peer) == [
                EndpointSet.anyIPv4.union(.anyIPv6)
            ])
        let dns = find("drain-dns", .drain, .egress)
        #expect(dns.map(\.serviceDescription).sorted() == ["tcp 53", "udp 53"])
        #expect(dns.allSatisfy { $0.peer == EndpointSet(names: ["kube-dns pods"]) })
        // Every flow of the target is expected, at both ends between components.
        let flows = KubernetesEmitter().flows(for: .reference)
        #expect(Set(expected.flatMap(\.flows)) == Set(flows.map(\.id)))
        #expect(Set(expected.map(\.subject.node)) == [.server, .drain, .scheduler, .worker])

        let external = try ExampleTopology.topology([
            "--workers", "external", "--cidr", "clients=203.0.113.0/24",
        ])
        let outside = KubernetesReader().expectedPermissions(for: external, options: ReadOptions())
        #expect(!outside.contains { $0.subject.node == .worker })
        let mqtt = try #require(outside.first { $0.flows == ["lb-server-mqtt"] })
        #expect(mqtt.subject == Subject(.server, .ingress))
        #expect(mqtt.peer == EndpointSet(cidrs: [try CIDR(parsing: "203.0.113.0/24")]))
    }

    // MARK: Mutations

    private static let schedulerPostgres = """
            # scheduler-postgres: Scheduler egress Postgres
            - to:
                - ipBlock:
                    cidr: 0.0.0.0/0
                - ipBlock:
                    cidr: "::/0"
              ports:
                - protocol: TCP
                  port: 5432

        """

    @Test func removingARuleIsOneMissingFinding() throws {
        let text = try K.golden("default")
        #expect(text.contains(Self.schedulerPostgres))
        let mutated = text.replacingOccurrences(of: Self.schedulerPostgres, with: "")
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .missing)
        #expect(finding.subject == Subject(.scheduler, .egress))
        #expect(finding.flows == ["scheduler-postgres"])
        #expect(finding.message.contains("tcp 5432"))
    }

    @Test func wideningAPortIsBroaderByAllPorts() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            "- protocol: TCP\n          port: 5432", with: "- protocol: TCP",
            after: "# scheduler-postgres", in: text)
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.scheduler, .egress))
        #expect(finding.flows == ["scheduler-postgres"])
        #expect(finding.reasons == ["all ports"])
        let line = try K.line(of: "- to:", after: "# scheduler-postgres", in: mutated)
        #expect(finding.location == SourceLocation(file: "networkpolicies.yaml", line: line))
        #expect(finding.message.contains("'spacelift-scheduler egress[0]'"))
    }

    @Test func wideningAPortRangeIsBroaderByThosePorts() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            "port: 5432", with: "port: 5432\n          endPort: 5440",
            after: "# scheduler-postgres",
            in: text)
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        #expect(drift.findings.first?.kind == .broader)
        #expect(drift.findings.first?.reasons == ["ports 5433-5440"])
    }

    @Test func wideningACIDRIsBroaderNamingTheAddresses() throws {
        let text = try K.golden("user-cidrs")
        let topology = try ExampleTopology.topology(
            of: try #require(Example.all.first { $0.name == "user-cidrs" }))
        let mutated = try K.replacing(
            "cidr: 10.20.0.0/16", with: "cidr: 10.0.0.0/8", after: "name: spacelift-scheduler",
            in: text)
        let drift = try K.drift(mutated, topology)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.scheduler, .egress))
        #expect(finding.flows == ["scheduler-postgres"])
        #expect(finding.reasons == ["10.0.0.0/8 where the model has postgres (10.20.0.0/16)"])
        let line = try K.line(of: "- to:", after: "# scheduler-postgres", in: mutated)
        #expect(finding.location?.line == line)
    }

    @Test func addingARuleIsExtra() throws {
        let text = try K.golden("default")
        let rule = """
                # metrics, added by hand
                - to:
                    - ipBlock:
                        cidr: 192.0.2.0/24
                  ports:
                    - protocol: TCP
                      port: 8080

            """
        let mutated = try K.replacing(
            "    # scheduler-postgres", with: rule + "    # scheduler-postgres",
            after: "name: spacelift-scheduler", in: text)
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .extra)
        #expect(finding.subject == Subject(.scheduler, .egress))
        #expect(finding.flows == [])
        #expect(finding.permission?.peer == EndpointSet(cidrs: [try CIDR(parsing: "192.0.2.0/24")]))
        #expect(finding.message.contains("'spacelift-scheduler egress[0]' allows tcp 8080"))
        let line = try K.line(of: "- to:", after: "# metrics", in: mutated)
        #expect(finding.location == SourceLocation(file: "networkpolicies.yaml", line: line))
    }

    @Test func aNamedPortIsUnreadableWithItsLine() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            "port: 1983", with: "port: http", after: "# lb-server-http", in: text)
        let drift = try K.drift(mutated, .reference)
        let line = try K.line(of: "port: http", in: mutated)
        #expect(drift.findings.map(\.kind) == [.missing, .unreadable], "\(K.describe(drift))")
        let unreadable = try #require(drift.findings.last)
        #expect(unreadable.subject == Subject(.server, .ingress))
        #expect(unreadable.location == SourceLocation(file: "networkpolicies.yaml", line: line))
        #expect(unreadable.message.contains("'port: http' is a named port"))
        #expect(drift.findings.first?.flows == ["lb-server-http"])
    }

    @Test func removingTheWorkerPolicyLeavesTheWorkersUnrestricted() throws {
        let text = K.removingDocument(
            containing: "name: spacelift-worker\n", from: try K.golden("default"))
        let drift = try K.drift(text, .reference)
        let findings = drift.findings
        #expect(findings.count == 2, "\(K.describe(drift))")
        let egress = try #require(findings.first { $0.subject == Subject(.worker, .egress) })
        #expect(egress.kind == .broader)
        #expect(egress.location == SourceLocation(file: "networkpolicies.yaml"))
        #expect(
            egress.message.contains(
                "'no NetworkPolicy selects pods of worker (spacelift-workers) for egress'"))
        #expect(egress.reasons.contains("all protocols"))
        #expect(
            Set(egress.flows)
                == Set(
                    KubernetesEmitter().flows(for: .reference).filter {
                        $0.source == .worker
                    }.map(\.id)))
        let ingress = try #require(findings.first { $0.subject == Subject(.worker, .ingress) })
        #expect(ingress.kind == .extra)
    }

    @Test func removingTheDrainPolicyLeavesTheDefaultDenyAlone() throws {
        let text = K.removingDocument(
            containing: "name: spacelift-drain\n", from: try K.golden("default"))
        let drift = try K.drift(text, .reference)
        #expect(drift.findings.allSatisfy { $0.kind == .missing && $0.subject?.node == .drain })
        let drainFlows = KubernetesEmitter().flows(for: .reference).filter { $0.source == .drain }
        #expect(Set(drift.findings.flatMap(\.flows)) == Set(drainFlows.map(\.id)))
    }

    @Test func anEmptyPeerSelectorIsBroader() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            """
                      podSelector:
                        matchLabels:
                          app.kubernetes.io/name: spacelift-self-hosted
            """, with: "          podSelector: {}", after: "# worker-mqtt", in: text)
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.flows == ["worker-mqtt"])
        #expect(
            finding.reasons == [
                "other pods in spacelift, pods of drain (spacelift), pods of scheduler (spacelift), pods of server (spacelift) where the model has server (pods of server (spacelift))"
            ])
    }

    @Test func anEmptyPolicySelectorGivesOneComponentsRulesToTheOthers() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: spacelift-self-hosted\n",
            with: "  podSelector: {}\n", after: "name: spacelift-server", in: text)
        let drift = try K.drift(mutated, .reference)
        // The drain and the scheduler now accept what the server accepts, and reach what it
        // reaches: the drain reached as much already, the scheduler only postgres.
        #expect(
            drift.findings.map { "\($0.kind) \($0.subject.map(\.description) ?? "")" } == [
                "extra drain ingress", "extra drain ingress", "extra scheduler ingress",
                "extra scheduler ingress", "broader scheduler egress",
            ], "\(K.describe(drift))")
        let scheduler = try #require(drift.findings.last)
        #expect(scheduler.reasons == ["ports 443"])
        #expect(scheduler.message.contains("'spacelift-server egress[0]'"))
    }

    @Test func dnsToTheWholeSystemNamespaceIsBroader() throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(
            "          podSelector:\n            matchLabels:\n              k8s-app: kube-dns\n",
            with: "", after: "# scheduler-dns", in: text)
        let drift = try K.drift(mutated, .reference)
        #expect(drift.findings.count == 1, "\(K.describe(drift))")
        #expect(drift.findings.first?.flows == ["scheduler-dns"])
        #expect(
            drift.findings.first?.reasons == [
                "kube-dns pods, other pods in kube-system where the model has dns (kube-dns pods)"
            ])
    }

    // MARK: Hand-written policies

    @Test func theDocumentationsDefaultDenyAllCutsTheBackendOff() throws {
        let drift = try K.drift(
            [("default-deny-all.yaml", try K.fixture("docs-default-deny-all.yaml"))], .reference)
        let expected = KubernetesReader().expectedPermissions(
            for: .reference, options: ReadOptions())
        let backend = drift.findings.filter { $0.subject?.node != .worker }
        #expect(backend.allSatisfy { $0.kind == .missing }, "\(K.describe(drift))")
        #expect(backend.count == expected.filter { $0.subject.node != .worker }.count)
        // The policy is assumed in the backend namespace: the workers are not isolated.
        #expect(
            drift.findings.filter { $0.subject?.node == .worker }.map(\.kind) == [
                .extra, .broader,
            ])
        #expect(drift.diagnostics.count == 1)
        #expect(
            drift.diagnostics.first?.message.hasPrefix(
                "default-deny-all.yaml:4: NetworkPolicy 'default-deny-all' has no 'metadata.namespace'; read as in 'spacelift'"
            ) == true, "\(drift.diagnostics)")
    }

    @Test func theDocumentationsDefaultDenyWithTopogensAllowancesIsInSync() throws {
        // Another default deny, in another file, in place of topogen's: the same connections.
        let ours = K.removingDocument(
            containing: "name: spacelift-default-deny\n", from: try K.golden("default"))
        let deny = try K.fixture("docs-default-deny-all.yaml").replacingOccurrences(
            of: "  name: default-deny-all\n",
            with: "  name: default-deny-all\n  namespace: spacelift\n")
        let drift = try K.drift(
            [("deny.yaml", deny), ("networkpolicies.yaml", ours)], .reference)
        #expect(drift.isInSync, "\(K.describe(drift))")
        #expect(drift.diagnostics.isEmpty)
    }

    @Test func theDocumentationsAllowAllIsBroaderEverywhere() throws {
        var text = try K.golden("default")
        text += try K.fixture("docs-allow-all.yaml")
        let drift = try K.drift(text, .reference)
        let kinds = Dictionary(
            grouping: drift.findings, by: { $0.subject.map(\.description) ?? "" }
        ).mapValues { $0.map(\.kind) }
        #expect(
            kinds == [
                "server ingress": [.broader], "server egress": [.broader],
                "drain ingress": [.extra], "drain egress": [.broader],
                "scheduler ingress": [.extra], "scheduler egress": [.broader],
            ], "\(K.describe(drift))")
        let drainIngress = try #require(
            drift.findings.first { $0.subject == Subject(.drain, .ingress) })
        let line = try K.line(of: "- {}", in: text)
        #expect(drainIngress.location?.line == line)
        #expect(
            drainIngress.message.contains("'allow-all-ingress ingress[0]' allows all protocols"))
    }

    @Test func theDocumentationsExamplesReadAsKubernetesReadsThem() throws {
        var spec = TopologySpec()
        spec.namespace = Written("default", at: "--namespace")
        let topology = try spec.resolve().topology
        let universe = PodUniverse(topology)
        let reading = NetworkPolicyReading(universe: universe, defaultNamespace: "default")
        let input = InputText(name: "docs.yaml", contents: try K.fixture("docs-examples.yaml"))
        var policies: [String: ReadPolicy] = [:]
        for (object, place) in try KubernetesReader.objects(in: input) {
            var missing = false
            let policy = reading.policy(object, at: place, namespaceMissing: &missing)
            #expect(!missing)
            #expect(!policy.notes.contains { $0.isUnreadable }, "\(policy.notes)")
            policies[policy.name] = policy
        }
        let full = try #require(policies["test-network-policy"])
        #expect(full.directions == [.ingress, .egress])
        let from = try #require(full.ingress.first)
        let block = EndpointSet(cidrs: [try CIDR(parsing: "172.17.0.0/16")]).subtracting(
            EndpointSet(cidrs: [try CIDR(parsing: "172.17.1.0/24")]))
        // `project: myproject` names no namespace topogen knows; `role: frontend` no component.
        #expect(
            from.peer
                == block.union(
                    EndpointSet(names: ["pods in other namespaces", "other pods in default"])))
        #expect(from.services == [.init(protocols: .tcp, ports: IntervalSet([6379...6379]))])
        #expect(full.egress.first?.peer == EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.0/24")]))
        let alice = try #require(policies["allow-alice-clients"])
        #expect(alice.directions == [.ingress])
        #expect(alice.ingress.first?.peer == EndpointSet(names: ["pods in other namespaces"]))
        #expect(alice.ingress.first?.services == [.init(protocols: .all, ports: .full)])
        let range = try #require(policies["multi-port-egress"])
        #expect(range.directions == [.egress])
        #expect(
            range.egress.first?.services == [
                .init(protocols: .tcp, ports: IntervalSet([32000...32768]))
            ])
        #expect(policies["access-nginx"]?.podSelector?.description == "app=nginx")
        #expect(
            policies["access-nginx"]?.ingress.first?.peer
                == EndpointSet(names: ["other pods in default"]))
        #expect(
            policies["egress-namespaces"]?.egress.first?.peer
                == EndpointSet(names: ["pods in other namespaces"]))
        // None of them selects a component: with only these, every component is unrestricted.
        let deployed = try K.read([("docs.yaml", try K.fixture("docs-examples.yaml"))], topology)
        #expect(deployed.permissions.allSatisfy { $0.peer == .everything })
        #expect(deployed.unreadable.isEmpty)
    }

    @Test func aHandWrittenSpaceliftSetIsInSync() throws {
        let topology = try ExampleTopology.topology([
            "--ingress-namespace", "ingress-nginx", "--cidr", "postgres=10.20.0.0/16",
        ])
        let text = try K.fixture("handwritten-spacelift.yaml")
        let drift = try K.drift([("handwritten.yaml", text)], topology)
        #expect(drift.isInSync, "\(K.describe(drift))")
        // The release's instance label is not one topogen knows pods by: one warning.
        #expect(drift.diagnostics.count == 1, "\(drift.diagnostics)")
        #expect(drift.diagnostics.first?.message.contains("'app.kubernetes.io/instance'") == true)
    }

    @Test func aHandWrittenSetWithoutIPv6AndWithTheWholeSystemNamespace() throws {
        let topology = try ExampleTopology.topology([
            "--ingress-namespace", "ingress-nginx", "--cidr", "postgres=10.20.0.0/16",
        ])
        var text = try K.fixture("handwritten-spacelift.yaml")
        text = try K.replacing(
            "    - to: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: \"::/0\"}}]",
            with: "    - to: [{ipBlock: {cidr: 0.0.0.0/0}}]", after: "name: spacelift-drain",
            in: text)
        text = try K.replacing(
            """
                      podSelector:
                        matchExpressions:
                          - key: k8s-app
                            operator: In
                            values: [kube-dns]

            """, with: "", after: "name: run-pods", in: text)
        let drift = try K.drift([("handwritten.yaml", text)], topology)
        let summary = drift.findings.map {
            "\($0.kind) \($0.subject.map(\.description) ?? "") \($0.flows.joined(separator: ","))"
        }
        #expect(
            summary == [
                "missing drain egress drain-object-storage",
                "missing drain egress drain-vcs",
                "broader worker egress worker-dns",
            ], "\(K.describe(drift))")
        #expect(drift.findings[0].reasons == ["partly allowed"])
        #expect(drift.findings[0].permission?.peer == .anyIPv6)
    }

    // MARK: kubectl output

    @Test func kubectlListAsYAMLAndAsJSONGiveTheSamePermissions() throws {
        let yaml = try K.read(
            [("get.yaml", try K.fixture("kubectl-get-default.yaml"))], .reference)
        let json = try K.read(
            [("get.json", try K.fixture("kubectl-get-default.json"))], .reference)
        func essence(_ rules: DeployedRules) -> [String] {
            rules.permissions.map {
                "\($0.subject) \($0.peer) \($0.serviceDescription) \($0.excerpt ?? "")"
            }.sorted()
        }
        #expect(essence(yaml) == essence(json))
        #expect(yaml.unreadable.isEmpty && json.unreadable.isEmpty)
        #expect(yaml.diagnostics.isEmpty && json.diagnostics.isEmpty)
        let expected = KubernetesReader().expectedPermissions(
            for: .reference, options: ReadOptions())
        #expect(Drift(expected: expected, deployed: yaml).isInSync)
        #expect(Drift(expected: expected, deployed: json).isInSync)
        // Origins: lines in YAML, paths in JSON. Items are sorted by namespace and name.
        let server = try #require(
            json.permissions.first { $0.excerpt == "spacelift-server ingress[1]" })
        #expect(server.origin == SourceLocation(file: "get.json", path: "items[4].spec.ingress[1]"))
        let yamlServer = try #require(
            yaml.permissions.first { $0.excerpt == "spacelift-server ingress[1]" })
        let text = try K.fixture("kubectl-get-default.yaml")
        let line = try K.line(
            of: "    - from:", after: "    name: spacelift-server\n", in: text)
        #expect(yamlServer.origin == SourceLocation(file: "get.yaml", line: line))
    }

    @Test func otherKindsAreSkippedAndOtherPolicyKindsAreUnreadable() throws {
        let extras = """
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: spacelift
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: spacelift-server
              namespace: spacelift
            spec:
              template:
                spec:
                  containers:
                    - name: server
                      ports:
                        - name: http
                          containerPort: 1983
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              port: "1983"
            ---

            """
        let text = extras + (try K.golden("default"))
        #expect(try K.drift(text, .reference).isInSync)
        let cilium = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: l7
              namespace: spacelift
            spec:
              endpointSelector: {}
            ---
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata:
              name: calico
              namespace: spacelift
            spec:
              selector: all()

            """
        let drift = try K.drift(cilium + "---\n" + (try K.golden("default")), .reference)
        #expect(drift.findings.map(\.kind) == [.unreadable, .unreadable], "\(K.describe(drift))")
        #expect(drift.findings.map { $0.location?.line } == [1, 9])
        #expect(
            drift.findings.first?.message
                == "'cilium.io/v2' CiliumNetworkPolicy 'l7' also filters traffic, and topogen reads only 'networking.k8s.io/v1' NetworkPolicies; its rules are not compared"
        )
    }

    @Test func helmTemplateOutputReads() throws {
        // `helm template` marks every document with its source and leaves empty documents
        // where a template rendered nothing.
        let text = try K.golden("default").replacingOccurrences(
            of: "\n---\n", with: "\n---\n# Source: spacelift/templates/networkpolicies.yaml\n")
        let helm = "---\n# Source: spacelift/templates/disabled.yaml\n---\n" + text + "---\n"
        let drift = try K.drift(helm, .reference)
        #expect(drift.isInSync, "\(K.describe(drift))")
        #expect(drift.diagnostics.isEmpty)
    }

    @Test func theLaterDefinitionOfAPolicyIsRead() throws {
        let text = try K.golden("default")
        let narrowed = text.replacingOccurrences(of: "port: 1983", with: "port: 1980")
        let drift = try K.drift([("old.yaml", narrowed), ("new.yaml", text)], .reference)
        #expect(drift.isInSync, "\(K.describe(drift))")
        #expect(drift.diagnostics.count == 5)
        #expect(
            drift.diagnostics.first?.message.hasPrefix(
                "new.yaml:6: NetworkPolicy 'spacelift/spacelift-default-deny' was also defined at old.yaml:6"
            ) == true, "\(drift.diagnostics)")
    }

    // MARK: What cannot be read

    @Test(
        arguments: [
            ("malformed.yaml", "spec:\n  podSelector: {\n  policyTypes: [Ingress\n", 2),
            ("tab.yaml", "apiVersion: v1\nkind: List\nitems:\n\t- a\n", 4),
            ("values.yaml", "# Helm values, not a manifest\nserver:\n  port: 1983\n", 2),
            (
                "iptables.rules", "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n",
                1
            ),
            ("broken.json", "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n}\n", nil),
            ("scalar.yaml", "---\njust some text\n", 2),
        ] as [(String, String, Int?)])
    func inputThatIsNotAManifestIsAnError(name: String, text: String, line: Int?) throws {
        do throws(ReadError) {
            _ = try KubernetesReader().read(
                [InputText(name: name, contents: text)], topology: .reference,
                options: ReadOptions())
            Issue.record("'\(name)' was read")
        } catch {
            let message = try #require(error.diagnostics.first?.message)
            #expect(error.diagnostics.first?.severity == .error)
            #expect(message.hasPrefix(line.map { "\(name):\($0): " } ?? "\(name)"), "\(message)")
        }
    }

    @Test(arguments: [
        (
            "lower-case protocol", "protocol: TCP\n          port: 1983",
            "protocol: tcp\n          port: 1983", "'tcp' is not a protocol Kubernetes accepts"
        ),
        (
            "port out of range", "port: 1983", "port: 70000", "'70000' is not a port (1-65535)"
        ),
        (
            "port as a quoted number", "port: 1983", "port: \"1983\"",
            "is neither a port number nor a port name"
        ),
        (
            "end before the port", "port: 1983", "port: 1983\n          endPort: 1000",
            "'endPort: 1000' is not a port from 1983 to 65535"
        ),
        (
            "endPort without port", "- protocol: TCP\n          port: 1983",
            "- protocol: TCP\n          endPort: 1983", "'endPort' needs a numeric 'port'"
        ),
        (
            "ipBlock with a selector",
            "    - ports:\n        - protocol: TCP\n          port: 1983",
            "    - from:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n          podSelector: {}\n      ports:\n        - protocol: TCP\n          port: 1983",
            "'ipBlock' cannot be combined with 'podSelector' or 'namespaceSelector'"
        ),
        (
            "a malformed CIDR", "    - ports:\n        - protocol: TCP\n          port: 1983",
            "    - from:\n        - ipBlock:\n            cidr: 10.0.0.300/8\n      ports:\n        - protocol: TCP\n          port: 1983",
            "'10.0.0.300/8' is not a CIDR"
        ),
        (
            "an exception outside the CIDR",
            "    - ports:\n        - protocol: TCP\n          port: 1983",
            "    - from:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n            except: [192.168.0.0/16]\n      ports:\n        - protocol: TCP\n          port: 1983",
            "'except: 192.168.0.0/16' is not inside 'cidr: 10.0.0.0/8'"
        ),
        (
            "an unknown operator", "    - ports:\n        - protocol: TCP\n          port: 1983",
            "    - from:\n        - podSelector:\n            matchExpressions:\n              - {key: app, operator: Within, values: [a]}\n      ports:\n        - protocol: TCP\n          port: 1983",
            "is not a requirement Kubernetes accepts"
        ),
        (
            "an empty peer", "    - ports:\n        - protocol: TCP\n          port: 1983",
            "    - from:\n        - {}\n      ports:\n        - protocol: TCP\n          port: 1983",
            "the peer names no 'podSelector', 'namespaceSelector' or 'ipBlock'"
        ),
    ])
    func constructsTheAPIServerRefusesAreUnreadable(
        name: String, old: String, new: String, message: String
    ) throws {
        let text = try K.golden("default")
        let mutated = try K.replacing(old, with: new, after: "# lb-server-http", in: text)
        let drift = try K.drift(mutated, .reference)
        let unreadable = drift.findings.filter { $0.kind == .unreadable }
        #expect(unreadable.count == 1, "\(name): \(K.describe(drift))")
        let finding = try #require(unreadable.first)
        #expect(finding.subject == Subject(.server, .ingress))
        #expect(finding.message.contains(message), "\(name): \(finding.message)")
        let start = try K.line(of: "# lb-server-http", in: mutated)
        let line = try #require(finding.location?.line)
        #expect(line > start && line < start + 8, "\(name): line \(line)")
        // The rest is compared: only the server's HTTP port is missing.
        #expect(
            drift.findings.filter { $0.kind != .unreadable }.map(\.flows) == [["lb-server-http"]],
            "\(name): \(K.describe(drift))")
    }

    @Test func unreadableRulesOfPoliciesThatSelectNoComponentAreNotReported() throws {
        let other = """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: metrics
              namespace: spacelift
            spec:
              podSelector:
                matchLabels:
                  app: metrics
              ingress:
                - ports:
                    - port: metrics

            """
        let drift = try K.drift((try K.golden("default")) + other, .reference)
        #expect(drift.isInSync, "\(K.describe(drift))")
    }

    // MARK: Selectors

    @Test func selectorsSelectClassesAsTheAPIDefines() throws {
        let topology = try ExampleTopology.topology([
            "--ingress-namespace", "ingress-nginx",
        ])
        let universe = PodUniverse(topology)
        #expect(
            universe.classes.map(\.name) == [
                "pods of server (spacelift)", "pods of drain (spacelift)",
                "pods of scheduler (spacelift)", "pods of worker (spacelift-workers)",
                "other pods in spacelift", "kube-dns pods", "other pods in kube-system",
                "pods in ingress-nginx", "pods in other namespaces",
            ])
        func names(
            _ namespaces: LabelSelector?, _ pods: LabelSelector?, in namespace: String = "spacelift"
        )
            -> [String]
        {
            universe.select(namespaceSelector: namespaces, podSelector: pods, in: namespace).map(
                \.name)
        }
        func expression(_ key: String, _ op: LabelSelector.Operator, _ values: [String] = [])
            -> LabelSelector
        {
            LabelSelector(requirements: [.init(key: key, operator: op, values: values)])
        }
        let name = PodUniverse.componentKey
        #expect(
            names(nil, .everything) == [
                "pods of server (spacelift)", "pods of drain (spacelift)",
                "pods of scheduler (spacelift)", "other pods in spacelift",
            ])
        #expect(names(nil, nil, in: "spacelift-workers") == ["pods of worker (spacelift-workers)"])
        #expect(names(nil, nil, in: "monitoring") == ["pods in other namespaces"])
        #expect(names(.everything, nil).count == universe.classes.count)
        #expect(
            names(.everything, LabelSelector(matchLabels: ["k8s-app": "kube-dns"]))
                == ["kube-dns pods"])
        #expect(
            names(LabelSelector(matchLabels: [PodUniverse.namespaceKey: "kube-system"]), nil)
                == ["kube-dns pods", "other pods in kube-system"])
        #expect(
            names(nil, expression(name, .notIn, ["spacelift-self-hosted"])) == [
                "pods of drain (spacelift)", "pods of scheduler (spacelift)",
                "other pods in spacelift",
            ])
        #expect(
            names(nil, expression(name, .exists)) == [
                "pods of server (spacelift)", "pods of drain (spacelift)",
                "pods of scheduler (spacelift)", "other pods in spacelift",
            ])
        #expect(names(nil, expression(name, .doesNotExist)) == ["other pods in spacelift"])
        #expect(
            names(nil, expression(name, .in, ["spacelift-self-hosted", "web"])) == [
                "pods of server (spacelift)", "other pods in spacelift",
            ])
        // A label topogen does not know: components only when the selector names them.
        #expect(
            names(nil, LabelSelector(matchLabels: ["app": "web"])) == ["other pods in spacelift"])
        #expect(
            names(
                nil,
                LabelSelector(matchLabels: [
                    name: "spacelift-self-hosted", "app.kubernetes.io/instance": "spacelift",
                ])) == ["pods of server (spacelift)"])
        #expect(
            names(LabelSelector(matchLabels: ["name": "ingress-nginx"]), nil) == [
                "pods in other namespaces"
            ])
        #expect(
            names(expression(PodUniverse.namespaceKey, .notIn, ["spacelift", "kube-system"]), nil)
                == [
                    "pods of worker (spacelift-workers)", "pods in ingress-nginx",
                    "pods in other namespaces",
                ])
        // Contradictions select nothing.
        let both = LabelSelector(requirements: [
            .init(key: name, operator: .in, values: ["spacelift-self-hosted"]),
            .init(key: name, operator: .notIn, values: ["spacelift-self-hosted"]),
        ])
        #expect(names(nil, both).isEmpty)
        #expect(
            both.description
                == "app.kubernetes.io/name=spacelift-self-hosted,app.kubernetes.io/name notin (spacelift-self-hosted)"
        )
    }

    // MARK: The YAML fixtures are valid NetworkPolicies

    @Test func kubernetesValidateAcceptsTheFixtures() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-k8s-fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // kubernetes-validate has no schema for a List: its items are checked on their own.
        let items = directory.appendingPathComponent("kubectl-get-default-items.yaml")
        let split = try Command.run(
            try Command.checker("python3"),
            [
                "-c",
                "import sys, yaml; yaml.safe_dump_all(yaml.safe_load(open(sys.argv[1]))['items'], open(sys.argv[2], 'w'))",
                K.fixtures.appendingPathComponent("kubectl-get-default.yaml").path, items.path,
            ])
        #expect(split.status == 0, "\(split.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: K.fixtures.path)
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("kubectl-get-") }.sorted()
        #expect(files.count >= 4)
        let result = try Command.run(
            try Command.checker("kubernetes-validate"),
            ["--strict", "--quiet", "-k", "1.32"]
                + files.map {
                    K.fixtures.appendingPathComponent($0).path
                } + [items.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("WARN") && !result.stderr.contains("WARN"))
    }
}
