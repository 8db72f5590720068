import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// The AWS and Terraform targets on the shapes topology files make (worker pools, the VCS
/// gateway, an egress proxy, private endpoints, extra egress, existing security groups of
/// external nodes): what the groups hold, and that every shape reads back in sync through both
/// readers, in topogen's shape and in AWS's (ids).
@Suite struct SecurityGroupShapeTests {
    private static let json = "security-groups.json"

    private func render(_ topology: Topology) throws -> String {
        let rendering = try SecurityGroupEmitter().render(topology)
        return try #require(rendering.files.first { $0.name == Self.json }).contents
    }

    private func group(_ node: Node, _ topology: Topology) throws -> SecurityGroup {
        try #require(SecurityGroupEmitter().groups(for: topology).first { $0.node == node })
    }

    private func drift(_ reader: some RuleReader, _ inputs: [InputText], _ topology: Topology)
        throws -> (Drift, DeployedRules)
    {
        let deployed = try reader.read(inputs, topology: topology, options: ReadOptions())
        return (
            Drift(
                expected: reader.expectedPermissions(for: topology, options: ReadOptions()),
                deployed: deployed), deployed
        )
    }

    @Test func theGroupsAreTheComponentsLoadBalancersAndDatabase() {
        let names = { (topology: Topology) in
            SecurityGroupEmitter().groups(for: topology).map(\.name)
        }
        #expect(
            names(AWSTopologyShapes.awsTwoPools) == [
                "spacelift-prod-server", "spacelift-prod-drain", "spacelift-prod-scheduler",
                "spacelift-prod-worker-private", "spacelift-prod-worker-partner",
                "spacelift-prod-lb",
            ], "the database is its RDS group: topogen creates none")
        #expect(
            names(AWSTopologyShapes.k8sGateway) == [
                "spacelift-server", "spacelift-drain", "spacelift-scheduler",
                "spacelift-worker-cluster", "spacelift-worker-datacenter", "spacelift-vcs-gateway",
                "spacelift-lb", "spacelift-vcs-gateway-lb", "spacelift-postgres",
            ])
        #expect(
            SecurityGroupEmitter().groups(for: .reference).map(\.node)
                == [.server, .drain, .scheduler, .worker, .lb, .postgres])
        let descriptions = SecurityGroupEmitter().groups(for: AWSTopologyShapes.k8sGateway).map(
            \.description)
        #expect(
            descriptions.contains(
                "Spacelift workers of pool cluster: runs and tasks (managed by topogen)"))
        #expect(Set(descriptions).count == descriptions.count)
    }

    @Test func existingGroupsOfExternalNodesAreReferencedByID() throws {
        let topology = AWSTopologyShapes.awsTwoPools
        let server = try group(.server, topology)
        func peers(_ port: UInt16) -> Set<SecurityGroupRule.Peer> {
            Set(server.egress.filter { $0.ports == PortRange(port) }.map(\.peer))
        }
        #expect(peers(5432) == [.existingGroup("sg-0d1e2f3a4b5c6d7e8")])
        // SQS and KMS through their endpoint's group, S3 through its prefix list, VCS through
        // the proxy (its group, not its CIDR: the CIDR is for host targets).
        #expect(
            peers(443) == [
                .existingGroup("sg-01234567"),
                .prefixList(PrefixList(id: "pl-63a5400a", entries: 3)),
            ])
        #expect(peers(3128) == [.existingGroup("sg-0aaaabbbbccccdddd")])
        let json = try render(topology)
        #expect(json.contains("\"GroupId\": \"sg-0d1e2f3a4b5c6d7e8\""))
        let script = try #require(
            try SecurityGroupEmitter().render(topology).files.first { $0.name == "apply.sh" })
        #expect(
            script.contents.contains(
                "$sg_server True tcp 5432 5432 None None None sg-0d1e2f3a4b5c6d7e8"))
        #expect(!script.contents.contains("sg_postgres"))
        // A reference counts one rule in each family.
        #expect(
            SecurityGroupEmitter.ruleCount(server.egress, family: .ipv6) == server.egress.count + 2)
    }

    @Test func externalPoolsAreNotReferencedAndPoolsManageTheirOwnInfrastructure() throws {
        let topology = AWSTopologyShapes.awsTwoPools
        let lb = try group(.lb, topology)
        let partner = Node(.worker, name: "worker-partner")
        let privateNode = Node(.worker, name: "worker-private")
        #expect(!lb.ingress.contains { $0.peer == .group(partner) })
        #expect(lb.ingress.contains { $0.peer == .group(privateNode) })
        let egress = try group(partner, topology).egress
        let network = SecurityGroupRule.Peer.cidr(try CIDR(parsing: "203.0.113.128/25"))
        #expect(egress.contains { $0.ports == PortRange(6443) && $0.peer == network })
        // The private pool's AWS APIs are on the internet on 443: through the proxy.
        let proxied = try group(privateNode, topology).egress.filter {
            $0.flows.contains("worker-private-infrastructure")
        }
        #expect(proxied.map(\.peer) == [.existingGroup("sg-0aaaabbbbccccdddd")])
        #expect(proxied.map(\.ports) == [PortRange(3128)])
    }

    @Test func extraEgressDescriptionsKeepToAWSsCharacters() throws {
        let (_, topology) = AWSTopologyShapes.variations[0]
        let drain = try group(.drain, topology)
        let rule = try #require(drain.egress.first { $0.flows == ["drain-usage"] })
        #expect(rule.awsDescription == "drain-usage: Usage reporting  caf ${var} bquoted/b")
        #expect(drain.egress.contains { $0.transport == .udp && $0.ports == PortRange(514) })
        let gateway = try group(.vcsGateway, topology)
        #expect(gateway.ingress.map(\.peer).contains(.group(.vcsGatewayLB)))
        #expect(
            gateway.ingress.contains { $0.ports == PortRange(2985) && $0.peer == .group(.drain) })
    }

    @Test(arguments: AWSTopologyShapes.all.map(\.0))
    func everyShapeReadsBackInSyncThroughBothReaders(name: String) throws {
        let topology = try #require(AWSTopologyShapes.all.first { $0.0 == name }).1
        let json = try render(topology)
        let (aws, deployed) = try drift(
            SecurityGroupReader(), [InputText(name: Self.json, contents: json)], topology)
        #expect(aws.isInSync, "\(aws.findings.map(\.message))")
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        let module = try TerraformEmitter().render(topology).files.map {
            InputText(name: $0.name, contents: $0.contents)
        }
        let (terraform, read) = try drift(TerraformReader(), module, topology)
        #expect(terraform.isInSync, "\(terraform.findings.map(\.message))")
        #expect(read.unreadable.isEmpty, "\(read.unreadable)")
        #expect(read.diagnostics.isEmpty, "\(read.diagnostics)")
    }

    /// AWS's shape: ids for every group, references by id, and the existing groups described
    /// too (with names of their own): they are the external nodes, not groups of no node.
    @Test(arguments: AWSTopologyShapes.all.map(\.0))
    func theShapeAWSPrintsReadsBackInSync(name: String) throws {
        let topology = try #require(AWSTopologyShapes.all.first { $0.0 == name }).1
        var root = try #require(
            try JSONSerialization.jsonObject(with: Data(try render(topology).utf8))
                as? [String: Any])
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        var ids: [String: String] = [:]
        for (offset, group) in groups.enumerated() {
            ids[try #require(group["GroupName"] as? String)] = String(
                format: "sg-%08x", offset + 0xa0)
        }
        for index in groups.indices {
            groups[index]["GroupId"] = ids[groups[index]["GroupName"] as? String ?? ""]
            for key in ["IpPermissions", "IpPermissionsEgress"] {
                var permissions = try #require(groups[index][key] as? [[String: Any]])
                for p in permissions.indices {
                    var pairs = try #require(permissions[p]["UserIdGroupPairs"] as? [[String: Any]])
                    for q in pairs.indices {
                        if let peer = pairs[q].removeValue(forKey: "GroupName") as? String {
                            pairs[q]["GroupId"] = ids[peer]
                        }
                        pairs[q]["UserId"] = "123456789012"
                    }
                    permissions[p]["UserIdGroupPairs"] = pairs
                }
                groups[index][key] = permissions
            }
        }
        for id in Set(topology.aws.securityGroups.values.joined()).sorted() {
            groups.append([
                "GroupId": id, "GroupName": "existing-\(id)", "Description": "not topogen's",
                "IpPermissions": [[String: Any]](), "IpPermissionsEgress": [[String: Any]](),
            ])
        }
        root["SecurityGroups"] = Array(groups.reversed())
        let text = String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
        let (result, deployed) = try drift(
            SecurityGroupReader(), [InputText(name: Self.json, contents: text)], topology)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
    }

    @Test func theModuleHasPerPoolPortsAndExistingGroupVariables() throws {
        let files = try TerraformEmitter().render(AWSTopologyShapes.awsTwoPools).files
        let variables = try #require(files.first { $0.name == "variables.tf" }).contents
        let main = try #require(files.first { $0.name == "main.tf" }).contents
        for name in [
            "infrastructure_private_ports", "infrastructure_partner_ports",
            "postgres_security_group_ids", "egress_proxy_security_group_ids",
            "sqs_security_group_ids", "object_storage_prefix_list_ids",
            "infrastructure_partner_cidrs",
        ] {
            #expect(variables.contains("variable \"\(name)\""), "\(name)")
        }
        #expect(!variables.contains("variable \"infrastructure_ports\""))
        #expect(!variables.contains("egress_proxy_cidrs"), "the proxy's group stands for it")
        #expect(
            variables.contains(
                "default     = [{ from_port = 443, to_port = 443 }, { from_port = 6443, to_port = 6443 }]"
            ))
        #expect(main.contains("flatten([for port in var.infrastructure_partner_ports :"))
        #expect(main.contains("each.value.peer_group)"))
        #expect(!main.contains("\"postgres\" = "), "no postgres group")
    }

    /// A changed existing group id is found: the rule to the old id is extra, the flow missing.
    @Test func aChangedExistingGroupIsFound() throws {
        let topology = AWSTopologyShapes.awsTwoPools
        let json = try render(topology).replacingOccurrences(
            of: "sg-0d1e2f3a4b5c6d7e8", with: "sg-0fffffffffffffff0")
        let (result, _) = try drift(
            SecurityGroupReader(), [InputText(name: Self.json, contents: json)], topology)
        #expect(!result.isInSync)
        #expect(
            Set(result.findings.flatMap(\.flows)).isSuperset(of: [
                "server-postgres", "drain-postgres", "scheduler-postgres",
            ]))
    }
}
