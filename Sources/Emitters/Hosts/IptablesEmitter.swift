import TopologyModel

/// Renders each component host's flows as a POSIX `sh` script that applies them with iptables
/// and ip6tables: `server.sh`, `drain.sh`, `scheduler.sh`, one per worker pool (`worker.sh`,
/// `worker-eu.sh`), and `vcs-gateway.sh` with a VCS gateway.
///
/// The rules live in topogen's own chains, `TOPOGEN-INPUT`, `TOPOGEN-OUTPUT` and, on a worker,
/// `TOPOGEN-FORWARD`, loaded atomically with `iptables-restore --noflush` (which replaces the
/// chains' contents and nothing else); the script then puts one jump at the top of `INPUT` and
/// `OUTPUT`, and on the worker of Docker's `DOCKER-USER` when Docker is present or of `FORWARD`
/// otherwise, moving a jump back to the top when something was inserted above it. Applying
/// twice leaves the same ruleset as applying once. `sh worker.sh remove` takes every jump to a
/// `TOPOGEN-*` chain and those chains out again; `sh worker.sh check` validates the rules without
/// applying them. No other chain is flushed or deleted. IPv6 is filtered where the kernel has it
/// and ip6tables is installed.
///
/// For example: the server's script holds
/// `-A TOPOGEN-INPUT -p tcp -m tcp --dport 1983 -m comment --comment "lb-server-http" -j ACCEPT`.
public struct IptablesEmitter: HostEmitter {
    /// The chain every path's rules live in.
    static func chain(_ path: HostRule.Path) -> String { "TOPOGEN-\(path.rawValue.uppercased())" }

    /// Creates the emitter.
    public init() {}

    var targetName: String { "iptables" }

    func file(for firewall: HostFirewall, topology: Topology) -> RenderedFile {
        let paths = firewall.paths
        let chains = paths.map(Self.chain)
        let name = "\(firewall.role).sh"
        var script = ["#!/bin/sh"]
        script += commentLines(header(for: firewall, topology: topology))
        script += commentLines([
            "",
            "Usage, as root:",
            "  sh \(name) [apply]   load the rules and hook them into INPUT and OUTPUT"
                + (firewall.filtersContainers ? " (and FORWARD)" : ""),
            "  sh \(name) check     validate the rules without applying them",
            "  sh \(name) remove    take topogen's chains and jumps out again",
            "It owns the chains named TOPOGEN-* (here \(chains.joined(separator: ", "))) and the jumps",
            "to them, and touches no other chain. The rules do not survive a reboot: run the script",
            "at boot, for example from a systemd unit.",
        ])
        if firewall.filtersContainers {
            script += commentLines([
                "Forwarded (container) traffic is filtered from Docker's DOCKER-USER chain when it",
                "exists, otherwise from FORWARD: apply again after installing or restarting Docker.",
            ])
        }
        script += ["", "set -eu", ""]
        for family in IPFamily.allCases {
            script.append("\(family.rawValue)_rules() {")
            script.append("\tcat <<'RULES'")
            script.append(restoreText(firewall, family: family))
            script.append("RULES")
            script += ["}", ""]
        }
        script += Self.functions(filtersContainers: firewall.filtersContainers)
        return RenderedFile(
            name: name, contents: script.joined(separator: "\n") + "\n", isExecutable: true,
            role: firewall.role)
    }

    /// The `iptables-restore` input for one family, its lines written into one string (with no
    /// line feed after the last).
    private func restoreText(_ firewall: HostFirewall, family: IPFamily) -> String {
        let paths = firewall.paths
        var text = ""
        func line(_ content: String) {
            text += content
            text += "\n"
        }
        line("*filter")
        for path in paths { line(":\(Self.chain(path)) - [0:0]") }
        for path in paths {
            let chain = Self.chain(path)
            let verdict = path == .forward ? "RETURN" : "ACCEPT"
            switch path {
            case .input, .output:
                line("-A \(chain) -\(path == .input ? "i" : "o") lo -j ACCEPT")
                line("-A \(chain) -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
                if family == .ipv6 {
                    for type in HostFirewall.icmpv6Types {
                        line(
                            "-A \(chain) -p ipv6-icmp -m icmp6 --icmpv6-type \(type) -j ACCEPT")
                    }
                }
            case .forward:
                line("-A \(chain) -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
                for bridge in HostFirewall.containerBridges {
                    line(
                        "-A \(chain) -o \(bridge) -m comment --comment \"nothing new enters a container\" -j DROP"
                    )
                }
            }
            let ending = "\" -j " + verdict
            for rule in firewall.rules(path, family) {
                // `-A CHAIN [-s|-d PEER] -p tcp -m tcp --dport PORTS`, appended in place.
                var match = "-A " + chain
                if let peer = rule.peer {
                    match += path == .input ? " -s " : " -d "
                    match += peer.description
                }
                let transport = rule.port.transport.rawValue
                let range = rule.port.range
                match += " -p " + transport + " -m " + transport + " --dport "
                match += String(range.lower)
                if !range.isSinglePort {
                    match += ":" + String(range.upper)
                }
                match += " -m comment --comment \""
                for comment in firewall.comments(rule, limit: HostComment.iptablesLimit) {
                    text += match
                    text += comment
                    text += ending
                    text += "\n"
                }
            }
            line("-A \(chain) -j DROP")
        }
        text += "COMMIT"
        return text
    }

    /// The script's functions and its dispatch on the first argument.
    private static func functions(filtersContainers: Bool) -> [String] {
        var hooks = [
            "\t\thook \"$tool\" INPUT TOPOGEN-INPUT",
            "\t\thook \"$tool\" OUTPUT TOPOGEN-OUTPUT",
        ]
        if filtersContainers {
            hooks += [
                "\t\tif \"$tool\" -w -n -L DOCKER-USER >/dev/null 2>&1; then",
                "\t\t\thook \"$tool\" DOCKER-USER TOPOGEN-FORWARD",
                "\t\t\tunhook \"$tool\" FORWARD",
                "\t\telse",
                "\t\t\thook \"$tool\" FORWARD TOPOGEN-FORWARD",
                "\t\tfi",
            ]
        }
        return [
            "# IPv6 is filtered where the kernel has it and ip6tables is installed.",
            "families=iptables",
            "if [ -e /proc/net/if_inet6 ] && command -v ip6tables-restore >/dev/null 2>&1; then",
            "\tfamilies=\"iptables ip6tables\"",
            "elif [ \"${1:-apply}\" != remove ]; then",
            "\techo 'warning: no IPv6 in this kernel or no ip6tables: only IPv4 is filtered' >&2",
            "fi",
            "",
            "rules() {",
            "\tif [ \"$1\" = iptables ]; then ipv4_rules; else ipv6_rules; fi",
            "}",
            "",
            "# Puts one jump from a chain to one of ours at its top, and deletes any other.",
            "hook() {",
            "\tif [ \"$(\"$1\" -w -S \"$2\" | sed -n 2p)\" != \"-A $2 -j $3\" ]; then",
            "\t\t\"$1\" -w -I \"$2\" 1 -j \"$3\"",
            "\tfi",
            "\tfor number in $(\"$1\" -w -S \"$2\" | awk -v rule=\"-A $2 -j $3\" 'NR > 2 && $0 == rule { print NR - 1 }' | sort -rn); do",
            "\t\t\"$1\" -w -D \"$2\" \"$number\"",
            "\tdone",
            "}",
            "",
            "# Deletes every jump from a chain to a chain of topogen's.",
            "unhook() {",
            "\tfor number in $(\"$1\" -w -S \"$2\" 2>/dev/null | awk -v chain=\"$2\" '$1 == \"-A\" && $2 == chain && $NF ~ /^TOPOGEN-/ { print NR - 1 }' | sort -rn); do",
            "\t\t\"$1\" -w -D \"$2\" \"$number\"",
            "\tdone",
            "}",
            "",
            "check() {",
            "\tfor tool in $families; do",
            "\t\trules \"$tool\" | \"$tool-restore\" -w --test --noflush",
            "\tdone",
            "}",
            "",
            "apply() {",
            "\tcheck",
            "\tfor tool in $families; do",
            "\t\trules \"$tool\" | \"$tool-restore\" -w --noflush",
            "\tdone",
            "\tfor tool in $families; do",
        ] + hooks + [
            "\tdone",
            "}",
            "",
            "remove() {",
            "\tfor tool in $families; do",
            "\t\tfor chain in INPUT OUTPUT FORWARD DOCKER-USER; do",
            "\t\t\tunhook \"$tool\" \"$chain\"",
            "\t\tdone",
            "\t\townchains=$(\"$tool\" -w -S | awk '$1 == \"-N\" && $2 ~ /^TOPOGEN-/ { print $2 }')",
            "\t\tfor chain in $ownchains; do \"$tool\" -w -F \"$chain\"; done",
            "\t\tfor chain in $ownchains; do \"$tool\" -w -X \"$chain\"; done",
            "\tdone",
            "}",
            "",
            "case \"${1:-apply}\" in",
            "apply) apply ;;",
            "check) check ;;",
            "remove) remove ;;",
            "*)",
            "\techo \"error: unknown action '$1'\" >&2",
            "\techo \"usage: sh $0 [apply|check|remove]\" >&2",
            "\texit 64",
            "\t;;",
            "esac",
        ]
    }
}
