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

    /// An atom: one peer (by its number in order of appearance) and one port. Peers are
    /// numbered once, so that an atom hashes as two small values, not as a selector's labels.
    private struct Atom: Hashable {
        var peer: Int
        var port: Port
    }

    func rules(_ inputs: [Input]) -> [NetworkPolicyRule] {
        // Peers and atoms in order of first appearance, each hashed once; the flows (by input
        // index) each atom carries; the atoms of each peer.
        var peerNumbers = Numbering<NetworkPolicyPeer?>()
        var atomNumbers = Numbering<Atom>()
        var carriers: [[Int]] = []
        var atomsOfPeer: [[Int]] = []
        for (index, input) in inputs.enumerated() {
            let inputPeers: [NetworkPolicyPeer?] = input.peers.map { $0.map { $0 } } ?? [nil]
            for peer in inputPeers {
                let (peerNumber, isNewPeer) = peerNumbers.number(of: peer)
                if isNewPeer { atomsOfPeer.append([]) }
                for port in input.flow.ports {
                    let (number, isNew) = atomNumbers.number(of: Atom(peer: peerNumber, port: port))
                    if isNew {
                        carriers.append([])
                        atomsOfPeer[peerNumber].append(number)
                    }
                    if carriers[number].last != index { carriers[number].append(index) }
                }
            }
        }
        let peers = peerNumbers.keys
        let atoms = atomNumbers.keys
        // Drop atoms inside wider ones, handing their flows to the first cover kept (in order
        // of appearance). Covers are looked up by peer (any, the supernets of a network, the
        // sub-selectors of a pod selector), once a peer, not by comparing every pair, so that
        // a policy with ten thousand peers is merged in linear time.
        var lengths: [IPFamily: Set<Int>] = [:]
        for case .ipBlock(let cidr)? in peers {
            lengths[cidr.family, default: []].insert(cidr.prefixLength)
        }
        let sortedLengths = lengths.mapValues { $0.sorted() }
        let anyPeer = peerNumbers[NetworkPolicyPeer?.none]
        let coveringPeers: [[Int]] = peers.map { peer in
            guard case .ipBlock(let cidr)? = peer else {
                return candidatePeers(of: peer, among: peers, lengths: sortedLengths).compactMap {
                    peerNumbers[$0]
                }
            }
            // The common case, thousands of networks: any, and the supernets present.
            var numbers = anyPeer.map { [$0] } ?? []
            for length in sortedLengths[cidr.family] ?? [] {
                guard let supernet = cidr.supernet(ofLength: length) else { break }
                if let number = peerNumbers[.ipBlock(supernet)] { numbers.append(number) }
            }
            return numbers
        }
        var isKept = [Bool](repeating: true, count: atoms.count)
        var dropped: [(atom: Int, covers: [Int])] = []
        for (number, atom) in atoms.enumerated() {
            var wider: [Int] = []
            for peer in coveringPeers[atom.peer] {
                for other in atomsOfPeer[peer]
                where other != number && covers(atoms[other], atom, peers) {
                    wider.append(other)
                }
            }
            if !wider.isEmpty {
                isKept[number] = false
                dropped.append((number, wider))
            }
        }
        for (atom, covers) in dropped {
            // A widest cover is covered by nothing, so it is kept; take the first such (atoms
            // are numbered in order of appearance).
            guard let cover = covers.filter({ isKept[$0] }).min() else { continue }
            let present = Set(carriers[cover])
            for index in carriers[atom] where !present.contains(index) {
                carriers[cover].append(index)
            }
        }
        // Group by peer, then peers with equal port sets into one rule.
        var peerOrder: [Int] = []
        var keptPorts: [Int: [Port]] = [:]
        for (number, atom) in atoms.enumerated() where isKept[number] {
            if keptPorts[atom.peer] == nil { peerOrder.append(atom.peer) }
            keptPorts[atom.peer, default: []].append(atom.port)
        }
        var groups: [(ports: [Port], peers: [Int])] = []
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
                    if let atom = atomNumbers[Atom(peer: peer, port: port)] {
                        indices.formUnion(carriers[atom])
                    }
                }
            }
            let comments = indices.sorted().flatMap { index -> [String] in
                let input = inputs[index]
                return ["\(input.flow.id): \(input.flow.description)"]
                    + (input.note.map { [$0] } ?? [])
            }
            let groupPeers = group.peers.map { peers[$0] }
            let rulePeers: [NetworkPolicyPeer]? =
                groupPeers.contains { $0 == nil } ? nil : groupPeers.compactMap { $0 }
            return NetworkPolicyRule(comments: comments, peers: rulePeers, ports: group.ports)
        }
    }

    /// The peers that may cover `peer`: any, and the peers of the same kind that may contain it
    /// (the supernets of a network, of the prefix lengths in `lengths`; the same namespace with
    /// a subset of the labels, or, beyond ten labels, every selector of the namespace in
    /// `known`), itself included. ``covers(_:_:_:)`` decides among them.
    private func candidatePeers(
        of peer: NetworkPolicyPeer?, among known: [NetworkPolicyPeer?],
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
                    + known.filter {
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

    /// Whether every connection of `inner` is also one of `outer` (their peers numbered in
    /// `peers`).
    private func covers(_ outer: Atom, _ inner: Atom, _ peers: [NetworkPolicyPeer?]) -> Bool {
        guard outer.port.transport == inner.port.transport,
            outer.port.range.contains(inner.port.range)
        else { return false }
        switch (peers[outer.peer], peers[inner.peer]) {
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
