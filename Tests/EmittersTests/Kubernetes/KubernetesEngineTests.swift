import Foundation
import TestSupport
import Testing

@testable import Emitters

/// Every Kubernetes golden, judged by real engines: kubernetes-validate's schemas, and
/// network-config-analyzer (NCA) through `Tests/Checkers/k8s_oracle.py`, which runs NCA's
/// sanity check and compares NCA's connectivity for a cluster fixture with the matrix
/// `flows.md` implies, written there independently of topogen's own derivation: allows and
/// denials alike.
///
/// The checkers come from `Scripts/bootstrap.sh`; a missing checker fails these tests.
@Suite struct KubernetesEngineTests {
    static let fileName = "networkpolicies.yaml"

    @Test(arguments: Example.all)
    func kubernetesValidateAcceptsTheGolden(example: Example) throws {
        let result = try Command.run(
            try Command.checker("kubernetes-validate"),
            ["--strict", "--quiet", "-k", "1.32", example.golden("k8s", Self.fileName).path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test(arguments: Example.all)
    func networkConfigAnalyzerFindsExactlyTheFlows(example: Example) throws {
        let result = try oracle(policies: example.golden("k8s", Self.fileName), example: example)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
    }

    /// The checkers must be able to fail: each mutation of a correct golden is caught.
    @Test(arguments: [
        ("widened port", "port: 5432", "port: 5432\n          endPort: 5440"),
        (
            "worker to postgres", "# worker-server",
            "# worker-server\n    - ports:\n        - protocol: TCP\n          port: 5432\n    # worker-server"
        ),
        (
            "no default deny",
            "  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n---",
            "  podSelector:\n    matchLabels:\n      nothing: here\n  policyTypes:\n    - Ingress\n    - Egress\n---"
        ),
        (
            "MQTT from anywhere",
            "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: spacelift-workers\n",
            "    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n"
        ),
    ])
    func oracleCatchesAMutation(name: String, original: String, replacement: String) throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let text = try String(contentsOf: example.golden("k8s", Self.fileName), encoding: .utf8)
        let range = try #require(text.range(of: original), "mutation '\(name)' does not apply")
        let mutated = text.replacingCharacters(in: range, with: replacement)
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-mutant-\(UUID().uuidString).yaml")
        try Data(mutated.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try oracle(policies: file, example: example)
        #expect(result.status == 1, "mutation '\(name)' passed:\n\(result.stdout)\(result.stderr)")
    }

    @Test func checkersRejectInvalidPolicies() throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let text = try String(contentsOf: example.golden("k8s", Self.fileName), encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-invalid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let typo = directory.appendingPathComponent("typo.yaml")
        try Data(text.replacingOccurrences(of: "policyTypes:", with: "policyType:").utf8)
            .write(to: typo)
        let validate = try Command.run(
            try Command.checker("kubernetes-validate"),
            ["--strict", "--quiet", "-k", "1.32", typo.path])
        #expect(validate.status != 0)
        let badPort = directory.appendingPathComponent("port.yaml")
        try Data(text.replacingOccurrences(of: "port: 5432", with: "port: 70000").utf8)
            .write(to: badPort)
        #expect(try oracle(policies: badPort, example: example).status != 0)
    }

    /// The oracle on an example's arguments (flags, or `--topology FILE`).
    private func oracle(policies: URL, example: Example) throws -> CommandResult {
        try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/k8s_oracle.py").path,
                "--policies", policies.path, "--args=" + example.arguments.joined(separator: " "),
                "--nca", try Command.checker("nca").path,
            ])
    }

    private func oracle(policies: URL, argsFile: URL) throws -> CommandResult {
        try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/k8s_oracle.py").path,
                "--policies", policies.path, "--args-file", argsFile.path,
                "--nca", try Command.checker("nca").path,
            ])
    }

    // MARK: Topology files

    /// The fixture topologies of the shapes topology files add, each with the topology file
    /// that describes it to the oracle (which reads the file itself).
    static let topologyCases: [(name: String, file: String)] = [
        ("k8s-gateway", "examples/k8s-gateway.yaml"),
        ("aws-two-pools", "Tests/Fixtures/topologies/k8s-aws-two-pools.yaml"),
        ("labelled pools", "Tests/Fixtures/topologies/k8s-labelled-pools.yaml"),
    ]

    /// The rendered policies of a fixture topology in a temporary file, and its topology file.
    private func rendered(_ name: String, mutation: (String) throws -> String = { $0 }) throws
        -> (policies: URL, topology: URL)
    {
        let topology = try #require(KubernetesTopologies.all.first { $0.name == name }).topology
        let file = try #require(Self.topologyCases.first { $0.name == name }).file
        let text = try mutation(try KubernetesTopologyTests.render(topology))
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-k8s-\(UUID().uuidString).yaml")
        try Data(text.utf8).write(to: url)
        return (url, Repository.root.appendingPathComponent(file))
    }

    /// The example files are checked as every example is (`policiesAreValidAndExactlyTheFlows`);
    /// here, the shapes no example has.
    @Test(
        arguments: topologyCases.map(\.name).filter { $0 != "k8s-gateway" && $0 != "aws-two-pools" }
    )
    func topologyShapesAreValidAndExactlyTheFlows(name: String) throws {
        let (policies, topology) = try rendered(name)
        defer { try? FileManager.default.removeItem(at: policies) }
        let validate = try Command.run(
            try Command.checker("kubernetes-validate"),
            ["--strict", "--quiet", "-k", "1.32", policies.path])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let result = try oracle(policies: policies, argsFile: topology)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
    }

    /// The oracle catches a wrong rule of each new shape.
    @Test(arguments: [
        (
            "k8s-gateway", "postgres by namespace alone", "# server-postgres",
            "          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: postgresql\n",
            ""
        ),
        (
            "k8s-gateway", "gRPC from anywhere", "name: spacelift-vcs-gateway",
            "    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: ingress-nginx\n      ports:",
            "    - ports:"
        ),
        (
            "k8s-gateway", "no MQTT from the external pool", "# lb-server-mqtt",
            "        - ipBlock:\n            cidr: 192.0.2.0/24\n", ""
        ),
        (
            "k8s-gateway", "otel collector port widened", "# server-otel-collector", "port: 4317",
            "port: 4317\n          endPort: 4320"
        ),
        (
            "labelled pools", "green for every pod", "name: spacelift-worker-green",
            "  podSelector:\n    matchLabels:\n      spacelift.io/pool: green\n",
            "  podSelector: {}\n"
        ),
        (
            "labelled pools", "no metrics address", "# server-metrics",
            "        - ipBlock:\n            cidr: 10.9.0.0/24\n", ""
        ),
        (
            "labelled pools", "proxy namespace only", "# worker-batch-object-storage",
            "          podSelector:\n            matchLabels:\n              app: squid\n", ""
        ),
    ])
    func oracleCatchesAMutationOfATopologyShape(
        name: String, mutation: String, anchor: String, original: String, replacement: String
    ) throws {
        let (policies, topology) = try rendered(name) { text in
            try KubernetesReaderTesting.replacing(
                original, with: replacement, after: anchor, in: text)
        }
        defer { try? FileManager.default.removeItem(at: policies) }
        let result = try oracle(policies: policies, argsFile: topology)
        #expect(
            result.status == 1, "mutation '\(mutation)' passed:\n\(result.stdout)\(result.stderr)")
    }

    @Test func oracleCatchesAMissingPoolNamespaceDefaultDeny() throws {
        let (policies, topology) = try rendered("labelled pools") { text in
            KubernetesReaderTesting.removingDocument(
                containing: "name: spacelift-default-deny\n  namespace: runners\n", from: text)
        }
        defer { try? FileManager.default.removeItem(at: policies) }
        let result = try oracle(policies: policies, argsFile: topology)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains(
                "FAIL  pods of pool namespaces that no pool selects are isolated"))
    }
}
