import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// What the iptables and nftables reader tests share: reading texts as one host's rules, and
/// finding lines in them.
enum HostReaderSupport {
    /// The topology of `topogen` arguments.
    static func topology(_ arguments: [String] = []) throws -> Topology {
        try ExampleTopology.topology(arguments)
    }

    /// The example of this name.
    static func example(_ name: String) throws -> Example {
        try #require(Example.all.first { $0.name == name })
    }

    /// A golden file's text.
    static func golden(_ example: String, _ target: String, _ file: String) throws -> String {
        try String(
            contentsOf: try Self.example(example).golden(target, file), encoding: .utf8)
    }

    /// A fixture's text, from `Tests/Fixtures/diff/`.
    static func fixture(_ path: String) throws -> String {
        try String(
            contentsOf: Repository.root.appendingPathComponent("Tests/Fixtures/diff/\(path)"),
            encoding: .utf8)
    }

    /// Reads texts as the rules of `role` and compares them with the model.
    static func drift(
        _ reader: some RuleReader, _ files: [(name: String, text: String)], role: Node,
        topology: Topology
    ) throws -> (deployed: DeployedRules, drift: Drift) {
        let options = ReadOptions(role: role)
        let deployed = try reader.read(
            files.map { InputText(name: $0.name, contents: $0.text) }, topology: topology,
            options: options)
        let drift = Drift(
            expected: reader.expectedPermissions(for: topology, options: options),
            deployed: deployed)
        return (deployed, drift)
    }

    /// The 1-based number of the first line of `text` that is `line` once trimmed.
    static func line(of line: String, in text: String) throws -> Int {
        let lines = text.components(separatedBy: "\n")
        let index = try #require(
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == line },
            "no line '\(line)'")
        return index + 1
    }

    /// `text` with the first occurrence of `old` replaced.
    static func replacing(_ old: String, with new: String, in text: String) throws -> String {
        let range = try #require(text.range(of: old), "no '\(old)'")
        return text.replacingCharacters(in: range, with: new)
    }

    /// The findings in one line each, for failure messages.
    static func describe(_ drift: Drift) -> String {
        drift.findings.map {
            "\($0.kind) \($0.subject.map(\.description) ?? "-") \($0.flows) \($0.location.map(\.description) ?? "-"): \($0.message)"
        }.joined(separator: "\n")
    }
}
