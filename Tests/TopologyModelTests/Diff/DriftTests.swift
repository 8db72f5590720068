import Testing
import TopologyModel

@Suite struct DriftTests {
    private let server = Subject(.server, .ingress)

    private func need(_ port: UInt16, from peer: EndpointSet, flow: String) -> Permission {
        Permission(
            subject: server, peer: peer, protocols: .tcp, ports: IntervalSet([port...port]),
            flows: [flow], peerName: "lb")
    }

    private func grant(
        _ protocols: ProtocolSet, _ ports: IntervalSet<UInt16>, from peer: EndpointSet, line: Int
    ) -> Permission {
        Permission(
            subject: server, peer: peer, protocols: protocols, ports: ports,
            origin: SourceLocation(file: "rules", line: line))
    }

    @Test func exactRulesAreInSync() {
        let expected = [need(1983, from: .everything, flow: "lb-server-http")]
        let deployed = DeployedRules(permissions: [
            grant(.tcp, IntervalSet([1983...1983]), from: .everything, line: 3)
        ])
        #expect(Drift(expected: expected, deployed: deployed).isInSync)
    }

    @Test func reportsMissingExtraAndBroader() throws {
        let lb = EndpointSet(names: ["security group spacelift-lb"])
        let expected = [
            need(1983, from: lb, flow: "lb-server-http"),
            need(1984, from: lb, flow: "lb-server-mqtt"),
        ]
        let deployed = DeployedRules(permissions: [
            grant(.tcp, .full, from: lb, line: 1),
            grant(.udp, IntervalSet([53...53]), from: .everything, line: 2),
        ])
        let drift = Drift(expected: expected, deployed: deployed)
        #expect(drift.findings.map(\.kind) == [.extra, .broader])
        let broader = try #require(drift.findings.first { $0.kind == .broader })
        #expect(broader.flows == ["lb-server-http", "lb-server-mqtt"])
        #expect(broader.reasons == ["all ports"])
        #expect(broader.location?.line == 1)

        let partial = Drift(
            expected: expected,
            deployed: DeployedRules(permissions: [
                grant(.tcp, IntervalSet([1983...1983]), from: lb, line: 4)
            ]))
        #expect(partial.findings.map(\.kind) == [.missing])
        #expect(partial.findings.first?.flows == ["lb-server-mqtt"])
    }

    @Test func aWiderAddressIsBroader() throws {
        let narrow = EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.0/16")])
        let expected = [need(1983, from: narrow, flow: "lb-server-http")]
        let drift = Drift(
            expected: expected,
            deployed: DeployedRules(permissions: [
                grant(.all, .full, from: .anyIPv4, line: 9)
            ]))
        let finding = try #require(drift.findings.first)
        #expect(drift.findings.count == 1)
        #expect(finding.kind == .broader)
        #expect(finding.reasons.first == "all protocols")
        #expect(finding.reasons.contains("all ports"))
        #expect(finding.reasons.contains { $0.hasPrefix("0.0.0.0/0 where the model has lb") })
    }

    @Test func comparesOnlyWhatTheInputSpeaksFor() {
        let expected = [need(1983, from: .everything, flow: "lb-server-http")]
        let deployed = DeployedRules(
            permissions: [grant(.tcp, IntervalSet([1983...1983]), from: .anyIPv4, line: 1)],
            compared: .anyIPv4)
        #expect(Drift(expected: expected, deployed: deployed).isInSync)
    }
}
