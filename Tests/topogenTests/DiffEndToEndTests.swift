import Foundation
import TestSupport
import Testing

/// `topogen diff` run as users run it: every target's own output is in sync with the options
/// it was generated from, a changed rule is reported, and bad inputs fail with 64 or 65.
@Suite struct DiffEndToEndTests {
    /// The targets, and for each the inputs of one golden folder: the whole folder, or one
    /// file per host role.
    static let targets = ["k8s", "iptables", "nftables", "aws", "terraform"]

    /// The `--against` arguments (and `--role`) that cover every file of a golden folder.
    static func invocations(_ example: Example, target: String) throws -> [[String]] {
        let folder = example.goldenFolder(target)
        switch target {
        case "iptables", "nftables":
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(!files.isEmpty)
            return files.map { file in
                let role = String(file.prefix { $0 != "." })
                return ["--role", role, "--against", folder.appendingPathComponent(file).path]
            }
        default:
            return [["--against", folder.path]]
        }
    }

    @Test(arguments: Example.all, targets)
    func theGoldenOfEveryExampleIsInSyncWithItsOptions(example: Example, target: String) throws {
        for inputs in try Self.invocations(example, target: target) {
            let result = try Command.topogen(
                ["diff", "--target", target] + inputs + example.arguments)
            #expect(
                result.status == 0,
                "\(example) \(inputs.joined(separator: " ")):\n\(result.stdout)\(result.stderr)")
            #expect(result.stdout.hasPrefix("in sync"))
            #expect(!result.stderr.contains("error:"))
        }
    }

    /// Moving Postgres to another port in the rules is drift: `server-postgres` is missing,
    /// and the rule on the new port is extra, on every target (broader on Kubernetes, whose
    /// rule to any address also holds 443).
    @Test(arguments: targets)
    func aRuleOnTheWrongPortIsReportedMissingAndExtra(target: String) throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let scratch = try Scratch()
        let folder = example.goldenFolder(target)
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let text = try String(
                contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            try text.replacingOccurrences(of: "5432", with: "5433").write(
                to: scratch.url.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        var inputs = ["--against", scratch.url.path]
        if target == "iptables" || target == "nftables" {
            let file = target == "iptables" ? "server.sh" : "server.nft"
            inputs = [
                "--role", "server", "--against", scratch.url.appendingPathComponent(file).path,
            ]
        }
        let result = try Command.topogen(
            ["diff", "--target", target, "--format", "json"] + inputs + example.arguments)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let findings = try #require((report as? [String: Any])?["findings"] as? [[String: Any]])
        let serverEgress = findings.filter {
            $0["component"] as? String == "server" && $0["direction"] as? String == "egress"
        }
        #expect(
            serverEgress.contains {
                $0["kind"] as? String == "missing"
                    && ($0["flows"] as? [String])?.contains("server-postgres") == true
            }, "\(result.stdout)")
        #expect(
            serverEgress.contains {
                ["extra", "broader"].contains($0["kind"] as? String ?? "")
                    && ($0["message"] as? String)?.contains("5433") == true
            }, "\(result.stdout)")
        #expect(
            serverEgress.allSatisfy {
                ["missing", "extra", "broader"].contains($0["kind"] as? String ?? "")
            })
        let text = try Command.topogen(["diff", "--target", target] + inputs + example.arguments)
        #expect(text.status == 1)
        #expect(text.stdout.contains("server egress\n"))
        #expect(text.stdout.contains("drift: "))
    }

    @Test func readsStandardInput() throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let yaml = try String(
            contentsOf: example.golden("k8s", "networkpolicies.yaml"), encoding: .utf8)
        let result = try Command.run(
            Repository.topogen, ["diff", "--target", "k8s", "--against", "-"], stdin: yaml)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    struct BadInput: Sendable, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var mentions: [String]
        var description: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        .init(
            arguments: ["--target", "k8s", "--against", "/nonexistent/policies.yaml"], status: 65,
            mentions: ["'/nonexistent/policies.yaml'"]),
        .init(
            arguments: ["--target", "iptables", "--against", "golden/default/iptables"],
            status: 64, mentions: ["'--role <role>'"]),
        .init(
            arguments: [
                "--target", "iptables", "--role", "server", "--against", "golden/default/iptables",
            ], status: 65, mentions: ["'golden/default/iptables' is a directory"]),
        .init(
            arguments: [
                "--target", "k8s", "--against", "golden/default/k8s", "--group", "server=x",
            ],
            status: 64, mentions: ["'--group'"]),
        .init(
            arguments: [
                "--target", "aws", "--against", "golden/default/aws", "--group", "api=sg-1",
            ],
            status: 64, mentions: ["'api'"]),
        .init(arguments: ["--target", "aws"], status: 64, mentions: ["'--against <path>'"]),
        .init(
            arguments: ["--target", "aws", "--against", "golden/default/aws", "--format", "yaml"],
            status: 64, mentions: ["'yaml'"]),
        .init(
            arguments: ["--target", "aws", "--against", "golden/default/k8s"], status: 65,
            mentions: ["'golden/default/k8s' has no *.json files"]),
        .init(
            arguments: ["--target", "aws", "--against", "golden/default/aws/apply.sh"], status: 65,
            mentions: ["apply.sh"]),
        .init(
            arguments: ["--target", "k8s", "--against", "golden/default/aws/apply.sh"], status: 65,
            mentions: ["apply.sh"]),
    ]

    @Test(arguments: badInputs)
    func badInputsFailWithAClearError(input: BadInput) throws {
        let result = try Command.topogen(
            ["diff"] + input.arguments, currentDirectory: Repository.root)
        #expect(result.status == input.status, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        for text in input.mentions {
            #expect(result.stderr.contains(text), "\(result.stderr)")
        }
    }
}

/// A temporary directory, removed when the value goes away.
final class Scratch: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "topogen-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
