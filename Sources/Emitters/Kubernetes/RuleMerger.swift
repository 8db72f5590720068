import TopologyModel

/// Turns the flows of one policy direction into rules with no redundancy, as NCA's sanity
/// check demands: no rule may be contained in another.
///
/// Each flow is cut into atoms, one peer and one port each. An atom inside a wider atom (a CIDR
/// inside `0.0.0.0/0` on the same port, say) is dropped and its flow recorded on the wider one;
/// equal atoms are one. The atoms left are grouped by peer, then peers with the same ports share
/// a rule. Every flow stays named in the comments of the rules that carry it.
///
/// For example: `server-object-storage` and `server-vcs`, both `0.0.0.0/0` and `::/0` on
/// `443/tcp`, become one rule commented with both flows.
struct RuleMerger {
    /// Flows with the peers that stand for the other end, and a note on the choice, if any.
    struct Input {
        var flow: Flow
        /// `nil` for "any source or destination".
        var peers: [NetworkPolicyPeer]?
        var note: String?
    }

    private struct Atom: Hashable {
        var peer: NetworkPolicyPeer?
        var port: Port
    }

    func rules(_ inputs: [Input]) -> [NetworkPolicyRule] {
        // Atoms in order of first appearance, with the flows (by input index) they carry.
        var atoms: [Atom] = []
        var carriers: [Atom: [Int]] = [:]
        for (index, input) in inputs.enumerated() {
            let peers: [NetworkPolicyPeer?] = input.peers.map { $0.map { $0 } } ?? [nil]
            for peer in peers {
                for port in input.flow.ports {
                    let atom = Atom(peer: peer, port: port)
                    if carriers[atom] == nil { atoms.append(atom) }
                    if carriers[atom]?.last != index { carriers[atom, default: []].append(index) }
                }
            }
        }
        // Drop atoms inside wider ones, handing their flows to the first widest cover.
        let kept = atoms.filter { atom in !atoms.contains { $0 != atom && covers($0, atom) } }
        for atom in atoms where !kept.contains(atom) {
            guard let cover = kept.first(where: { covers($0, atom) }) else { continue }
            for index in carriers[atom] ?? [] where !(carriers[cover] ?? []).contains(index) {
                carriers[cover, default: []].append(index)
            }
        }
        // Group by peer, then peers with equal port sets into one rule.
        var peerOrder: [NetworkPolicyPeer?] = []
        var portsByPeer: [NetworkPolicyPeer?: [Port]] = [:]
        for atom in kept {
            if portsByPeer[atom.peer] == nil { peerOrder.append(atom.peer) }
            portsByPeer[atom.peer, default: []].append(atom.port)
        }
        var groups: [(ports: [Port], peers: [NetworkPolicyPeer?])] = []
        for peer in peerOrder {
            let ports = (portsByPeer[peer] ?? []).sorted()
            if let index = groups.firstIndex(where: { $0.ports == ports }) {
                groups[index].peers.append(peer)
            } else {
                groups.append((ports, [peer]))
            }
        }
        return groups.map { group in
            var indices: [Int] = []
            for peer in group.peers {
                for port in group.ports {
                    for index in carriers[Atom(peer: peer, port: port)] ?? []
                    where !indices.contains(index) {
                        indices.append(index)
                    }
                }
            }
            let comments = indices.sorted().flatMap { index -> [String] in
                let input = inputs[index]
                return ["\(input.flow.id): \(input.flow.description)"]
                    + (input.note.map { [$0] } ?? [])
            }
            let peers: [NetworkPolicyPeer]? =
                group.peers.contains { $0 == nil } ? nil : group.peers.compactMap { $0 }
            return NetworkPolicyRule(comments: comments, peers: peers, ports: group.ports)
        }
    }

    /// Whether every connection of `inner` is also one of `outer`.
    private func covers(_ outer: Atom, _ inner: Atom) -> Bool {
        guard outer.port.transport == inner.port.transport,
            outer.port.range.contains(inner.port.range)
        else { return false }
        switch (outer.peer, inner.peer) {
        case (nil, _):
            return true
        case (.some, nil):
            return false
        case (.ipBlock(let wide)?, .ipBlock(let narrow)?):
            return wide.contains(narrow)
        case (.pods(let wideNamespace, let wideLabels)?, .pods(let namespace, let labels)?):
            return wideNamespace == namespace
                && wideLabels.allSatisfy { labels[$0.key] == $0.value }
        case (.ipBlock?, .pods?), (.pods?, .ipBlock?):
            return false
        }
    }
}
