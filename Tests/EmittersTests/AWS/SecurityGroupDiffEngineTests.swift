import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// What AWS itself prints, read back: `Tests/Checkers/aws_describe.py` applies the `aws`
/// example's `apply.sh` to a moto server with the real AWS CLI, prints `aws ec2
/// describe-security-groups` of the whole account (moto's default VPC and its default group, the
/// new VPC's default group, topogen's groups, with moto's `sg-` ids and references by id), then
/// changes the groups with the AWS CLI and describes them again. The reader must find the first
/// in sync, by resolving ids to group names, and each change as exactly its finding.
///
/// One moto session (about 40 s: `apply.sh` makes some thirty AWS CLI calls); a missing moto or
/// AWS CLI fails the test.
@Suite struct SecurityGroupDiffEngineTests {
    /// The changes made in moto after `apply.sh`: an SSH rule opened to the world on the server,
    /// the clients' IPv4 HTTPS removed from the load balancer, and every TCP port opened to the
    /// server's group on the database.
    static let changes = [
        "ec2 authorize-security-group-ingress --group-id <spacelift-prod-server> --protocol tcp --port 22 --cidr 0.0.0.0/0",
        "ec2 revoke-security-group-ingress --group-id <spacelift-prod-lb> --ip-permissions IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]",
        "ec2 authorize-security-group-ingress --group-id <spacelift-prod-postgres> --protocol tcp --port 0-65535 --source-group <spacelift-prod-server>",
    ]

    @Test func whatMotoDescribesAfterApplyIsInSyncAndEachChangeIsFound() throws {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-aws-describe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let example = try #require(Example.all.first { $0.name == "aws" })
        let result = try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/aws_describe.py").path,
                "--dir", example.goldenFolder("aws").path, "--out", out.path,
            ] + Self.changes.flatMap { ["--aws", $0] })
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let vpc = try #require(summary["vpc"] as? String)
        let ids = try #require(summary["groups"] as? [String: String])
        let before = try String(
            contentsOf: out.appendingPathComponent("describe-0.json"), encoding: .utf8)
        let after = try String(
            contentsOf: out.appendingPathComponent("describe-1.json"), encoding: .utf8)
        try SecurityGroupDescribedChecks.checkInSync(before, vpc: vpc, ids: ids)
        try SecurityGroupDescribedChecks.checkChanges(after, vpc: vpc, ids: ids)
    }
}

/// The checks on moto's output, shared by the engine test and the unit test of the captured
/// fixtures (`Tests/Fixtures/diff/aws/moto-*.json`).
enum SecurityGroupDescribedChecks {
    /// The `aws` example's topology in moto's VPC.
    static func topology(vpc: String) throws -> Topology {
        let example = try #require(Example.all.first { $0.name == "aws" })
        var arguments = example.arguments
        let index = try #require(arguments.firstIndex(of: "--vpc-id"))
        arguments[index + 1] = vpc
        return try ExampleTopology.topology(arguments)
    }

    static func drift(_ json: String, name: String, vpc: String) throws -> Drift {
        let topology = try topology(vpc: vpc)
        let reader = SecurityGroupReader()
        let deployed = try reader.read(
            [InputText(name: name, contents: json)], topology: topology, options: ReadOptions())
        return Drift(
            expected: reader.expectedPermissions(for: topology, options: ReadOptions()),
            deployed: deployed)
    }

    /// The JSON path of the first peer of a permission of a group, found in the JSON itself.
    static func path(
        in json: String, group id: String, _ key: String, where matches: ([String: Any]) -> Bool,
        peers: String
    ) throws -> String {
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        let group = try #require(groups.firstIndex { $0["GroupId"] as? String == id })
        let permissions = try #require(groups[group][key] as? [[String: Any]])
        guard let permission = permissions.firstIndex(where: matches) else {
            throw CommandError(description: "no such permission in \(id) \(key)")
        }
        return "SecurityGroups[\(group)].\(key)[\(permission)].\(peers)[0]"
    }

    static func checkInSync(_ json: String, vpc: String, ids: [String: String]) throws {
        let result = try drift(json, name: "describe-0.json", vpc: vpc)
        #expect(result.isInSync, "\(result.findings.map(\.message))")
        // The default VPC's default group, and the default group of topogen's VPC.
        let messages = result.diagnostics.map(\.message)
        #expect(messages.count == 2, "\(messages)")
        #expect(
            messages.first?.hasPrefix("1 security group is in other VPCs than '\(vpc)'") == true,
            "\(messages)")
        #expect(
            messages.last
                == "1 security group matches no node and is not compared: '\(ids["default"] ?? "?") (default)'"
        )
    }

    static func checkChanges(_ json: String, vpc: String, ids: [String: String]) throws {
        let file = "describe-1.json"
        let result = try drift(json, name: file, vpc: vpc)
        let summary = result.findings.map { "\($0.kind) \($0.subject.map(\.description) ?? "-")" }
        #expect(
            summary == ["extra server ingress", "missing lb ingress", "broader postgres ingress"],
            "\(result.findings.map(\.message))")
        guard result.findings.count == 3 else { return }
        let server = try #require(ids["spacelift-prod-server"])
        let postgres = try #require(ids["spacelift-prod-postgres"])

        let missing = result.findings[1]
        #expect(missing.flows == ["clients-lb-https"])
        #expect(missing.permission?.peer == EndpointSet.anyIPv4)
        #expect(
            missing.message
                == "clients-lb-https: tcp 443 from clients (0.0.0.0/0) is not allowed (the rest of the flow is)"
        )

        let broader = result.findings[2]
        #expect(broader.flows == ["server-postgres"])
        #expect(broader.reasons == ["all ports"])
        #expect(
            broader.location
                == SourceLocation(
                    file: file,
                    path: try path(
                        in: json, group: postgres, "IpPermissions",
                        where: { $0["ToPort"] as? Int == 65535 }, peers: "UserIdGroupPairs")))
        #expect(
            broader.message.hasPrefix(
                "'spacelift-prod-postgres ingress tcp 0-65535 from spacelift-prod-server'"))

        let extra = result.findings[0]
        #expect(extra.flows == [])
        #expect(
            extra.location
                == SourceLocation(
                    file: file,
                    path: try path(
                        in: json, group: server, "IpPermissions",
                        where: { $0["FromPort"] as? Int == 22 }, peers: "IpRanges")))
        #expect(
            extra.message
                == "'spacelift-prod-server ingress tcp 22 from 0.0.0.0/0' allows tcp 22 from 0.0.0.0/0, which no flow requires"
        )
    }
}
