import Emitters
import Foundation
import TestSupport
import Testing
import TopologyModel

/// The picture of an installation: every flow of the model is an edge labelled with its
/// transport and ports, in Mermaid (read back by a small parser of the flowchart lines the
/// renderer writes) and in Graphviz (read back from `dot -Tjson`, so the engine itself says what
/// it understood), with nodes grouped by network or namespace.
@Suite struct GraphRendererTests {
    // MARK: - Mermaid, read back

    @Test(arguments: GraphTopologies.all)
    func mermaidHasEveryFlowAsALabelledEdge(named: GraphTopologies.Named) throws {
        let text = GraphRenderer.render(named.topology, format: .mermaid)
        let chart = try MermaidChart(parsing: text)
        try expectEveryFlowDrawn(
            named.topology, edges: chart.edges, names: chart.nodeNames, groups: chart.groups)
        for id in chart.nodeNames.keys.sorted() + chart.groups.keys.sorted() {
            #expect(id.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil, "unsafe Mermaid id \(id)")
            #expect(id != "end")
        }
    }

    // MARK: - Graphviz, read back by the engine

    @Test(arguments: GraphTopologies.all)
    func graphvizAcceptsTheDotAndDrawsEveryFlow(named: GraphTopologies.Named) throws {
        let text = GraphRenderer.render(named.topology, format: .dot)
        let svg = try Command.run(try Graphviz.dot(), ["-Tsvg"], stdin: text)
        #expect(svg.status == 0 && svg.stderr.isEmpty, "dot -Tsvg: \(svg.stderr)")
        #expect(svg.stdout.contains("<svg"))
        let chart = try GraphvizChart(json: try Graphviz.json(text))
        try expectEveryFlowDrawn(
            named.topology, edges: chart.edges, names: chart.nodeNames, groups: chart.groups)
        for flow in named.topology.flows() {
            let edge = chart.edges.first {
                $0.source == flow.source.name && $0.destination == flow.destination.name
                    && $0.label == Self.label(flow.ports)
            }
            #expect(edge?.flowIDs.contains(flow.id) == true, "tooltip of \(flow.id)")
        }
    }

    /// Every flow is exactly one edge between the nodes of its source and destination, labelled
    /// with its ports; no edge stands for no flow; every node is in exactly one group, labelled
    /// first with its name.
    private func expectEveryFlowDrawn(
        _ topology: Topology, edges: [DrawnEdge], names: [String: String],
        groups: [String: DrawnGroup]
    ) throws {
        let flows = topology.flows()
        #expect(!flows.isEmpty)
        var expected = Set<DrawnEdge>()
        for flow in flows {
            expected.insert(
                DrawnEdge(
                    source: flow.source.name, destination: flow.destination.name,
                    label: Self.label(flow.ports)))
        }
        let drawn = edges.map {
            DrawnEdge(
                source: names[$0.source] ?? "?", destination: names[$0.destination] ?? "?",
                label: $0.label)
        }
        #expect(drawn.count == Set(drawn).count, "an edge is drawn twice")
        #expect(Set(drawn) == expected, "edges differ from flows")
        let drawnNodes = Set(flows.flatMap { [$0.source.name, $0.destination.name] })
        #expect(Set(names.values) == drawnNodes)
        #expect(names.count == drawnNodes.count, "a node is drawn twice")
        let grouped = groups.values.flatMap(\.nodes)
        #expect(grouped.count == Set(grouped).count, "a node is in two groups")
        #expect(Set(grouped) == Set(names.keys), "a node is in no group")
    }

    /// The label the picture must show for a flow's ports, written independently of the
    /// renderer: `tcp/443`, `tcp/53, udp/53`.
    static func label(_ ports: [TopologyModel.Port]) -> String {
        ports.map { "\($0.transport.rawValue)/\($0.range.description)" }.joined(separator: ", ")
    }

    // MARK: - Groups and edges

    @Test func theReferenceInstallationHasFourGroups() {
        let graph = TopologyGraph(.reference)
        #expect(graph.groups.map(\.id) == ["public", "backend", "pool", "external"])
        #expect(
            graph.groups.map(\.label) == [
                "public", "backend", "workers (backend network)", "external services",
            ])
        #expect(graph.groups[0].nodes.map(\.node) == [.lb, .clients])
        #expect(graph.groups[1].nodes.map(\.node) == [.server, .drain, .scheduler])
        #expect(graph.groups[2].nodes.map(\.node) == [.worker])
        #expect(
            graph.groups[3].nodes.allSatisfy { $0.node.kind == .external && $0.details.isEmpty })
    }

    @Test func aKubernetesLayoutNamesItsNamespacesAndGroupsPodsByNamespace() throws {
        let graph = TopologyGraph(GraphTopologies.kubernetesGateway)
        #expect(
            graph.groups.map(\.label) == [
                "public", "backend (namespace spacelift)",
                "worker pool cluster (namespace spacelift-workers)",
                "worker pool datacenter (external network)", "namespace databases",
                "namespace observability", "external services",
            ])
        #expect(graph.groups[0].nodes.map(\.node) == [.vcsGatewayLB, .clients, .lb].sorted())
        #expect(graph.groups[1].nodes.map(\.node) == [.server, .drain, .scheduler, .vcsGateway])
        let databases = try #require(graph.groups.first { $0.id == "namespace-databases" })
        #expect(
            databases.nodes.map(\.lines) == [
                ["postgres", "pods app.kubernetes.io/name=postgresql"]
            ])
        let external = try #require(graph.groups.last)
        let provider = try #require(
            external.nodes.first { $0.node == GraphTopologies.identityProvider })
        #expect(provider.lines == ["identity-provider", "198.51.100.20/32", "extra egress"])
        #expect(external.nodes.contains { $0.node.name == "infrastructure-cluster" })
    }

    @Test func privateEndpointsAndAddressesLabelTheirNodes() throws {
        let graph = TopologyGraph(GraphTopologies.awsTwoPools)
        let nodes = graph.groups.flatMap(\.nodes)
        let lines = Dictionary(uniqueKeysWithValues: nodes.map { ($0.node.name, $0.lines) })
        #expect(lines["sqs"] == ["sqs", "sg-01234567", "private endpoint"])
        #expect(lines["object-storage"] == ["object-storage", "pl-63a5400a", "private endpoint"])
        #expect(lines["postgres"] == ["postgres", "sg-0d1e2f3a4b5c6d7e8"])
        #expect(lines["egress-proxy"] == ["egress-proxy", "10.0.0.10/32", "sg-0aaaabbbbccccdddd"])
        #expect(lines["worker-partner"] == ["worker-partner", "198.51.100.0/24"])
        // Not laid out for Kubernetes: no namespace in the captions.
        #expect(graph.groups.map(\.label).contains("worker pool private (backend network)"))
        #expect(graph.groups.map(\.label).contains("worker pool partner (external network)"))
    }

    @Test func flowsWithTheSameEndsAndPortsAreOneEdge() throws {
        let graph = TopologyGraph(GraphTopologies.awsTwoPools)
        let proxied = try #require(
            graph.edges.first { $0.source == .server && $0.destination == .egressProxy })
        #expect(proxied.label == "tcp/3128")
        #expect(proxied.flowIDs == ["server-vcs", "server-image-pull"])
        // The private endpoints keep their own edges, on 443.
        #expect(
            graph.edges.contains {
                $0.source == .server && $0.destination == .sqs && $0.label == "tcp/443"
            })
        let dns = try #require(graph.edges.first { $0.source == .server && $0.destination == .dns })
        #expect(dns.label == "tcp/53, udp/53")
        let other = TopologyGraph(GraphTopologies.iotCoreSSHProxy)
        let infrastructure = try #require(other.edges.first { $0.destination == .infrastructure })
        #expect(infrastructure.label == "tcp/443, tcp/8000-8100")
        #expect(
            other.edges.contains {
                $0.source == .admin && $0.destination == .server && $0.label == "tcp/22"
            })
        #expect(
            other.edges.contains {
                $0.source == .drain && $0.destination.name == "syslog"
                    && $0.label == "udp/514, tcp/6514"
            })
    }

    @Test func theDocumentedBeginningIsTheReferenceOutput() {
        let mermaid = GraphRenderer.render(.reference, format: .mermaid)
        #expect(
            mermaid.hasPrefix(
                """
                flowchart LR
                    subgraph g_public["public"]
                        n_lb["lb"]
                        n_clients["clients"]
                    end

                """))
        #expect(mermaid.contains("    n_clients -->|\"tcp/443\"| n_lb\n"))
        let dot = GraphRenderer.render(.reference, format: .dot)
        #expect(
            dot.contains(
                "    \"clients\" -> \"lb\" [label=\"tcp/443\", tooltip=\"clients-lb-https\"];\n"))
    }

    @Test(arguments: GraphTopologies.all, GraphFormat.allCases)
    func theSameTopologyGivesTheSameBytes(named: GraphTopologies.Named, format: GraphFormat) {
        let first = GraphRenderer.render(named.topology, format: format)
        #expect(first == GraphRenderer.render(named.topology, format: format))
        #expect(first.hasSuffix("}\n") || format == .mermaid)
    }

    @Test func oddNamesAreEscapedAndKeepDistinctIds() throws {
        let topology = GraphTopologies.oddNames
        let mermaid = GraphRenderer.render(topology, format: .mermaid)
        #expect(mermaid.contains("quote#quot;back\\slash"))
        #expect(mermaid.contains("#lt;b#gt;#35;1;"))
        let dot = GraphRenderer.render(topology, format: .dot)
        #expect(dot.contains("\"quote\\\"back\\\\slash\""))
        let chart = try MermaidChart(parsing: mermaid)
        #expect(
            Set(chart.nodeNames.values).isSuperset(of: [
                "x_1", "x-1", "quote\"back\\slash", "<b>#1;",
            ]))
        let group = try #require(chart.groups["g_pool_end"])
        #expect(group.label == "worker pool end (namespace end)")
        #expect(group.nodes.contains("n_x_1"), "pods of the pool's namespace join its group")
    }
}

// MARK: - Reading the pictures back

/// An edge as read back from a picture: node ids (or names) and the label.
struct DrawnEdge: Hashable {
    var source: String
    var destination: String
    var label: String
    var flowIDs: [String] = []

    static func == (lhs: DrawnEdge, rhs: DrawnEdge) -> Bool {
        (lhs.source, lhs.destination, lhs.label) == (rhs.source, rhs.destination, rhs.label)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(destination)
        hasher.combine(label)
    }
}

/// A group as read back: its caption and the ids of its nodes.
struct DrawnGroup {
    var label: String
    var nodes: [String]
}

/// Why a picture could not be read back.
struct PictureError: Error, CustomStringConvertible {
    var description: String
}

/// The Mermaid flowchart the renderer writes, read back line by line: every line must be one
/// of the forms below, or the chart is rejected.
struct MermaidChart {
    /// Node id → its name (the first line of its label, unescaped).
    var nodeNames: [String: String] = [:]
    /// Group id → caption and node ids.
    var groups: [String: DrawnGroup] = [:]
    /// The edges, by node id.
    var edges: [DrawnEdge] = []

    init(parsing text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == "flowchart LR", lines.last == "" else {
            throw PictureError(description: "not a flowchart LR ending with a newline")
        }
        lines = Array(lines.dropFirst().dropLast())
        var group: String?
        let id = "([A-Za-z][A-Za-z0-9_]*)"
        let quoted = "\"([^\"]*)\""
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let match = try Regex("subgraph \(id)\\[\(quoted)\\]").wholeMatch(in: trimmed) {
                guard group == nil else {
                    throw PictureError(description: "nested subgraph: \(line)")
                }
                let name = String(match.output[1].substring ?? "")
                guard groups[name] == nil else {
                    throw PictureError(description: "group twice: \(name)")
                }
                groups[name] = DrawnGroup(
                    label: Self.unescape(String(match.output[2].substring ?? "")), nodes: [])
                group = name
            } else if trimmed == "end" {
                guard group != nil else { throw PictureError(description: "end without subgraph") }
                group = nil
            } else if let match = try Regex("\(id)\\[\(quoted)\\]").wholeMatch(in: trimmed) {
                let node = String(match.output[1].substring ?? "")
                guard let current = group else {
                    throw PictureError(description: "node outside a group: \(line)")
                }
                guard nodeNames[node] == nil else {
                    throw PictureError(description: "node twice: \(node)")
                }
                let label = String(match.output[2].substring ?? "")
                let first = label.components(separatedBy: "<br/>").first ?? ""
                nodeNames[node] = Self.unescape(first)
                groups[current]?.nodes.append(node)
            } else if let match = try Regex("\(id) -->\\|\(quoted)\\| \(id)").wholeMatch(
                in: trimmed)
            {
                guard group == nil else {
                    throw PictureError(description: "edge inside a group: \(line)")
                }
                edges.append(
                    DrawnEdge(
                        source: String(match.output[1].substring ?? ""),
                        destination: String(match.output[3].substring ?? ""),
                        label: Self.unescape(String(match.output[2].substring ?? ""))))
            } else if trimmed.hasPrefix("classDef ") || trimmed.hasPrefix("class ") {
                continue
            } else {
                throw PictureError(description: "unexpected line: \(line)")
            }
        }
        guard group == nil else { throw PictureError(description: "subgraph without end") }
        for edge in edges where nodeNames[edge.source] == nil || nodeNames[edge.destination] == nil
        {
            throw PictureError(description: "edge to an undeclared node: \(edge)")
        }
    }

    /// Mermaid's entity codes (`#quot;`, `#35;`) back to characters.
    static func unescape(_ text: String) -> String {
        let named = ["quot": "\"", "lt": "<", "gt": ">", "amp": "&"]
        var result = ""
        var rest = Substring(text)
        while let hash = rest.firstIndex(of: "#") {
            result += rest[..<hash]
            let after = rest[rest.index(after: hash)...]
            if let semicolon = after.firstIndex(of: ";") {
                let code = String(after[..<semicolon])
                if let character = named[code]
                    ?? UInt32(code).flatMap(Unicode.Scalar.init).map({ String($0) })
                {
                    result += character
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "#"
            rest = after
        }
        return result + rest
    }
}

/// What Graphviz understood of the dot text, from `dot -Tjson`: nodes, clusters, edges.
struct GraphvizChart {
    /// Node name → node name (Graphviz ids are the names, escaped).
    var nodeNames: [String: String] = [:]
    /// Cluster name → caption and node names.
    var groups: [String: DrawnGroup] = [:]
    /// The edges, by node name, with the flow ids of their tooltips.
    var edges: [DrawnEdge] = []

    init(json: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
            let objects = root["objects"] as? [[String: Any]]
        else { throw PictureError(description: "no objects in dot -Tjson") }
        var names: [Int: String] = [:]
        for object in objects {
            guard let gvid = object["_gvid"] as? Int, let id = object["name"] as? String else {
                throw PictureError(description: "object without id or name")
            }
            if id.hasPrefix("cluster_") {
                continue
            }
            // Graphviz reads `\"` in a quoted id as `"` and keeps every other backslash.
            let name = Self.unescape(id)
            names[gvid] = name
            nodeNames[name] = name
            // Graphviz keeps the escapes of the dot text: the first line ends at `\n`.
            let label = (object["label"] as? String) ?? ""
            let first = label.components(separatedBy: "\\n").first ?? ""
            guard Self.unescape(first) == name else {
                throw PictureError(description: "node \(name) labelled \(label)")
            }
        }
        for object in objects {
            guard let name = object["name"] as? String, name.hasPrefix("cluster_") else { continue }
            let members = (object["nodes"] as? [Int]) ?? []
            groups[name] = DrawnGroup(
                label: (object["label"] as? String) ?? "", nodes: members.compactMap { names[$0] })
        }
        for edge in (root["edges"] as? [[String: Any]]) ?? [] {
            guard let tail = edge["tail"] as? Int, let head = edge["head"] as? Int,
                let source = names[tail], let destination = names[head],
                let label = edge["label"] as? String
            else { throw PictureError(description: "edge without ends or label") }
            let tooltip = Self.unescape((edge["tooltip"] as? String) ?? "")
            edges.append(
                DrawnEdge(
                    source: source, destination: destination, label: label,
                    flowIDs: tooltip.components(separatedBy: ", ")))
        }
    }

    /// A Graphviz escString's `\"` and `\\` back to characters.
    static func unescape(_ text: String) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping || character != "\\" {
                result.append(character)
                escaping = false
            } else {
                escaping = true
            }
        }
        return result
    }
}

/// The Graphviz `dot` program, a checker installed by `Scripts/bootstrap.sh` (Debian's
/// `graphviz`).
enum Graphviz {
    /// The `dot` executable on the path.
    ///
    /// - Throws: When it is missing: a check that cannot run is a failure, never a skip.
    static func dot() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories =
            path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for directory in directories {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("dot")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CommandError(
            description: "missing checker 'dot' (Graphviz); run Scripts/bootstrap.sh")
    }

    /// `dot -Tjson` of a dot text: what Graphviz understood of it.
    static func json(_ text: String) throws -> Data {
        let result = try Command.run(try dot(), ["-Tjson"], stdin: text)
        guard result.status == 0, result.stderr.isEmpty else {
            throw CommandError(description: "dot -Tjson failed: \(result.stderr)")
        }
        return Data(result.stdout.utf8)
    }

    /// `dot -Tsvg` of a dot text.
    static func svg(_ text: String) throws -> String {
        let result = try Command.run(try dot(), ["-Tsvg"], stdin: text)
        guard result.status == 0, result.stderr.isEmpty else {
            throw CommandError(description: "dot -Tsvg failed: \(result.stderr)")
        }
        return result.stdout
    }
}
