import Emitters
import Foundation
import TestSupport
import Testing

/// The YAML reader on real manifests: a corpus of NetworkPolicies as the Kubernetes
/// documentation, Helm and `kubectl` write them (`Tests/Fixtures/yaml/valid`), malformed ones
/// (`Tests/Fixtures/yaml/invalid`, each with its expected error on its first line), and every
/// Kubernetes golden. Each valid file and golden is also read by PyYAML through
/// `Tests/Checkers/yaml_oracle.py`, with the YAML 1.2 core schema: both readings must be the
/// same value.
///
/// The oracle runs on `.venv/bin/python3` from `Scripts/bootstrap.sh`; a missing checker fails
/// these tests.
@Suite struct YAMLReaderCorpusTests {
    static let valid = Fixture.files(in: "yaml/valid", extension: "yaml")
    static let invalid = Fixture.files(in: "yaml/invalid", extension: "yaml")
    static let goldens = Example.all.map {
        Fixture(url: $0.golden("k8s", "networkpolicies.yaml"), name: "golden/\($0.name)")
    }

    @Test func theCorpusIsThere() {
        #expect(Self.valid.count >= 12)
        #expect(Self.invalid.count >= 12)
        #expect(Self.goldens.count >= 10)
    }

    // MARK: - Valid manifests

    @Test(arguments: valid)
    func readsEveryManifestOfTheCorpus(file: Fixture) throws {
        let documents = try YAMLReader.documents(try file.text())
        #expect(!documents.isEmpty)
        for document in documents {
            let kind = try #require(document["kind"]?.string, "a document without 'kind'")
            #expect(document["apiVersion"]?.string != nil)
            let items = kind == "List" ? document["items"]?.sequence ?? [] : [document]
            #expect(!items.isEmpty)
            for item in items where item["kind"]?.string == "NetworkPolicy" {
                #expect(item["metadata"]?["name"]?.string != nil)
                #expect(item["spec"]?["podSelector"]?.mapping != nil)
            }
        }
    }

    @Test func readsTheDocumentationExample() throws {
        let file = try #require(Self.valid.first { $0.name.hasSuffix("test-network-policy.yaml") })
        let documents = try YAMLReader.documents(try file.text())
        let spec = try #require(documents.first?["spec"])
        let from = try #require(spec["ingress"]?.sequence?.first?["from"]?.sequence)
        #expect(from.first?["ipBlock"]?["cidr"]?.string == "172.17.0.0/16")
        #expect(from.first?["ipBlock"]?["except"]?.sequence?.map(\.string) == ["172.17.1.0/24"])
        #expect(from.first?["ipBlock"]?["except"]?.line == 19)
        let port = try #require(spec["ingress"]?.sequence?.first?["ports"]?.sequence?.first)
        #expect(port["port"]?.int == 6379)
        #expect(port["protocol"]?.string == "TCP")
        #expect(spec["policyTypes"]?.sequence?.map(\.string) == ["Ingress", "Egress"])
    }

    @Test func readsQuotedPortsAsStringsAndYAML11WordsAsStrings() throws {
        let file = try #require(
            Self.valid.first { $0.name.hasSuffix("quoted-ports-and-comments.yaml") })
        let policy = try #require(YAMLReader.documents(try file.text()).first)
        let ports = try #require(policy["spec"]?["ingress"]?.sequence?.first?["ports"]?.sequence)
        #expect(
            ports.map(\.withoutLines).compactMap { $0["port"]?.kind } == [
                .string("8443"), .string("9090"), .string("https"), .int(8080), .int(8080),
            ])
        let labels = try #require(policy["metadata"]?["labels"])
        #expect(labels["enabled"]?.string == "yes")
        #expect(labels["region"]?.string == "no")
        #expect(labels["rollout"]?.bool == true)
        #expect(labels["canary"]?.string == "true")
        #expect(labels["team"]?.string == "payments#core")
    }

    /// `kubectl apply` keeps the applied object as JSON in a block scalar: decoded, it is the
    /// object's own spec.
    @Test func lastAppliedConfigurationIsTheObjectsSpec() throws {
        let file = try #require(Self.valid.first { $0.name.hasSuffix("kubectl-get-list.yaml") })
        let list = try #require(YAMLReader.documents(try file.text()).first)
        let items = try #require(list["items"]?.sequence)
        #expect(items.count == 2)
        for item in items {
            let annotation = try #require(
                item["metadata"]?["annotations"]?[
                    "kubectl.kubernetes.io/last-applied-configuration"]?
                    .string)
            #expect(annotation.hasSuffix("}\n"))
            let applied = try YAMLValue(json: Data(annotation.utf8))
            let spec = try #require(item["spec"])
            let appliedSpec = try #require(applied["spec"])
            #expect(sortedWithoutLines(appliedSpec) == sortedWithoutLines(spec))
            #expect(
                applied["metadata"]?["name"]?.withoutLines
                    == item["metadata"]?["name"]?.withoutLines)
        }
    }

    private func sortedWithoutLines(_ value: YAMLValue) -> YAMLValue {
        switch value.kind {
        case .sequence(let items): return YAMLValue(.sequence(items.map(sortedWithoutLines)))
        case .mapping(let entries):
            return YAMLValue(
                .mapping(
                    entries.sorted { $0.key < $1.key }.map {
                        YAMLValue.Entry(key: $0.key, value: sortedWithoutLines($0.value))
                    }))
        default: return value.withoutLines
        }
    }

    @Test func skipsTheDocumentsHelmLeavesEmpty() throws {
        let file = try #require(Self.valid.first { $0.name.hasSuffix("helm-rendered.yaml") })
        let documents = try YAMLReader.documents(try file.text())
        #expect(
            documents.compactMap { $0["metadata"]?["name"]?.string } == [
                "webapp-default-deny", "webapp", "webapp-redis",
            ])
        #expect(documents.map(\.line) == [3, 24, 77])
    }

    // MARK: - Invalid manifests

    @Test(arguments: invalid)
    func refusesEveryMalformedManifestAtItsLine(file: Fixture) throws {
        let text = try file.text()
        let firstLine = text.prefix { $0 != "\n" }
        let prefix = "# expected: "
        try #require(firstLine.hasPrefix(prefix), "the first line must say '\(prefix)...'")
        let expected = String(firstLine.dropFirst(prefix.count))
        #expect(throws: YAMLError.self) { try YAMLReader.documents(text) }
        do {
            _ = try YAMLReader.documents(text)
        } catch {
            #expect(error.description == expected)
        }
    }

    // MARK: - Goldens

    @Test(arguments: goldens)
    func readsEveryGolden(file: Fixture) throws {
        let text = try file.text()
        let documents = try YAMLReader.documents(text)
        let markers = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 == "---" }
        #expect(documents.count == markers.count)
        for document in documents {
            #expect(document["apiVersion"]?.string == "networking.k8s.io/v1")
            #expect(document["kind"]?.string == "NetworkPolicy")
            #expect(
                document["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.string
                    == "topogen")
            for rule in (document["spec"]?["ingress"]?.sequence ?? [])
                + (document["spec"]?["egress"]?.sequence ?? [])
            {
                for port in rule["ports"]?.sequence ?? [] {
                    #expect(port["port"]?.int != nil, "line \(port.line ?? 0)")
                }
            }
        }
    }

    // MARK: - PyYAML

    @Test(arguments: valid + goldens)
    func pyyamlReadsTheSameValue(file: Fixture) throws {
        let oracle = try runOracle([file.url])
        let expected = try #require(oracle.readings[file.url.path], "\(oracle.output)")
        let actual = try Self.canonical(YAMLReader.documents(try file.text()))
        #expect(oracle.status == 0, "\(expected)")
        #expect(actual == expected, "\(lineDiff(expected: expected, actual: actual))")
    }

    /// The oracle can disagree: it reads the core schema, not PyYAML's YAML 1.1 one, and it
    /// refuses what PyYAML refuses.
    @Test func theOracleReadsYAML12AndRefusesBrokenYAML() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-yaml-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = directory.appendingPathComponent("schema.yaml")
        let text = "[yes, no, on, 0o17, 0x1F, 007, 1e3, 2001-12-14, 1_000, ~, True, .inf, '1']\n"
        try Data(text.utf8).write(to: schema)
        let broken = directory.appendingPathComponent("broken.yaml")
        try Data("a: [1, 2\n".utf8).write(to: broken)
        let oracle = try runOracle([schema, broken])
        #expect(oracle.status == 1)
        #expect(oracle.readings[schema.path] == (try Self.canonical(YAMLReader.documents(text))))
        #expect(
            oracle.readings[schema.path]?.contains(#"string "yes""#) == true
                && oracle.readings[schema.path]?.contains("int 15") == true)
        #expect(oracle.readings[broken.path]?.hasPrefix("error: ") == true)
    }

    private struct OracleResult {
        var status: Int32
        var readings: [String: String]
        var output: String
    }

    private func runOracle(_ files: [URL]) throws -> OracleResult {
        let script = Repository.root.appendingPathComponent("Tests/Checkers/yaml_oracle.py")
        let result = try Command.run(
            try Command.checker("python3"), [script.path] + files.map(\.path))
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let readings = try #require(object as? [String: String], "\(result.stdout)\(result.stderr)")
        return OracleResult(
            status: result.status, readings: readings, output: result.stdout + result.stderr)
    }

    /// The oracle's canonical text for documents (see `yaml_oracle.py`).
    static func canonical(_ documents: [YAMLValue]) -> String {
        var lines: [String] = []
        for document in documents {
            lines.append("document")
            canonical(document, level: 1, into: &lines)
        }
        return lines.joined(separator: "\n")
    }

    private static func canonical(_ value: YAMLValue, level: Int, into lines: inout [String]) {
        let pad = String(repeating: "  ", count: level)
        switch value.kind {
        case .null: lines.append(pad + "null")
        case .bool(let value): lines.append(pad + "bool \(value)")
        case .int(let value): lines.append(pad + "int \(value)")
        case .double(let value):
            lines.append(pad + "float " + (value.isNaN ? "nan" : String(value.bitPattern)))
        case .string(let value): lines.append(pad + "string " + jsonString(value))
        case .sequence(let items):
            lines.append(pad + "sequence")
            for item in items { canonical(item, level: level + 1, into: &lines) }
        case .mapping(let entries):
            lines.append(pad + "mapping")
            for entry in entries {
                lines.append(pad + "  key " + jsonString(entry.key))
                canonical(entry.value, level: level + 2, into: &lines)
            }
        }
    }

    /// A string as Python's `json.dumps` writes it: ASCII only, UTF-16 escapes in lower case.
    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: result += "\\\""
            case 0x5C: result += "\\\\"
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0x09: result += "\\t"
            case 0x08: result += "\\b"
            case 0x0C: result += "\\f"
            case 0x20...0x7E: result.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return result + "\""
    }
}
