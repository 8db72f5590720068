import TopologyModel

/// Reads `nft list ruleset` output, as text or as `nft -j` JSON, and topogen's own rulesets
/// (`nft -f` files), into what the host's input, output and (on the worker, for its
/// containers) forward hooks allow new connections to do.
///
/// Inputs: any number of files, each text (`nft list ruleset`, a file for `nft -f`) or JSON
/// (`nft -j list ruleset`, told apart by its first character `{`); they add up into one
/// ruleset, as loading them in order would. Both families are compared. What counts is
/// described by ``NftRuleset`` (which tables and chains), ``HostProgram`` (how base chains,
/// jumps and verdicts combine) and ``NftExpression`` and ``HostMatch`` (what a rule matches).
/// A hook without any base chain filters nothing: everything is allowed there. The forward hook
/// is compared for workers only (the other components run no containers).
///
/// For example: topogen's `server.nft` loaded on a host that also has Docker's and
/// kube-proxy's chains (through iptables-nft) reads as exactly the server's flows: both the
/// `ip filter` table's `INPUT` chain and `inet topogen`'s `input` chain must accept a packet.
struct NftablesReader: RuleReader {
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        HostPermissions.expected(NftablesEmitter(), topology: topology, role: options.role)
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        let role = try HostPermissions.role(options, topology: topology, target: "nftables")
        var ruleset = NftRuleset()
        for input in inputs {
            let first = input.contents.utf8.first { ![32, 9, 10, 13].contains($0) }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                try NftJSONParser.read(input, into: &ruleset)
            } else {
                try NftTextParser.read(input, into: &ruleset)
            }
        }
        var permissions: [Permission] = []
        var unreadable: [Unreadable] = []
        var diagnostics: [Diagnostic] = []
        let paths: [HostRule.Path] =
            role.role == .worker ? [.input, .output, .forward] : [.input, .output]
        let file = inputs.first?.name ?? ""
        let reads = ruleset.readRules()
        for family in IPFamily.allCases {
            let (program, bases, notes) = try ruleset.program(for: family, reads: reads)
            for note in notes where !diagnostics.contains(note) { diagnostics.append(note) }
            for path in paths {
                let subject = Subject(role, HostPermissions.direction(path))
                do {
                    let result = try program.permissions(
                        bases: bases[path] ?? [],
                        unfiltered: (
                            SourceLocation(file: file),
                            "no nftables base chain on the \(path.rawValue) hook"
                        ),
                        path: path, family: family, subject: subject)
                    permissions += result.permissions
                    unreadable += result.unreadable
                    for note in result.diagnostics where !diagnostics.contains(note) {
                        diagnostics.append(note)
                    }
                } catch {
                    throw ReadError(
                        SourceLocation(file: file),
                        "the chains jump into each other too often to be compared (from chain '\(error.chain)')"
                    )
                }
            }
        }
        return DeployedRules(
            permissions: HostPermissions.joiningFamilies(permissions),
            compared: HostPermissions.compared([.ipv4, .ipv6]),
            unreadable: HostPermissions.distinct(unreadable), diagnostics: diagnostics)
    }
}
