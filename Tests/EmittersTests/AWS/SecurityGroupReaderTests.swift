import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// The AWS reader: topogen's own groups read back in sync, in topogen's shape and in AWS's
/// (group ids); each kind of change to them is reported as exactly that finding, at the JSON
/// path of the rule responsible.
@Suite struct SecurityGroupReaderTests {
    // MARK: - Helpers

    private static let file = "security-groups.json"

    /// The drift of some groups' JSON against a topology.
    private func drift(
        _ json: String, _ topology: Topology, options: ReadOptions = ReadOptions()
    ) throws -> Drift {
        let reader = SecurityGroupReader()
        let deployed = try reader.read(
            [InputText(name: Self.file, contents: json)], topology: topology, options: options)
        return Drift(
            expected: reader.expectedPermissions(for: topology, options: options),
            deployed: deployed)
    }

    private func render(_ topology: Topology) throws -> String {
        let rendering = try SecurityGroupEmitter().render(topology)
        return try #require(rendering.files.first { $0.name == Self.file }).contents
    }

    /// The groups of the JSON, for changing them.
    private func document(_ json: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    private func text(_ document: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    }

    /// Changes one permission of one group: `key` is `IpPermissions` or `IpPermissionsEgress`.
    private func changing(
        _ json: String, group: Int, _ key: String, _ index: Int,
        _ change: (inout [String: Any]) -> Void
    ) throws -> String {
        var root = try document(json)
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        var permissions = try #require(groups[group][key] as? [[String: Any]])
        change(&permissions[index])
        groups[group][key] = permissions
        root["SecurityGroups"] = groups
        return try text(root)
    }

    /// Adds a permission to one group.
    private func adding(_ json: String, group: Int, _ key: String, _ permission: [String: Any])
        throws -> String
    {
        var root = try document(json)
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        var permissions = try #require(groups[group][key] as? [[String: Any]])
        permissions.append(permission)
        groups[group][key] = permissions
        root["SecurityGroups"] = groups
        return try text(root)
    }

    /// The JSON in AWS's own shape: each group with an id and an owner, references by
    /// `GroupId` and `UserId` instead of `GroupName`, groups in the order of their ids.
    private func described(_ json: String, ids: [String: String]) throws -> String {
        var root = try document(json)
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        for index in groups.indices {
            let name = try #require(groups[index]["GroupName"] as? String)
            groups[index]["GroupId"] = ids[name]
            groups[index]["OwnerId"] = "123456789012"
            for key in ["IpPermissions", "IpPermissionsEgress"] {
                var permissions = try #require(groups[index][key] as? [[String: Any]])
                for p in permissions.indices {
                    var pairs = try #require(permissions[p]["UserIdGroupPairs"] as? [[String: Any]])
                    for q in pairs.indices {
                        let peer = try #require(
                            pairs[q].removeValue(forKey: "GroupName") as? String)
                        pairs[q]["GroupId"] = ids[peer]
                        pairs[q]["UserId"] = "123456789012"
                    }
                    permissions[p]["UserIdGroupPairs"] = pairs
                }
                groups[index][key] = permissions
            }
        }
        groups.reverse()
        root["SecurityGroups"] = groups
        return try text(root)
    }

    private func location(_ path: String) -> TopologyModel.SourceLocation {
        TopologyModel.SourceLocation(file: Self.file, path: path)
    }

    private var reference: Topology { .reference }

    private func example(_ name: String) throws -> (Example, Topology) {
        let example = try #require(Example.all.first { $0.name == name })
        return (example, try ExampleTopology.topology(of: example))
    }

    private func golden(_ name: String) throws -> String {
        try String(
            contentsOf: try #require(Example.all.first { $0.name == name }).golden(
                "aws", Self.file),
            encoding: .utf8)
    }

    // MARK: - In sync

    @Test(arguments: Example.all)
    func everyGoldenReadsBackInSync(example: Example) throws {
        let topology = try ExampleTopology.topology(of: example)
        let json = try String(contentsOf: example.golden("aws", Self.file), encoding: .utf8)
        let result = try drift(json, topology)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        // The golden is what the emitter renders today, so the test reads what it claims to.
        #expect(try render(topology) == json)
    }

    @Test(arguments: [
        [], ["--with-sqs", "--with-iot-core", "--with-kms"], ["--workers", "external"],
        ["--workers", "external", "--cidr", "clients=203.0.113.0/24"],
        [
            "--cidr", "infrastructure=10.0.0.0/8,2001:db8::/32", "--infrastructure-port",
            "30000-32767",
        ],
        ["--prefix-list", "object-storage=pl-63a5400a:3", "--prefix-list", "vcs=pl-0abc1234:2"],
        ["--name-prefix", "prod", "--vpc-id", "vpc-0123456789abcdef0", "--postgres-port", "6432"],
    ])
    func renderedShapesReadBackInSync(arguments: [String]) throws {
        let topology = try ExampleTopology.topology(arguments)
        let result = try drift(try render(topology), topology)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
    }

    /// AWS's shape: group ids, references by id, another order, owner ids; topogen's names.
    @Test(arguments: ["default", "aws", "external-workers", "hosts-all-services"])
    func theShapeAWSPrintsReadsBackInSync(name: String) throws {
        let (_, topology) = try example(name)
        let ids = Dictionary(
            uniqueKeysWithValues: SecurityGroupEmitter.groupedNodes(in: topology).enumerated().map {
                (topology.aws.groupName($0.element), "sg-0\($0.offset)1234abcd")
            })
        let result = try drift(try described(try golden(name), ids: ids), topology)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    /// A bare list (`--query SecurityGroups`) is read too.
    @Test func aBareListOfGroupsIsRead() throws {
        let root = try document(try golden("default"))
        let list = String(
            decoding: try JSONSerialization.data(
                withJSONObject: try #require(root["SecurityGroups"])),
            as: UTF8.self)
        #expect(try drift(list, reference).isInSync)
    }

    @Test func expectedPermissionsAreOnePerFlowPortAndPeer() throws {
        let expected = SecurityGroupReader().expectedPermissions(
            for: .reference, options: ReadOptions())
        let http = expected.filter { $0.flows == ["lb-server-http"] }
        #expect(
            Set(http.map(\.subject)) == [Subject(.lb, .egress), Subject(.server, .ingress)])
        let ingress = try #require(http.first { $0.subject == Subject(.server, .ingress) })
        #expect(ingress.peer == EndpointSet(names: ["security group spacelift-lb"]))
        #expect(ingress.peerName == "lb")
        #expect(ingress.ports == IntervalSet([1983...1983]))
        let vcs = expected.filter { $0.flows == ["server-vcs"] }
        #expect(
            vcs.map(\.peer) == [
                EndpointSet.anyIPv4.union(.anyName), EndpointSet.anyIPv6.union(.anyName),
            ])
    }

    // MARK: - Mutations

    @Test func aRemovedRuleIsMissing() throws {
        let json = try changing(try golden("default"), group: 0, "IpPermissions", 0) {
            $0["UserIdGroupPairs"] = [[String: Any]]()
        }
        let result = try drift(json, reference)
        #expect(result.findings.count == 1, "\(result.findings.map(\.message))")
        let finding = try #require(result.findings.first)
        #expect(finding.kind == .missing)
        #expect(finding.subject == Subject(.server, .ingress))
        #expect(finding.flows == ["lb-server-http"])
        #expect(
            finding.message
                == "lb-server-http: tcp 1983 from lb (security group spacelift-lb) is not allowed")
    }

    @Test func aWiderPortRangeIsBroader() throws {
        let json = try changing(try golden("default"), group: 0, "IpPermissions", 0) {
            $0["FromPort"] = 1000
            $0["ToPort"] = 2000
        }
        let result = try drift(json, reference)
        #expect(result.findings.count == 1, "\(result.findings.map(\.message))")
        let finding = try #require(result.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.server, .ingress))
        #expect(finding.flows == ["lb-server-http", "lb-server-mqtt"])
        #expect(finding.reasons == ["ports 1000-1982,1985-2000"])
        #expect(
            finding.location == location("SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0]"))
        #expect(
            finding.message.hasPrefix("'spacelift-server ingress tcp 1000-2000 from spacelift-lb'"))
    }

    @Test func allPortsAndAllProtocolsAreBroader() throws {
        let ports = try changing(try golden("default"), group: 0, "IpPermissions", 0) {
            $0["FromPort"] = -1
            $0["ToPort"] = -1
        }
        let byPorts = try drift(ports, reference)
        #expect(byPorts.findings.map(\.kind) == [.broader])
        #expect(byPorts.findings.first?.reasons == ["all ports"])
        let protocols = try changing(try golden("default"), group: 0, "IpPermissions", 0) {
            $0["IpProtocol"] = "-1"
            $0.removeValue(forKey: "FromPort")
            $0.removeValue(forKey: "ToPort")
        }
        let byProtocols = try drift(protocols, reference)
        let finding = try #require(byProtocols.findings.first)
        #expect(byProtocols.findings.count == 1)
        #expect(finding.kind == .broader)
        #expect(finding.reasons == ["all protocols", "all ports"])
        #expect(finding.flows == ["lb-server-http", "lb-server-mqtt"])
        #expect(
            finding.location == location("SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0]"))
        #expect(
            finding.message.hasPrefix("'spacelift-server ingress all traffic from spacelift-lb'"))
    }

    @Test func aWiderCIDRIsBroaderAndNamesTheAddress() throws {
        let (_, topology) = try example("hosts")
        let json = try changing(try golden("hosts"), group: 3, "IpPermissionsEgress", 0) {
            var ranges = $0["IpRanges"] as? [[String: Any]] ?? []
            ranges[1]["CidrIp"] = "10.0.0.0/8"
            $0["IpRanges"] = ranges
        }
        let result = try drift(json, topology)
        #expect(result.findings.count == 1, "\(result.findings.map(\.message))")
        let finding = try #require(result.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.worker, .egress))
        // 10.0.0.0/8 overlaps the registry's 10.0.2.20 and the infrastructure's 10.1.0.0/16.
        #expect(finding.flows == ["worker-container-registry", "worker-infrastructure"])
        #expect(finding.reasons.count == 1)
        #expect(finding.reasons.first?.hasPrefix("10.0.0.0/8 where the model has") == true)
        #expect(
            finding.location == location("SecurityGroups[3].IpPermissionsEgress[0].IpRanges[1]"))
        // 10.1.0.0/16 itself is gone from the rule, and nothing else covers it.
        let missing = try drift(json, topology).findings.filter { $0.kind == .missing }
        #expect(missing.isEmpty)
    }

    @Test func anAddedRuleIsExtra() throws {
        let json = try adding(
            try golden("default"), group: 0, "IpPermissions",
            [
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [["CidrIp": "0.0.0.0/0", "Description": "ssh"]],
            ])
        let result = try drift(json, reference)
        #expect(result.findings.count == 1, "\(result.findings.map(\.message))")
        let finding = try #require(result.findings.first)
        #expect(finding.kind == .extra)
        #expect(finding.subject == Subject(.server, .ingress))
        #expect(finding.flows == [])
        #expect(finding.location == location("SecurityGroups[0].IpPermissions[2].IpRanges[0]"))
        #expect(
            finding.message
                == "'spacelift-server ingress tcp 22 from 0.0.0.0/0' allows tcp 22 from 0.0.0.0/0, which no flow requires"
        )
    }

    /// The allow-all egress every new group gets counts like any rule.
    @Test func theDefaultEgressRuleIsBroader() throws {
        let json = try adding(
            try golden("default"), group: 0, "IpPermissionsEgress",
            ["IpProtocol": "-1", "IpRanges": [["CidrIp": "0.0.0.0/0"]]])
        let result = try drift(json, reference)
        #expect(result.findings.count == 1, "\(result.findings.map(\.message))")
        let finding = try #require(result.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.server, .egress))
        #expect(finding.reasons.first == "all protocols")
        #expect(
            finding.flows == [
                "server-image-pull", "server-object-storage", "server-postgres", "server-vcs",
            ])
        #expect(
            finding.location == location("SecurityGroups[0].IpPermissionsEgress[2].IpRanges[0]"))
        #expect(finding.message.hasPrefix("'spacelift-server egress all traffic to 0.0.0.0/0'"))
    }

    /// A reference to a group that is no node's is a peer of its own: the flow it replaced is
    /// missing, and the rule is extra.
    @Test func anUnknownGroupReferenceIsExtraAndTheFlowMissing() throws {
        let json = try changing(try golden("default"), group: 0, "IpPermissions", 0) {
            $0["UserIdGroupPairs"] = [["GroupId": "sg-0f1e2d3c", "UserId": "123456789012"]]
        }
        let result = try drift(json, reference)
        #expect(result.findings.map(\.kind) == [.missing, .extra])
        #expect(result.findings.allSatisfy { $0.subject == Subject(.server, .ingress) })
        #expect(result.findings.first?.flows == ["lb-server-http"])
        let extra = try #require(result.findings.last)
        #expect(
            extra.location == location("SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0]"))
        #expect(extra.permission?.peer == EndpointSet(names: ["security group sg-0f1e2d3c"]))
        #expect(extra.message.hasPrefix("'spacelift-server ingress tcp 1983 from sg-0f1e2d3c'"))
    }

    /// A group of the input that is no node's is named with its id and name where referenced.
    @Test func aReferencedGroupOfNoNodeIsNamedByIdAndName() throws {
        var root = try document(try golden("default"))
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        groups.append([
            "GroupId": "sg-0bastion", "GroupName": "bastion", "IpPermissions": [[String: Any]](),
        ])
        var server = groups[0]
        var ingress = try #require(server["IpPermissions"] as? [[String: Any]])
        ingress.append([
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "UserIdGroupPairs": [["GroupId": "sg-0bastion"]],
        ])
        server["IpPermissions"] = ingress
        groups[0] = server
        root["SecurityGroups"] = groups
        let result = try drift(try text(root), reference)
        #expect(result.findings.map(\.kind) == [.extra])
        #expect(
            result.findings.first?.permission?.peer
                == EndpointSet(names: ["security group sg-0bastion (bastion)"]))
        #expect(
            result.diagnostics.map(\.message) == [
                "1 security group matches no node and is not compared: 'sg-0bastion (bastion)'"
            ])
    }

    @Test func aMissingGroupMakesEveryFlowOfItsNodeMissing() throws {
        var root = try document(try golden("default"))
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        groups.remove(at: 5)
        root["SecurityGroups"] = groups
        let result = try drift(try text(root), reference)
        #expect(result.findings.map(\.kind) == [.missing, .missing, .missing])
        #expect(result.findings.allSatisfy { $0.subject == Subject(.postgres, .ingress) })
        #expect(
            Set(result.findings.flatMap(\.flows))
                == ["server-postgres", "drain-postgres", "scheduler-postgres"])
        #expect(
            result.diagnostics.map(\.message) == [
                "no security group for 'postgres' (looked for 'spacelift-postgres'; use --group postgres=sg-...)"
            ])
    }

    /// `--group NODE=sg-...` maps a group of another name, and wins over the name.
    @Test func groupOptionMapsAGroupOfAnotherName() throws {
        let (_, topology) = try example("aws")
        var ids: [String: String] = [:]
        for (offset, node) in SecurityGroupEmitter.groupedNodes(in: topology).enumerated() {
            ids[topology.aws.groupName(node)] = "sg-0\(offset)aaaa"
        }
        var root = try document(try described(try golden("aws"), ids: ids))
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        let server = try #require(groups.firstIndex { $0["GroupId"] as? String == "sg-00aaaa" })
        groups[server]["GroupName"] = "api"
        root["SecurityGroups"] = groups
        let json = try text(root)

        let unmapped = try drift(json, topology)
        #expect(!unmapped.isInSync)
        #expect(
            unmapped.diagnostics.map(\.message).contains(
                "no security group for 'server' (looked for 'spacelift-prod-server'; use --group server=sg-...)"
            ))
        #expect(
            unmapped.findings.contains {
                $0.kind == .missing && $0.subject == Subject(.server, .ingress)
            })

        let mapped = try drift(json, topology, options: ReadOptions(groups: [.server: "sg-00aaaa"]))
        #expect(mapped.isInSync, "\(mapped.findings.map(\.message))")
        #expect(mapped.diagnostics.isEmpty, "\(mapped.diagnostics)")

        // The option wins over the name: the lb is now the group named spacelift-prod-drain.
        let swapped = try drift(json, topology, options: ReadOptions(groups: [.lb: "sg-01aaaa"]))
        #expect(swapped.findings.contains { $0.subject == Subject(.lb, .ingress) })
        #expect(
            swapped.diagnostics.map(\.message).contains(
                "no security group for 'drain' (looked for 'spacelift-prod-drain'; use --group drain=sg-...)"
            ))

        let wrong = try drift(json, topology, options: ReadOptions(groups: [.server: "sg-0nope"]))
        #expect(
            wrong.diagnostics.map(\.message).contains(
                "no security group 'sg-0nope' for '--group server=sg-0nope'; all flows of 'server' are reported missing"
            ))
    }

    @Test func groupsOfOtherVPCsAreNotCompared() throws {
        let (_, topology) = try example("aws")
        var root = try document(try golden("aws"))
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        var copy = groups[0]
        copy["VpcId"] = "vpc-0ffff"
        copy["GroupId"] = "sg-0other"
        copy["IpPermissions"] = [["IpProtocol": "-1", "IpRanges": [["CidrIp": "0.0.0.0/0"]]]]
        groups.insert(copy, at: 0)
        root["SecurityGroups"] = groups
        let result = try drift(try text(root), topology)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
        #expect(
            result.diagnostics.map(\.message) == [
                "1 security group is in other VPCs than 'vpc-0a1b2c3d4e5f60718' and not compared: 'sg-0other (spacelift-prod-server)'"
            ])
    }

    @Test func ruleFormsAWSAcceptsAreRead() throws {
        var json = try golden("default")
        for permission: [String: Any] in [
            [
                "IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
                "IpRanges": [["CidrIp": "10.0.0.0/8"]],
            ],
            ["IpProtocol": "icmpv6", "Ipv6Ranges": [["CidrIpv6": "::/0"]]],
            [
                "IpProtocol": "50", "FromPort": -1, "ToPort": -1,
                "PrefixListIds": [["PrefixListId": "pl-1"]],
            ],
            [
                "IpProtocol": "6", "FromPort": 1983, "ToPort": 1983,
                "IpRanges": [["CidrIp": "10.0.0.1/8"]],
            ],
        ] {
            json = try adding(json, group: 0, "IpPermissions", permission)
        }
        let result = try drift(json, reference)
        let extra = result.findings.filter { $0.kind == .extra }
        #expect(result.findings.count == 4 && extra.count == 4, "\(result.findings.map(\.message))")
        #expect(extra.map(\.permission?.protocols) == [.icmp, .icmpv6, ProtocolSet(50), .tcp])
        #expect(extra[0].permission?.ports == IntervalSet([8...8]))
        #expect(extra[1].permission?.ports == .full)
        #expect(extra[2].permission?.peer == EndpointSet(names: ["prefix list pl-1"]))
        #expect(extra[3].permission?.peer == EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.0/8")]))
    }

    @Test func valuesAWSWouldNotHoldAreUnreadable() throws {
        var json = try golden("default")
        for permission: [String: Any] in [
            ["IpProtocol": "bogus", "IpRanges": [["CidrIp": "0.0.0.0/0"]]],
            [
                "IpProtocol": "tcp", "FromPort": 80, "ToPort": 70000,
                "IpRanges": [["CidrIp": "0.0.0.0/0"]],
            ],
            ["IpProtocol": "tcp", "IpRanges": [["CidrIp": "0.0.0.0/0"]]],
            [
                "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                "IpRanges": [["CidrIp": "10.0.0.300/8"]],
            ],
            [
                "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                "Ipv6Ranges": [["CidrIpv6": "10.0.0.0/8"]],
            ],
        ] {
            json = try adding(json, group: 0, "IpPermissions", permission)
        }
        let result = try drift(json, reference)
        #expect(result.findings.map(\.kind) == Array(repeating: .unreadable, count: 5))
        #expect(
            result.findings.map(\.message) == [
                "protocol 'bogus' is not understood; the rule is not compared",
                "port range '80-70000' is not understood; the rule is not compared",
                "'tcp' without a port range is not understood; the rule is not compared",
                "'10.0.0.300/8' is not a CIDR; the rule is not compared",
                "'10.0.0.0/8' is not an IPv6 CIDR; the rule is not compared",
            ])
        #expect(
            result.findings.map(\.location)
                == [2, 3, 4, 5, 6].map {
                    location(
                        "SecurityGroups[0].IpPermissions[\($0)].\($0 == 6 ? "Ipv6Ranges" : "IpRanges")[0]"
                    )
                })
        #expect(result.findings.allSatisfy { $0.subject == Subject(.server, .ingress) })
    }

    @Test func flowIdsAreReadFromDescriptions() throws {
        let deployed = try SecurityGroupReader().read(
            [InputText(name: Self.file, contents: try golden("default"))], topology: reference,
            options: ReadOptions())
        let egress = deployed.permissions.filter {
            $0.subject == Subject(.server, .egress) && $0.ports == IntervalSet([443...443])
        }
        #expect(
            egress.first?.flows == ["server-object-storage", "server-vcs", "server-image-pull"])
        #expect(SecurityGroupPermissions.flowIDs(in: "Allow HTTPS: from anywhere") == [])
        #expect(SecurityGroupPermissions.flowIDs(in: nil) == [])
    }

    /// moto's output, captured by `Tests/Checkers/aws_describe.py` (see the fixtures' README),
    /// checked as `SecurityGroupDiffEngineTests` checks it live.
    @Test func capturedMotoOutputReadsAsTheEngineTestSays() throws {
        let folder = Repository.root.appendingPathComponent("Tests/Fixtures/diff/aws")
        let summary = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: folder.appendingPathComponent("moto-aws-ids.json")))
                as? [String: Any])
        let vpc = try #require(summary["vpc"] as? String)
        let ids = try #require(summary["groups"] as? [String: String])
        try SecurityGroupDescribedChecks.checkInSync(
            try String(
                contentsOf: folder.appendingPathComponent("moto-aws-applied.json"), encoding: .utf8),
            vpc: vpc, ids: ids)
        try SecurityGroupDescribedChecks.checkChanges(
            try String(
                contentsOf: folder.appendingPathComponent("moto-aws-changed.json"), encoding: .utf8),
            vpc: vpc, ids: ids)
    }

    // MARK: - Not security groups

    @Test func malformedJSONIsAnErrorWithTheLine() {
        let json = "{\n  \"SecurityGroups\": [\n    {\"GroupName\": \"x\",,}\n  ]\n}\n"
        #expect {
            _ = try SecurityGroupReader().read(
                [InputText(name: "live.json", contents: json)], topology: .reference,
                options: ReadOptions())
        } throws: { error in
            guard let error = error as? ReadError else { return false }
            let message = error.diagnostics.first?.message ?? ""
            return message.hasPrefix("live.json:3: not JSON: ")
        }
    }

    /// What JSON allows only loosely is refused with its line: a key given twice (which of the
    /// two would AWS have meant?), a trailing comma.
    @Test(arguments: [
        ("{\"SecurityGroups\": [],\n \"SecurityGroups\": []}", "live.json:2: not JSON: "),
        ("{\"SecurityGroups\": [\n  {\"GroupName\": \"x\"},\n]}", "live.json:3: not JSON: "),
        ("", "live.json:1: not JSON: "),
    ])
    func looseJSONIsAnErrorWithTheLine(json: String, prefix: String) {
        #expect {
            _ = try SecurityGroupReader().read(
                [InputText(name: "live.json", contents: json)], topology: .reference,
                options: ReadOptions())
        } throws: { error in
            let message = (error as? ReadError)?.diagnostics.first?.message ?? ""
            return message.hasPrefix(prefix)
        }
    }

    @Test(arguments: [
        (
            "{\"SecurityGroupRules\": []}",
            "live.json: no 'SecurityGroups' in the JSON (it has 'SecurityGroupRules')"
        ),
        ("42", "live.json: the JSON is not an object with 'SecurityGroups'"),
        ("{\"SecurityGroups\": {}}", "live.json: SecurityGroups: 'SecurityGroups' is not a list"),
        (
            "{\"SecurityGroups\": [{\"GroupName\": \"spacelift-server\", \"IpPermissions\": [{\"FromPort\": 1}]}]}",
            "live.json: SecurityGroups[0].IpPermissions[0]: 'IpPermissions[0]' has no 'IpProtocol'"
        ),
        (
            "{\"SecurityGroups\": [{\"GroupName\": \"spacelift-server\", \"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"FromPort\": \"1\"}]}]}",
            "live.json: SecurityGroups[0].IpPermissions[0].FromPort: 'FromPort' is not an integer"
        ),
        (
            "{\"SecurityGroups\": [{\"Description\": \"a\"}]}",
            "live.json: SecurityGroups[0]: 'SecurityGroups[0]' has neither 'GroupId' nor 'GroupName'"
        ),
        // A boolean or a fraction is no port, though Foundation would have read 1 and 443.
        (
            "{\"SecurityGroups\": [{\"GroupName\": \"spacelift-server\", \"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"ToPort\": true}]}]}",
            "live.json: SecurityGroups[0].IpPermissions[0].ToPort: 'ToPort' is not an integer"
        ),
        (
            "{\"SecurityGroups\": [{\"GroupName\": \"spacelift-server\", \"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"FromPort\": 443.5}]}]}",
            "live.json: SecurityGroups[0].IpPermissions[0].FromPort: 'FromPort' is not an integer"
        ),
        (
            "{\"SecurityGroups\": [{\"GroupName\": 7}]}",
            "live.json: SecurityGroups[0].GroupName: 'GroupName' is not a string"
        ),
        (
            "[{\"GroupName\": \"spacelift-server\", \"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"IpRanges\": [\"0.0.0.0/0\"]}]}]",
            "live.json: [0].IpPermissions[0].IpRanges[0]: 'IpRanges[0]' is not an object"
        ),
    ])
    func theWrongShapeIsAnError(json: String, message: String) {
        #expect {
            _ = try SecurityGroupReader().read(
                [InputText(name: "live.json", contents: json)], topology: .reference,
                options: ReadOptions())
        } throws: { error in
            (error as? ReadError)?.diagnostics.first?.message == message
        }
    }

    /// Several inputs are one account's groups; a group given twice is compared once.
    @Test func severalInputsAreReadTogether() throws {
        var root = try document(try golden("default"))
        let groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        root["SecurityGroups"] = Array(groups.prefix(3))
        let first = try text(root)
        root["SecurityGroups"] = Array(groups.dropFirst(3))
        let second = try text(root)
        let reader = SecurityGroupReader()
        let deployed = try reader.read(
            [
                InputText(name: "a.json", contents: first),
                InputText(name: "b.json", contents: second),
            ],
            topology: reference, options: ReadOptions())
        let result = Drift(
            expected: reader.expectedPermissions(for: reference, options: ReadOptions()),
            deployed: deployed)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
    }
}
