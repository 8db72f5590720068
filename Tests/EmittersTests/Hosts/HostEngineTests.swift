import Foundation
import TestSupport
import Testing

/// Every iptables and nftables golden, proven on a real kernel by
/// `Tests/Checkers/netns_oracle.py`: in throwaway network namespaces, one per host role and per
/// node address on one bridge, with Docker-like containers behind the worker, each ruleset is
/// checked (`check` changes nothing), loaded for real, applied twice (idempotence: the same
/// ruleset, one jump at the top of each hooked chain, back on top after something was inserted
/// above it), beside Docker- and kube-proxy-like chains that must survive (coexistence), and
/// probed with real packets: TCP, UDP, ICMP and ICMPv6 echo, raw SCTP, every ICMP type, loopback,
/// replies and related ICMP errors, from every host to every address on every port the flows
/// mention and more, into and between containers. Allowed and denied both must match the matrix
/// the oracle derives from the example's arguments, independently of topogen. Finally `remove`
/// must leave the ruleset as it was before.
///
/// Needs root (CI runs as root) and the Debian packages `Scripts/bootstrap.sh` installs; without
/// them these tests fail. Runs one example at a time: the probes' deny timeout is short.
@Suite(.serialized) struct HostEngineTests {
    static let targets = ["iptables", "nftables"]

    @Test(arguments: Example.all, targets)
    func rulesLoadAndAllowExactlyTheFlowsInNetworkNamespaces(example: Example, target: String)
        throws
    {
        let result = try oracle(
            target: target, directory: example.goldenFolder(target), example: example)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("all as expected"), "\(result.stdout)")
    }

    /// The oracle must be able to fail: a worker that may reach postgres is caught.
    @Test(arguments: targets)
    func oracleCatchesAWorkerReachingPostgres(target: String) throws {
        let example = try #require(Example.all.first { $0.name == "hosts" })
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-host-mutant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fileExtension = target == "iptables" ? "sh" : "nft"
        for role in ["server", "drain", "scheduler", "worker"] {
            let name = "\(role).\(fileExtension)"
            var text = try String(contentsOf: example.golden(target, name), encoding: .utf8)
            if role == "worker" {
                let (original, replacement) =
                    target == "iptables"
                    ? (
                        "-A TOPOGEN-OUTPUT -j DROP",
                        "-A TOPOGEN-OUTPUT -p tcp -m tcp --dport 5432 -j ACCEPT\n-A TOPOGEN-OUTPUT -j DROP"
                    )
                    : (
                        "\t\toifname \"lo\" accept",
                        "\t\toifname \"lo\" accept\n\t\ttcp dport 5432 accept"
                    )
                let range = try #require(text.range(of: original))
                text.replaceSubrange(range, with: replacement)
            }
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        }
        let result = try oracle(target: target, directory: directory, example: example)
        #expect(result.status == 1, "the mutant passed:\n\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("MISMATCH"))
    }

    private func oracle(target: String, directory: URL, example: Example) throws -> CommandResult {
        guard getuid() == 0 else {
            throw CommandError(
                description: "the network namespace tests need root (ip netns, iptables, nft)")
        }
        return try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/netns_oracle.py").path,
                "--target", target, "--dir", directory.standardizedFileURL.path,
                "--args-file", example.file.path,
            ])
    }
}
