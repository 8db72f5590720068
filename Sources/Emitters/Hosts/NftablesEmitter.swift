import TopologyModel

/// Renders each component host's flows as an nftables ruleset: `server.nft`, `drain.nft`,
/// `scheduler.nft`, one per worker pool (`worker.nft`, `worker-eu.nft`), and `vcs-gateway.nft`
/// with a VCS gateway, each loadable with `nft -f`.
///
/// A ruleset owns one table, `table inet topogen`, with base chains `input` and `output` (and
/// `forward` on a worker, for containers' traffic) whose policy is drop. Loading it creates the
/// table if missing, deletes it and defines it anew in one transaction, so loading twice leaves
/// the same ruleset as loading once; no other table is touched. `nft delete table inet topogen`
/// removes it. The semantics and comments are those of ``IptablesEmitter``: both render the same
/// host firewall.
///
/// For example: the server's ruleset holds `tcp dport 1983 accept comment "lb-server-http"`.
public struct NftablesEmitter: HostEmitter {
    /// The table every ruleset owns.
    static let table = "inet topogen"

    /// Creates the emitter.
    public init() {}

    var targetName: String { "nftables" }

    func file(for firewall: HostFirewall, topology: Topology) -> RenderedFile {
        let name = "\(firewall.role).nft"
        var lines = ["#!/usr/sbin/nft -f"]
        lines += commentLines(header(for: firewall, topology: topology))
        lines += commentLines([
            "",
            "Usage, as root:",
            "  nft -f \(name)                  load the rules, replacing an earlier load",
            "  nft -c -f \(name)               validate the rules without applying them",
            "  nft delete table \(Self.table)   take them out again (it fails when absent)",
            "It owns table \(Self.table) and touches no other table. The rules do not survive a",
            "reboot: load them at boot, for example from a systemd unit.",
        ])
        lines += [
            "",
            "table \(Self.table)",
            "delete table \(Self.table)",
            "",
            "table \(Self.table) {",
        ]
        for (index, path) in firewall.paths.enumerated() {
            if index > 0 { lines.append("") }
            lines.append(chain(path, firewall))
        }
        lines.append("}")
        return RenderedFile(
            name: name, contents: lines.joined(separator: "\n") + "\n", isExecutable: true,
            role: firewall.role)
    }

    /// One chain, its lines written into one string (with no line feed after the last).
    private func chain(_ path: HostRule.Path, _ firewall: HostFirewall) -> String {
        var text = ""
        func line(_ content: String) {
            text += content
            text += "\n"
        }
        line("\tchain \(path.rawValue) {")
        line("\t\ttype filter hook \(path.rawValue) priority filter; policy drop;")
        let icmpv6Types = HostFirewall.icmpv6Types.map(String.init).joined(separator: ", ")
        switch path {
        case .input, .output:
            line("\t\t\(path == .input ? "iifname" : "oifname") \"lo\" accept")
            line("\t\tct state established,related accept")
            line("\t\ticmpv6 type { \(icmpv6Types) } accept")
        case .forward:
            line("\t\tct state established,related accept")
            for bridge in HostFirewall.containerBridges {
                let name = bridge.replacingPlusWithStar
                line("\t\toifname \"\(name)\" drop comment \"nothing new enters a container\"")
            }
        }
        let ipv6 = firewall.rules(path, .ipv6)
        var pendingIPv6 = ipv6
        for rule in firewall.rules(path, .ipv4) {
            // A rule for any address of both families needs no family match.
            if rule.peer == nil,
                let twin = pendingIPv6.firstIndex(where: {
                    $0.peer == nil && $0.port == rule.port && $0.flows == rule.flows
                })
            {
                pendingIPv6.remove(at: twin)
                appendStatements(rule, firewall, path: path, familyMatch: nil, to: &text)
            } else {
                appendStatements(rule, firewall, path: path, familyMatch: .ipv4, to: &text)
            }
        }
        for rule in pendingIPv6 {
            appendStatements(rule, firewall, path: path, familyMatch: .ipv6, to: &text)
        }
        text += "\t}"
        return text
    }

    /// Appends the rule as nft statements, a line each: one per comment-sized group of flows.
    private func appendStatements(
        _ rule: HostRule, _ firewall: HostFirewall, path: HostRule.Path, familyMatch: IPFamily?,
        to text: inout String
    ) {
        // `[ip saddr PEER |meta nfproto ipv4 ]tcp dport PORTS accept comment "`
        var match = "\t\t"
        switch (familyMatch, rule.peer) {
        case (_, let peer?):
            match += peer.family == .ipv4 ? "ip " : "ip6 "
            match += path == .input ? "saddr " : "daddr "
            match += peer.description
            match += " "
        case (let family?, nil):
            match += "meta nfproto " + family.rawValue + " "
        case (nil, nil): break
        }
        let range = rule.port.range
        match += rule.port.transport.rawValue + " dport " + String(range.lower)
        if !range.isSinglePort {
            match += "-" + String(range.upper)
        }
        match += " accept comment \""
        for comment in firewall.comments(rule, limit: HostComment.nftLimit) {
            text += match
            text += comment
            text += "\"\n"
        }
    }
}

extension String {
    /// An iptables interface wildcard (`br-+`) as nft writes it (`br-*`).
    fileprivate var replacingPlusWithStar: String {
        hasSuffix("+") ? String(dropLast()) + "*" : self
    }
}
