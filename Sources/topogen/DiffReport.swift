import Emitters
import FoundationEssentials
import TopologyModel

/// The text `topogen diff` prints: findings grouped by component, one line each, or JSON.
///
/// For example:
/// ```
/// server ingress
///   missing     lb-server-http: tcp 1983 from lb (any address) is not allowed
///   broader     groups.json: SecurityGroups[0].IpPermissions[0]: 'spacelift-server ingress
///               tcp 0-65535 from 0.0.0.0/0' allows ... broader by all ports
///
/// drift: 1 missing, 0 extra, 1 broader, 0 unreadable
/// ```
enum DiffReport {
    static func text(_ drift: Drift, target: Format) -> String {
        guard !drift.isInSync else {
            return "in sync: the \(target.rawValue) rules allow exactly the flows of the model\n"
        }
        var lines: [String] = []
        var current: String?
        for finding in drift.findings {
            let heading = finding.subject?.description ?? "rules of no component"
            if heading != current {
                if current != nil { lines.append("") }
                lines.append(heading)
                current = heading
            }
            let kind = finding.kind.rawValue.padded(to: 11)
            let location = finding.location.map { "\($0): " } ?? ""
            lines.append("  \(kind) \(location)\(finding.message)")
        }
        lines.append("")
        lines.append("drift: " + summary(drift))
        return lines.joined(separator: "\n") + "\n"
    }

    static func summary(_ drift: Drift) -> String {
        Finding.Kind.allCases.map { kind in
            "\(drift.findings.filter { $0.kind == kind }.count) \(kind.rawValue)"
        }.joined(separator: ", ")
    }

    struct Document: Encodable {
        var target: String
        var inSync: Bool
        var summary: [String: Int]
        var findings: [Record]
    }

    struct Record: Encodable {
        var kind: String
        var component: String?
        var direction: String?
        var flows: [String]
        var protocols: String?
        var ports: String?
        var peer: String?
        var reasons: [String]
        var file: String?
        var line: Int?
        var path: String?
        var rule: String?
        var message: String
    }

    static func json(_ drift: Drift, target: Format) throws -> String {
        var summary: [String: Int] = [:]
        for kind in Finding.Kind.allCases {
            summary[kind.rawValue] = drift.findings.filter { $0.kind == kind }.count
        }
        let records = drift.findings.map { finding in
            Record(
                kind: finding.kind.rawValue, component: finding.subject?.node.rawValue,
                direction: finding.subject?.direction.rawValue, flows: finding.flows,
                protocols: finding.permission.map { "\($0.protocols)" },
                ports: finding.permission.map(\.serviceDescription),
                peer: finding.permission.map { "\($0.peer)" }, reasons: finding.reasons,
                file: finding.location?.file, line: finding.location?.line,
                path: finding.location?.path, rule: finding.permission?.excerpt,
                message: finding.message)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(
            Document(
                target: target.rawValue, inSync: drift.isInSync, summary: summary,
                findings: records))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
