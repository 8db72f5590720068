import Testing
import TopologyModel

@testable import Emitters

@Suite struct HostFirewallTests {
    private func topology(_ configure: (inout TopologySpec) -> Void = { _ in }) throws -> Topology {
        var spec = TopologySpec()
        configure(&spec)
        return try spec.resolve().topology
    }

    private func firewall(_ role: Node, _ topology: Topology) -> HostFirewall {
        HostFirewall(role: role, flows: topology.flows(in: .hosts(topology)), topology: topology)
    }

    @Test func eachHostAcceptsOnlyItsFlows() throws {
        let topology = try topology {
            $0.addresses = [
                AddressEntry(node: "lb", cidrs: ["198.51.100.10"], origin: "--cidr"),
                AddressEntry(
                    node: "postgres", cidrs: ["10.0.1.10", "2001:db8::10"], origin: "--cidr"),
            ]
        }
        let server = firewall(.server, topology)
        #expect(
            server.rules(.input, .ipv4).map(\.flows) == [["lb-server-http"], ["lb-server-mqtt"]])
        #expect(server.rules(.input, .ipv6).isEmpty, "the lb has no IPv6 address")
        let postgres = server.rules(.output, .ipv6).filter { $0.flows == ["server-postgres"] }
        #expect(postgres.map(\.peer) == [try CIDR(parsing: "2001:db8::10/128")])
        #expect(!server.filtersContainers)
        for role in [Node.drain, .scheduler, .worker] {
            #expect(firewall(role, topology).rules.allSatisfy { $0.path != .input })
        }
    }

    @Test func workersNeverReachPostgresAndContainersFollowTheWorker() throws {
        let worker = firewall(.worker, .reference)
        #expect(worker.filtersContainers)
        #expect(!worker.rules.contains { $0.port == Port(.tcp, 5432) })
        let output = worker.rules(.output, .ipv4).map { [$0.port, $0.peer] as [AnyHashable?] }
        let forward = worker.rules(.forward, .ipv4).map { [$0.port, $0.peer] as [AnyHashable?] }
        #expect(output == forward)
    }

    @Test func identicalMatchesShareARuleNamingEveryFlow() {
        let worker = firewall(.worker, .reference)
        let https = worker.rules(.output, .ipv4).filter { $0.port == Port(.tcp, 443) }
        #expect(https.count == 1)
        #expect(
            https.first?.flows == [
                "worker-server", "worker-object-storage", "worker-vcs",
                "worker-container-registry", "worker-infrastructure",
            ])
    }

    @Test func sshOnlyWithAdministratorsAddresses() throws {
        #expect(
            !Topology.reference.flows(in: .hosts(.reference)).contains {
                $0.destination == .server && $0.ports == [Port(.tcp, 22)]
            })
        let topology = try topology {
            $0.addresses = [
                AddressEntry(node: "admin", cidrs: ["192.0.2.0/24"], origin: "--allow-ssh-from")
            ]
        }
        for role in Node.components {
            let ssh = firewall(role, topology).rules(.input, .ipv4).filter {
                $0.port == Port(.tcp, 22)
            }
            #expect(ssh.map(\.flows) == [["admin-ssh-\(role)"]])
        }
    }
}

@Suite struct IptablesEmitterTests {
    @Test func writesOneExecutableScriptPerHost() {
        let rendering = IptablesEmitter().render(.reference)
        #expect(
            rendering.files.map(\.name) == ["server.sh", "drain.sh", "scheduler.sh", "worker.sh"])
        #expect(
            rendering.files.allSatisfy { $0.isExecutable && $0.contents.hasPrefix("#!/bin/sh\n") })
        #expect(rendering.files.map(\.role) == Node.components)
    }

    @Test func serverScriptHoldsRestoreInputInTheKernelsOwnSpelling() throws {
        let script = try #require(IptablesEmitter().render(.reference).files.first).contents
        #expect(
            script.contains(
                """
                *filter
                :TOPOGEN-INPUT - [0:0]
                :TOPOGEN-OUTPUT - [0:0]
                -A TOPOGEN-INPUT -i lo -j ACCEPT
                -A TOPOGEN-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A TOPOGEN-INPUT -p tcp -m tcp --dport 1983 -m comment --comment "lb-server-http" -j ACCEPT
                -A TOPOGEN-INPUT -p tcp -m tcp --dport 1984 -m comment --comment "lb-server-mqtt" -j ACCEPT
                -A TOPOGEN-INPUT -j DROP
                """))
        #expect(script.contains("WARNING: no --allow-ssh-from was given"))
        #expect(script.contains("rules \"$tool\" | \"$tool-restore\" -w --noflush"))
        #expect(!script.contains("hook \"$tool\" DOCKER-USER"))
        #expect(!script.contains("-F INPUT") && !script.contains(" -X INPUT"))
    }

    @Test func workerHooksDockerUserWhenItExistsAndForwardOtherwise() throws {
        let script = try #require(IptablesEmitter().render(.reference).files.last).contents
        #expect(
            script.contains(
                """
                \t\tif "$tool" -w -n -L DOCKER-USER >/dev/null 2>&1; then
                \t\t\thook "$tool" DOCKER-USER TOPOGEN-FORWARD
                \t\t\tunhook "$tool" FORWARD
                \t\telse
                \t\t\thook "$tool" FORWARD TOPOGEN-FORWARD
                \t\tfi
                """))
        #expect(
            script.contains(
                "-A TOPOGEN-FORWARD -o docker0 -m comment --comment \"nothing new enters a container\" -j DROP"
            ))
        #expect(script.contains("-A TOPOGEN-FORWARD -j DROP"))
        #expect(script.contains("-m comment --comment \"worker-mqtt\" -j RETURN"))
    }

    @Test func portRangesUseColons() throws {
        var spec = TopologySpec()
        spec.infrastructurePorts = [Written("30000-32767", at: "--infrastructure-port")]
        let topology = try spec.resolve().topology
        let script = try #require(IptablesEmitter().render(topology).files.last).contents
        #expect(script.contains("--dport 30000:32767"))
    }
}

@Suite struct NftablesEmitterTests {
    @Test func rulesetReplacesItsOwnTableAtomically() throws {
        let ruleset = try #require(NftablesEmitter().render(.reference).files.first).contents
        #expect(ruleset.hasPrefix("#!/usr/sbin/nft -f\n"))
        #expect(
            ruleset.contains(
                """
                table inet topogen
                delete table inet topogen

                table inet topogen {
                \tchain input {
                \t\ttype filter hook input priority filter; policy drop;
                \t\tiifname "lo" accept
                \t\tct state established,related accept
                """))
        #expect(ruleset.contains("\t\ttcp dport 1983 accept comment \"lb-server-http\""))
        #expect(!ruleset.contains("chain forward"))
    }

    @Test func familiesAreMatchedOnlyWhereTheAddressesDiffer() throws {
        var spec = TopologySpec()
        spec.addresses = [AddressEntry(node: "postgres", cidrs: ["10.0.1.10"], origin: "--cidr")]
        let topology = try spec.resolve().topology
        let ruleset = try #require(NftablesEmitter().render(topology).files.first).contents
        #expect(
            ruleset.contains(
                "ip daddr 10.0.1.10/32 tcp dport 5432 accept comment \"server-postgres\""))
        #expect(!ruleset.contains("ip6 daddr"))
        #expect(ruleset.contains("\t\ttcp dport 443 accept"))
    }

    @Test func longCommentsAreSplitWithinNftsLimit() {
        let ids = (0..<20).map { "worker-flow-number-\($0)" }
        let groups = HostComment.comments(flows: ids, reasons: [:], limit: HostComment.nftLimit)
        #expect(groups.count > 1)
        #expect(groups.allSatisfy { $0.count <= HostComment.nftLimit })
        #expect(groups.joined(separator: ",") == ids.joined(separator: ","))
    }
}
