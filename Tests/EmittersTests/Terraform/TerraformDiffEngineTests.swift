import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// `topogen diff` for Terraform, proven with the real engines:
///
/// - every hand-written configuration the reader tests read
///   (`Tests/Fixtures/diff/terraform/*`) is one terraform accepts: `terraform fmt -check` and
///   `terraform validate` with the real AWS provider (`Tests/Checkers/tf_validate.py`);
/// - topogen's module of the `aws` example (prefix lists, IPv4 and IPv6, a custom port and
///   prefix), applied by terraform to a moto server (in ``TerraformEngineTests``, by
///   `Tests/Checkers/terraform_oracle.py --describe-out`, so that it is applied once), is read back
///   as AWS then holds it, by `aws ec2 describe-security-groups`, and the AWS reader finds it in
///   sync with the model, matching groups by name and, a second time, by the ids the applied
///   state (`terraform show -json`) holds; the permissions AWS holds are exactly those the
///   Terraform reader reads from the module's text.
///
/// Needs terraform and its AWS provider mirror, moto and the AWS CLI in `.venv`
/// (`Scripts/bootstrap.sh`); a missing one fails the test. About 10 s here.
@Suite struct TerraformDiffEngineTests {
    @Test func handWrittenFixturesAreValidTerraform() throws {
        let fixtures = Repository.root.appendingPathComponent("Tests/Fixtures/diff/terraform")
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted()
        #expect(names.count == 4)
        let result = try Command.run(
            try Command.checker("python3"),
            [Repository.root.appendingPathComponent("Tests/Checkers/tf_validate.py").path]
                + names.map { fixtures.appendingPathComponent($0).path })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("4 configurations accepted by terraform fmt and validate"),
            "\(result.stdout)")
    }

    /// What `terraform_oracle.py --describe-out OUT` wrote after applying the `aws` example's
    /// module to moto (the run of ``TerraformEngineTests``, so that the module is applied once):
    /// `aws ec2 describe-security-groups` of its VPC reads back in sync, by group name and by the
    /// ids of the state, with only the VPC's default group left out; and the permissions AWS holds
    /// are exactly those the Terraform reader reads from the module's text.
    static func checkReadBack(_ out: URL, example: Example) throws {
        // The groups are in moto's VPC, which `--vpc-id` names as a user's names theirs.
        let vpc = try String(contentsOf: out.appendingPathComponent("vpc-id"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var arguments = example.arguments
        let option = try #require(arguments.firstIndex(of: "--vpc-id"))
        arguments[option + 1] = vpc
        let topology = try ExampleTopology.topology(arguments)
        let describe = try String(
            contentsOf: out.appendingPathComponent("describe-security-groups.json"), encoding: .utf8
        )
        let described = [InputText(name: "describe-security-groups.json", contents: describe)]
        let aws = Format.aws.reader
        let expected = aws.expectedPermissions(for: topology, options: ReadOptions())

        // By name.
        let byName = try aws.read(described, topology: topology, options: ReadOptions())
        let drift = Drift(expected: expected, deployed: byName)
        #expect(drift.findings.map(\.message) == [])
        #expect(byName.unreadable.isEmpty)
        let defaultGroup = try Self.defaultGroup(describe)
        #expect(
            byName.diagnostics.map(\.message)
                == ["1 security group matches no node and is not compared: '\(defaultGroup)'"],
            "only the VPC's default group is left out")

        // By the ids of the applied state.
        let ids = try Self.groupIDs(inState: out.appendingPathComponent("state.json"))
        #expect(Set(ids.keys) == Set(SecurityGroupEmitter.groupedNodes(in: topology)))
        let byID = try aws.read(described, topology: topology, options: ReadOptions(groups: ids))
        #expect(Drift(expected: expected, deployed: byID).findings.map(\.message) == [])
        for (node, id) in ids {
            #expect(describe.contains("\"GroupId\": \"\(id)\""), "\(node)'s group \(id) is in AWS")
        }

        // What AWS holds is what the module says.
        let module = try ["main.tf", "outputs.tf", "variables.tf", "versions.tf"].map {
            InputText(
                name: $0,
                contents: try String(contentsOf: example.golden("terraform", $0), encoding: .utf8))
        }
        let configured = try Format.terraform.reader.read(
            module, topology: topology, options: ReadOptions())
        #expect(Self.allowed(byName.permissions) == Self.allowed(configured.permissions))
    }

    /// What permissions allow, without where they were written.
    private static func allowed(_ permissions: [Permission]) -> Set<Permission> {
        Set(
            permissions.map {
                Permission(
                    subject: $0.subject, peer: $0.peer, protocols: $0.protocols, ports: $0.ports)
            })
    }

    /// `default (sg-...)`: the VPC's default group, as the AWS reader labels it.
    private static func defaultGroup(_ describe: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(describe.utf8))
        let groups = (object as? [String: Any])?["SecurityGroups"] as? [[String: Any]] ?? []
        let group = try #require(groups.first { $0["GroupName"] as? String == "default" })
        return "\(group["GroupId"] as? String ?? "?") (default)"
    }

    /// The id of each node's group in `terraform show -json` of the applied module.
    private static func groupIDs(inState url: URL) throws -> [Node: String] {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        var modules = [((state as? [String: Any])?["values"] as? [String: Any])?["root_module"]]
            .compactMap { $0 as? [String: Any] }
        var ids: [Node: String] = [:]
        while let module = modules.popLast() {
            modules += module["child_modules"] as? [[String: Any]] ?? []
            for resource in module["resources"] as? [[String: Any]] ?? []
            where resource["type"] as? String == "aws_security_group" {
                let values = resource["values"] as? [String: Any]
                if let key = resource["index"] as? String, let node = Node(rawValue: key),
                    let id = values?["id"] as? String
                {
                    ids[node] = id
                }
            }
        }
        return ids
    }
}
