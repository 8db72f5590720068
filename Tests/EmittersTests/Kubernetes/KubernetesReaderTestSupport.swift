import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// Helpers of the Kubernetes reader's tests: fixtures, goldens, reading and edits of manifests.
enum KubernetesReaderTesting {
    /// `Tests/Fixtures/diff/k8s`.
    static let fixtures = Repository.root.appendingPathComponent("Tests/Fixtures/diff/k8s")

    /// A fixture's text.
    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// The Kubernetes golden of an example.
    static func golden(_ name: String) throws -> String {
        let example = try #require(Example.all.first { $0.name == name })
        return try String(
            contentsOf: example.golden("k8s", KubernetesEmitter.fileName), encoding: .utf8)
    }

    /// What the reader reads from some files.
    static func read(_ files: [(name: String, text: String)], _ topology: Topology) throws
        -> DeployedRules
    {
        try KubernetesReader().read(
            files.map { InputText(name: $0.name, contents: $0.text) }, topology: topology,
            options: ReadOptions())
    }

    /// The drift of some files from the model.
    static func drift(_ files: [(name: String, text: String)], _ topology: Topology) throws
        -> Drift
    {
        Drift(
            expected: KubernetesReader().expectedPermissions(
                for: topology, options: ReadOptions()),
            deployed: try read(files, topology))
    }

    /// The drift of one file, named `networkpolicies.yaml`.
    static func drift(_ text: String, _ topology: Topology) throws -> Drift {
        try drift([(KubernetesEmitter.fileName, text)], topology)
    }

    /// The findings in words, for failure messages.
    static func describe(_ drift: Drift) -> String {
        drift.findings.map {
            "\($0.kind) \($0.subject.map(\.description) ?? "-") \($0.flows) \($0.location.map(\.description) ?? "-"): \($0.message)"
        }.joined(separator: "\n") + "\n"
            + drift.diagnostics.map(\.description).joined(separator: "\n")
    }

    /// `text` with the first `old` after `anchor` replaced by `new`.
    static func replacing(_ old: String, with new: String, after anchor: String, in text: String)
        throws -> String
    {
        let start = try #require(text.range(of: anchor), "no '\(anchor)'")
        let range = try #require(
            text.range(of: old, range: start.upperBound..<text.endIndex),
            "no '\(old)' after '\(anchor)'")
        return text.replacingCharacters(in: range, with: new)
    }

    /// The 1-based line of the first `needle` after `anchor`.
    static func line(of needle: String, after anchor: String = "", in text: String) throws -> Int {
        let start =
            anchor.isEmpty ? text.startIndex : try #require(text.range(of: anchor)).upperBound
        let found = try #require(
            text.range(of: needle, range: start..<text.endIndex), "no '\(needle)'")
        return text[..<found.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }

    /// The documents of a stream but those whose text contains `marker`.
    static func removingDocument(containing marker: String, from text: String) -> String {
        text.components(separatedBy: "\n---\n").filter { !$0.contains(marker) }
            .joined(separator: "\n---\n")
    }
}
