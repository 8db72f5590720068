import Foundation
import TestSupport
import Testing

/// Every AWS golden, proven by `Tests/Checkers/aws_oracle.py`: botocore's EC2 model accepts the
/// JSON's shape and every permission list as an authorize request; the project's own checks
/// cover ports, protocols, canonical CIDRs, descriptions and the quota; the JSON's rules are
/// the groups `flows.md` implies, derived in the oracle from the example's arguments; and on a
/// moto server on loopback, `apply.sh` (with the real AWS CLI) creates exactly those groups,
/// rules and references, group by group, and a second run succeeds and changes nothing.
@Suite struct SecurityGroupEngineTests {
    @Test(arguments: Example.all)
    func applyScriptCreatesExactlyTheGroupsInMoto(example: Example) throws {
        let result = try oracle(directory: example.goldenFolder("aws"), example: example)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
    }

    /// The oracle must be able to fail: a worker egress rule to the database is caught.
    @Test func oracleCatchesAWorkerReachingTheDatabase() throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-aws-mutant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["security-groups.json", "apply.sh"] {
            var text = try String(contentsOf: example.golden("aws", name), encoding: .utf8)
            if name == "apply.sh" {
                let anchor = "# spacelift-worker egress\n"
                let range = try #require(text.range(of: anchor))
                text.replaceSubrange(
                    range,
                    with: anchor
                        + "want \"$sg_worker\" True \"$sg_worker True tcp 5432 5432 None None None $sg_postgres\" \\\n"
                        + "\t'{\"IpProtocol\":\"tcp\",\"FromPort\":5432,\"ToPort\":5432,\"UserIdGroupPairs\":[{\"GroupId\":\"'\"$sg_postgres\"'\",\"Description\":\"worker-postgres\"}]}'\n"
                )
            }
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        }
        let result = try oracle(directory: directory, example: example)
        #expect(result.status == 1, "the mutant passed:\n\(result.stdout)\(result.stderr)")
    }

    /// A group with exactly as many rules as the quota allows applies: the allow-all egress of a
    /// new group is revoked before the rules are authorized.
    @Test func aGroupAtTheQuotaApplies() throws {
        // Worker egress: the lb group on 443 and on the MQTT port, 0.0.0.0/0 and ::/0 on 443 for
        // object storage, VCS and registries, and 56 infrastructure networks: 60 rules, moto's
        // fixed limit (it counts IPv4, IPv6 and references together; AWS counts each family).
        let cidrs = (0..<56).map { "10.\($0).0.0/16" }.joined(separator: ",")
        let arguments = ["--cidr", "infrastructure=\(cidrs)"]
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-aws-quota-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generated = try Command.topogen(
            ["--target", "aws"] + arguments + ["-o", directory.path])
        #expect(generated.status == 0, "\(generated.stderr)")
        let result = try oracle(
            directory: directory, arguments: ["--args", arguments.joined(separator: " ")])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    private func oracle(directory: URL, example: Example) throws -> CommandResult {
        try oracle(directory: directory, arguments: ["--args-file", example.file.path])
    }

    private func oracle(directory: URL, arguments: [String]) throws -> CommandResult {
        try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/aws_oracle.py").path,
                "--dir", directory.standardizedFileURL.path,
            ] + arguments)
    }
}
