import Testing
import TopologyModel

/// Validation collects every problem before failing.
@Suite struct TopologySpecTests {
    @Test func emptySpecIsTheReference() throws {
        let (topology, warnings) = try TopologySpec().resolve()
        #expect(topology == .reference)
        #expect(warnings.isEmpty)
        #expect(topology.addresses(of: .postgres) == [.anyIPv4, .anyIPv6])
    }

    @Test func collectsEveryProblem() {
        var spec = TopologySpec()
        spec.withIoTCore = Written(true, at: "--with-iot-core")
        spec.infrastructurePorts = [Written("0443", at: "--infrastructure-port")]
        spec.postgresPort = Written("70000", at: "--postgres-port")
        spec.addresses = [
            AddressEntry(node: "postgres", cidrs: ["10.0.0.1/8"], origin: "--cidr"),
            AddressEntry(node: "vsc", cidrs: ["10.0.0.0/8"], origin: "--cidr"),
        ]
        spec.namespace = Written("Bad", at: "--namespace")
        do {
            _ = try spec.resolve()
            Issue.record("expected errors")
        } catch {
            let errors = error.diagnostics.filter { $0.severity == .error }.map(\.message)
            #expect(errors.count == 6, "\(errors)")
            #expect(errors.contains { $0.contains("'--with-iot-core' requires '--with-sqs'") })
            #expect(errors.contains { $0.contains("'0443'") })
            #expect(errors.contains { $0.contains("'70000'") })
            #expect(errors.contains { $0.contains("'10.0.0.1/8'") })
            #expect(errors.contains { $0.contains("unknown node 'vsc'") })
            let hints = error.diagnostics.compactMap(\.hint)
            #expect(hints.contains("did you mean '10.0.0.0/8'?"))
            #expect(hints.contains("did you mean 'vcs'?"))
        }
    }

    @Test func addressesMergeSortAndDropCoveredNetworks() throws {
        var spec = TopologySpec()
        spec.addresses = [
            AddressEntry(
                node: "postgres", cidrs: ["10.1.0.0/16", "2001:db8::/32"], origin: "--cidr"),
            AddressEntry(node: "postgres", cidrs: ["10.0.0.0/8", "10.0.0.0/8"], origin: "--cidr"),
        ]
        let (topology, warnings) = try spec.resolve()
        #expect(
            topology.addresses(of: .postgres).map(\.description) == ["10.0.0.0/8", "2001:db8::/32"])
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("'10.1.0.0/16'") == true)
    }

    @Test func theMQTTPortIsNotTheHTTPPortUnlessIoTCoreMakesItMoot() throws {
        var spec = TopologySpec()
        spec.mqttPort = Written("1983", at: "--mqtt-port")
        #expect(throws: TopologyError.self) { try spec.resolve() }
        spec.withSQS = Written(true, at: "--with-sqs")
        spec.withIoTCore = Written(true, at: "--with-iot-core")
        let (_, warnings) = try spec.resolve()
        #expect(warnings.map(\.message) == ["'--mqtt-port' has no effect with '--with-iot-core'"])
    }

    @Test func systemNamespacesAreRefused() {
        for name in ["kube-system", "kube-public", "kube-node-lease"] {
            var spec = TopologySpec()
            spec.namespace = Written(name, at: "--namespace")
            #expect(throws: TopologyError.self) { try spec.resolve() }
            spec = TopologySpec()
            spec.workerNamespace = Written(name, at: "--worker-namespace")
            #expect(throws: TopologyError.self) { try spec.resolve() }
        }
    }

    @Test func workersNeedANamespaceOfTheirOwn() {
        var spec = TopologySpec()
        spec.workerNamespace = Written("spacelift", at: "--worker-namespace")
        #expect(throws: TopologyError.self) { try spec.resolve() }
    }

    @Test func suggestionsComeFromEditDistance() {
        #expect(closestMatch(to: "postgress", in: Node.allCases.map(\.rawValue)) == "postgres")
        #expect(
            closestMatch(to: "objectstorage", in: Node.allCases.map(\.rawValue)) == "object-storage"
        )
        #expect(closestMatch(to: "zzzzzzzz", in: Node.allCases.map(\.rawValue)) == nil)
    }
}
