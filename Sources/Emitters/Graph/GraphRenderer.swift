public import TopologyModel

/// The languages `topogen graph` writes a picture in.
///
/// For example: `GraphFormat(rawValue: "dot")` is ``dot``.
public enum GraphFormat: String, CaseIterable, Sendable {
    /// A Mermaid flowchart, which GitHub and many Markdown viewers draw from a ```` ```mermaid ````
    /// block.
    case mermaid
    /// A Graphviz `digraph`, drawn with `dot -Tsvg` or `dot -Tpng`.
    case dot

    /// One sentence on what the format is, for help texts.
    public var summary: String {
        switch self {
        case .mermaid: "A Mermaid flowchart (for Markdown viewers such as GitHub's)"
        case .dot: "A Graphviz digraph (render with dot -Tsvg)"
        }
    }
}

/// Writes the picture of an installation (a ``TopologyGraph``) as Mermaid or Graphviz text.
///
/// The text is deterministic: groups, nodes and edges in the graph's order, every id derived
/// from a name. Mermaid ids are safe identifiers (`n_object_storage` for the node, `g_backend`
/// for a group); Graphviz ids are quoted names (`"object-storage"`, `"cluster_backend"`).
///
/// For example: `GraphRenderer.render(.reference, format: .mermaid)` begins
///
/// ```
/// flowchart LR
///     subgraph g_public["public"]
///         n_lb["lb"]
///         n_clients["clients"]
///     end
/// ```
///
/// and has the edge `n_clients -->|"tcp/443"| n_lb`; in Graphviz the same edge is
/// `"clients" -> "lb" [label="tcp/443", tooltip="clients-lb-https"];`.
public enum GraphRenderer {
    /// The picture of a topology's flows in a format, ending with a newline.
    public static func render(_ topology: Topology, format: GraphFormat) -> String {
        render(TopologyGraph(topology), format: format)
    }

    /// A graph in a format, ending with a newline.
    public static func render(_ graph: TopologyGraph, format: GraphFormat) -> String {
        switch format {
        case .mermaid: mermaid(graph)
        case .dot: dot(graph)
        }
    }

    // MARK: - Mermaid

    /// The graph as a Mermaid flowchart, left to right, with one `subgraph` per group and a
    /// class per kind of node (`component`, `balancer`, `external`).
    ///
    /// For example: `n_server -->|"tcp/5432"| n_postgres`.
    static func mermaid(_ graph: TopologyGraph) -> String {
        var lines = ["flowchart LR"]
        for group in graph.groups {
            lines.append(
                "    subgraph \(mermaidID(group: group.id))[\"\(mermaidText(group.label))\"]")
            for node in group.nodes {
                let label = node.lines.map(mermaidText).joined(separator: "<br/>")
                lines.append("        \(mermaidID(node.node))[\"\(label)\"]")
            }
            lines.append("    end")
        }
        for edge in graph.edges {
            lines.append(
                "    \(mermaidID(edge.source)) -->|\"\(mermaidText(edge.label))\"| "
                    + mermaidID(edge.destination))
        }
        lines += [
            "    classDef component fill:#dbeafe,stroke:#1d4ed8",
            "    classDef balancer fill:#fef3c7,stroke:#b45309",
            "    classDef external fill:#f3f4f6,stroke:#4b5563",
        ]
        let nodes = graph.groups.flatMap(\.nodes).map(\.node)
        for (kind, name) in [
            (NodeKind.component, "component"), (.edge, "balancer"), (.external, "external"),
        ] {
            let ids = nodes.filter { $0.kind == kind }.map(mermaidID)
            if !ids.isEmpty { lines.append("    class \(ids.joined(separator: ",")) \(name)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A node's Mermaid id: `n_` and its name with `-` as `_` (`n_object_storage`); a name
    /// that is not a DNS label is spelled in hex (`x_...`), so that ids never collide and never
    /// contain a character Mermaid gives a meaning to.
    static func mermaidID(_ node: Node) -> String { safeID(node.name, prefix: "n") }

    /// A group's Mermaid id, `g_backend`, `g_pool_eu`.
    static func mermaidID(group id: String) -> String { safeID(id, prefix: "g") }

    /// `PREFIX_` and the text with `-` as `_` when it is lower-case letters, digits and `-`;
    /// otherwise `x` and `PREFIX_` and the UTF-8 bytes in hex.
    private static func safeID(_ text: String, prefix: String) -> String {
        let isLabel =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
            }
        if isLabel { return "\(prefix)_" + String(text.map { $0 == "-" ? "_" : $0 }) }
        let hex = text.utf8.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }
        return "x\(prefix)_" + hex.joined()
    }

    /// Text inside a quoted Mermaid label, with the characters Mermaid reads as markup written
    /// as entity codes (`"` is `#quot;`).
    private static func mermaidText(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\"": escaped += "#quot;"
            case "#": escaped += "#35;"
            case "<": escaped += "#lt;"
            case ">": escaped += "#gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    // MARK: - Graphviz

    /// The graph as a Graphviz `digraph`, left to right, with one `cluster_` subgraph per group;
    /// each edge's tooltip names its flows.
    ///
    /// For example: `"server" -> "postgres" [label="tcp/5432", tooltip="server-postgres"];`.
    static func dot(_ graph: TopologyGraph) -> String {
        var lines = [
            "digraph \"topology\" {",
            "    rankdir=LR;",
            "    nodesep=0.3;",
            "    ranksep=1.2;",
            "    fontname=\"Helvetica\";",
            "    node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];",
            "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#4b5563\"];",
        ]
        for group in graph.groups {
            lines += [
                "    subgraph \(dotString("cluster_\(group.id)")) {",
                "        label=\(dotString(group.label));",
                "        style=\"rounded,dashed\";",
                "        color=\"#9ca3af\";",
            ]
            for node in group.nodes {
                let label = node.lines.map(dotEscaped).joined(separator: "\\n")
                lines.append(
                    "        \(dotString(node.node.name)) [label=\"\(label)\", "
                        + "fillcolor=\"\(dotFill(node.node.kind))\"];")
            }
            lines.append("    }")
        }
        for edge in graph.edges {
            lines.append(
                "    \(dotString(edge.source.name)) -> \(dotString(edge.destination.name)) "
                    + "[label=\(dotString(edge.label)), "
                    + "tooltip=\(dotString(edge.flowIDs.joined(separator: ", ")))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The fill colour of a kind of node.
    private static func dotFill(_ kind: NodeKind) -> String {
        switch kind {
        case .component: "#dbeafe"
        case .edge: "#fef3c7"
        case .external: "#f3f4f6"
        }
    }

    /// A Graphviz quoted string: `"object-storage"`. Graphviz reads `\"` in an id as `"` and keeps
    /// `\\` as two backslashes, so escaped ids stay distinct; in a label `\\` is one backslash.
    private static func dotString(_ text: String) -> String { "\"\(dotEscaped(text))\"" }

    /// Text inside a Graphviz quoted string, with `"` and `\` escaped (so that no escape
    /// sequence such as `\n` comes from the text itself).
    private static func dotEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
