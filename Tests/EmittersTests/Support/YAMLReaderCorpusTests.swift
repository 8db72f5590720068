import Emitters
import Foundation
import TestSupport
import Testing

/// The YAML reader on real manifests: a corpus of NetworkPolicies as the Kubernetes
/// documentation, Helm and `kubectl` write them (`Tests/Fixtures/yaml/valid`), malformed ones
/// (`Tests/Fixtures/yaml/invalid`, each with its expected error on its first line), and every
/// Kubernetes golden.
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
            #expect(applied["spec"] == sortedWithoutLines(spec))
            #expect(applied["metadata"]?["name"] == item["metadata"]?["name"]?.withoutLines)
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
}
