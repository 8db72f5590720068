import Foundation
import TestSupport
import Testing

@testable import Emitters
@testable import TopologyModel

/// The AWS and Terraform targets on topology-file shapes, proven by the engines: each shape of
/// ``AWSTopologyShapes`` is rendered next to its topology file (the example's own, or one
/// written here), and `Tests/Checkers/aws_oracle.py --topology`, which derives the groups from
/// the file independently, checks the JSON against botocore's EC2 model and applies `apply.sh`
/// to moto (with the existing groups of external nodes created there first), twice;
/// `Tests/Checkers/terraform_oracle.py --topology` runs `terraform fmt`, `validate` and an
/// offline `plan` with the real AWS provider. For `aws-two-pools` the module is also applied to
/// moto, compared with `apply.sh`'s groups, and what moto then describes (and terraform's state)
/// reads back in sync through both readers.
///
/// About 3 minutes on this machine; a missing engine fails the test.
@Suite(.serialized) struct SecurityGroupShapeEngineTests {
    /// The topology file of each shape.
    static let files: [String: String] = [
        "aws-two-pools": "examples/aws-two-pools.yaml",
        "k8s-gateway": "examples/k8s-gateway.yaml",
    ]

    /// The topology files of the variations, in their order.
    static let variationFiles = [
        """
        workerPools:
          - name: eu
            infrastructure: {cidrs: [10.1.0.0/16]}
          - name: us
            placement: external
        vcsGateway: {grpcPort: 2984, httpPort: 2985}
        egressProxy:
          port: 8080
          cidrs: [10.0.0.10/32, "2001:db8::10/128"]
        extraEgress:
          - name: usage
            from: [drain, worker-eu]
            ports: [443, 514/udp]
            reason: "Usage reporting — 'café' ${var} <b>\\"quoted\\"</b>"
        """,
        """
        options: {sqs: true}
        nodes:
          postgres:
            cidrs: [10.0.8.0/22]
            securityGroups: [sg-0d1e2f3a4b5c6d7e8]
        workerPools:
          - name: a1
            infrastructure: {ports: ["30000-32767"]}
        egressProxy: {port: 3128}
        privateEndpoints:
          sqs:
            cidrs: [10.0.9.0/24]
            prefixLists: ["pl-0abc1234:2"]
            securityGroups: [sg-0123456789abcdef0, sg-89abcdef]
          vcs:
            securityGroups: [sg-0aaaabbbbccccdddd]
        """,
    ]

    /// A shape's rendered targets and its topology file, in a fresh directory.
    private func rendered(_ name: String) throws -> (directory: URL, topology: Topology) {
        let shapes = AWSTopologyShapes.all
        let index = try #require(shapes.firstIndex { $0.0 == name })
        let topology = shapes[index].1
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-aws-shape-\(UUID().uuidString)")
        for (target, emitter) in [
            ("aws", SecurityGroupEmitter() as any Emitter), ("terraform", TerraformEmitter()),
        ] {
            let folder = directory.appendingPathComponent(target)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in try emitter.render(topology).files {
                let url = folder.appendingPathComponent(file.name)
                try Data(file.contents.utf8).write(to: url)
                if file.isExecutable {
                    try FileManager.default.setAttributes(
                        [.posixPermissions: 0o755], ofItemAtPath: url.path)
                }
            }
        }
        let text: String
        if let path = Self.files[name] {
            text = try String(
                contentsOf: Repository.root.appendingPathComponent(path), encoding: .utf8)
        } else {
            text = Self.variationFiles[index - 2]
        }
        try Data(text.utf8).write(to: directory.appendingPathComponent("topology.yaml"))
        return (directory, topology)
    }

    /// The topology as moto holds it: in moto's VPC, with moto's ids for the existing groups.
    static func inMoto(_ topology: Topology, vpc: String, ids: [String: String]) -> Topology {
        let aws = topology.aws
        return Topology(
            usesSQS: topology.usesSQS, usesIoTCore: topology.usesIoTCore,
            usesKMS: topology.usesKMS, postgresPort: topology.postgresPort,
            mqttPort: topology.mqttPort, workerPools: topology.workerPools,
            vcsGateway: topology.vcsGateway, egressProxy: topology.egressProxy,
            extraEgress: topology.extraEgress, privateEndpoints: topology.privateEndpoints,
            kubernetes: topology.kubernetes,
            aws: AWSPlacement(
                vpcID: vpc, namePrefix: aws.namePrefix, maxRules: aws.maxRules,
                prefixLists: aws.prefixLists,
                securityGroups: aws.securityGroups.mapValues { $0.compactMap { ids[$0] }.sorted() }),
            addresses: topology.addresses)
    }

    /// `apply.sh` of the two-pool installation in moto, described by the real AWS CLI, reads
    /// back in sync (references to the existing groups by id); then the server's egress to the
    /// database's group is revoked and SSH opened on a pool's group, and each change is exactly
    /// its finding.
    @Test func whatMotoDescribesAfterApplyShIsInSyncAndChangesAreFound() throws {
        let (directory, topology) = try rendered("aws-two-pools")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("described")
        let existing = Set(topology.aws.securityGroups.values.joined()).sorted()
        let result = try checker(
            "aws_describe.py",
            ["--dir", directory.appendingPathComponent("aws").path, "--out", out.path]
                + existing.flatMap { ["--existing", $0] } + [
                    "--aws",
                    // moto matches a group pair with its description
                    #"ec2 revoke-security-group-egress --group-id <spacelift-prod-server> --ip-permissions '[{"IpProtocol":"tcp","FromPort":5432,"ToPort":5432,"UserIdGroupPairs":[{"GroupId":"<existing-sg-0d1e2f3a4b5c6d7e8>","Description":"server-postgres: Server egress Postgres"}]}]'"#,
                    "--aws",
                    "ec2 authorize-security-group-ingress --group-id <spacelift-prod-worker-private> --protocol tcp --port 22 --cidr 0.0.0.0/0",
                ])
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let vpc = try #require(summary["vpc"] as? String)
        let ids = try #require(summary["existing"] as? [String: String])
        let moto = Self.inMoto(topology, vpc: vpc, ids: ids)
        func drift(_ file: String) throws -> (Drift, DeployedRules) {
            let text = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            let reader = SecurityGroupReader()
            let deployed = try reader.read(
                [InputText(name: file, contents: text)], topology: moto, options: ReadOptions())
            return (
                Drift(
                    expected: reader.expectedPermissions(for: moto, options: ReadOptions()),
                    deployed: deployed), deployed
            )
        }
        let (before, deployed) = try drift("describe-0.json")
        #expect(before.isInSync, "\(before.findings.map(\.message))")
        #expect(
            deployed.diagnostics.allSatisfy { !$0.message.contains("existing-") },
            "the existing groups are the external nodes': \(deployed.diagnostics.map(\.message))")
        let (after, _) = try drift("describe-1.json")
        let found = Set(
            after.findings.map { "\($0.kind) \($0.subject?.description ?? "-") \($0.flows)" })
        #expect(
            found == [
                "missing server egress [\"server-postgres\"]",
                "extra worker-private ingress []",
            ], "\(after.findings.map(\.message))")
    }

    private func checker(_ script: String, _ arguments: [String]) throws -> CommandResult {
        try Command.run(
            try Command.checker("python3"),
            [Repository.root.appendingPathComponent("Tests/Checkers/\(script)").path] + arguments)
    }

    /// The example files are proven as every example is (`SecurityGroupEngineTests`,
    /// `TerraformEngineTests`, from their goldens); here, the variations.
    @Test(arguments: AWSTopologyShapes.variations.map(\.0))
    func applyShAndTheModuleAreAcceptedAndMeanTheTopologyFile(name: String) throws {
        let (directory, _) = try rendered(name)
        defer { try? FileManager.default.removeItem(at: directory) }
        let topologyFile = directory.appendingPathComponent("topology.yaml").path
        let aws = try checker(
            "aws_oracle.py",
            ["--dir", directory.appendingPathComponent("aws").path, "--topology", topologyFile])
        #expect(aws.status == 0, "\(aws.stdout)\(aws.stderr)")
        #expect(aws.stdout.contains("all as expected"), "\(aws.stdout)")
        guard name != "aws-two-pools" else { return }  // applied to moto below
        let terraform = try checker(
            "terraform_oracle.py",
            [
                "--dir", directory.appendingPathComponent("terraform").path, "--aws-dir",
                directory.appendingPathComponent("aws").path, "--topology", topologyFile,
                "--no-moto",
            ])
        #expect(terraform.status == 0, "\(terraform.stdout)\(terraform.stderr)")
        #expect(terraform.stdout.contains("all as expected"), "\(terraform.stdout)")
    }

    /// The oracle must be able to fail on a topology file: a pool's worker reaching the RDS
    /// database's existing group is caught.
    @Test func theOracleCatchesAPoolReachingTheDatabasesGroup() throws {
        let (directory, _) = try rendered("aws-two-pools")
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("aws/security-groups.json")
        var root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        var groups = try #require(root["SecurityGroups"] as? [[String: Any]])
        let index = try #require(
            groups.firstIndex { $0["GroupName"] as? String == "spacelift-prod-worker-private" })
        var egress = try #require(groups[index]["IpPermissionsEgress"] as? [[String: Any]])
        egress.append([
            "FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp", "IpRanges": [Any](),
            "Ipv6Ranges": [Any](), "PrefixListIds": [Any](),
            "UserIdGroupPairs": [
                ["GroupId": "sg-0d1e2f3a4b5c6d7e8", "Description": "worker-private-postgres"]
            ],
        ])
        groups[index]["IpPermissionsEgress"] = egress
        root["SecurityGroups"] = groups
        try JSONSerialization.data(withJSONObject: root).write(to: json)
        let result = try checker(
            "aws_oracle.py",
            [
                "--dir", directory.appendingPathComponent("aws").path, "--topology",
                directory.appendingPathComponent("topology.yaml").path, "--no-moto",
            ])
        #expect(result.status == 1, "the mutant passed:\n\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("FAIL  workers have no path to the database"), "\(result.stdout)"
        )
    }

    /// The two-pool installation: terraform applies it to moto like `apply.sh`, and what moto
    /// describes and terraform's state read back in sync (the existing groups under moto's ids).
    @Test func theTwoPoolModuleAppliedToMotoReadsBackInSync() throws {
        let (directory, topology) = try rendered("aws-two-pools")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("read-back")
        let result = try checker(
            "terraform_oracle.py",
            [
                "--dir", directory.appendingPathComponent("terraform").path, "--aws-dir",
                directory.appendingPathComponent("aws").path, "--topology",
                directory.appendingPathComponent("topology.yaml").path, "--describe-out", out.path,
            ])
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
        let vpc = try String(contentsOf: out.appendingPathComponent("vpc-id"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let ids = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("existing-groups.json")))
                as? [String: String])
        let moto = Self.inMoto(topology, vpc: vpc, ids: ids)
        #expect(moto.aws.securityGroups.values.allSatisfy { !$0.isEmpty })
        let describe = try String(
            contentsOf: out.appendingPathComponent("describe-security-groups.json"),
            encoding: .utf8)
        let reader = SecurityGroupReader()
        let deployed = try reader.read(
            [InputText(name: "describe-security-groups.json", contents: describe)],
            topology: moto, options: ReadOptions())
        let drift = Drift(
            expected: reader.expectedPermissions(for: moto, options: ReadOptions()),
            deployed: deployed)
        #expect(drift.isInSync, "\(drift.findings.map(\.message))")
        #expect(
            deployed.diagnostics.map(\.message).allSatisfy {
                $0.contains("'default'") || $0.contains("(default)")
            },
            "only the VPC's default group is left out: \(deployed.diagnostics.map(\.message))")
        // The module itself, given moto's ids as the variables' defaults, reads back in sync.
        let module = try TerraformEmitter().render(moto).files.map {
            InputText(name: $0.name, contents: $0.contents)
        }
        let terraform = TerraformReader()
        let read = try terraform.read(module, topology: moto, options: ReadOptions())
        let moduleDrift = Drift(
            expected: terraform.expectedPermissions(for: moto, options: ReadOptions()),
            deployed: read)
        #expect(moduleDrift.isInSync, "\(moduleDrift.findings.map(\.message))")
    }
}
