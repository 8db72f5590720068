import Emitters
import Foundation
import TestSupport
import Testing
import TopologyModel

/// The topology file's JSON Schema, `schema/topology.schema.json`, judged by an independent
/// validator (python-jsonschema, through `Tests/Checkers/schema_check.py`): it is a valid
/// draft 2020-12 schema with a description on every property, every example file and every
/// file of `Tests/Fixtures/topology/valid` validates, and every file of
/// `Tests/Fixtures/topology/invalid` is rejected at the field its first line names
/// (`# error: workerPools[0].name`, the path topogen names for the same mistake). The schema
/// and the decoder agree: topogen rejects every file the schema rejects, naming that path, and
/// accepts every file the schema accepts, `topogen init`'s starter among them.
@Suite struct TopologySchemaTests {
    /// `schema/topology.schema.json`.
    static let schema = Repository.root.appendingPathComponent("schema/topology.schema.json")

    /// The topology files of `examples/`.
    static var examples: [URL] {
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: Repository.examples.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted().map {
            Repository.examples.appendingPathComponent($0)
        }
    }

    /// The files the schema must accept beside the examples.
    static var valid: [URL] {
        (Fixture.files(in: "topology/valid", extension: "yaml")
            + Fixture.files(in: "topology/valid", extension: "json")).map(\.url)
    }

    /// The files the schema must reject.
    static var invalid: [URL] {
        Fixture.files(in: "topology/invalid", extension: "yaml").map(\.url)
    }

    /// The checker's report: the schema's problems, and each file's result.
    struct Report: Decodable {
        /// A file's result.
        struct File: Decodable {
            var expected: String
            var errors: [String]
            var ok: Bool
            var problem: String?
        }

        var schema: [String]
        var files: [String: File]
    }

    /// Runs the checker on a schema and files.
    static func check(schema: URL, valid: [URL], invalid: [URL]) throws -> (
        status: Int32, report: Report
    ) {
        let script = Repository.root.appendingPathComponent("Tests/Checkers/schema_check.py")
        let result = try Command.run(
            try Command.checker("python3"),
            [script.path, schema.path, "--valid"] + valid.map(\.path) + ["--invalid"]
                + invalid.map(\.path))
        #expect(result.status == 0 || result.status == 1, "schema_check.py: \(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return (result.status, report)
    }

    @Test func theSchemaAcceptsTheExamplesAndRejectsEveryInvalidFile() throws {
        #expect(Self.examples.count >= 2)
        #expect(Self.valid.count >= 3)
        #expect(Self.invalid.count >= 12)
        let (status, report) = try Self.check(
            schema: Self.schema, valid: Self.examples + Self.valid, invalid: Self.invalid)
        #expect(report.schema.isEmpty, "\(report.schema)")
        #expect(report.files.count == Self.examples.count + Self.valid.count + Self.invalid.count)
        for (path, file) in report.files.sorted(by: { $0.key < $1.key }) {
            let name = URL(fileURLWithPath: path).lastPathComponent
            #expect(
                file.ok,
                "\(name) (\(file.expected)): \(file.problem ?? "") \(file.errors.joined(separator: "; "))"
            )
        }
        #expect(status == 0)
    }

    @Test func theStarterValidates() throws {
        let directory = try temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(at: directory) }
        let starter = directory.appendingPathComponent("topology.yaml")
        try Data(TopologyFile.starter.utf8).write(to: starter)
        let (status, report) = try Self.check(schema: Self.schema, valid: [starter], invalid: [])
        #expect(status == 0, "\(report.files.values.flatMap(\.errors))")
    }

    /// The errors of a file topogen does not resolve; empty when it does.
    static func topogenErrors(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        do {
            _ = try TopologyFile.decode(text).resolve()
            return []
        } catch {
            return error.diagnostics.filter { $0.severity == .error }.map(\.message)
        }
    }

    @Test func topogenRejectsEveryFileTheSchemaRejectsAtTheSameField() throws {
        for url in Self.invalid {
            let first =
                try String(contentsOf: url, encoding: .utf8)
                .split(separator: "\n").first ?? ""
            let path = first.dropFirst("# error: ".count)
            let errors = try Self.topogenErrors(url)
            #expect(!errors.isEmpty, "topogen accepts \(url.lastPathComponent)")
            #expect(
                errors.contains { $0.contains("'\(path)'") },
                "\(url.lastPathComponent): no error names '\(path)': \(errors)")
        }
    }

    @Test func topogenAcceptsEveryFileTheSchemaAccepts() throws {
        for url in Self.examples + Self.valid {
            #expect(try Self.topogenErrors(url).isEmpty, "\(url.lastPathComponent)")
        }
    }

    @Test func everyInvalidFileNamesItsBadFieldOnItsFirstLine() throws {
        let path = try Regex(
            #"# error: [A-Za-z][A-Za-z0-9-]*(\[[0-9]+\]|\.[A-Za-z][A-Za-z0-9-]*)*"#)
        for url in Self.invalid {
            let first =
                try String(contentsOf: url, encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
            #expect(first.wholeMatch(of: path) != nil, "\(url.lastPathComponent): \(first)")
        }
    }

    @Test func theCheckerFailsWhenTheSchemaAcceptsTooMuch() throws {
        // A schema that accepts anything: every invalid file must then be reported.
        let directory = try temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lenient = directory.appendingPathComponent("lenient.schema.json")
        try Data(
            #"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"options": {"type": "object"}}}"#
                .utf8
        ).write(to: lenient)
        let (status, report) = try Self.check(
            schema: lenient, valid: [], invalid: Array(Self.invalid.prefix(3)))
        #expect(status == 1)
        #expect(report.schema.contains { $0.hasPrefix("no description") })
        #expect(report.files.values.allSatisfy { !$0.ok && $0.problem == "the schema accepts it" })
    }
}
