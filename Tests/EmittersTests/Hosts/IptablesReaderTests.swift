import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias Support = HostReaderSupport

@Suite struct IptablesReaderRoundTripTests {
    @Test(arguments: Example.all)
    func everyGoldenScriptReadsBackInSync(example: Example) throws {
        let topology = try ExampleTopology.topology(of: example)
        for role in topology.components {
            let name = "\(role).sh"
            let text = try String(contentsOf: example.golden("iptables", name), encoding: .utf8)
            let (deployed, drift) = try Support.drift(
                IptablesReader(), [(name, text)], role: role, topology: topology)
            #expect(drift.isInSync, "\(example) \(role):\n\(Support.describe(drift))")
            #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
            #expect(!deployed.permissions.isEmpty)
        }
    }

    @Test(arguments: [
        [],
        ["--with-sqs", "--with-iot-core", "--with-kms"],
        ["--cidr", "postgres=2001:db8::/32", "--cidr", "dns=10.0.0.2,2001:db8::53"],
        [
            "--infrastructure-port", "6443", "--infrastructure-port", "30000-32767",
            "--cidr", "infrastructure=10.0.0.0/8", "--allow-ssh-from", "192.0.2.0/24,2001:db8::/48",
        ],
        ["--workers", "external", "--cidr", "clients=203.0.113.0/24", "--postgres-port", "6432"],
    ])
    func emitterOutputParsesBackToExactlyTheModelsPermissions(arguments: [String]) throws {
        let topology = try Support.topology(arguments)
        let rendering = IptablesEmitter().render(topology)
        for file in rendering.files {
            let role = try #require(file.role)
            let (deployed, drift) = try Support.drift(
                IptablesReader(), [(file.name, file.contents)], role: role, topology: topology)
            #expect(drift.isInSync, "\(arguments) \(role):\n\(Support.describe(drift))")
            // In sync both ways: every required permission is granted (no missing), and no
            // grant allows more than a required one (no extra, no broader).
            #expect(!deployed.permissions.isEmpty)
        }
    }
}

@Suite struct IptablesReaderMutationTests {
    private let topology: Topology
    private let script: String

    init() throws {
        topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        script = try Support.golden("hosts", "iptables", "worker.sh")
    }

    private func drift(_ text: String, role: Node = .worker) throws -> Drift {
        try Support.drift(IptablesReader(), [("worker.sh", text)], role: role, topology: topology)
            .drift
    }

    @Test func removingARuleIsOneMissingFlow() throws {
        let text = try Support.replacing(
            "-A TOPOGEN-OUTPUT -d 52.216.0.0/15 -p tcp -m tcp --dport 443 -m comment --comment \"worker-object-storage\" -j ACCEPT\n",
            with: "", in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .missing)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.flows == ["worker-object-storage"])
        #expect(finding.message.contains("tcp 443 to object-storage (52.216.0.0/15)"))
    }

    @Test func wideningAPortIsBroaderWithItsLine() throws {
        let original =
            "-A TOPOGEN-OUTPUT -d 198.51.100.10/32 -p tcp -m tcp --dport 1984 -m comment --comment \"worker-mqtt\" -j ACCEPT"
        let widened = original.replacingOccurrences(of: "--dport 1984", with: "--dport 1984:2000")
        let text = try Support.replacing(original, with: widened, in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.flows == ["worker-mqtt"])
        #expect(finding.reasons == ["ports 1985-2000"])
        #expect(
            finding.location
                == SourceLocation(file: "worker.sh", line: try Support.line(of: widened, in: text)))
    }

    @Test func wideningAnAddressIsBroaderNamingIt() throws {
        let original =
            "-A TOPOGEN-OUTPUT -d 10.0.2.20/32 -p tcp -m tcp --dport 443 -m comment --comment \"worker-container-registry\" -j ACCEPT"
        let widened = original.replacingOccurrences(of: "10.0.2.20/32", with: "10.0.0.0/8")
        let text = try Support.replacing(original, with: widened, in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.flows == ["worker-container-registry", "worker-infrastructure"])
        #expect(finding.reasons.count == 1)
        #expect(finding.reasons.first?.hasPrefix("10.0.0.0/8 where the model has") == true)
        #expect(finding.location?.line == (try Support.line(of: widened, in: text)))
    }

    @Test func addingARuleIsExtraWithItsLine() throws {
        let added = "-A TOPOGEN-INPUT -p tcp -m tcp --dport 8080 -j ACCEPT"
        let text = try Support.replacing(
            "-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo",
            with: "\(added)\n-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo", in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .extra)
        #expect(finding.subject == Subject(.worker, .ingress))
        #expect(
            finding.location
                == SourceLocation(file: "worker.sh", line: try Support.line(of: added, in: text)))
        #expect(finding.message.contains("tcp 8080 from 0.0.0.0/0"), "\(finding.message)")
    }

    @Test func aForwardedFlowAddedIsExtraAtItsReturn() throws {
        let added = "-A TOPOGEN-FORWARD -p tcp -m tcp --dport 22 -j RETURN"
        let text = try Support.replacing(
            "-A TOPOGEN-FORWARD -j DROP\nCOMMIT\nRULES\n}\n\nipv6_rules",
            with: "\(added)\n-A TOPOGEN-FORWARD -j DROP\nCOMMIT\nRULES\n}\n\nipv6_rules", in: script
        )
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))\n\(text)")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .extra)
        #expect(finding.subject == Subject(.worker, .containerEgress))
        #expect(finding.location?.line == (try Support.line(of: added, in: text)))
    }

    @Test func droppingTheFinalDropLeavesThePolicyOfAFreshHost() throws {
        let text = try Support.replacing(
            "-A TOPOGEN-OUTPUT -j DROP\n-A TOPOGEN-FORWARD -m conntrack",
            with: "-A TOPOGEN-FORWARD -m conntrack", in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.reasons.contains("all protocols"))
        // The policy a fresh host has, named at the table's line in the script.
        let filterLines = script.components(separatedBy: "\n").indices.filter {
            script.components(separatedBy: "\n")[$0] == "*filter"
        }
        #expect(finding.location == SourceLocation(file: "worker.sh", line: filterLines[0] + 1))
    }

    @Test func anUnreadableMatchIsReportedWithItsLine() throws {
        let added = "-A TOPOGEN-INPUT -m set --match-set admins src -j ACCEPT"
        let text = try Support.replacing(
            "-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo",
            with: "\(added)\n-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo", in: script)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .unreadable)
        #expect(finding.subject == Subject(.worker, .ingress))
        #expect(finding.location?.line == (try Support.line(of: added, in: text)))
        #expect(
            finding.message
                == "'-m set' is not understood by topogen diff; the rule is not compared")
    }

    @Test func aJumpToAnUndeclaredChainIsAReadError() throws {
        let added = "-A TOPOGEN-INPUT -j MISSING-CHAIN"
        let text = try Support.replacing(
            "-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo",
            with: "\(added)\n-A TOPOGEN-INPUT -j DROP\n-A TOPOGEN-OUTPUT -o lo", in: script)
        let line = try Support.line(of: added, in: text)
        #expect {
            try IptablesReader().read(
                [InputText(name: "worker.sh", contents: text)], topology: topology,
                options: ReadOptions(role: .worker))
        } throws: { error in
            (error as? ReadError)?.diagnostics.first?.message
                == "worker.sh:\(line): '-j MISSING-CHAIN': chain 'MISSING-CHAIN' is not declared"
        }
    }

    @Test func policyAcceptWithNoRulesIsBroaderEverywhere() throws {
        let save = """
            # Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 10:00:00 2026
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            COMMIT
            # Completed on Sun Nov 29 10:00:00 2026
            # Generated by ip6tables-save v1.8.9 (nf_tables) on Sun Nov 29 10:00:00 2026
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            COMMIT

            """
        let drift = try Support.drift(
            IptablesReader(), [("host.rules", save)], role: .server, topology: topology
        ).drift
        let expected: [(Subject, Int)] = [
            (Subject(.server, .ingress), 3), (Subject(.server, .ingress), 10),
            (Subject(.server, .egress), 5), (Subject(.server, .egress), 12),
        ]
        #expect(drift.findings.count == 4, "\(Support.describe(drift))")
        for (finding, (subject, line)) in zip(drift.findings, expected) {
            #expect(finding.kind == .broader)
            #expect(finding.subject == subject)
            #expect(finding.location == SourceLocation(file: "host.rules", line: line))
            #expect(finding.reasons.contains("all protocols"))
        }
    }
}

@Suite struct IptablesReaderHostTests {
    @Test func engineOutputWithDockerAndKubeProxyChainsIsInSync() throws {
        let topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        let text = try Support.fixture("iptables/hosts-worker-docker-kube.rules")
        let (deployed, drift) = try Support.drift(
            IptablesReader(), [("rules", text)], role: .worker, topology: topology)
        #expect(drift.isInSync, "\(Support.describe(drift))")
        #expect(
            deployed.diagnostics.map(\.message) == [
                "rules:5: the 'raw' table drops packets; topogen diff compares the filter table only",
                "rules:\(try rawIPv6Line(text)): the 'raw' table drops packets; topogen diff compares the filter table only",
            ])
        #expect(deployed.compared == HostPermissions.compared([.ipv4, .ipv6]))
    }

    private func rawIPv6Line(_ text: String) throws -> Int {
        try Support.line(
            of: "-A PREROUTING -d fd00:dead::2/128 ! -i docker0 -j DROP", in: text)
    }

    @Test func rulesWrittenInInputWithAUserChainAndADropPolicy() throws {
        let save = """
            # Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 10:00:00 2026
            *filter
            :INPUT DROP [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT DROP [0:0]
            :SPACELIFT-IN - [0:0]
            :SPACELIFT-OUT - [0:0]
            -A INPUT -i lo -j ACCEPT
            -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
            -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
            -A INPUT -j SPACELIFT-IN
            -A INPUT -j LOG --log-prefix "dropped: "
            -A OUTPUT -o lo -j ACCEPT
            -A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
            -A OUTPUT -m conntrack --ctstate NEW -g SPACELIFT-OUT
            -A SPACELIFT-IN -p tcp -m multiport --dports 1983,1984 -m comment --comment "lb-server-http,lb-server-mqtt" -j ACCEPT
            -A SPACELIFT-OUT -d 10.0.1.10/32 -p tcp -m tcp --dport 5432 -j ACCEPT
            -A SPACELIFT-OUT -d 52.216.0.0/15 -p tcp -m tcp --dport 443 -j ACCEPT
            -A SPACELIFT-OUT -d 140.82.112.0/20 -p tcp -m tcp --dport 443 -j ACCEPT
            -A SPACELIFT-OUT -d 10.0.2.20/32 -p tcp -m tcp --dport 443 -j ACCEPT
            -A SPACELIFT-OUT -d 10.0.0.2/32 -p udp -m udp --dport 53 -j ACCEPT
            -A SPACELIFT-OUT -d 10.0.0.2/32 -p tcp -m tcp --dport 53 -j ACCEPT
            -A SPACELIFT-OUT -j REJECT --reject-with icmp-port-unreachable
            -A SPACELIFT-OUT -p tcp -m tcp --dport 25 -j ACCEPT
            COMMIT

            """
        let topology = try Support.topology([
            "--cidr", "postgres=10.0.1.10", "--cidr", "object-storage=52.216.0.0/15",
            "--cidr", "vcs=140.82.112.0/20", "--cidr", "container-registry=10.0.2.20",
            "--cidr", "dns=10.0.0.2",
        ])
        let (deployed, drift) = try Support.drift(
            IptablesReader(), [("server.v4", save)], role: .server, topology: topology)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let ssh = try #require(drift.findings.first)
        #expect(ssh.kind == .extra)
        #expect(ssh.subject == Subject(.server, .ingress))
        #expect(ssh.location == SourceLocation(file: "server.v4", line: 10))
        #expect(
            ssh.message.hasPrefix(
                "'-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT' allows tcp 22 from"))
        #expect(
            deployed.diagnostics.map(\.message) == [
                "no ip6tables-save output given: IPv6 is not compared"
            ])
        #expect(deployed.compared == HostPermissions.compared([.ipv4]))
        let http = try #require(deployed.permissions.first { $0.origin?.line == 16 })
        #expect(http.flows == ["lb-server-http", "lb-server-mqtt"])
    }

    @Test func firstMatchHonoursDropsReturnsAndGotos() throws {
        let save = """
            # Generated by iptables-save v1.8.9
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :CHECK - [0:0]
            :BLOCK - [0:0]
            -A INPUT -j CHECK
            -A INPUT -s 203.0.113.0/24 -j BLOCK
            -A INPUT -p tcp -m tcp --dport 1983 -j ACCEPT
            -A INPUT -j DROP
            -A CHECK -s 10.0.0.0/8 -j RETURN
            -A CHECK -p tcp -m tcp --dport 1983 -j DROP
            -A BLOCK -s 203.0.113.7/32 -j RETURN
            -A BLOCK -j DROP
            -A OUTPUT -j DROP
            COMMIT

            """
        let topology = try Support.topology()
        let (deployed, _) = try Support.drift(
            IptablesReader(), [("r", save)], role: .server, topology: topology)
        let ingress = deployed.permissions.filter { $0.subject == Subject(.server, .ingress) }
        #expect(ingress.count == 1)
        // tcp 1983 from 10.0.0.0/8 only: CHECK drops it from elsewhere; BLOCK (for other
        // sources) does not concern 10.0.0.0/8.
        #expect(ingress.first?.peer == EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.0/8")]))
        #expect(ingress.first?.protocols == .tcp)
        #expect(ingress.first?.ports == IntervalSet([1983...1983]))
        #expect(ingress.first?.origin?.line == 10)
    }

    @Test func interfacesStatesAndSourcePortsMatchAsNewConnectionsOfFlowsDo() throws {
        let save = """
            # Generated by iptables-save v1.8.9
            *filter
            :INPUT DROP [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT DROP [0:0]
            -A INPUT -i lo -j ACCEPT
            -A INPUT -i docker0 -j ACCEPT
            -A INPUT -i br-+ -p tcp -m tcp --dport 53 -j ACCEPT
            -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED,INVALID -j ACCEPT
            -A INPUT -m conntrack ! --ctstate NEW -j ACCEPT
            -A INPUT -p tcp -m tcp ! --syn -j ACCEPT
            -A INPUT -p tcp -m tcp --tcp-flags SYN,ACK ACK -j ACCEPT
            -A INPUT -p udp -m udp --sport 53 -j ACCEPT
            -A INPUT -s 127.0.0.0/8 -j ACCEPT
            -A INPUT -d 224.0.0.0/4 -j ACCEPT
            -A INPUT -m addrtype --dst-type BROADCAST -j ACCEPT
            -A INPUT -m pkttype --pkt-type multicast -j ACCEPT
            -A INPUT -f -j ACCEPT
            -A INPUT -i eth0 -p tcp -m tcp --syn --dport 1983 -m limit --limit 10/sec -j ACCEPT
            -A INPUT ! -i lo -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN --dport 1984 -m addrtype --dst-type LOCAL -m conntrack --ctstate NEW -j ACCEPT
            -A OUTPUT -o lo -j ACCEPT
            -A OUTPUT -p tcp -m tcp --sport 22 -j ACCEPT
            -A OUTPUT -p udp -m udp --sport 1024:65535 --dport 53 -j ACCEPT
            -A OUTPUT -p tcp -m tcp --sport 30000:40000 -j ACCEPT
            -A OUTPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 5432 -j ACCEPT
            -A OUTPUT ! -s 10.0.0.5/32 -p tcp -m tcp --dport 443 -j ACCEPT
            -A OUTPUT -m owner --uid-owner 0 -m conntrack --ctstate ESTABLISHED -j ACCEPT
            COMMIT

            """
        let topology = try Support.topology()
        let (deployed, _) = try Support.drift(
            IptablesReader(), [("r", save)], role: .server, topology: topology)
        let byLine = Dictionary(grouping: deployed.permissions) { $0.origin?.line ?? 0 }
        #expect(Set(byLine.keys) == [19, 20, 23, 25], "\(byLine.keys.sorted())")
        #expect(byLine[19]?.first?.ports == IntervalSet([1983...1983]))
        #expect(byLine[20]?.first?.ports == IntervalSet([1984...1984]))
        #expect(byLine[23]?.first?.protocols == .udp)
        #expect(byLine[25]?.first?.ports == IntervalSet([5432...5432]))
        #expect(
            deployed.unreadable.map { $0.location.line ?? 0 } == [24, 26],
            "\(deployed.unreadable)")
        #expect(
            deployed.unreadable.first?.reason
                == "'--sport 30000:40000' matches some source ports of new connections; source ports are not compared"
        )
        #expect(
            deployed.unreadable.last?.reason
                == "'! -s 10.0.0.5/32' names addresses of this host, which topogen does not know; the rule is not compared"
        )
    }

    @Test func dockersChainsLetContainersOutOnlyThroughTheRulesInDockerUser() throws {
        let save = """
            # Generated by iptables-save v1.8.9 (nf_tables)
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :DOCKER - [0:0]
            :DOCKER-BRIDGE - [0:0]
            :DOCKER-CT - [0:0]
            :DOCKER-FORWARD - [0:0]
            :DOCKER-ISOLATION-STAGE-1 - [0:0]
            :DOCKER-ISOLATION-STAGE-2 - [0:0]
            :DOCKER-USER - [0:0]
            -A FORWARD -j DOCKER-USER
            -A FORWARD -j DOCKER-FORWARD
            -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
            -A DOCKER ! -i docker0 -o docker0 -j DROP
            -A DOCKER-BRIDGE -o docker0 -j DOCKER
            -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A DOCKER-FORWARD -j DOCKER-CT
            -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
            -A DOCKER-FORWARD -j DOCKER-BRIDGE
            -A DOCKER-FORWARD -i docker0 -j ACCEPT
            -A DOCKER-FORWARD -i br-0123456789ab -j ACCEPT
            -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
            -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
            -A DOCKER-USER -i docker0 -o eth0 -d 198.51.100.10/32 -p tcp -m multiport --dports 443,1984 -j RETURN
            -A DOCKER-USER -i docker0 -p udp -m udp --dport 53 -j RETURN
            -A DOCKER-USER -i docker0 -j DROP
            -A DOCKER-USER -j RETURN
            COMMIT

            """
        let topology = try Support.topology(["--cidr", "lb=198.51.100.10"])
        // docker0's containers: what DOCKER-USER returns, named after those RETURNs (Docker's
        // `-i docker0 -j ACCEPT` decides nothing of its own).
        let docker0Only = try Support.replacing(
            "-A DOCKER-FORWARD -i br-0123456789ab -j ACCEPT\n", with: "", in: save)
        let (deployed, _) = try Support.drift(
            IptablesReader(), [("r", docker0Only)], role: .worker, topology: topology)
        let forward = deployed.permissions.filter {
            $0.subject == Subject(.worker, .containerEgress)
        }
        #expect(
            forward.map { "\($0.origin?.line ?? 0) \($0.serviceDescription) \($0.peer)" } == [
                "25 tcp 443,1984 198.51.100.10/32", "26 udp 53 0.0.0.0/0",
            ])
        #expect(deployed.diagnostics.count == 1, "\(deployed.diagnostics)")
        // With a user-defined network, its containers are accepted whole at their bridge's
        // rule (DOCKER-USER's drop names docker0 only): compared as what any container may
        // open, with a warning.
        let (withNetwork, drift) = try Support.drift(
            IptablesReader(), [("r", save)], role: .worker, topology: topology)
        let everything = withNetwork.permissions.filter {
            $0.subject == Subject(.worker, .containerEgress)
        }
        #expect(everything.map { $0.origin?.line ?? 0 } == [23])
        #expect(everything.first?.protocols.isAll == true)
        #expect(
            drift.findings.filter { $0.subject == Subject(.worker, .containerEgress) }
                .map { "\($0.kind) \($0.location?.line ?? 0)" } == ["broader 23"])
        #expect(
            withNetwork.diagnostics.map(\.message).contains(
                "containers behind the bridges 'br-0123456789ab', 'docker0' may open different connections; topogen diff compares what any of them may open"
            ))
    }

    @Test func unknownTargetsAndMatchesOnDropsAreUnreadableButNotWhenTheyCannotMatch() throws {
        let save = """
            # Generated by iptables-save v1.8.9
            *filter
            :INPUT DROP [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT DROP [0:0]
            -A INPUT -m conntrack --ctstate INVALID -m nfacct --nfacct-name invalid -j DROP
            -A INPUT -m conntrack --ctstate INVALID -m recent --set -j DROP
            -A INPUT -m recent --name ssh --update --seconds 60 --hitcount 4 -j DROP
            -A INPUT -p tcp -m tcp --dport 1983 -j NFQUEUE --queue-num 1
            -A INPUT -i lo -m mark --mark 0x1 -j ACCEPT
            -A INPUT -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0" -j LOG
            [12:3456] -A INPUT -p tcp -m tcp --dport 1983 -j ACCEPT
            COMMIT

            """
        let (deployed, drift) = try Support.drift(
            IptablesReader(), [("r", save)], role: .server, topology: try Support.topology())
        #expect(deployed.unreadable.map { $0.location.line ?? 0 } == [8, 9])
        #expect(
            deployed.unreadable.map(\.reason) == [
                "'-m recent' is not understood by topogen diff; the rule is not compared",
                "'-j NFQUEUE' is a target topogen diff does not read; the rule is not compared",
            ])
        #expect(deployed.permissions.contains { $0.origin?.line == 12 })
        #expect(drift.findings.filter { $0.kind == .unreadable }.count == 2)
    }

    @Test func kubeProxysMarkedForwardingOnAWorkerIsUnreadable() throws {
        let save = """
            # Generated by iptables-save v1.8.9
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :KUBE-FORWARD - [0:0]
            -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
            -A FORWARD -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
            COMMIT

            """
        let (deployed, _) = try Support.drift(
            IptablesReader(), [("r", save)], role: .worker, topology: try Support.topology())
        #expect(
            deployed.unreadable == [
                Unreadable(
                    location: SourceLocation(file: "r", line: 10),
                    reason: "'-m mark' is not understood by topogen diff; the rule is not compared",
                    subject: Subject(.worker, .containerEgress))
            ])
        #expect(
            !deployed.permissions.contains { $0.subject == Subject(.worker, .containerEgress) })
    }

    @Test func theFamilyComesFromTheHeaderOrTheAddresses() throws {
        let topology = try Support.topology()
        let v6 = """
            *filter
            :INPUT DROP [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT DROP [0:0]
            -A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 1983 -j ACCEPT
            COMMIT

            """
        let (deployed, _) = try Support.drift(
            IptablesReader(), [("v6", v6)], role: .server, topology: topology)
        #expect(deployed.compared == HostPermissions.compared([.ipv6]))
        #expect(
            deployed.diagnostics.map(\.message) == [
                "no iptables-save output given: IPv4 is not compared"
            ])
        let bare = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n"
        #expect {
            try IptablesReader().read(
                [InputText(name: "bare", contents: bare)], topology: topology,
                options: ReadOptions(role: .server))
        } throws: { error in
            let diagnostic = (error as? ReadError)?.diagnostics.first
            return diagnostic?.message
                == "bare:1: cannot tell whether this '*filter' table is of iptables-save or ip6tables-save"
                && diagnostic?.hint?.contains("# Generated by iptables-save") == true
        }
    }

    @Test func inputsThatAreNotIptablesSaveOutputAreReadErrors() throws {
        let topology = try Support.topology()
        let cases: [(String, String)] = [
            (
                "apiVersion: v1\nkind: List\n",
                "k.yaml:1: 'apiVersion: v1' is not a line of iptables-save output"
            ),
            ("*filter\n:INPUT ACCEPT [0:0]\n", "x:1: '*filter' has no COMMIT"),
            (
                "-A INPUT -j ACCEPT\n",
                "x:1: '-A INPUT -j ACCEPT' is outside a table ('*filter' ... 'COMMIT')"
            ),
            (
                "# Generated by iptables-save\n*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -g A\nCOMMIT\n",
                "x:8: chains jump in a loop: A -> B -> A"
            ),
            (
                "# Generated by iptables-save\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n",
                "x:4: '10.0.0.300' is no address or network"
            ),
        ]
        for (text, message) in cases {
            let name = text.hasPrefix("apiVersion") ? "k.yaml" : "x"
            #expect(
                performing: {
                    try IptablesReader().read(
                        [InputText(name: name, contents: text)], topology: topology,
                        options: ReadOptions(role: .server))
                },
                throws: { error in
                    (error as? ReadError)?.diagnostics.first?.message == message
                })
        }
        #expect {
            try IptablesReader().read(
                [InputText(name: "x", contents: "*filter\nCOMMIT\n")], topology: topology,
                options: ReadOptions())
        } throws: { error in
            (error as? ReadError)?.diagnostics.first?.hint == "--role server|drain|scheduler|worker"
        }
    }

    @Test func theScriptOfAnotherRoleIsReadWithAWarning() throws {
        let text = try Support.golden("hosts", "iptables", "server.sh")
        let topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        let (deployed, drift) = try Support.drift(
            IptablesReader(), [("server.sh", text)], role: .drain, topology: topology)
        #expect(!drift.isInSync)
        #expect(
            deployed.diagnostics.first?.message
                == "'server.sh' is topogen's firewall of the server, read as the drain's")
    }
}
