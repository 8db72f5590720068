import Foundation
import TestSupport
import Testing

/// The built binary, run as users run it: exit status, stdout and stderr checked separately.
@Suite struct EndToEndTests {
    /// One bad invocation: its arguments, the exit status, and text the error must contain
    /// (the offending value, quoted).
    struct BadInvocation: Sendable, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var mentions: [String]
        /// Whether to add `-o DIR`, to check that nothing is written.
        var writes = true
        var description: String { arguments.joined(separator: " ") }
    }

    static let badInvocations: [BadInvocation] = [
        .init(
            arguments: ["--target", "k8"], status: 64, mentions: ["'k8'", "did you mean 'k8s'?"]),
        .init(
            arguments: ["--target", "iptabls"], status: 64, mentions: ["unknown target 'iptabls'"]),
        .init(arguments: ["--with-sqs"], status: 64, mentions: ["missing '--target <target>'"]),
        .init(
            arguments: ["--target", "k8s", "--with-sq"], status: 64,
            mentions: ["'--with-sq'", "'--with-sqs'"]),
        .init(
            arguments: ["--target", "k8s", "--bogus"], status: 64,
            mentions: ["unknown option '--bogus'"]),
        .init(
            arguments: ["--target"], status: 64, mentions: ["missing value for '--target <target>'"]
        ),
        .init(
            arguments: ["--target", "k8s", "--postgres-port"], status: 64,
            mentions: ["'--postgres-port <port>'"]),
        .init(
            arguments: ["--target", "k8s", "--postgres-port", "70000"], status: 64,
            mentions: ["'70000'", "1 to 65535"]),
        .init(
            arguments: ["--target", "k8s", "--postgres-port", "0"], status: 64, mentions: ["'0'"]),
        .init(
            arguments: ["--target", "k8s", "--postgres-port", "pg"], status: 64, mentions: ["'pg'"]),
        .init(
            arguments: ["--target", "k8s", "--postgres-port", "5432-5433"], status: 64,
            mentions: ["'5432-5433'", "not a range"]),
        .init(
            arguments: ["--target", "k8s", "--mqtt-port", "1983"], status: 64,
            mentions: ["'1983'", "HTTP port"]),
        .init(
            arguments: ["--target", "k8s", "--infrastructure-port", "2000-1000"], status: 64,
            mentions: ["'2000-1000'"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgres=10.0.0.300/16"], status: 64,
            mentions: ["'10.0.0.300/16'"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgres=10.0.0.1/8"], status: 64,
            mentions: ["'10.0.0.1/8'", "'10.0.0.0/8'"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgres=2001:db8::1/32"], status: 64,
            mentions: ["'2001:db8::1/32'", "'2001:db8::/32'"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgres=10.0.0.0/33"], status: 64,
            mentions: ["'10.0.0.0/33'"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgress=10.0.0.0/8"], status: 64,
            mentions: ["'postgress'", "did you mean 'postgres'?"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "10.0.0.0/8"], status: 64,
            mentions: ["'10.0.0.0/8'", "NODE=CIDR"]),
        .init(
            arguments: ["--target", "k8s", "--cidr", "postgres="], status: 64,
            mentions: ["names no CIDR"]),
        .init(
            arguments: ["--target", "k8s", "--with-iot-core"], status: 64,
            mentions: ["'--with-iot-core' requires '--with-sqs'"]),
        .init(
            arguments: ["--target", "k8s", "--workers", "outside"], status: 64,
            mentions: ["'outside'", "in-cluster, external"]),
        .init(
            arguments: ["--target", "k8s", "--namespace", "Spacelift"], status: 64,
            mentions: ["'Spacelift'"]),
        .init(
            arguments: ["--target", "k8s", "--worker-namespace", "spacelift"], status: 64,
            mentions: ["'spacelift'", "namespace of their own"]),
        .init(
            arguments: ["--target", "k8s", "--with-sqs=yes"], status: 64,
            mentions: ["'--with-sqs' takes no value"]),
        .init(
            arguments: ["genrate", "--target", "k8s"], status: 64,
            mentions: ["'genrate'", "did you mean 'generate'?"]),
        .init(
            arguments: ["--target", "k8s", "extra"], status: 64,
            mentions: ["unexpected argument 'extra'"]),
        .init(
            arguments: ["flows", "--format", "yaml"], status: 64,
            mentions: ["'yaml'", "table, json"]),
        .init(
            arguments: ["help", "nosuch"], status: 64, mentions: ["'nosuch'", "subcommands are"]),
        .init(
            arguments: ["--target", "k8s", "-o", ""], status: 64,
            mentions: ["invalid value '' for '--output <directory>'"], writes: false),
        .init(
            arguments: ["--target", "k8s", "--namespace", "--version"], status: 64,
            mentions: ["'--namespace <namespace>'"]),
        .init(
            arguments: ["--target", "iptables"], status: 64,
            mentions: ["'--target iptables'", "--role"], writes: false),
        .init(
            arguments: ["--target", "nftables", "--with-sqs"], status: 64,
            mentions: ["'--role <role>'"], writes: false),
        .init(
            arguments: ["--target", "iptables", "--role", "web"], status: 64,
            mentions: ["'web'", "server, drain, scheduler, worker"]),
        .init(
            arguments: ["--target", "iptables", "--role", "servr"], status: 64,
            mentions: ["did you mean 'server'?"]),
        .init(
            arguments: ["--target", "iptables", "--role", "postgres"], status: 64,
            mentions: ["'postgres'"]),
        .init(
            arguments: ["--target", "k8s", "--role", "server"], status: 64,
            mentions: ["'--role'", "'--target k8s'"]),
        .init(
            arguments: ["--target", "nftables", "--allow-ssh-from", "192.0.2.1/24"], status: 64,
            mentions: ["'192.0.2.1/24'", "'192.0.2.0/24'"]),
        .init(
            arguments: ["--target", "iptables", "--allow-ssh-from", "bastion"], status: 64,
            mentions: ["'bastion'", "'--allow-ssh-from'"]),
    ]

    @Test(arguments: badInvocations)
    func badInvocationFailsClearlyAndWritesNothing(_ bad: BadInvocation) throws {
        let directory = try temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out")
        // `flows` and `help` write no files; every other invocation asks for an output directory.
        let writes = bad.writes && !["flows", "help"].contains(bad.arguments.first ?? "")
        let result = try Command.topogen(bad.arguments + (writes ? ["-o", output.path] : []))
        #expect(result.status == bad.status, "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "), "stderr: \(result.stderr)")
        for text in bad.mentions {
            #expect(result.stderr.contains(text), "stderr lacks \(text): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let result = try Command.topogen([
            "--target", "k8s", "--with-iot-core", "--infrastructure-port", "70000",
            "--postgres-port", "0",
            "--cidr", "postgres=10.0.0.1/8", "--cidr", "vsc=10.0.0.0/8",
        ])
        #expect(result.status == 64)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 5, "\(result.stderr)")
    }

    @Test func unwritableOutputFailsWithStatusOneAndLeavesNothing() throws {
        // Root ignores permission bits, so use places no one can write: below a regular file,
        // and inside /proc.
        let directory = try temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("file")
        try Data("keep\n".utf8).write(to: file)
        for output in [file.path, file.appendingPathComponent("sub").path, "/proc/topogen-out"] {
            let result = try Command.topogen(["--target", "k8s", "-o", output])
            #expect(result.status == 1, "\(output): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("'\(output)"))
            #expect(result.stdout.isEmpty)
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["file"])
    }

    @Test func outputDirectoryReceivesTheSameBytesAsStdout() throws {
        let directory = try temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: directory) }
        let nested = directory.appendingPathComponent("a/b")
        try Data("other\n".utf8).write(to: directory.appendingPathComponent("keep.txt"))
        let written = try Command.topogen(["--target", "k8s", "--with-sqs", "-o", nested.path])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        let printed = try Command.topogen(["--target", "k8s", "--with-sqs"])
        let file = nested.appendingPathComponent("networkpolicies.yaml")
        #expect(try String(contentsOf: file, encoding: .utf8) == printed.stdout)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: nested.path) == [
                "networkpolicies.yaml"
            ])
        // Overwriting in place also works, and leaves other files alone.
        let again = try Command.topogen(["--target", "k8s", "-o", nested.path])
        #expect(again.status == 0)
        #expect(
            try String(contentsOf: directory.appendingPathComponent("keep.txt"), encoding: .utf8)
                == "other\n")
    }

    @Test func dashAsTheOutputDirectoryMeansStandardOutput() throws {
        let dash = try Command.topogen(["--target", "k8s", "-o", "-"])
        #expect(dash.status == 0)
        #expect(dash.stdout == (try Command.topogen(["--target", "k8s"])).stdout)
        let role = try Command.topogen(["--target", "nftables", "--role", "drain", "-o", "-"])
        #expect(role.status == 0 && role.stdout.contains("table inet topogen {"))
    }

    @Test func aSecurityGroupOverTheQuotaFailsUnlessTheQuotaIsRaised() throws {
        let cidrs = (0..<61).map { "10.\($0).0.0/16" }.joined(separator: ",")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-quota-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let over = try Command.topogen([
            "--target", "aws", "--cidr", "infrastructure=\(cidrs)", "-o", directory.path,
        ])
        #expect(over.status == 64)
        #expect(
            over.stderr.hasPrefix(
                "error: security group 'spacelift-worker' would have 64 IPv4 egress rules; the quota is 60"
            ), "\(over.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        let raised = try Command.topogen([
            "--target", "aws", "--cidr", "infrastructure=\(cidrs)", "--max-rules", "200",
        ])
        #expect(raised.status == 0, "\(raised.stderr)")
        #expect(raised.stdout.contains("\"CidrIp\": \"10.60.0.0/16\""))
    }

    @Test func defaultSubcommandIsGenerate() throws {
        let implicit = try Command.topogen(["--target", "k8s", "--with-sqs"])
        let explicit = try Command.topogen(["generate", "--target", "k8s", "--with-sqs"])
        #expect(implicit.status == 0)
        #expect(implicit.stdout == explicit.stdout)
        #expect(implicit.stdout.contains("kind: NetworkPolicy"))
    }

    @Test func helpIsTheSameWhicheverWayItIsAsked() throws {
        for subcommand in ["generate", "flows"] {
            let dashH = try Command.topogen([subcommand, "-h"])
            let long = try Command.topogen([subcommand, "--help"])
            let help = try Command.topogen(["help", subcommand])
            #expect(dashH.status == 0 && long.status == 0 && help.status == 0)
            #expect(dashH.stdout == long.stdout && long.stdout == help.stdout)
            #expect(dashH.stdout.hasPrefix("OVERVIEW: "))
            #expect(dashH.stderr.isEmpty)
        }
        let root = try Command.topogen(["--help"])
        #expect(root.stdout.contains("SUBCOMMANDS:") && root.status == 0)
        #expect(try Command.topogen([]).stdout == root.stdout)
    }

    @Test func versionPrintsOneLine() throws {
        let result = try Command.topogen(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    /// Loading Foundation's full library (with its ICU data) costs about 3 ms of every start,
    /// as long as rendering the reference installation: the binary keeps to
    /// FoundationEssentials and the C library.
    @Test func theBinaryDoesNotLoadFoundation() throws {
        let libraries = try Command.run(try Command.system("ldd"), [Repository.topogen.path])
        #expect(libraries.status == 0, "\(libraries.stderr)")
        #expect(libraries.stdout.contains("libswiftCore.so"), "\(libraries.stdout)")
        for library in [
            "libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so",
        ] {
            #expect(!libraries.stdout.contains(library), "\(library) is loaded")
        }
    }

    @Test func flowsTableAndJSON() throws {
        let table = try Command.topogen(["flows", "--with-sqs", "--target", "k8s"])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("ID "))
        #expect(table.stdout.contains("scheduler-sqs"))
        #expect(!table.stdout.contains("image-pull"))
        let json = try Command.topogen([
            "flows", "--format", "json", "--cidr", "postgres=10.0.0.0/16",
        ])
        #expect(json.status == 0)
        let object =
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let flows = object?["flows"] as? [[String: Any]] ?? []
        #expect(flows.contains { $0["id"] as? String == "server-image-pull" })
        let addresses = object?["addresses"] as? [String: [String]]
        #expect(addresses?["postgres"] == ["10.0.0.0/16"])
    }

    @Test func warningsGoToStandardErrorAndDoNotFail() throws {
        let result = try Command.topogen([
            "--target", "k8s", "--with-sqs", "--with-iot-core", "--mqtt-port", "8883",
        ])
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("warning: '--mqtt-port' has no effect"))
        #expect(result.stdout.contains("kind: NetworkPolicy"))
    }
}
