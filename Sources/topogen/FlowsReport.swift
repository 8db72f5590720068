import Emitters
import Foundation
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
        return rows.map { row in
            (0..<5).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "  " + row[5]
        }.joined(separator: "\n") + "\n"
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
