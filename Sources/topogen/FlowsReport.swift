import Emitters
import FoundationEssentials
import TopologyModel

/// The text `topogen flows` prints: an aligned table, or JSON.
///
/// For example, a table row: `server-postgres  server  postgres  tcp  5432  Server egress Postgres`.
enum FlowsReport {
    static func table(_ flows: [Flow]) -> String {
        var rows = [["ID", "FROM", "TO", "TRANSPORT", "PORT", "WHY"]]
        for flow in flows {
            let why =
                flow.condition == .always
                ? flow.description : "\(flow.description) (\(flow.condition.summary))"
            for port in flow.ports {
                rows.append([
                    flow.id, flow.source.rawValue, flow.destination.rawValue,
                    port.transport.rawValue, port.range.description, why,
                ])
            }
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            for column in 0..<5 { text += row[column].padded(to: widths[column]) + "  " }
            text += row[5] + "\n"
        }
        return text
    }

    struct Document: Encodable {
        var target: String?
        var flows: [FlowRecord]
        var addresses: [String: [String]]
    }

    struct FlowRecord: Encodable {
        var id: String
        var from: String
        var to: String
        var ports: [PortRecord]
        var condition: String
        var description: String
    }

    struct PortRecord: Encodable {
        var transport: String
        var port: Int
        var endPort: Int?
    }

    static func json(_ flows: [Flow], target: Format?, topology: Topology) throws -> String {
        let nodes = Set(flows.flatMap { [$0.source, $0.destination] }).filter {
            $0.kind != .component
        }
        let document = Document(
            target: target?.rawValue,
            flows: flows.map { flow in
                FlowRecord(
                    id: flow.id, from: flow.source.rawValue, to: flow.destination.rawValue,
                    ports: flow.ports.map {
                        PortRecord(
                            transport: $0.transport.rawValue, port: Int($0.range.lower),
                            endPort: $0.range.isSinglePort ? nil : Int($0.range.upper))
                    }, condition: flow.condition.rawValue, description: flow.description)
            },
            addresses: Dictionary(
                uniqueKeysWithValues: nodes.map {
                    ($0.rawValue, topology.addresses(of: $0).map(\.description))
                }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(document)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension String {
    /// The text with spaces after it up to `width` characters, as a table's column needs:
    /// `"tcp".padded(to: 5)` is `"tcp  "`; a longer text is left as it is.
    func padded(to width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, width - count))
    }
}
