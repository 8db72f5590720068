public import TopologyModel

/// Reads `nft list ruleset` output, as text or as `nft -j` JSON, and topogen's own rulesets.
struct NftablesReader: RuleReader {
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        []
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        throw ReadError(diagnostics: [Diagnostic(.error, "not implemented yet")])
    }
}
