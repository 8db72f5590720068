import Testing
import TopologyModel

/// The flow set of `flows.md`, derived for each option.
@Suite struct FlowTests {
    private func topology(_ configure: (inout TopologySpec) -> Void = { _ in }) throws -> Topology {
        var spec = TopologySpec()
        configure(&spec)
        return try spec.resolve().topology
    }

    private func ids(_ flows: [Flow]) -> Set<String> { Set(flows.map(\.id)) }

    @Test func referenceInstallationHasExactlyTheFlowsOfTheTable() throws {
        let flows = Topology.reference.flows()
        #expect(
            flows.map(\.id) == [
                "clients-lb-https", "lb-server-http", "lb-server-mqtt", "server-postgres",
                "server-object-storage", "server-vcs", "drain-postgres", "drain-object-storage",
                "drain-vcs", "scheduler-postgres", "worker-server", "worker-mqtt",
                "worker-object-storage", "worker-vcs", "worker-container-registry",
                "worker-infrastructure", "server-image-pull", "drain-image-pull",
                "scheduler-image-pull", "server-dns", "drain-dns", "scheduler-dns", "worker-dns",
            ])
        #expect(Set(flows.map(\.id)).count == flows.count, "ids are unique")
    }

    @Test func nothingReachesAComponentButTheServer() throws {
        for flow in try topology({
            $0.withSQS = Written(true, at: "--with-sqs")
            $0.withKMS = Written(true, at: "--with-kms")
        }).flows() where flow.destination.kind == .component {
            #expect(flow.destination == .server)
        }
    }

    @Test func workersNeverReachPostgresAndTheSchedulerReachesLittle() throws {
        let flows = try topology { $0.withSQS = Written(true, at: "--with-sqs") }.flows()
        #expect(!flows.contains { $0.source == .worker && $0.destination == .postgres })
        let scheduler = flows.filter { $0.source == .scheduler }.map(\.destination)
        #expect(Set(scheduler) == [.postgres, .sqs, .containerRegistry, .dns])
    }

    @Test func sqsAddsItsFlows() throws {
        let plain = ids(Topology.reference.flows())
        let sqs = ids(try topology { $0.withSQS = Written(true, at: "--with-sqs") }.flows())
        #expect(sqs.subtracting(plain) == ["server-sqs", "drain-sqs", "scheduler-sqs"])
        #expect(plain.isSubset(of: sqs))
    }

    @Test func iotCoreReplacesTheBuiltInBroker() throws {
        let flows = try topology {
            $0.withSQS = Written(true, at: "--with-sqs")
            $0.withIoTCore = Written(true, at: "--with-iot-core")
        }.flows()
        #expect(ids(flows).isSuperset(of: ["server-iot-core", "drain-iot-core"]))
        #expect(!ids(flows).contains("lb-server-mqtt"))
        #expect(!flows.contains { $0.ports.contains(Port(.tcp, Topology.defaultMQTTPort)) })
        let mqtt = try #require(flows.first { $0.id == "worker-mqtt" })
        #expect(mqtt.destination == .iotCore && mqtt.ports == [Port(.tcp, 443)])
    }

    @Test func kmsAddsItsFlows() throws {
        let kms = ids(try topology { $0.withKMS = Written(true, at: "--with-kms") }.flows())
        #expect(kms.subtracting(ids(Topology.reference.flows())) == ["server-kms", "drain-kms"])
    }

    @Test func portsFollowTheOptions() throws {
        let flows = try topology {
            $0.postgresPort = Written("6543", at: "--postgres-port")
            $0.mqttPort = Written("8883", at: "--mqtt-port")
            $0.infrastructurePorts = ["6443", "443", "30000-32767", "443"].map {
                Written($0, at: "--infrastructure-port")
            }
        }.flows()
        func ports(_ id: String) -> [String] {
            flows.first { $0.id == id }?.ports.map(\.description) ?? []
        }
        #expect(ports("server-postgres") == ["6543/tcp"])
        #expect(ports("lb-server-mqtt") == ["8883/tcp"])
        #expect(ports("worker-mqtt") == ["8883/tcp"])
        #expect(ports("worker-infrastructure") == ["443/tcp", "6443/tcp", "30000-32767/tcp"])
        #expect(ports("server-dns") == ["53/tcp", "53/udp"])
    }

    @Test func externalWorkersAddTheClientsMQTTFlow() throws {
        let flows = try topology { $0.workers = Written("external", at: "--workers") }.flows()
        #expect(ids(flows).contains("clients-lb-mqtt"))
        #expect(!ids(Topology.reference.flows()).contains("clients-lb-mqtt"))
    }

    @Test func scopeDecidesDNSImagePullsAndTheBrokerPath() {
        let scope = FlowScope(
            filtersDNS: false, componentsPullImages: false, workersReachBrokerDirectly: true,
            enforcedNodes: [.server, .drain, .scheduler, .worker])
        let flows = Topology.reference.flows(in: scope)
        #expect(!flows.contains { $0.destination == .dns || $0.id.hasSuffix("-image-pull") })
        #expect(!ids(flows).contains("lb-server-mqtt"))
        #expect(!ids(flows).contains("clients-lb-https"), "neither end is enforced")
        #expect(flows.first { $0.id == "worker-mqtt" }?.destination == .server)
    }

    @Test func everyFlowSaysWhyItExists() {
        for flow in Topology.reference.flows() {
            #expect(!flow.description.isEmpty)
            #expect(!flow.ports.isEmpty)
        }
    }
}
