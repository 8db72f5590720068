import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias Support = HostReaderSupport

@Suite struct NftablesReaderRoundTripTests {
    @Test(arguments: Example.all)
    func everyGoldenRulesetReadsBackInSync(example: Example) throws {
        let topology = try ExampleTopology.topology(of: example)
        for role in topology.components {
            let name = "\(role).nft"
            let text = try String(contentsOf: example.golden("nftables", name), encoding: .utf8)
            let (deployed, drift) = try Support.drift(
                NftablesReader(), [(name, text)], role: role, topology: topology)
            #expect(drift.isInSync, "\(example) \(role):\n\(Support.describe(drift))")
            #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
            #expect(!deployed.permissions.isEmpty)
        }
    }

    @Test(arguments: [
        [],
        ["--with-sqs", "--with-iot-core", "--with-kms"],
        ["--cidr", "postgres=0.0.0.0/0", "--cidr", "dns=10.0.0.2,2001:db8::53"],
        [
            "--infrastructure-port", "6443", "--infrastructure-port", "30000-32767",
            "--cidr", "infrastructure=10.0.0.0/8", "--allow-ssh-from", "192.0.2.0/24,2001:db8::/48",
        ],
        ["--workers", "external", "--cidr", "clients=203.0.113.0/24", "--postgres-port", "6432"],
    ])
    func emitterOutputParsesBackToExactlyTheModelsPermissions(arguments: [String]) throws {
        let topology = try Support.topology(arguments)
        let rendering = NftablesEmitter().render(topology)
        for file in rendering.files {
            let role = try #require(file.role)
            let (deployed, drift) = try Support.drift(
                NftablesReader(), [(file.name, file.contents)], role: role, topology: topology)
            #expect(drift.isInSync, "\(arguments) \(role):\n\(Support.describe(drift))")
            #expect(!deployed.permissions.isEmpty)
        }
        if arguments.contains("postgres=0.0.0.0/0") {
            let server = try #require(rendering.files.first { $0.role == .server })
            #expect(server.contents.contains("meta nfproto ipv4 tcp dport 5432"))
        }
    }
}

@Suite struct NftablesReaderMutationTests {
    private let topology: Topology
    private let ruleset: String

    init() throws {
        topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        ruleset = try Support.golden("hosts", "nftables", "worker.nft")
    }

    private func drift(_ text: String, role: Node = .worker) throws -> Drift {
        try Support.drift(NftablesReader(), [("worker.nft", text)], role: role, topology: topology)
            .drift
    }

    @Test func removingARuleIsOneMissingFlow() throws {
        // The first occurrence is in the output chain (the forward chain repeats it).
        let text = try Support.replacing(
            "\t\tip daddr 52.216.0.0/15 tcp dport 443 accept comment \"worker-object-storage\"\n",
            with: "", in: ruleset)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .missing)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.flows == ["worker-object-storage"])
    }

    @Test func wideningAPortIsBroaderWithItsLine() throws {
        let original = "ip daddr 198.51.100.10/32 tcp dport 1984 accept comment \"worker-mqtt\""
        let widened = original.replacingOccurrences(of: "dport 1984", with: "dport 1984-2000")
        let text = try Support.replacing(original, with: widened, in: ruleset)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.subject == Subject(.worker, .egress))
        #expect(finding.flows == ["worker-mqtt"])
        #expect(finding.reasons == ["ports 1985-2000"])
        #expect(
            finding.location
                == SourceLocation(file: "worker.nft", line: try Support.line(of: widened, in: text))
        )
    }

    @Test func wideningAnAddressIsBroaderNamingIt() throws {
        let original =
            "ip daddr 10.0.2.20/32 tcp dport 443 accept comment \"worker-container-registry\""
        let widened = original.replacingOccurrences(of: "10.0.2.20/32", with: "10.0.0.0/8")
        let text = try Support.replacing(original, with: widened, in: ruleset)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .broader)
        #expect(finding.flows == ["worker-container-registry", "worker-infrastructure"])
        #expect(finding.reasons.first?.hasPrefix("10.0.0.0/8 where the model has") == true)
        #expect(finding.location?.line == (try Support.line(of: widened, in: text)))
    }

    @Test func addingARuleIsExtraWithItsLine() throws {
        let anchor = "\t\tip saddr 192.0.2.0/24 tcp dport 22 accept comment \"admin-ssh-worker\"\n"
        let text = try Support.replacing(
            anchor, with: anchor + "\t\ttcp dport 8080 accept\n", in: ruleset)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .extra)
        #expect(finding.subject == Subject(.worker, .ingress))
        #expect(
            finding.location
                == SourceLocation(
                    file: "worker.nft",
                    line: try Support.line(of: "tcp dport 8080 accept", in: text)))
        #expect(
            finding.message.hasPrefix("'tcp dport 8080 accept' allows tcp 8080 from any address"))
    }

    @Test func anUnreadableMatchIsReportedWithItsLine() throws {
        let anchor = "\t\tip saddr 192.0.2.0/24 tcp dport 22 accept comment \"admin-ssh-worker\"\n"
        let added = "ip saddr @admins tcp dport 22 accept"
        let text = try Support.replacing(anchor, with: anchor + "\t\t\(added)\n", in: ruleset)
        let drift = try drift(text)
        #expect(drift.findings.count == 1, "\(Support.describe(drift))")
        let finding = try #require(drift.findings.first)
        #expect(finding.kind == .unreadable)
        #expect(finding.subject == Subject(.worker, .ingress))
        #expect(finding.location?.line == (try Support.line(of: added, in: text)))
        #expect(
            finding.message
                == "'ip saddr @admins' is not understood by topogen diff; the rule is not compared")
    }

    @Test func aJumpToAnUndeclaredChainIsAReadError() throws {
        let anchor = "\t\tip saddr 192.0.2.0/24 tcp dport 22 accept comment \"admin-ssh-worker\"\n"
        let text = try Support.replacing(anchor, with: anchor + "\t\tjump missing\n", in: ruleset)
        let line = try Support.line(of: "jump missing", in: text)
        #expect {
            try NftablesReader().read(
                [InputText(name: "worker.nft", contents: text)], topology: topology,
                options: ReadOptions(role: .worker))
        } throws: { error in
            (error as? ReadError)?.diagnostics.first?.message
                == "worker.nft:\(line): 'jump missing': table 'inet topogen' has no chain 'missing'"
        }
    }

    @Test func policyAcceptWithNoRulesIsBroaderEverywhere() throws {
        let text = """
            table inet filter {
            \tchain input {
            \t\ttype filter hook input priority filter; policy accept;
            \t}
            \tchain output {
            \t\ttype filter hook output priority filter; policy accept;
            \t}
            }

            """
        let drift = try Support.drift(
            NftablesReader(), [("ruleset", text)], role: .server, topology: topology
        ).drift
        // One finding per chain: the policy grants both families at once.
        #expect(
            drift.findings.map {
                "\($0.kind) \($0.subject.map(\.description) ?? "") \($0.location?.line ?? 0)"
            }
                == ["broader server ingress 3", "broader server egress 6"],
            "\(Support.describe(drift))")
        #expect(drift.findings.first?.reasons.prefix(2) == ["all protocols", "all ports"])
    }

    @Test func everyBaseChainOnAHookMustAccept() throws {
        // A second table whose input chain drops everything: nothing comes in any more.
        let closed =
            ruleset + """
                table inet lockdown {
                \tchain input {
                \t\ttype filter hook input priority -10; policy drop;
                \t}
                }

                """
        let drift = try drift(closed)
        #expect(
            drift.findings.map { "\($0.kind) \($0.subject.map(\.description) ?? "")" }.sorted()
                == [
                    "missing worker ingress", "missing worker ingress",
                ], "\(Support.describe(drift))")
        // A second table that accepts more does not widen what topogen's chain allows.
        let open =
            ruleset + """
                table inet permissive {
                \tchain input {
                \t\ttype filter hook input priority 10; policy accept;
                \t\ttcp dport 8080 accept
                \t}
                }

                """
        #expect(try self.drift(open).isInSync)
    }
}

@Suite struct NftablesReaderHostTests {
    @Test func engineOutputWithIptablesNftChainsIsInSyncAsText() throws {
        let topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        let text = try Support.fixture("nftables/hosts-worker-docker-kube.nft")
        let (deployed, drift) = try Support.drift(
            NftablesReader(), [("ruleset", text)], role: .worker, topology: topology)
        #expect(drift.isInSync, "\(Support.describe(drift))")
        #expect(
            deployed.diagnostics.map(\.message) == [
                "ruleset:3: chain 'PREROUTING' of table 'ip raw' on the prerouting hook drops packets; topogen diff compares the input, output and forward hooks only",
                "ruleset:134: chain 'PREROUTING' of table 'ip6 raw' on the prerouting hook drops packets; topogen diff compares the input, output and forward hooks only",
            ])
    }

    @Test func engineOutputAsJSONHidesWhatIptablesNftMatches() throws {
        let topology = try ExampleTopology.topology(of: try Support.example("hosts"))
        let text = try Support.fixture("nftables/hosts-worker-docker-kube.json")
        let (_, drift) = try Support.drift(
            NftablesReader(), [("ruleset.json", text)], role: .worker, topology: topology)
        // kube-proxy's `-m conntrack --ctstate NEW -j KUBE-SERVICES` in OUTPUT is an `xt`
        // match in JSON, without its parameters; its jumps into empty chains decide nothing.
        #expect(
            drift.findings.map {
                "\($0.kind) \($0.subject.map(\.description) ?? "") \($0.location.map(\.description) ?? "")"
            }
                == [
                    "unreadable worker egress ruleset.json: nftables[52].rule",
                    "unreadable worker egress ruleset.json: nftables[118].rule",
                ], "\(Support.describe(drift))")
        #expect(
            drift.findings.first?.message
                == "'xt match conntrack' is not understood by topogen diff; the rule is not compared"
        )
    }

    @Test func handWrittenRulesetsWithSetsRangesDefinesAndChains() throws {
        let text = """
            #!/usr/sbin/nft -f
            flush ruleset
            define lb = { 198.51.100.0/24, 203.0.113.1-203.0.113.10 }
            define dns = 10.0.0.2

            table inet filter {
            \tset blocked { type ipv4_addr; elements = { 192.0.2.1,
            \t\t192.0.2.2 } }

            \tchain input {
            \t\ttype filter hook input priority filter + 5; policy drop;
            \t\tct state vmap { established : accept, related : accept, invalid : drop }
            \t\tiif lo accept
            \t\tmeta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
            \t\tjump services
            \t\tcounter log prefix "dropped: " drop
            \t}

            \tchain services {
            \t\tip saddr $lb tcp dport { 1983, 1984 } counter accept comment "lb-server-http,lb-server-mqtt"
            \t\ttcp dport != 22 return
            \t\tip saddr 192.0.2.0/24 accept
            \t}

            \tchain output {
            \t\ttype filter hook output priority filter; policy accept;
            \t\toifname "lo" accept
            \t\tip daddr $dns meta l4proto { tcp, udp } th dport 53 accept
            \t\tip daddr 10.0.0.0/8 tcp dport < 1024 accept
            \t\ttcp dport 25 reject with tcp reset
            \t\tfib daddr type local accept
            \t}
            }
            add rule inet filter output meta nfproto ipv6 drop
            insert rule inet filter input tcp dport 8080 drop

            """
        let topology = try Support.topology([
            "--cidr", "lb=198.51.100.0/24,203.0.113.1/32", "--cidr", "dns=10.0.0.2",
        ])
        let (deployed, drift) = try Support.drift(
            NftablesReader(), [("filter.nft", text)], role: .server, topology: topology)
        let ingress = deployed.permissions.filter { $0.subject == Subject(.server, .ingress) }
        let byLine = Dictionary(grouping: ingress) { $0.origin?.line ?? 0 }
        // The vmap on ct state cannot be read (it would accept replies only, but it is a map).
        #expect(deployed.unreadable.map { $0.location.line ?? 0 }.sorted() == [12, 31])
        // 1983 and 1984 from the load balancer's networks (the define), named by its comment;
        // port 22 from 192.0.2.0/24 (after the RETURN of every other port).
        #expect(
            byLine[20]?.map(\.serviceDescription) == ["tcp 1983-1984"], "\(byLine.keys.sorted())")
        #expect(byLine[20]?.first?.flows == ["lb-server-http", "lb-server-mqtt"])
        // From 192.0.2.0/24: tcp 22, and every other protocol (the RETURN is for TCP only).
        #expect(
            byLine[22]?.map(\.protocols) == [
                ProtocolSet.all.subtracting(.tcp), .tcp,
            ])
        #expect(byLine[22]?.last?.ports == IntervalSet([22...22]))
        #expect(byLine[14]?.first?.protocols == .icmpv6)
        #expect(byLine[14]?.first?.ports == IntervalSet([135...136]))
        // The inserted drop of 8080 comes first: nothing else grants it.
        #expect(
            !ingress.contains { $0.ports.contains(8080) && $0.protocols.numbers.contains(6) },
            "\(ingress.map { "\($0.origin?.line ?? 0) \($0.serviceDescription) \($0.peer)" })")
        let egress = deployed.permissions.filter { $0.subject == Subject(.server, .egress) }
        let dns = try #require(egress.first { $0.origin?.line == 28 })
        #expect(dns.protocols == ProtocolSet(numbers: IntervalSet([6...6, 17...17])))
        #expect(dns.ports == IntervalSet([53...53]))
        #expect(egress.contains { $0.origin?.line == 29 && $0.ports == IntervalSet([0...1023]) })
        // IPv6 is dropped by the rule added at the end, before the policy.
        #expect(!egress.contains { !$0.peer.ipv6.isEmpty && $0.origin?.line == 26 })
        #expect(
            drift.findings.contains {
                $0.kind == .missing && $0.flows == ["ipv6-neighbour-discovery"]
            })
    }

    @Test func unreadableStatementsAndVerdicts() throws {
        let text = """
            table ip t {
            \tchain input {
            \t\ttype filter hook input priority 0; policy drop;
            \t\tmeta mark 0x1 accept
            \t\tsocket transparent 1 accept
            \t\tip saddr . tcp dport { 10.0.0.1 . 22 } accept
            \t\ttcp dport vmap { 22 : accept, 80 : drop }
            \t\tlimit rate over 10/second drop
            \t\tqueue num 1
            \t\tct state established,related accept
            \t\tct state invalid meta mark 0x2 drop
            \t\tiifname "lo" socket transparent 1 accept
            \t\tlimit rate 10/second burst 5 packets tcp dport 1983 counter packets 1 bytes 60 accept
            \t}
            }

            """
        let (deployed, _) = try Support.drift(
            NftablesReader(), [("t", text)], role: .server, topology: try Support.topology())
        #expect(deployed.unreadable.map { $0.location.line ?? 0 } == [4, 5, 6, 7, 8, 9])
        #expect(
            deployed.unreadable.map(\.reason).first
                == "'meta mark 0x1' is not understood by topogen diff; the rule is not compared")
        let lines = deployed.permissions.map { $0.origin?.line ?? 0 }
        #expect(lines.contains(13))
    }

    @Test func statementsThatDecideNothingKeepTheMatchesAfterThem() throws {
        let text = """
            table inet t {
            \tchain input {
            \t\ttype filter hook input priority 0; policy drop;
            \t\tlog prefix "ssh: " level info flags tcp sequence,options tcp dport 22 accept
            \t\tlimit rate 10/second burst 5 packets tcp dport 1983 counter accept
            \t\tnotrack tcp dport 1984 accept
            \t\tlimit rate over 1 mbytes/second drop
            \t}
            }

            """
        let (deployed, _) = try Support.drift(
            NftablesReader(), [("t", text)], role: .server, topology: try Support.topology())
        #expect(
            deployed.permissions.filter { $0.subject == Subject(.server, .ingress) }
                .map { "\($0.origin?.line ?? 0) \($0.serviceDescription)" } == [
                    "4 tcp 22", "5 tcp 1983", "6 tcp 1984",
                ])
        #expect(
            deployed.unreadable.map(\.reason) == [
                "'limit rate over 1 mbytes/second' is not understood by topogen diff; the rule is not compared"
            ])
    }

    @Test func inputsThatAreNotNftablesAreReadErrors() throws {
        let topology = try Support.topology()
        let cases: [(String, String)] = [
            (
                "# Generated by iptables-save v1.8.9\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
                "x:2: '*filter' is not nftables syntax"
            ),
            ("{\"SecurityGroups\": []}", "x: no 'nftables' list in the JSON"),
            ("{\"nftables\": [", "x: not JSON"),
            ("table inet t {\n\tchain c {\n", "x:2: chain 'c' is never closed"),
            ("include \"other.nft\"\n", "x:1: 'include' is not read by topogen diff"),
            ("add rule inet t c accept\n", "x:1: there is no table 'inet t'"),
        ]
        for (text, message) in cases {
            #expect(
                performing: {
                    try NftablesReader().read(
                        [InputText(name: "x", contents: text)], topology: topology,
                        options: ReadOptions(role: .server))
                },
                throws: { error in
                    (error as? ReadError)?.diagnostics.first?.message.hasPrefix(message) == true
                })
        }
    }

    @Test func anEmptyRulesetFiltersNothing() throws {
        let (deployed, drift) = try Support.drift(
            NftablesReader(), [("empty", "")], role: .server, topology: try Support.topology())
        #expect(deployed.permissions.allSatisfy { $0.peer.ipv4.isFull && $0.peer.ipv6.isFull })
        #expect(deployed.permissions.first?.excerpt == "no nftables base chain on the input hook")
        #expect(drift.findings.allSatisfy { $0.kind == .broader })
    }
}
