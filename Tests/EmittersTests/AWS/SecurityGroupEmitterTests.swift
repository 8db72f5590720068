import Testing
import TopologyModel

@testable import Emitters

@Suite struct SecurityGroupEmitterTests {
    private func topology(_ configure: (inout TopologySpec) -> Void = { _ in }) throws -> Topology {
        var spec = TopologySpec()
        configure(&spec)
        return try spec.resolve().topology
    }

    private func group(_ node: Node, _ topology: Topology) throws -> SecurityGroup {
        try #require(SecurityGroupEmitter().groups(for: topology).first { $0.node == node })
    }

    @Test func oneGroupPerComponentLoadBalancerAndDatabase() {
        let groups = SecurityGroupEmitter().groups(for: .reference)
        #expect(
            groups.map(\.name) == [
                "spacelift-server", "spacelift-drain", "spacelift-scheduler", "spacelift-worker",
                "spacelift-lb", "spacelift-postgres",
            ])
    }

    @Test func theDatabaseAdmitsOnlyServerDrainAndSchedulerOnItsPort() throws {
        let postgres = try group(.postgres, .reference)
        #expect(postgres.egress.isEmpty)
        #expect(
            postgres.ingress.map(\.peer) == [.group(.server), .group(.drain), .group(.scheduler)])
        #expect(postgres.ingress.allSatisfy { $0.ports == PortRange(5432) && $0.transport == .tcp })
        let worker = try group(.worker, .reference)
        #expect(!worker.egress.contains { $0.peer == .group(.postgres) })
    }

    @Test func flowsBetweenGroupsAreRulesAtBothEnds() throws {
        let lb = try group(.lb, .reference)
        let server = try group(.server, .reference)
        #expect(lb.egress.contains { $0.peer == .group(.server) && $0.ports == PortRange(1983) })
        #expect(server.ingress.contains { $0.peer == .group(.lb) && $0.ports == PortRange(1983) })
        #expect(lb.ingress.contains { $0.peer == .group(.worker) && $0.ports == PortRange(443) })
    }

    @Test func externalWorkersReachTheLoadBalancerAtItsAddresses() throws {
        let topology = try topology {
            $0.workers = Written("external", at: "--workers")
            $0.addresses = [AddressEntry(node: "lb", cidrs: ["198.51.100.10"], origin: "--cidr")]
        }
        let worker = try group(.worker, topology)
        let lbAddress = try CIDR(parsing: "198.51.100.10/32")
        #expect(
            worker.egress.contains { $0.peer == .cidr(lbAddress) && $0.ports == PortRange(443) })
        let lb = try group(.lb, topology)
        #expect(!lb.ingress.contains { $0.peer == .group(.worker) })
        #expect(lb.ingress.contains { $0.peer == .cidr(.anyIPv4) && $0.ports == PortRange(1984) })
    }

    @Test func theSchedulerReaches443OnlyForSQSAndImagePulls() throws {
        let plain = try group(.scheduler, .reference)
        #expect(
            plain.egress.filter { $0.ports == PortRange(443) }.allSatisfy {
                $0.flows == ["scheduler-image-pull"]
            })
        let sqs = try group(
            .scheduler, try topology { $0.withSQS = Written(true, at: "--with-sqs") })
        #expect(sqs.egress.contains { $0.flows.contains("scheduler-sqs") })
    }

    @Test func sameProtocolPortsAndPeerMergeWithTheirDescriptions() throws {
        let server = try group(.server, .reference)
        let https = server.egress.filter { $0.ports == PortRange(443) }
        #expect(https.map(\.peer) == [.cidr(.anyIPv4), .cidr(.anyIPv6)])
        #expect(https.first?.flows == ["server-object-storage", "server-vcs", "server-image-pull"])
        #expect(
            https.first?.awsDescription
                == "server-object-storage, server-vcs, server-image-pull: Server egress Object Storage; Server egress VCS; Container registries: the backend image"
        )
    }

    @Test func prefixListsStandForTheirNode() throws {
        let topology = try topology {
            $0.prefixLists = [Written("object-storage=pl-63a5400a:3", at: "--prefix-list")]
        }
        let server = try group(.server, topology)
        let list = PrefixList(id: "pl-63a5400a", entries: 3)
        #expect(
            server.egress.contains {
                $0.peer == .prefixList(list) && $0.flows == ["server-object-storage"]
            })
        // 443 to 0.0.0.0/0 (VCS, image pulls), the prefix list (3 entries), the postgres group.
        #expect(SecurityGroupEmitter.ruleCount(server.egress, family: .ipv4) == 1 + 3 + 1)
    }

    @Test func descriptionsKeepToAWSsCharactersAndLength() {
        let rule = SecurityGroupRule(
            transport: .tcp, ports: PortRange(443), peer: .cidr(.anyIPv4),
            flows: ["a-flow", "b-flow"], reasons: [String(repeating: "Why's <this> ", count: 40)])
        let text = rule.awsDescription
        #expect(text.count <= 255)
        #expect(text.hasPrefix("a-flow, b-flow: "))
        #expect(!text.contains("'") && !text.contains("<"))
    }

    @Test func aGroupOverTheQuotaFailsNamingGroupCountAndQuota() throws {
        let cidrs = (0..<61).map { "10.\($0).0.0/16" }
        let topology = try topology {
            $0.addresses = [AddressEntry(node: "infrastructure", cidrs: cidrs, origin: "--cidr")]
        }
        #expect(throws: RenderError.self) { try SecurityGroupEmitter().render(topology) }
        do {
            _ = try SecurityGroupEmitter().render(topology)
        } catch {
            #expect(error.diagnostics.first?.message.contains("'spacelift-worker'") == true)
            #expect(error.diagnostics.first?.message.contains("the quota is 60") == true)
        }
        let raised = try self.topology {
            $0.addresses = [AddressEntry(node: "infrastructure", cidrs: cidrs, origin: "--cidr")]
            $0.maxRules = Written("200", at: "--max-rules")
        }
        #expect(try SecurityGroupEmitter().render(raised).files.count == 2)
    }

    @Test func theJSONHasTheShapeOfDescribeSecurityGroups() throws {
        let text = try #require(try SecurityGroupEmitter().render(.reference).files.first).contents
        #expect(
            text.hasPrefix("{\n    \"SecurityGroups\": [\n        {\n            \"Description\": ")
        )
        #expect(text.contains("\"UserIdGroupPairs\": ["))
        #expect(text.contains("\"GroupName\": \"spacelift-lb\""))
        #expect(!text.contains("\"VpcId\""), "no VPC was given")
    }
}
