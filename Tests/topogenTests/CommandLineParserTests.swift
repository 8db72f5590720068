import Emitters
import Testing
import TopologyModel

@testable import topogen

@Suite struct CommandLineParserTests {
    private func parse(_ arguments: [String]) throws -> Invocation {
        try CommandLineParser().parse(arguments)
    }

    private func generate(_ arguments: [String]) throws -> GenerateRequest {
        guard case .generate(let request) = try parse(arguments) else {
            throw UsageError("not a generate invocation")
        }
        return request
    }

    @Test func generateIsTheDefaultSubcommand() throws {
        let request = try generate(["--target", "k8s", "--with-sqs"])
        #expect(request.target == .kubernetes)
        #expect(request.model.flags.withSQS == Written(true, at: "--with-sqs"))
        #expect(request.outputDirectory == nil)
    }

    @Test func valuesFollowTheirOptionOrAnEqualsSign() throws {
        let request = try generate([
            "--target=k8s", "--postgres-port=6543", "--mqtt-port", "8883", "-o", "out",
            "--cidr", "postgres=10.0.0.0/8,10.1.0.0/16", "--cidr=lb=198.51.100.1",
            "--infrastructure-port", "443", "--infrastructure-port", "6443",
        ])
        #expect(request.model.flags.postgresPort?.value == "6543")
        #expect(request.model.flags.mqttPort?.value == "8883")
        #expect(request.outputDirectory == "out")
        #expect(request.model.flags.addresses.map(\.node) == ["postgres", "lb"])
        #expect(request.model.flags.addresses[0].cidrs == ["10.0.0.0/8", "10.1.0.0/16"])
        #expect(request.model.flags.infrastructurePorts.map(\.value) == ["443", "6443"])
        #expect(try generate(["--target", "k8s", "-oout"]).outputDirectory == "out")
        #expect(try generate(["--target", "k8s", "--output", "dir"]).outputDirectory == "dir")
    }

    @Test func theLastOfARepeatedSingleValueWins() throws {
        let request = try generate([
            "--target", "k8s", "--postgres-port", "1", "--postgres-port", "2",
        ])
        #expect(request.model.flags.postgresPort?.value == "2")
    }

    @Test func helpAndVersion() throws {
        guard case .help(nil) = try parse([]) else { throw UsageError("no root help") }
        guard case .help(nil) = try parse(["-h"]) else { throw UsageError("no root help") }
        guard case .help(.generate) = try parse(["generate", "--help"]) else {
            throw UsageError("no generate help")
        }
        guard case .help(.flows) = try parse(["help", "flows"]) else {
            throw UsageError("no flows help")
        }
        guard case .help(.generate) = try parse(["--target", "k8s", "--help"]) else {
            throw UsageError("no generate help")
        }
        guard case .version = try parse(["--version"]) else { throw UsageError("no version") }
    }

    @Test func flowsTakesAnOptionalTargetAndAFormat() throws {
        guard case .flows(let request) = try parse(["flows", "--format", "json"]) else {
            throw UsageError("not flows")
        }
        #expect(request.target == nil && request.format == .json)
        guard case .flows(let targeted) = try parse(["flows", "--target", "kubernetes"]) else {
            throw UsageError("not flows")
        }
        #expect(targeted.target == .kubernetes && targeted.format == .table)
    }

    @Test(
        arguments: [
            (
                ["--target", "k8s", "--out", "x"], "unknown option '--out'",
                "did you mean '--output'?"
            ),
            (
                ["--target", "k8s", "--with-kmss"], "unknown option '--with-kmss'",
                "did you mean '--with-kms'?"
            ),
            (["flows", "--taget", "k8s"], "unknown option '--taget'", "did you mean '--target'?"),
            (["--target", "kube"], "unknown target 'kube'", nil),
            (["--target", "k8s", "-o"], "missing value for '--output <directory>'", nil),
            (
                ["--target", "k8s", "--cidr", "--with-sqs"],
                "missing value for '--cidr <node=cidr[,cidr...]>'", nil
            ),
            (["flow"], "unknown subcommand 'flow'", "did you mean 'flows'?"),
            (
                ["--target", "k8s", "flows"], "unexpected argument 'flows'",
                "a subcommand comes first: 'topogen flows ...'"
            ),
            (["--target", "k8s", "-o", "a", "--", "b"], "unexpected argument 'b'", nil),
        ] as [([String], String, String?)])
    func usageErrorsSayWhatIsWrong(arguments: [String], message: String, hint: String?) {
        do {
            _ = try CommandLineParser().parse(arguments)
            Issue.record("no error for \(arguments)")
        } catch {
            #expect(error.diagnostics.first?.message == message)
            if let hint { #expect(error.diagnostics.first?.hint == hint) }
        }
    }

    @Test func helpTextListsEveryOptionAndTarget() {
        let text = Help.text(for: .generate)
        for option in OptionSpec.options(for: .generate) {
            #expect(text.contains(option.name), "\(option.name) missing from help")
        }
        for format in Format.allCases {
            #expect(text.contains(format.rawValue))
        }
        for line in text.split(separator: "\n") {
            #expect(line.count <= 100, "help line too long: \(line)")
        }
    }
}
