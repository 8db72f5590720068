import Emitters
import Foundation
import TestSupport
import Testing
import TopologyModel

/// The topology file decodes into the spec the command line fills, every problem is reported
/// with its field path and line, and flags override the file's fields.
@Suite struct TopologyFileTests {
    private func topology(_ text: String, flags: TopologySpec = TopologySpec()) throws -> Topology {
        try TopologyFile.decode(text).overridden(by: flags).resolve().topology
    }

    /// The diagnostics of a file that does not resolve, as `LINE: message`.
    private func errors(_ text: String, flags: TopologySpec = TopologySpec()) -> [String] {
        do {
            _ = try TopologyFile.decode(text).overridden(by: flags).resolve()
            return []
        } catch {
            return error.diagnostics.filter { $0.severity == .error }.map {
                "\($0.line.map(String.init) ?? "-"): \($0.message)"
            }
        }
    }

    @Test func anEmptyFileAndTheStarterAreTheReferenceInstallation() throws {
        #expect(try topology("") == .reference)
        #expect(try topology("{}") == .reference)
        #expect(try topology(TopologyFile.starter) == .reference)
    }

    /// Every commented example of the starter, uncommented, is a valid file: the walk-through
    /// the starter gives works as written.
    @Test func theStartersCommentedSectionsAreValidWhenUncommented() throws {
        var lines: [String] = []
        var inSections = false
        for line in TopologyFile.starter.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("nodes: {}") {
                lines.append("nodes:")
                inSections = true
                continue
            }
            if inSections, line.hasPrefix("# "), line.dropFirst(2).first != " " {
                let text = line.dropFirst(2)
                // Section headers are `key:` lines; prose comments are skipped.
                if text.first?.isLetter == true, text.contains(":"), !text.contains(". "),
                    text.split(separator: ":").first?.contains(" ") == false
                {
                    lines.append(String(text))
                }
                continue
            }
            if inSections, line.hasPrefix("#   ") {
                lines.append(String(line.dropFirst(2)))
                continue
            }
            lines.append(String(line))
        }
        let text = lines.joined(separator: "\n")
        let resolved = try topology(text)
        #expect(resolved.workerPools.map(\.node.name) == ["worker-eu"])
        #expect(resolved.vcsGateway == VCSGateway())
        #expect(resolved.egressProxy == EgressProxy(port: 3128))
        #expect(resolved.privateEndpoints == [.sqs, .objectStorage])
        #expect(resolved.extraEgress.map(\.node.name) == ["otel-collector"])
        #expect(resolved.aws.securityGroups[.postgres] == ["sg-0123456789abcdef0"])
        #expect(resolved.addresses[.admin] == [try CIDR(parsing: "192.0.2.0/24")])
    }

    @Test func theAWSExampleHasTwoPoolsAProxyAndPrivateEndpoints() throws {
        let text = try String(
            contentsOf: Repository.examples.appendingPathComponent("aws-two-pools.yaml"),
            encoding: .utf8)
        let resolved = try topology(text)
        #expect(resolved.usesSQS && resolved.usesKMS && !resolved.usesIoTCore)
        #expect(resolved.workerPools.map(\.node.name) == ["worker-private", "worker-partner"])
        #expect(resolved.workerPools.map(\.placement) == [.inNetwork, .external])
        #expect(
            resolved.workerPools[1].infrastructurePorts == [PortRange(443), PortRange(6443)])
        #expect(resolved.privateEndpoints == [.sqs, .kms, .objectStorage])
        #expect(resolved.aws.securityGroups[.sqs] == ["sg-01234567"])
        #expect(
            resolved.aws.prefixLists[.objectStorage] == [PrefixList(id: "pl-63a5400a", entries: 3)])
        #expect(resolved.aws.namePrefix == "spacelift-prod")
        let flows = resolved.flows()
        // Private endpoints are reached directly; VCS goes through the proxy.
        #expect(flows.first { $0.id == "server-sqs" }?.destination == .sqs)
        #expect(flows.first { $0.id == "server-vcs" }?.destination == .egressProxy)
        #expect(flows.first { $0.id == "server-vcs" }?.ports == [Port(.tcp, 3128)])
        // Infrastructure on 443 and 6443 is not HTTPS alone, so it is reached directly.
        #expect(
            flows.first { $0.id == "worker-partner-infrastructure" }?.destination.name
                == "infrastructure-partner")
        #expect(
            flows.first { $0.id == "worker-private-infrastructure" }?.destination == .egressProxy)
    }

    @Test func theKubernetesExampleHasAGatewayTwoPoolsAndExtraEgress() throws {
        let text = try String(
            contentsOf: Repository.examples.appendingPathComponent("k8s-gateway.yaml"),
            encoding: .utf8)
        let resolved = try topology(text)
        #expect(
            resolved.components.map(\.name) == [
                "server", "drain", "scheduler", "worker-cluster", "worker-datacenter",
                "vcs-gateway",
            ])
        #expect(resolved.workerPools[0].namespace == "spacelift-workers")
        #expect(
            resolved.kubernetes.podSelectors[.postgres]
                == PodSelector(
                    namespace: "databases", labels: ["app.kubernetes.io/name": "postgresql"]))
        let otel = try #require(resolved.extraEgress.first)
        #expect(otel.sources == [.server, .drain, .scheduler])
        #expect(otel.ports == [Port(.tcp, 4317)])
        let flows = resolved.flows()
        let ids = Set(flows.map(\.id))
        for id in [
            "server-otel-collector", "drain-otel-collector", "scheduler-otel-collector",
            "server-identity-provider", "clients-vcs-gateway-lb", "vcs-gateway-lb-grpc",
            "server-vcs-gateway", "drain-vcs-gateway", "vcs-gateway-postgres",
            "worker-cluster-infrastructure", "worker-datacenter-mqtt", "clients-lb-mqtt",
        ] {
            #expect(ids.contains(id), "\(id)")
        }
        #expect(
            flows.first { $0.id == "server-otel-collector" }?.description
                == "Telemetry: traces to the OpenTelemetry collector (OTLP gRPC)")
        #expect(flows.first { $0.id == "vcs-gateway-lb-grpc" }?.ports == [Port(.tcp, 1984)])
    }

    @Test func jsonAndYAMLSayTheSame() throws {
        let yaml = """
            options: {sqs: true}
            workerPools:
              - name: eu
                placement: external
                cidrs: [192.0.2.0/24]
                infrastructure: {ports: [443, "8000-8100"]}
            extraEgress:
              - {name: idp, from: [server], ports: ["443/tcp"], reason: SSO}
            """
        let json = """
            {"options": {"sqs": true},
             "workerPools": [{"name": "eu", "placement": "external", "cidrs": ["192.0.2.0/24"],
                              "infrastructure": {"ports": [443, "8000-8100"]}}],
             "extraEgress": [{"name": "idp", "from": ["server"], "ports": ["443/tcp"],
                              "reason": "SSO"}]}
            """
        #expect(try topology(yaml) == topology(json))
    }

    @Test func everyErrorNamesItsFieldAndLine() {
        let text = """
            options:
              sqs: yes
            workerPools:
              - name: eu
                cidrs: [10.1.0.1/16]
                infrastructure: {ports: [70000]}
              - name: eu
                placment: external
            extraEgress:
              - name: otel
                from: [servr]
                ports: [4317/udpx]
            nodes:
              postgress: {cidrs: [10.0.0.0/8]}
              server: {securityGroups: [sg-01234567]}
            """
        #expect(
            errors(text) == [
                "2: invalid value for 'options.sqs': expected true or false, found 'yes'",
                "8: unknown field 'placment' in 'workerPools[1]'",
            ])
        let fixed = text.replacingOccurrences(of: "sqs: yes", with: "sqs: true")
            .replacingOccurrences(of: "    placment: external\n", with: "")
        #expect(
            errors(fixed) == [
                "6: invalid value '70000' for 'workerPools[0].infrastructure.ports[0]': out of range; a port is a number from 1 to 65535",
                "7: duplicate worker pool 'eu' at 'workerPools[1].name'",
                "10: invalid value 'servr' for 'extraEgress[0].from[0]': not a component",
                "11: invalid value '4317/udpx' for 'extraEgress[0].ports[0]': unknown transport 'udpx'",
                "9: 'extraEgress[0]' gives no reason",
                "13: unknown node 'postgress' at 'nodes.postgress'",
                "5: invalid CIDR '10.1.0.1/16' for 'workerPools[0].cidrs[0]': host bits are set",
                "14: invalid value 'sg-01234567' for 'nodes.server.securityGroups[0]': 'server' is not an external service",
            ])
    }

    @Test func structuralErrors() {
        #expect(
            errors("- a\n- b\n") == [
                "1: invalid value for 'the file': expected a mapping, found a list"
            ])
        #expect(errors("a: 1\n---\nb: 2\n") == ["3: a topology file holds one document, not 2"])
        #expect(
            errors("workerPools:\n  - placement: external\n") == ["2: 'workerPools[0]' has no name"]
        )
        #expect(
            errors("egressProxy:\n  cidrs: [10.0.0.1/32]\n") == ["2: 'egressProxy' names no port"])
        #expect(
            errors("workerPools: {a: 1}\n") == [
                "1: invalid value for 'workerPools': expected a list, found a mapping"
            ])
        #expect(
            errors("{\"options\": [1]}") == [
                "1: invalid value for 'options': expected a mapping, found a list"
            ])
        #expect(
            errors("vcsGateway: {grpcPort: 1985}\n")
                == [
                    "1: invalid value '1985' for 'vcsGateway.grpcPort': the gateway's gRPC and HTTP ports must differ"
                ])
        #expect(
            errors("privateEndpoints:\n  postgres: {cidrs: [10.0.0.0/8]}\n")
                == ["2: 'privateEndpoints.postgres': 'postgres' cannot be a private endpoint"])
        #expect(
            errors(
                "extraEgress:\n  - {name: postgres, from: [server], ports: [1], reason: x}\n")
                == [
                    "2: invalid value 'postgres' for 'extraEgress[0].name': 'postgres' already names a node"
                ])
        #expect(
            errors("nodes:\n  postgres:\n    kubernetes: {labels: {a: b}}\n")
                == ["3: 'nodes.postgres.kubernetes' names no namespace"])
        #expect(
            errors("nodes:\n  postgres:\n    kubernetes: {namespace: db, labels: {'-a': b}}\n")
                == ["3: invalid label key '-a' at 'nodes.postgres.kubernetes.labels'"])
    }

    @Test func poolsInOneNamespaceNeedLabelsThatTellThemApart() {
        let shared = """
            workerPools:
              - {name: a, kubernetes: {namespace: workers}}
              - {name: b, kubernetes: {namespace: workers}}
            """
        #expect(
            errors(shared) == [
                "3: worker pools 'a' and 'b' share namespace 'workers' without labels that tell their pods apart"
            ])
        let labelled = """
            workerPools:
              - {name: a, kubernetes: {namespace: workers, labels: {pool: a}}}
              - {name: b, kubernetes: {namespace: workers, labels: {pool: b}}}
            """
        #expect(errors(labelled) == [])
        // Labels that a pod could carry both of do not tell the pools apart.
        let overlapping = """
            workerPools:
              - {name: a, kubernetes: {namespace: workers, labels: {pool: a}}}
              - {name: b, kubernetes: {namespace: workers, labels: {tier: x}}}
            """
        #expect(errors(overlapping).count == 1)
    }

    @Test func externalNodesMayNotLiveInSpaceliftsNamespaces() {
        let text = """
            workerPools:
              - {name: a, kubernetes: {namespace: workers}}
            nodes:
              postgres: {kubernetes: {namespace: spacelift}}
            extraEgress:
              - name: otel
                from: [server]
                ports: [4317]
                reason: Telemetry
                kubernetes: {namespace: workers}
            """
        #expect(
            errors(text) == [
                "4: invalid value 'spacelift' for 'nodes.postgres.kubernetes.namespace': 'postgres' cannot run in a namespace of Spacelift's",
                "10: invalid value 'workers' for 'extraEgress[0].kubernetes.namespace': 'otel' cannot run in a namespace of Spacelift's",
            ])
    }

    @Test func flagsOverrideTheFile() throws {
        let text = """
            ports: {postgres: 6432}
            nodes:
              postgres: {cidrs: [10.0.0.0/16]}
            workerPools:
              - {name: eu, placement: in-cluster}
            """
        var flags = TopologySpec()
        flags.postgresPort = Written("5433", at: "--postgres-port")
        flags.workers = Written("external", at: "--workers")
        flags.addresses = [
            AddressEntry(node: "postgres", cidrs: ["10.9.0.0/16"], origin: "--cidr"),
            AddressEntry(node: "worker-eu", cidrs: ["192.0.2.0/24"], origin: "--cidr"),
        ]
        let resolved = try topology(text, flags: flags)
        #expect(resolved.postgresPort == 5433)
        #expect(resolved.workerPools.map(\.placement) == [.external])
        #expect(resolved.addresses[.postgres] == [try CIDR(parsing: "10.9.0.0/16")])
        #expect(
            resolved.addresses[Node(.worker, name: "worker-eu")]
                == [try CIDR(parsing: "192.0.2.0/24")])
        let two = text + "\n  - {name: us}\n"
        #expect(
            errors(two, flags: flags) == [
                "-: '--workers' is ambiguous: the topology file has 2 worker pools"
            ])
    }
}
