public import TopologyModel

/// Renders each component host's flows as a POSIX `sh` script that applies them with iptables
/// and ip6tables: `server.sh`, `drain.sh`, `scheduler.sh`, `worker.sh`.
///
/// The rules live in topogen's own chains, `TOPOGEN-INPUT`, `TOPOGEN-OUTPUT` and, on the worker,
/// `TOPOGEN-FORWARD`, loaded atomically with `iptables-restore --noflush` (which replaces the
/// chains' contents and nothing else); the script then inserts one jump at the top of `INPUT`
/// and `OUTPUT`, and of Docker's `DOCKER-USER` when Docker is present, unless it is there
/// already. Applying twice leaves the same ruleset as applying once. `sh worker.sh remove` takes
/// the jumps and chains out again; `sh worker.sh check` validates the rules without applying.
/// No other chain is flushed or deleted.
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
        let paths = HostRule.Path.allCases.filter { $0 != .forward || firewall.filtersContainers }
        var script: [String] = ["#!/bin/sh"]
        script += header(for: firewall, topology: topology).map {
            $0.isEmpty ? "#" : "# \($0)"
        }
        let name = "\(firewall.role).sh"
        script += [
            "#",
            "# Usage, as root:",
            "#   sh \(name) [apply]   load the rules and hook them into INPUT and OUTPUT"
                + (firewall.filtersContainers ? " (and DOCKER-USER)" : ""),
            "#   sh \(name) check     validate the rules without applying them",
            "#   sh \(name) remove    take topogen's chains and jumps out again",
            "# It owns the chains \(paths.map(Self.chain).joined(separator: ", ")) and touches no other.",
        ]
        if firewall.filtersContainers {
            script.append(
                "# DOCKER-USER is hooked only when Docker is present: apply again after installing Docker."
            )
        }
        script += [
            "",
            "set -eu",
            "",
            "chains=\"\(paths.map(Self.chain).joined(separator: " "))\"",
            "",
        ]
        for family in IPFamily.allCases {
            script.append("\(family.rawValue)_rules() {")
            script.append("\tcat <<'RULES'")
            script += restoreText(firewall, family: family, paths: paths)
            script.append("RULES")
            script += ["}", ""]
        }
        script += Self.functions(hooks: paths.map(Self.hook))
        return RenderedFile(
            name: name, contents: script.joined(separator: "\n") + "\n", isExecutable: true,
            role: firewall.role)
    }

    /// The built-in (or Docker's) chain that jumps to a path's chain.
    private static func hook(_ path: HostRule.Path) -> (builtIn: String, chain: String) {
        switch path {
        case .input: ("INPUT", chain(path))
        case .output: ("OUTPUT", chain(path))
        case .forward: ("DOCKER-USER", chain(path))
        }
    }

    /// The `iptables-restore` input for one family.
    private func restoreText(_ firewall: HostFirewall, family: IPFamily, paths: [HostRule.Path])
        -> [String]
    {
        var lines = ["*filter"] + paths.map { ":\(Self.chain($0)) - [0:0]" }
        for path in paths {
            let chain = Self.chain(path)
            let verdict = path == .forward ? "RETURN" : "ACCEPT"
            if path != .forward {
                lines.append("-A \(chain) -\(path == .input ? "i" : "o") lo -j ACCEPT")
            }
            lines.append("-A \(chain) -m conntrack --ctstate RELATED,ESTABLISHED -j \(verdict)")
            if family == .ipv6 && path != .forward {
                for type in [133, 134, 135, 136] {
                    lines.append(
                        "-A \(chain) -p ipv6-icmp -m icmp6 --icmpv6-type \(type) -j ACCEPT")
                }
            }
            for rule in firewall.rules(path, family) {
                var words = ["-A", chain]
                if let peer = rule.peer { words += [path == .input ? "-s" : "-d", "\(peer)"] }
                let transport = rule.port.transport.rawValue
                let range = rule.port.range
                words += ["-p", transport, "-m", transport, "--dport"]
                words.append(
                    range.isSinglePort ? "\(range.lower)" : "\(range.lower):\(range.upper)")
                words += ["-m", "comment", "--comment", "\"\(rule.flows.joined(separator: ","))\""]
                words += ["-j", verdict]
                lines.append(words.joined(separator: " "))
            }
            lines.append("-A \(chain) -j DROP")
        }
        lines.append("COMMIT")
        return lines
    }

    /// The script's functions and its dispatch on the first argument.
    private static func functions(hooks: [(builtIn: String, chain: String)]) -> [String] {
        func each(_ body: (String, String) -> String) -> [String] {
            hooks.map { "\t" + body($0.builtIn, $0.chain) }
        }
        return [
            "# Inserts a jump at the top of a chain unless it is there already.",
            "hook() {",
            "\t\"$1\" -w -C \"$2\" -j \"$3\" 2>/dev/null || \"$1\" -w -I \"$2\" 1 -j \"$3\"",
            "}",
            "",
            "# Deletes every jump from a chain to one of ours.",
            "unhook() {",
            "\twhile \"$1\" -w -D \"$2\" -j \"$3\" 2>/dev/null; do :; done",
            "}",
            "",
            "check() {",
            "\tipv4_rules | iptables-restore -w --test --noflush",
            "\tipv6_rules | ip6tables-restore -w --test --noflush",
            "}",
            "",
            "apply() {",
            "\tcheck",
            "\tipv4_rules | iptables-restore -w --noflush",
            "\tipv6_rules | ip6tables-restore -w --noflush",
            "\tfor tool in iptables ip6tables; do",
        ]
            + hooks.map { hook in
                hook.builtIn == "DOCKER-USER"
                    ? "\t\tif \"$tool\" -w -n -L DOCKER-USER >/dev/null 2>&1; then hook \"$tool\" DOCKER-USER \(hook.chain); fi"
                    : "\t\thook \"$tool\" \(hook.builtIn) \(hook.chain)"
            } + [
                "\tdone",
                "}",
                "",
                "remove() {",
                "\tfor tool in iptables ip6tables; do",
            ]
            + hooks.map { hook in
                hook.builtIn == "DOCKER-USER"
                    ? "\t\tif \"$tool\" -w -n -L DOCKER-USER >/dev/null 2>&1; then unhook \"$tool\" DOCKER-USER \(hook.chain); fi"
                    : "\t\tunhook \"$tool\" \(hook.builtIn) \(hook.chain)"
            } + [
                "\t\tfor chain in $chains; do",
                "\t\t\tif \"$tool\" -w -n -L \"$chain\" >/dev/null 2>&1; then",
                "\t\t\t\t\"$tool\" -w -F \"$chain\"",
                "\t\t\t\t\"$tool\" -w -X \"$chain\"",
                "\t\t\tfi",
                "\t\tdone",
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
