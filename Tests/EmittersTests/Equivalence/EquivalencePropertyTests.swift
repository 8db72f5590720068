import Foundation
import Testing
import TopologyModel

@testable import Emitters

/// All targets allow exactly the same flows, the model's: random valid topologies
/// (``TopologyGenerator``), every target generated, read back, and compared with the model
/// (``EquivalenceProperty``). `TOPOGEN_PROPERTY_CASES` sets the number of cases (default 200),
/// `TOPOGEN_PROPERTY_SEED` replays one.
@Suite struct EquivalencePropertyTests {
    /// The cases run in this many parallel parts.
    static let parts = 4

    /// The cases of one part of a run: one seed (in part 0), or every `parts`-th of the first
    /// `count` seeds.
    static func seeds(part: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["TOPOGEN_PROPERTY_SEED"], let seed = UInt64(text) {
            return part == 0 ? [seed] : []
        }
        let count = environment["TOPOGEN_PROPERTY_CASES"].flatMap { Int($0) } ?? 200
        return stride(from: part, to: max(count, 0), by: parts).map {
            UInt64($0) &* 0x9E37_79B9 &+ 1
        }
    }

    /// The topology of a seed, through the real decoder and resolver.
    static func topology(seed: UInt64) throws -> (text: String, topology: Topology) {
        let text = TopologyGenerator.file(seed: seed)
        do {
            let spec = try TopologyFile.decode(text)
            return (text, try spec.resolve().topology)
        } catch {
            Issue.record(
                "generator bug: seed \(seed) does not resolve: \(error.diagnostics.map(\.message))\n\(text)"
            )
            throw error
        }
    }

    @Test(arguments: 0..<parts) func everyTargetAllowsExactlyTheModelsFlows(part: Int) throws {
        var failures = 0
        for seed in Self.seeds(part: part) {
            let (text, topology) = try Self.topology(seed: seed)
            let problems = EquivalenceProperty.check(topology, seed: seed)
            guard !problems.isEmpty else { continue }
            failures += 1
            let shown = problems.prefix(12).map(\.description).joined(separator: "\n")
            Issue.record(
                "seed \(seed) (replay: TOPOGEN_PROPERTY_SEED=\(seed)): \(problems.count) problems\n\(shown)\n--- topology ---\n\(text)"
            )
            if failures >= 5 { break }
        }
    }

    @Test func generatorIsDeterministic() {
        #expect(TopologyGenerator.file(seed: 42) == TopologyGenerator.file(seed: 42))
        #expect(TopologyGenerator.file(seed: 42) != TopologyGenerator.file(seed: 43))
    }
}

/// The property can fail: an output with a rule dropped or widened is caught by the model
/// comparison itself (missing or extra), not only by the readers' expectations (drift).
@Suite struct EquivalencePropertyMutationTests {
    /// The seeds the mutations are tried on.
    static let seeds: [UInt64] = [1, 2]

    /// The problems of a seed's topology with one target's file changed.
    private func problems(
        seed: UInt64, target: String, file: String, _ change: (String) -> String
    ) throws -> [EquivalenceProperty.Problem] {
        let (_, topology) = try EquivalencePropertyTests.topology(seed: seed)
        var changed = false
        let problems = EquivalenceProperty.check(topology, seed: seed) { output, text in
            guard output.target == target && output.name == file else { return text }
            let result = change(text)
            changed = changed || result != text
            return result
        }
        #expect(changed, "seed \(seed): the mutation of \(target) \(file) changed nothing")
        return problems
    }

    @Test(arguments: seeds) func unchangedOutputsHaveNoProblems(seed: UInt64) throws {
        let (_, topology) = try EquivalencePropertyTests.topology(seed: seed)
        let problems = EquivalenceProperty.check(topology, seed: seed)
        #expect(problems.isEmpty, "\(problems.map(\.description))")
    }

    /// A change to one output file, and the problem the property must then report.
    struct Mutation: Sendable, CustomStringConvertible {
        /// What the change does, for the test's name.
        var description: String
        /// The target and file changed.
        var target: String
        var file: String
        /// The change.
        var change: @Sendable (String) -> String
        /// The problem expected: its kind, its target (with the host role), and a part of its
        /// message.
        var kind: EquivalenceProperty.Problem.Kind
        var problemTarget: String
        var fragment: String
    }

    /// Rules dropped and widened in several targets.
    static let mutations: [Mutation] = [
        Mutation(
            description: "iptables: the server's HTTP rules dropped", target: "iptables",
            file: "server.sh",
            change: { text in
                text.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.contains("\"lb-server-http\"") }.joined(separator: "\n")
            }, kind: .missing, problemTarget: "iptables server", fragment: "lb-server-http "),
        Mutation(
            description: "nftables: the server's HTTP port widened", target: "nftables",
            file: "server.nft",
            change: {
                $0.replacingOccurrences(of: "tcp dport 1983 ", with: "tcp dport 1983-1990 ")
            }, kind: .extra, problemTarget: "nftables server", fragment: "tcp 1984-1990"),
        Mutation(
            description: "aws: the server's HTTP port widened", target: "aws",
            file: "security-groups.json",
            change: {
                $0.replacingOccurrences(of: "\"FromPort\": 1983,", with: "\"FromPort\": 1000,")
            }, kind: .extra, problemTarget: "aws", fragment: "tcp 1000-1982"),
        Mutation(
            description: "k8s: the server's HTTP port moved", target: "k8s",
            file: "networkpolicies.yaml",
            change: { $0.replacingOccurrences(of: "port: 1983", with: "port: 1982") },
            kind: .missing, problemTarget: "k8s", fragment: "lb-server-http "),
    ]

    @Test(arguments: mutations, seeds) func aChangedRuleIsFound(mutation: Mutation, seed: UInt64)
        throws
    {
        let problems = try problems(
            seed: seed, target: mutation.target, file: mutation.file, mutation.change)
        #expect(
            problems.contains {
                $0.kind == mutation.kind && $0.target == mutation.problemTarget
                    && $0.message.contains(mutation.fragment)
            }, "\(problems.map(\.description))")
    }
}
