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
        // Drop atoms inside wider ones, handing their flows to the first cover kept (in order
        // of appearance). Covers are looked up by peer (any, the supernets of a network, the
        // sub-selectors of a pod selector), not by comparing every pair, so that a policy with
        // ten thousand peers is merged in linear time.
        var portsByPeer: [NetworkPolicyPeer?: [Port]] = [:]
        var position: [Atom: Int] = [:]
        var lengths: [IPFamily: Set<Int>] = [:]
        for (index, atom) in atoms.enumerated() {
            portsByPeer[atom.peer, default: []].append(atom.port)
            position[atom] = index
            if case .ipBlock(let cidr)? = atom.peer {
                lengths[cidr.family, default: []].insert(cidr.prefixLength)
            }
        }
        let sortedLengths = lengths.mapValues { $0.sorted() }
        func covering(_ atom: Atom) -> [Atom] {
            candidatePeers(of: atom.peer, among: portsByPeer, lengths: sortedLengths).flatMap {
                peer in
                (portsByPeer[peer] ?? []).map { Atom(peer: peer, port: $0) }
            }
            .filter { $0 != atom && covers($0, atom) }
        }
        var kept: [Atom] = []
        var dropped: [(atom: Atom, covers: [Atom])] = []
        for atom in atoms {
            let covers = covering(atom)
            if covers.isEmpty { kept.append(atom) } else { dropped.append((atom, covers)) }
        }
        let keptAtoms = Set(kept)
        for (atom, covers) in dropped {
            // A widest cover is covered by nothing, so it is kept; take the first such.
            let keptCovers = covers.filter(keptAtoms.contains)
            guard
                let cover = keptCovers.min(by: {
                    (position[$0] ?? Int.max) < (position[$1] ?? Int.max)
                })
            else { continue }
            let present = Set(carriers[cover] ?? [])
            for index in carriers[atom] ?? [] where !present.contains(index) {
                carriers[cover, default: []].append(index)
            }
        }
        // Group by peer, then peers with equal port sets into one rule.
        var peerOrder: [NetworkPolicyPeer?] = []
        var keptPorts: [NetworkPolicyPeer?: [Port]] = [:]
        for atom in kept {
            if keptPorts[atom.peer] == nil { peerOrder.append(atom.peer) }
            keptPorts[atom.peer, default: []].append(atom.port)
        }
        var groups: [(ports: [Port], peers: [NetworkPolicyPeer?])] = []
        var groupOfPorts: [[Port]: Int] = [:]
        for peer in peerOrder {
            let ports = (keptPorts[peer] ?? []).sorted()
            if let index = groupOfPorts[ports] {
                groups[index].peers.append(peer)
            } else {
                groupOfPorts[ports] = groups.count
                groups.append((ports, [peer]))
            }
        }
        return groups.map { group in
            var indices: Set<Int> = []
            for peer in group.peers {
                for port in group.ports {
                    indices.formUnion(carriers[Atom(peer: peer, port: port)] ?? [])
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

    /// The peers that may cover `peer`: any, and the peers of the same kind that may contain it
    /// (the supernets of a network, of the prefix lengths in `lengths`; the same namespace with
    /// a subset of the labels, or, beyond ten labels, every selector of the namespace in
    /// `known`), itself included. ``covers(_:_:)`` decides among them.
    private func candidatePeers(
        of peer: NetworkPolicyPeer?, among known: [NetworkPolicyPeer?: [Port]],
        lengths: [IPFamily: [Int]]
    ) -> [NetworkPolicyPeer?] {
        switch peer {
        case nil:
            return [nil]
        case .ipBlock(let cidr)?:
            return [nil]
                + cidr.supernets(ofLengths: lengths[cidr.family] ?? []).map {
                    NetworkPolicyPeer.ipBlock($0)
                }
        case .pods(let namespace, let labels)?:
            let keys = labels.keys.sorted()
            guard keys.count <= 10 else {
                return [nil]
                    + known.keys.filter {
                        guard case .pods(let other, _)? = $0 else { return false }
                        return other == namespace
                    }
            }
            return [nil]
                + (0..<(1 << keys.count)).map { subset in
                    var chosen: [String: String] = [:]
                    for (bit, key) in keys.enumerated() where subset & (1 << bit) != 0 {
                        chosen[key] = labels[key]
                    }
                    return .pods(namespace: namespace, labels: chosen)
                }
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
