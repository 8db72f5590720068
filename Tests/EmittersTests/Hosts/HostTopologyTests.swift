import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// Host firewalls of topology files' shapes: one file per component (every worker pool, the
/// VCS gateway), container filtering on every worker pool, the gateway's ingress and egress,
/// the proxy, extra egress with its reason in quoted comments; and every file read back in
/// sync with its role's flows, by topogen's readers and, applied for real, through the
/// kernel's own tools.
@Suite struct HostTopologyTests {
    static let emitters: [any HostEmitter] = [IptablesEmitter(), NftablesEmitter()]

    private func firewall(_ role: Node, _ topology: Topology) -> HostFirewall {
        HostFirewall(role: role, flows: topology.flows(in: .hosts(topology)), topology: topology)
    }

    private func file(_ emitter: some HostEmitter, _ topology: Topology, _ role: Node) throws
        -> RenderedFile
    {
        try #require(emitter.render(topology).files.first { $0.role == role })
    }

    @Test func oneFilePerComponentNamedAfterIt() throws {
        let topology = try HostTopologyFixtures.k8sGateway()
        #expect(
            IptablesEmitter().render(topology).files.map(\.name) == [
                "server.sh", "drain.sh", "scheduler.sh", "worker-cluster.sh",
                "worker-datacenter.sh", "vcs-gateway.sh",
            ])
        #expect(
            NftablesEmitter().render(topology).files.map(\.name) == [
                "server.nft", "drain.nft", "scheduler.nft", "worker-cluster.nft",
                "worker-datacenter.nft", "vcs-gateway.nft",
            ])
        let script = try file(IptablesEmitter(), topology, Node(.worker, name: "worker-datacenter"))
        #expect(
            script.contents.hasPrefix(
                "#!/bin/sh\n# Host firewall of the Spacelift worker-datacenter (iptables)"))
    }

    @Test func everyWorkerPoolFiltersItsContainersToItsOwnEgress() throws {
        let topology = try HostTopologyFixtures.k8sGateway()
        for pool in topology.workerPools {
            let worker = firewall(pool.node, topology)
            #expect(worker.filtersContainers)
            let output = worker.rules(.output, .ipv4).map { [$0.port, $0.peer] as [AnyHashable?] }
            let forward = worker.rules(.forward, .ipv4).map {
                [$0.port, $0.peer] as [AnyHashable?]
            }
            #expect(output == forward)
            #expect(
                worker.rules.allSatisfy { $0.flows.allSatisfy { $0.hasPrefix("\(pool.node)-") } })
            let nft = try file(NftablesEmitter(), topology, pool.node).contents
            #expect(nft.contains("chain forward"))
            let sh = try file(IptablesEmitter(), topology, pool.node).contents
            #expect(sh.contains("hook \"$tool\" DOCKER-USER TOPOGEN-FORWARD"))
        }
        let datacenter = firewall(Node(.worker, name: "worker-datacenter"), topology)
        let infrastructure = datacenter.rules(.output, .ipv4).filter {
            $0.flows.contains("worker-datacenter-infrastructure")
        }
        #expect(infrastructure.map(\.peer) == [try CIDR(parsing: "10.100.0.0/16")])
        for role in [Node.server, .drain, .scheduler, .vcsGateway] {
            #expect(!firewall(role, topology).filtersContainers)
            #expect(
                !(try file(NftablesEmitter(), topology, role).contents.contains("chain forward")))
        }
    }

    @Test func theGatewayHostAcceptsItsLoadBalancerAndTheServerAndDrain() throws {
        let topology = try HostTopologyFixtures.gatewayAtAddresses()
        let gateway = firewall(.vcsGateway, topology)
        let input = gateway.rules(.input, .ipv4).map {
            "\($0.peer.map(\.description) ?? "any") \($0.port) \($0.flows)"
        }
        #expect(
            input == [
                "10.0.4.0/28 2984/tcp [\"vcs-gateway-lb-grpc\"]",
                "10.0.1.0/24 2985/tcp [\"server-vcs-gateway\"]",
                "10.0.2.0/24 2985/tcp [\"drain-vcs-gateway\"]",
                "192.0.2.0/24 22/tcp [\"admin-ssh-vcs-gateway\"]",
            ])
        let input6 = gateway.rules(.input, .ipv6).map {
            "\($0.peer.map(\.description) ?? "any") \($0.port)"
        }
        #expect(input6 == ["2001:db8:4::/64 2984/tcp", "2001:db8:1::/64 2985/tcp"])
        let output = Set(gateway.rules(.output, .ipv4).flatMap(\.flows))
        #expect(
            output == [
                "vcs-gateway-postgres", "vcs-gateway-image-pull", "vcs-gateway-dns",
                "vcs-gateway-\(String(repeating: "a", count: 40))",
            ])
        // The image pull goes through the proxy; postgres to its addresses.
        let pull = try #require(
            gateway.rules(.output, .ipv4).first { $0.flows == ["vcs-gateway-image-pull"] })
        #expect(pull.peer == (try CIDR(parsing: "10.0.0.10/32")) && pull.port == Port(.tcp, 3128))
        // The server and the drain reach the gateway's hosts on its HTTP port.
        for role in [Node.server, .drain] {
            let rule = try #require(
                firewall(role, topology).rules(.output, .ipv4).first {
                    $0.flows == ["\(role)-vcs-gateway"]
                })
            #expect(
                rule.peer == (try CIDR(parsing: "10.0.3.0/24")) && rule.port == Port(.tcp, 2985))
        }
        // Without addresses the gateway is anywhere, and so are its peers.
        let open = firewall(.vcsGateway, try HostTopologyFixtures.k8sGateway())
        #expect(open.rules(.input, .ipv4).map(\.port) == [Port(.tcp, 1984), Port(.tcp, 1985)])
        #expect(open.rules(.input, .ipv4).allSatisfy { $0.peer == nil })
    }

    @Test func theProxyAndInfrastructureByTheirAddresses() throws {
        let topology = try HostTopologyFixtures.awsTwoPools()
        let partner = firewall(Node(.worker, name: "worker-partner"), topology)
        let byFlow = Dictionary(
            grouping: partner.rules(.output, .ipv4).flatMap { rule in rule.flows.map { ($0, rule) }
            },
            by: \.0)
        let proxy = try CIDR(parsing: "10.0.0.10/32")
        for id in ["worker-partner-vcs", "worker-partner-container-registry"] {
            #expect(byFlow[id]?.map(\.1.peer) == [proxy], "\(id)")
            #expect(byFlow[id]?.map(\.1.port) == [Port(.tcp, 3128)], "\(id)")
        }
        // The load balancer is no external service; S3 is a private endpoint (anywhere: its
        // prefix list means nothing to a host); the infrastructure is on more than 443: all
        // reached directly.
        #expect(byFlow["worker-partner-server"]?.map(\.1.port) == [Port(.tcp, 443)])
        #expect(byFlow["worker-partner-object-storage"]?.map(\.1.peer) == [nil])
        let infrastructure = partner.rules(.output, .ipv4).filter {
            $0.flows == ["worker-partner-infrastructure"]
        }
        #expect(
            infrastructure.map { "\($0.peer.map(\.description) ?? "any") \($0.port)" } == [
                "198.51.100.0/24 443/tcp", "198.51.100.0/24 6443/tcp", "203.0.113.128/25 443/tcp",
                "203.0.113.128/25 6443/tcp",
            ])
        // The private pool's infrastructure is on 443 only: through the proxy.
        let privatePool = firewall(Node(.worker, name: "worker-private"), topology)
        #expect(
            privatePool.rules(.output, .ipv4).first {
                $0.flows.contains("worker-private-infrastructure")
            }?.peer
                == proxy)
        #expect(
            partner.rules(.output, .ipv6).allSatisfy { $0.port.range.lower == 53 || $0.peer == nil }
        )
    }

    @Test func hostileReasonsAreQuotedSafelyWithinTheLimits() throws {
        let topology = try HostTopologyFixtures.gatewayAtAddresses(
            reason: HostTopologyFixtures.hostileReason)
        let long = Node(.worker, name: "worker-\(String(repeating: "l", count: 32))")
        for (emitter, limit) in [
            (IptablesEmitter() as any HostEmitter, HostComment.iptablesLimit),
            (NftablesEmitter(), HostComment.nftLimit),
        ] {
            for role in topology.components {
                let text = try file(emitter, topology, role).contents
                for line in text.split(separator: "\n")
                where line.contains("comment \"") || line.contains("--comment \"") {
                    let start = try #require(line.range(of: "comment \"")).upperBound
                    let rest = line[start...]
                    let end = try #require(rest.firstIndex(of: "\""))
                    let comment = String(rest[..<end])
                    #expect(comment.utf8.count <= limit, "\(comment)")
                    #expect(!comment.contains("\\"))
                    let after = rest[rest.index(after: end)...]
                    #expect(!after.contains("\""), "one quoted word: \(line)")
                }
                #expect(!text.contains("\t\tsecond line") && !text.contains("\nsecond line"))
            }
            let worker = try file(emitter, topology, long).contents
            #expect(
                worker.contains(
                    "Audit 'export' of $HOME `id` / 'quoted' # not a comment; {braces} second line: Zürich ✓"
                ))
        }
        let comments = HostComment.comments(
            flows: ["a-b", "c-d"], reasons: ["c-d": HostTopologyFixtures.hostileReason], limit: 60)
        // A reason that does not fit beside other flows gets a comment of its own, cut.
        #expect(
            comments == ["a-b", "c-d: Audit 'export' of $HOME `id` / 'quoted' # not a comm..."])
        #expect(HostPermissions.flows(inComment: comments[1]) == ["c-d"])
        #expect(HostComment.truncated("Zürich", toBytes: 5) == "Z...")
        #expect(HostComment.sanitized("a\n\"b\"\u{2028}c\u{85}") == "a 'b' c")
    }

    @Test func everyRoleReadsBackInSync() throws {
        for (name, topology) in try HostTopologyFixtures.all() {
            for role in topology.components {
                for (emitter, reader) in [
                    (IptablesEmitter() as any HostEmitter, IptablesReader() as any RuleReader),
                    (NftablesEmitter(), NftablesReader()),
                ] {
                    let rendered = try file(emitter, topology, role)
                    let (deployed, drift) = try HostReaderSupport.drift(
                        reader, [(rendered.name, rendered.contents)], role: role,
                        topology: topology)
                    #expect(
                        drift.isInSync,
                        "\(name) \(rendered.name):\n\(HostReaderSupport.describe(drift))")
                    #expect(
                        deployed.diagnostics.isEmpty,
                        "\(name) \(rendered.name): \(deployed.diagnostics)")
                    #expect(
                        deployed.permissions.contains {
                            $0.flows.contains { $0.hasPrefix("\(role)-") }
                        }
                    )
                }
            }
        }
    }

    @Test func aScriptReadAsAnotherPoolSaysWhoseItIs() throws {
        let topology = try HostTopologyFixtures.k8sGateway()
        let cluster = Node(.worker, name: "worker-cluster")
        let script = try file(IptablesEmitter(), topology, Node(.worker, name: "worker-datacenter"))
        let (deployed, drift) = try HostReaderSupport.drift(
            IptablesReader(), [(script.name, script.contents)], role: cluster, topology: topology)
        #expect(!drift.isInSync)
        #expect(
            deployed.diagnostics.map(\.message) == [
                "'worker-datacenter.sh' is topogen's firewall of the worker-datacenter, read as the worker-cluster's"
            ])
    }

    @Test func rolesAreTheTopologysComponents() throws {
        let topology = try HostTopologyFixtures.awsTwoPools()
        let script = try file(IptablesEmitter(), .reference, .worker)
        for reader in [IptablesReader() as any RuleReader, NftablesReader()] {
            for role in [Node.worker, .vcsGateway, .postgres] {
                #expect {
                    _ = try reader.read(
                        [InputText(name: "worker.sh", contents: script.contents)],
                        topology: topology, options: ReadOptions(role: role))
                } throws: { error in
                    let diagnostic = (error as? ReadError)?.diagnostics.first
                    return diagnostic?.message == "'\(role)' is no component host of the topology"
                        && diagnostic?.hint
                            == "--role server|drain|scheduler|worker-private|worker-partner"
                }
            }
            #expect(
                reader.expectedPermissions(
                    for: topology, options: ReadOptions(role: .worker)
                ).isEmpty)
        }
    }

    @Test func selectorsAndSecurityGroupsAreNamedAsUselessOnHosts() throws {
        let aws = IptablesEmitter().render(try HostTopologyFixtures.awsTwoPools()).diagnostics
        let messages = aws.map(\.message)
        #expect(
            messages.contains(
                "the security groups of 'postgres' have no effect on the iptables target"))
        #expect(
            messages.contains(
                "the prefix lists of 'object-storage' have no effect on the iptables target"))
        let proxy = try #require(aws.first { $0.message.contains("'egress-proxy'") })
        #expect(
            proxy.hint
                == "host firewalls match addresses only: the cidrs of 'egress-proxy' are used")
        // The pools' addresses are the hosts' own; their infrastructure's are used.
        #expect(
            messages.contains(
                "addresses of 'worker-private', 'worker-partner' have no effect on the iptables target"
            ))
        #expect(!messages.contains { $0.contains("'infrastructure-partner'") })
        let k8s = NftablesEmitter().render(try HostTopologyFixtures.k8sGateway()).diagnostics
        let selector = try #require(
            k8s.first {
                $0.message
                    == "the Kubernetes pod selector of 'otel-collector' has no effect on the nftables target"
            })
        #expect(
            selector.hint
                == "host firewalls match addresses only: without cidrs, 'otel-collector' is any address here"
        )
        // Components that are far ends of other hosts' flows: their addresses are used.
        let gateway = IptablesEmitter().render(try HostTopologyFixtures.gatewayAtAddresses())
            .diagnostics
        #expect(
            !gateway.contains { $0.message.contains("'server'") || $0.message.contains("'drain'") },
            "\(gateway)")
        #expect(gateway.contains { $0.message.contains("'vcs-gateway-lb'") } == false)
    }
}

/// The files of topology files' shapes applied for real in network namespaces
/// (`Tests/Checkers/host_dump.py`, beside Docker's and kube-proxy's chains): the engines accept
/// every comment, hostile reasons included, and what `iptables-save`, `ip6tables-save`,
/// `nft list ruleset` and `nft -j list ruleset` print reads back in sync for every role.
///
/// Needs root, iptables, nft and ip netns; without them these tests fail.
@Suite(.serialized) struct HostTopologyEngineTests {
    @Test func everyRoleAppliedForRealReadsBackInSync() throws {
        let directory = try temporaryDirectory("host-topology")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixtures = try HostTopologyFixtures.all().filter { $0.name != "aws-two-pools" }
        var scenarios: [[String: Any]] = []
        for (name, topology) in fixtures {
            for (emitter, apply, foreign) in [
                (IptablesEmitter() as any HostEmitter, "sh", ["docker", "kube"]),
                (NftablesEmitter(), "nft", ["nft"]),
            ] {
                for file in try emitter.render(topology).files {
                    let path = directory.appendingPathComponent("\(name)-\(file.name)")
                    try Data(file.contents.utf8).write(to: path)
                    scenarios.append([
                        "name": "\(name) \(file.name)", "apply": apply, "file": path.path,
                        "foreign": foreign,
                    ])
                }
            }
        }
        let dumps = try HostDiffEngineTests.dump(scenarios)
        for (name, topology) in fixtures {
            for role in topology.components {
                let saved = try #require(dumps["\(name) \(role).sh"])
                let (deployed, drift) = try HostReaderSupport.drift(
                    IptablesReader(),
                    [
                        ("iptables-save", saved.iptablesSave),
                        ("ip6tables-save", saved.ip6tablesSave),
                    ],
                    role: role, topology: topology)
                #expect(
                    drift.isInSync,
                    "\(name) \(role):\n\(HostReaderSupport.describe(drift))\n\(saved.iptablesSave)")
                #expect(deployed.compared == HostPermissions.compared([.ipv4, .ipv6]))
                let listed = try #require(dumps["\(name) \(role).nft"])
                for (file, text) in [("ruleset", listed.nft), ("ruleset.json", listed.nftJSON)] {
                    let (deployed, drift) = try HostReaderSupport.drift(
                        NftablesReader(), [(file, text)], role: role, topology: topology)
                    #expect(
                        drift.isInSync,
                        "\(name) \(role) \(file):\n\(HostReaderSupport.describe(drift))\n\(listed.nft)"
                    )
                    #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
                }
            }
        }
        // The hostile reason survived both engines, sanitized, as the emitters wrote it.
        let worker = "gateway-at-addresses worker-\(String(repeating: "l", count: 32))"
        let saved = try #require(dumps["\(worker).sh"]).iptablesSave
        #expect(saved.contains("Audit \\'export\\' of $HOME `id` / \\'quoted\\' # not a comment;"))
        let listed = try #require(dumps["\(worker).nft"]).nft
        #expect(listed.contains("Audit 'export' of $HOME `id` / 'quoted'"))
    }
}

/// The host firewalls of topology files proven on a real kernel by
/// `Tests/Checkers/netns_oracle.py`, which reads the topology file itself (independently of
/// topogen) and probes every role's host, the worker pools', the VCS gateway's and the
/// containers behind the first pool, with real connections: the example files, and a file of
/// the ``HostTopologyFixtures/gatewayAtAddresses()`` shape.
///
/// Needs root and the engines; without them these tests fail.
@Suite(.serialized) struct HostTopologyNetnsTests {
    /// `HostTopologyFixtures.gatewayAtAddresses()` as a topology file.
    static let gatewayAtAddressesFile = """
        options: {sqs: true, iotCore: true, kms: true}
        ports: {postgres: 6432}
        nodes:
          server: {cidrs: [10.0.1.0/24, "2001:db8:1::/64"]}
          drain: {cidrs: [10.0.2.0/24]}
          lb: {cidrs: [10.0.5.10/32]}
          postgres: {cidrs: [10.0.6.0/24]}
          dns: {cidrs: [10.0.0.2/32]}
          admin: {cidrs: [192.0.2.0/24]}
        workerPools:
          - name: edge
            placement: in-cluster
            infrastructure: {ports: [443], cidrs: [10.9.0.0/16]}
          - name: \(String(repeating: "l", count: 32))
            placement: external
            infrastructure: {ports: [443, "9000-9100"]}
        vcsGateway:
          grpcPort: 2984
          httpPort: 2985
          cidrs: [10.0.3.0/24]
          loadBalancer: {cidrs: [10.0.4.0/28, "2001:db8:4::/64"]}
        egressProxy: {port: 3128, cidrs: [10.0.0.10/32, "2001:db8::10/128"]}
        privateEndpoints:
          sqs: {}
        extraEgress:
          - name: \(String(repeating: "a", count: 40))
            from: [worker-\(String(repeating: "l", count: 32)), vcs-gateway, drain]
            ports: [8443, 514/udp]
            reason: "\(yamlQuoted(HostTopologyFixtures.fileReason))"
            cidrs: [10.0.7.7/32]

        """

    /// Text as the inside of a YAML double-quoted scalar.
    static func yamlQuoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\t", with: "\\t")
    }

    /// The fixtures are the topologies topogen's decoder makes of the files.
    @Test func theFixturesAreTheFilesTopologies() throws {
        let directory = try temporaryDirectory("host-file")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("topology.yaml")
        try Data(Self.gatewayAtAddressesFile.utf8).write(to: file)
        for (name, topology) in try HostTopologyFixtures.all() {
            let path =
                name == "gateway-at-addresses"
                ? file.path : Repository.examples.appendingPathComponent("\(name).yaml").path
            let decoded = try ExampleTopology.topology(["--topology", path])
            #expect(decoded == topology, "\(name)")
            if decoded != topology {
                for (label, left, right) in [
                    ("pools", "\(decoded.workerPools)", "\(topology.workerPools)"),
                    (
                        "gateway", "\(String(describing: decoded.vcsGateway))",
                        "\(String(describing: topology.vcsGateway))"
                    ),
                    (
                        "proxy", "\(String(describing: decoded.egressProxy))",
                        "\(String(describing: topology.egressProxy))"
                    ),
                    ("extra", "\(decoded.extraEgress)", "\(topology.extraEgress)"),
                    (
                        "private", "\(decoded.privateEndpoints.sorted())",
                        "\(topology.privateEndpoints.sorted())"
                    ),
                    ("k8s", "\(decoded.kubernetes)", "\(topology.kubernetes)"),
                    ("aws", "\(decoded.aws)", "\(topology.aws)"),
                    (
                        "addresses", "\(decoded.addresses.sorted { $0.key < $1.key })",
                        "\(topology.addresses.sorted { $0.key < $1.key })"
                    ),
                ] where left != right {
                    Issue.record("\(name) \(label):\n\(left)\n\(right)")
                }
            }
        }
    }

    /// The example files are proven as every example is (`HostEngineTests`, from their
    /// goldens); here, the shape no example has.
    static let cases: [(name: String, target: String)] = [
        ("gateway-at-addresses", "iptables"), ("gateway-at-addresses", "nftables"),
    ]

    @Test(arguments: cases)
    func everyRoleAllowsExactlyItsFlowsInNetworkNamespaces(name: String, target: String) throws {
        let result = try oracle(name: name, target: target)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
        let topology = try #require(try HostTopologyFixtures.all().first { $0.name == name })
        #expect(
            result.stdout.contains("\(topology.topology.components.count) hosts"),
            "\(result.stdout)")
    }

    /// The oracle must be able to fail: a gateway whose HTTP port is open to any address, not
    /// only the server's and the drain's, is caught.
    @Test(arguments: ["iptables", "nftables"])
    func oracleCatchesAGatewayOpenToEveryone(target: String) throws {
        let (original, replacement) =
            target == "iptables"
            ? (
                "-A TOPOGEN-INPUT -j DROP",
                "-A TOPOGEN-INPUT -p tcp -m tcp --dport 2985 -j ACCEPT\n-A TOPOGEN-INPUT -j DROP"
            )
            : ("\t\tiifname \"lo\" accept", "\t\tiifname \"lo\" accept\n\t\ttcp dport 2985 accept")
        let result = try oracle(name: "gateway-at-addresses", target: target) { file in
            guard file.role == .vcsGateway, let range = file.contents.range(of: original) else {
                return file.contents
            }
            return file.contents.replacingCharacters(in: range, with: replacement)
        }
        #expect(result.status == 1, "the mutant passed:\n\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("MISMATCH"))
        #expect(result.stdout.contains("-> vcs-gateway"))
    }

    /// Runs the oracle on a fixture's files, each changed by `mutate`.
    private func oracle(
        name: String, target: String, mutate: (RenderedFile) -> String = { $0.contents }
    ) throws -> CommandResult {
        guard getuid() == 0 else {
            throw CommandError(
                description: "the network namespace tests need root (ip netns, iptables, nft)")
        }
        let topology = try #require(try HostTopologyFixtures.all().first { $0.name == name })
            .topology
        let directory = try temporaryDirectory("host-netns")
        defer { try? FileManager.default.removeItem(at: directory) }
        let emitter: any HostEmitter = target == "iptables" ? IptablesEmitter() : NftablesEmitter()
        for file in try emitter.render(topology).files {
            try Data(mutate(file).utf8).write(to: directory.appendingPathComponent(file.name))
        }
        var topologyFile = Repository.examples.appendingPathComponent("\(name).yaml")
        if name == "gateway-at-addresses" {
            topologyFile = directory.appendingPathComponent("topology.yaml")
            try Data(Self.gatewayAtAddressesFile.utf8).write(to: topologyFile)
        }
        return try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/netns_oracle.py").path,
                "--target", target, "--dir", directory.path,
                "--args", "--topology \(topologyFile.path)",
            ])
    }
}
