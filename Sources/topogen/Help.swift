import Emitters
import TopologyModel

/// The help texts, in the layout of swift-argument-parser tools: `OVERVIEW:`, `USAGE:`, the
/// option groups, `SUBCOMMANDS:`.
enum Help {
    static func text(for subcommand: Subcommand?) -> String {
        switch subcommand {
        case nil, .help:
            return """
                OVERVIEW: Generate least-privilege firewall rules for a self-hosted Spacelift
                installation.

                topogen derives every allowed connection (flow) of the installation from the
                options you give, and renders them for a target.

                USAGE: topogen <subcommand>

                \(optionsSection(for: nil))
                SUBCOMMANDS:
                \(subcommandLines())

                  See 'topogen help <subcommand>' for detailed help.

                """
        case .generate:
            return """
                OVERVIEW: \(Subcommand.generate.abstract)

                Without -o the files are printed to stdout; with -o they are written into the
                directory, and only when everything succeeded.

                USAGE: topogen generate --target <target> [<options>] [--role <role>] [-o <directory>]

                TARGETS:
                \(targetLines())

                \(optionsSection(for: .generate))
                NODES (for --cidr):
                \(nodeLines())

                EXAMPLES:
                  topogen --target k8s --with-sqs
                  topogen generate --target k8s --cidr postgres=10.20.0.0/16 -o deploy/
                  topogen --target iptables --allow-ssh-from 192.0.2.0/24 -o hosts/
                  topogen --target nftables --role worker
                  topogen --target aws --topology examples/aws-two-pools.yaml -o groups/

                """
        case .flows:
            return """
                OVERVIEW: \(Subcommand.flows.abstract)

                USAGE: topogen flows [--target <target>] [<options>] [--format <format>]

                \(optionsSection(for: .flows))
                NODES (for --cidr):
                \(nodeLines())

                EXAMPLES:
                  topogen flows --with-sqs
                  topogen flows --target k8s --format json

                """
        case .diff:
            return """
                OVERVIEW: \(Subcommand.diff.abstract)

                topogen reads the rules that are deployed today, works out which connections they
                allow, and compares them with the flows the options imply. It reports, by
                component, what is missing (a flow the rules do not allow), extra (a rule no flow
                needs) and broader (a rule that allows a flow and more: all ports, all protocols
                or wider addresses), each with the file and line of the rule, and every rule it
                cannot read. Exit status: 0 in sync, 1 drift, 64 wrong command line, 65 an input
                that cannot be read.

                USAGE: topogen diff --target <target> --against <path> ... [<options>] [--format <format>]

                INPUTS:
                  k8s                       NetworkPolicy manifests (YAML, several documents), or
                                            'kubectl get networkpolicy -A -o yaml' or '-o json'.
                  iptables                  'iptables-save' and 'ip6tables-save' output of one host
                                            (with --role), or topogen's own script.
                  nftables                  'nft list ruleset' or 'nft -j list ruleset' output of one
                                            host (with --role), or topogen's own ruleset.
                  aws                       'aws ec2 describe-security-groups' output.
                  terraform                 A directory of .tf files (or one file).

                \(optionsSection(for: .diff))
                EXAMPLES:
                  kubectl get networkpolicy -A -o yaml | topogen diff --target k8s --against -
                  topogen diff --target iptables --role worker --against rules.v4 --against rules.v6
                  topogen diff --target aws --with-sqs --against groups.json --format json
                  topogen diff --target terraform --against infra/network/

                """
        case .graph:
            return """
                OVERVIEW: \(Subcommand.graph.abstract)

                Every flow of the installation is an edge labelled with its transport and ports;
                nodes are grouped by network or namespace: the public side, the backend, each
                worker pool, and the external services. Mermaid renders on GitHub and in most
                Markdown viewers; render dot with Graphviz ('dot -Tsvg').

                USAGE: topogen graph [<options>] [--format <format>]

                \(optionsSection(for: .graph))
                EXAMPLES:
                  topogen graph --topology topology.yaml
                  topogen graph --format dot --with-sqs | dot -Tsvg > installation.svg

                """
        case .`init`:
            return """
                OVERVIEW: \(Subcommand.`init`.abstract)

                The file describes the reference installation, every default spelled out, with
                the optional sections (worker pools, VCS gateway, egress proxy, private endpoints,
                extra egress) as commented examples. Give it to any subcommand with --topology.

                USAGE: topogen init [-o <file>] [--force]

                \(optionsSection(for: .`init`))
                EXAMPLES:
                  topogen init -o topology.yaml
                  topogen --target k8s --topology topology.yaml

                """
        }
    }

    /// `usage: ...` line for an error message.
    static func usage(for subcommand: Subcommand?) -> String {
        switch subcommand {
        case .generate:
            "usage: topogen generate --target <target> [<options>] [--role <role>] [-o <directory>]"
        case .flows: "usage: topogen flows [--target <target>] [<options>] [--format <format>]"
        case .diff:
            "usage: topogen diff --target <target> --against <path> ... [<options>] [--format <format>]"
        case .graph: "usage: topogen graph [<options>] [--format <format>]"
        case .`init`: "usage: topogen init [-o <file>] [--force]"
        case .help: "usage: topogen help [<subcommand>]"
        case nil: "usage: topogen <subcommand>"
        }
    }

    private static func optionsSection(for subcommand: Subcommand?) -> String {
        let options = OptionSpec.options(for: subcommand)
        var text = ""
        for group in OptionSpec.Group.allCases {
            let members = options.filter { $0.group == group }
            guard !members.isEmpty else { continue }
            text += "\(group.rawValue):\n"
            text += members.map { line($0.synopsis, $0.help) }.joined(separator: "\n")
            text += "\n\n"
        }
        return String(text.dropLast())
    }

    private static func subcommandLines() -> String {
        Subcommand.allCases.map {
            line($0.rawValue + ($0 == .generate ? " (default)" : ""), $0.abstract)
        }.joined(separator: "\n")
    }

    private static func nodeLines() -> String {
        var lines: [String] = []
        var line = " "
        for name in Node.allCases.filter({ $0 != .admin }).map(\.rawValue) {
            if line.count + 1 + name.count > 98 {
                lines.append(line)
                line = " "
            }
            line += " " + name
        }
        return (lines + [line]).joined(separator: "\n")
    }

    private static func targetLines() -> String {
        Format.allCases.map {
            line($0.rawValue + ($0 == .kubernetes ? " (kubernetes)" : ""), $0.summary + ".")
        }.joined(separator: "\n")
    }

    /// Two columns: the name at 2 spaces, the text at column 28, wrapped under itself.
    private static func line(_ name: String, _ help: String) -> String {
        let column = 28
        let head = "  " + name
        let width = 100 - column
        var lines: [String] = []
        var current = ""
        for word in help.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width {
                lines.append(current)
                current = String(word)
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        lines.append(current)
        let pad = String(repeating: " ", count: column)
        let first =
            head.count < column - 1
            ? head + String(repeating: " ", count: column - head.count) + lines[0]
            : head + "\n" + pad + lines[0]
        return ([first] + lines.dropFirst().map { pad + $0 }).joined(separator: "\n")
    }
}
