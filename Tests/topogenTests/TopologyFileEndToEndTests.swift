import Foundation
import TestSupport
import Testing

/// `--topology FILE` and `topogen init`, run through the built binary.
@Suite struct TopologyFileEndToEndTests {
    private func write(_ text: String, name: String = "topology.yaml") throws -> URL {
        let directory = try temporaryDirectory("topology")
        let file = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }

    @Test func initWritesTheStarterAndNeverOverwritesWithoutForce() throws {
        let directory = try temporaryDirectory("topology")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("topology.yaml")
        let printed = try Command.topogen(["init"])
        #expect(printed.status == 0 && printed.stderr.isEmpty)
        #expect(try Command.topogen(["init", "-o", file.path]).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == printed.stdout)
        try Data("mine".utf8).write(to: file)
        let again = try Command.topogen(["init", "-o", file.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("error: '\(file.path)' exists"))
        #expect(again.stderr.contains("--force"))
        #expect(try String(contentsOf: file, encoding: .utf8) == "mine")
        #expect(try Command.topogen(["init", "-o", file.path, "--force"]).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == printed.stdout)
        // The starter is the reference installation: the same flows as no options at all.
        let fromFile = try Command.topogen(["flows", "--topology", file.path, "--format", "json"])
        let fromFlags = try Command.topogen(["flows", "--format", "json"])
        #expect(fromFile.status == 0 && fromFile.stdout == fromFlags.stdout)
    }

    @Test func initWritesBesideARelativeOrRootedNameAndRefusesADirectoryName() throws {
        let directory = try temporaryDirectory("topology")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A bare name is written in the current directory, a path's missing directories made.
        #expect(
            try Command.topogen(["init", "-o", "t.yaml"], currentDirectory: directory).status == 0)
        #expect(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("t.yaml").path))
        let nested = directory.appendingPathComponent("a/b/t.yaml")
        #expect(try Command.topogen(["init", "-o", nested.path]).status == 0)
        #expect(FileManager.default.fileExists(atPath: nested.path))
        // A name ending in '/' is a directory's, existing or not: nothing is written.
        for name in ["new/", "a/"] {
            let result = try Command.topogen(["init", "-o", name], currentDirectory: directory)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("error: '\(name)' "), "\(result.stderr)")
            #expect(result.stderr.contains("hint: name a file"))
        }
        #expect(
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent("new").path))
    }

    @Test func aBadFileIsADataErrorWithFileAndLineAndWritesNothing() throws {
        let file = try write(
            """
            workerPools:
              - name: eu
                cidrs: [10.1.0.1/16]
            extraEgress:
              - {name: otel, from: [drainn], ports: [4317], reason: Telemetry}
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let output = file.deletingLastPathComponent().appendingPathComponent("out")
        let result = try Command.topogen([
            "--target", "k8s", "--topology", file.path, "-o", output.path,
        ])
        #expect(result.status == 65)
        #expect(
            result.stderr.contains(
                "\(file.path):3: error: invalid CIDR '10.1.0.1/16' for 'workerPools[0].cidrs[0]': host bits are set"
            ))
        #expect(result.stderr.contains("hint: did you mean '10.1.0.0/16'?"))
        // In the order of the file's lines, as compilers list errors, though found otherwise.
        let lines = result.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(
            lines.map { $0.split(separator: ":")[1] } == ["3", "5"], "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: output.path))
        let missing = try Command.topogen(["flows", "--topology", "/nonexistent/t.yaml"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("cannot read '/nonexistent/t.yaml'"))
    }

    @Test func aFlagOverridesTheFileAndRolesAreThePools() throws {
        let file = try write(
            """
            ports: {postgres: 6432}
            workerPools:
              - {name: eu, cidrs: [10.1.0.0/16]}
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let flows = try Command.topogen([
            "flows", "--topology", file.path, "--postgres-port", "5433",
        ])
        #expect(flows.status == 0)
        #expect(flows.stdout.contains("server-postgres"))
        #expect(flows.stdout.contains("5433") && !flows.stdout.contains("6432"))
        #expect(flows.stdout.contains("worker-eu-object-storage"))
        let wrong = try Command.topogen([
            "--target", "iptables", "--topology", file.path, "--role", "worker",
        ])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("invalid value 'worker' for '--role <role>'"))
        #expect(wrong.stderr.contains("did you mean 'worker-eu'?"))
    }

    @Test func aTopologyFileCanComeFromStandardInput() throws {
        let result = try Command.run(
            Repository.topogen, ["flows", "--topology", "-"],
            stdin: "options: {sqs: true}\n")
        #expect(result.status == 0)
        #expect(result.stdout.contains("scheduler-sqs"))
    }

    /// `topogen graph` prints the renderer's picture: the dot of the reference installation is
    /// the one the README's image is drawn from.
    @Test func graphPrintsThePictureOfTheInstallation() throws {
        let dot = try Command.topogen(["graph", "--format", "dot"])
        #expect(dot.status == 0 && dot.stderr.isEmpty)
        let kept = try String(
            contentsOf: Repository.root.appendingPathComponent("docs/reference-installation.dot"),
            encoding: .utf8)
        #expect(dot.stdout == kept)
        let mermaid = try Command.topogen([
            "graph", "--topology",
            Repository.examples.appendingPathComponent("k8s-gateway.yaml").path,
        ])
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n"))
        #expect(mermaid.stdout.contains("worker pool datacenter (external network)"))
        let wrong = try Command.topogen(["graph", "--format", "png"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("invalid value 'png' for '--format <format>'"))
    }
}
