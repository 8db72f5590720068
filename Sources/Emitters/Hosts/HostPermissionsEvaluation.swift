import TopologyModel

/// The rules of one family of a host, as both readers read them: chains of rules with their
/// matches and actions. ``permissions(bases:path:family:subject:)`` evaluates a path.
///
/// The evaluation follows first-match semantics without enumerating packets: an accepting
/// rule grants what it matches, within the conditions of the jumps that led to it, minus what
/// earlier dropping rules on the path matched and minus what earlier `RETURN`s in the chains it
/// is nested in sent back; earlier accepting rules need not be subtracted, since the union of
/// what is accepted is the same. Dropping rules are recorded the same way, minus the returns
/// before them. A built-in (base) chain whose policy accepts grants what no drop on the path
/// matched, split by the `RETURN`s that sent packets back to it so that each piece names the
/// rule responsible. A jump evaluates the chain with the jump's conditions; a goto does too,
/// and the packets it matched then leave the chain that went to it, as with a `RETURN`.
///
/// Several base chains on one hook (nftables) must each accept a packet: what the path allows
/// is the intersection of what each allows.
///
/// For example: `-A INPUT -s 192.0.2.0/24 -j DROP` followed by `-A INPUT -p tcp --dport 22 -j
/// ACCEPT` grants tcp 22 from every address but `192.0.2.0/24`.
struct HostProgram: Sendable {
    /// What a rule does with the packets it matches.
    enum Action: Hashable, Sendable {
        /// Accepts them: `ACCEPT`, `accept`.
        case accept
        /// Drops or rejects them.
        case drop
        /// Sends them back to the calling chain; in a base chain, to its policy.
        case returns
        /// Evaluates a chain (its index), then goes on.
        case jump(Int)
        /// Evaluates a chain (its index) instead of the rest of this one.
        case goto(Int)
        /// Nothing that decides: logging, counting, marking.
        case next
        /// A target that cannot be read; why.
        case unknown(String)
    }

    /// One rule.
    struct Rule: Hashable, Sendable {
        /// What it matches.
        var match: HostMatch
        /// What it does.
        var action: Action
        /// Where it was written.
        var origin: SourceLocation
        /// The rule in a few words.
        var excerpt: String
        /// The flow ids its comment names.
        var flows: [String]
    }

    /// A chain: its name and rules, in order.
    struct Chain: Hashable, Sendable {
        /// The name, for messages.
        var name: String
        /// The rules.
        var rules: [Rule]
    }

    /// A chain packets of a path enter by themselves, with its policy.
    struct Base: Hashable, Sendable {
        /// The index of the chain.
        var chain: Int
        /// Whether the policy accepts.
        var policyAccepts: Bool
        /// Where the policy was written.
        var origin: SourceLocation
        /// The policy in a few words, for example `:INPUT ACCEPT`.
        var excerpt: String
    }

    /// Why a path cannot be evaluated: its chains jump into each other too often.
    struct TooComplex: Error, Hashable, Sendable {
        /// The chain where the evaluation gave up.
        var chain: String
    }

    /// The chains.
    var chains: [Chain] {
        didSet { inert = Self.inertChains(chains) }
    }

    /// Whether each chain decides nothing: all its rules log, count or mark, or jump to
    /// chains that decide nothing (an empty chain kube-proxy keeps for later, for example).
    private(set) var inert: [Bool]

    /// A program of these chains.
    init(chains: [Chain]) {
        self.chains = chains
        inert = Self.inertChains(chains)
    }

    /// Which chains decide nothing, found by fixpoint over jumps.
    private static func inertChains(_ chains: [Chain]) -> [Bool] {
        var inert = Array(repeating: false, count: chains.count)
        var changed = true
        while changed {
            changed = false
            for (index, chain) in chains.enumerated() where !inert[index] {
                let decides = chain.rules.contains { rule in
                    switch rule.action {
                    case .next: false
                    case .jump(let target): !inert[target]
                    default: true
                    }
                }
                if !decides {
                    inert[index] = true
                    changed = true
                }
            }
        }
        return inert
    }

    /// The most rule visits one path may take, through every jump.
    static let visitLimit = 20_000_000
    /// The deepest nesting of jumps followed.
    static let depthLimit = 256

    /// What a path allows in one family, and what could not be read on it.
    struct PathResult: Hashable, Sendable {
        /// The permissions the path grants.
        var permissions: [Permission]
        /// The rules on the path that cannot be read.
        var unreadable: [Unreadable]
        /// Notes on the evaluation, such as containers on different bridges allowed
        /// different connections.
        var diagnostics: [Diagnostic]
    }

    /// What the path allows in one family: the permissions, and the rules on the path that
    /// cannot be read. The forward path is evaluated for the containers of each bridge the
    /// rules name, and what any of them may open is compared (with a warning when they
    /// differ).
    ///
    /// - Parameters:
    ///   - bases: The base chains of the path; with none, nothing is filtered and `unfiltered`
    ///     names why.
    ///   - unfiltered: Where and why nothing filters the path, when `bases` is empty.
    ///   - path: The path.
    ///   - family: The family of the packets.
    ///   - subject: Whose permissions they are.
    /// - Returns: The permissions, unreadable rules and notes.
    /// - Throws: ``TooComplex`` when the chains jump into each other so often, or so deep,
    ///   that evaluating them would take too long.
    func permissions(
        bases: [Base], unfiltered: (origin: SourceLocation, excerpt: String),
        path: HostRule.Path, family: IPFamily, subject: Subject
    ) throws(TooComplex) -> PathResult {
        var bridges = ["docker0"]
        if path == .forward {
            var named: Set<String> = []
            for chain in chains {
                for rule in chain.rules { named.formUnion(rule.match.bridges) }
            }
            if !named.isEmpty { bridges = named.sorted() }
        }
        var combined: [Grant] = []
        var unreadable: [Unreadable] = []
        var differ = false
        for (position, bridge) in bridges.enumerated() {
            let (grants, unread) = try evaluate(
                bases: bases, unfiltered: unfiltered, path: path, family: family,
                subject: subject, bridge: bridge)
            unreadable += unread
            if position == 0 {
                combined = grants
                continue
            }
            var added: [Grant] = []
            for grant in grants {
                for piece in PacketBox.subtract([grant.box], combined.map(\.box)) {
                    var named = grant
                    named.box = piece
                    added.append(named)
                }
            }
            if !added.isEmpty
                || combined.contains(where: {
                    !PacketBox.subtract([$0.box], grants.map(\.box)).isEmpty
                })
            {
                differ = true
            }
            combined += added
        }
        var seen: Set<SourceLocation> = []
        unreadable = unreadable.filter { seen.insert($0.location).inserted }
        let policies = Dictionary(
            bases.map { ($0.chain, $0) }, uniquingKeysWith: { first, _ in first })
        // Rules repeat the same protocols and ports: convert each once.
        var protocolSets: [ProtocolBits: ProtocolSet] = [:]
        var portSets: [IntervalSet<UInt16>: IntervalSet<UInt16>] = [:]
        let permissions = combined.map { grant in
            let protocols =
                protocolSets[grant.box.protocols]
                ?? {
                    let set = grant.box.protocols.protocolSet
                    protocolSets[grant.box.protocols] = set
                    return set
                }()
            let ports =
                portSets[grant.box.ports]
                ?? {
                    let set = grant.box.ports
                    portSets[grant.box.ports] = set
                    return set
                }()
            var permission = Permission(
                subject: subject, peer: HostAddress.endpoints(grant.box.peers, family),
                protocols: protocols, ports: ports)
            if grant.rule.position >= 0 {
                let rule = chains[grant.rule.chain].rules[grant.rule.position]
                permission.origin = rule.origin
                permission.excerpt = rule.excerpt
                permission.flows = rule.flows
            } else if let base = policies[grant.rule.chain] {
                permission.origin = base.origin
                permission.excerpt = base.excerpt
            } else {
                permission.origin = unfiltered.origin
                permission.excerpt = unfiltered.excerpt
            }
            return permission
        }
        var diagnostics: [Diagnostic] = []
        if differ {
            let names = bridges.map { "'\($0)'" }.joined(separator: ", ")
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "containers behind the bridges \(names) may open different connections; topogen diff compares what any of them may open"
                ))
        }
        return PathResult(
            permissions: permissions, unreadable: unreadable, diagnostics: diagnostics)
    }

    /// What the path allows one bridge's containers (or the host itself).
    private func evaluate(
        bases: [Base], unfiltered: (origin: SourceLocation, excerpt: String),
        path: HostRule.Path, family: IPFamily, subject: Subject, bridge: String
    ) throws(TooComplex) -> ([Grant], [Unreadable]) {
        var accepted: [Grant]?
        var unreadable: [Unreadable] = []
        for base in bases {
            var walker = Walker(
                program: self, path: path, family: family, subject: subject, bridge: bridge)
            try walker.walk(base.chain, context: .everything(family), inherited: [], depth: 0)
            if base.policyAccepts {
                walker.grant(
                    .everything(family),
                    by: Grant(
                        rule: RuleKey(chain: base.chain, position: -1), box: .everything(family),
                        isPolicy: true))
            }
            unreadable += walker.unreadable
            accepted = accepted.map { Self.intersect($0, walker.grants) } ?? walker.grants
        }
        let grants =
            accepted ?? [
                Grant(
                    rule: RuleKey(chain: -1, position: -1), box: .everything(family),
                    isPolicy: true)
            ]
        return (Self.coalesced(grants), unreadable)
    }

    /// The grants with the pieces one rule grants on the same protocols and ports joined
    /// into one, so that a rule is one permission however the drops before it cut it.
    private static func coalesced(_ grants: [Grant]) -> [Grant] {
        var byRule: [RuleKey: [Int]] = [:]
        for (index, grant) in grants.enumerated() {
            byRule[grant.rule, default: []].append(index)
        }
        guard byRule.count < grants.count else { return grants }
        var result: [Grant] = []
        var done: Set<RuleKey> = []
        for grant in grants {
            guard let indices = byRule[grant.rule], indices.count > 1 else {
                result.append(grant)
                continue
            }
            guard done.insert(grant.rule).inserted else { continue }
            var joined: [Grant] = []
            for index in indices {
                let piece = grants[index]
                if let same = joined.firstIndex(where: {
                    $0.box.protocols == piece.box.protocols && $0.box.ports == piece.box.ports
                }) {
                    joined[same].box.peers = joined[same].box.peers.union(piece.box.peers)
                } else {
                    joined.append(piece)
                }
            }
            result += joined
        }
        return result
    }

    /// What two base chains both accept: the pieces both grant, named after the one that is
    /// not a policy (the later one when both are rules, or both policies).
    private static func intersect(_ first: [Grant], _ second: [Grant]) -> [Grant] {
        var result: [Grant] = []
        for a in first {
            for b in second where a.box.overlaps(b.box) {
                var piece = b.isPolicy && !a.isPolicy ? a : b
                piece.box = a.box.intersection(b.box)
                piece.isPolicy = a.isPolicy && b.isPolicy
                if !piece.box.isEmpty { result.append(piece) }
            }
        }
        return result
    }
}

/// Which rule (chain and position, -1 for the chain's policy) something comes from.
private struct RuleKey: Hashable, Sendable {
    /// The chain's index.
    var chain: Int
    /// The rule's position in the chain; -1 for the chain's policy.
    var position: Int
}

/// Packets a rule lets through, with the rule.
private struct Grant: Hashable, Sendable {
    /// The rule or policy that grants it: its chain and position; a policy's position is -1,
    /// and a path without base chain has chain -1 too.
    var rule: RuleKey
    /// The packets.
    var box: PacketBox
    /// Whether a chain's policy grants it rather than a rule.
    var isPolicy: Bool
}

/// What earlier dropping rules matched, grouped by protocols and ports so that long lists of
/// drops of one kind (block lists) are one box with many addresses, searched by bisection.
private struct DropIndex {
    /// What the drops of one group share.
    struct Key: Hashable {
        /// Their protocols.
        var protocols: ProtocolBits
        /// Their ports.
        var ports: IntervalSet<UInt16>
    }

    /// Drops of one protocol set and port set, their addresses joined.
    struct Group {
        /// The protocols.
        var protocols: ProtocolBits
        /// The ports.
        var ports: IntervalSet<UInt16>
        /// The addresses joined so far.
        var peers: IntervalSet<UInt128>
        /// Addresses recorded since, joined when the group is next needed.
        var pending: [ClosedRange<UInt128>]
        /// The lowest address of any drop of the group, for a quick test.
        var lowest: UInt128
        /// The highest address of any drop of the group.
        var highest: UInt128
    }

    /// The groups, in the order their first drop was met.
    var groups: [Group] = []
    /// The group of each protocol and port set.
    var index: [Key: Int] = [:]

    /// Records what a dropping rule matched.
    mutating func insert(_ box: PacketBox) {
        guard let first = box.peers.ranges.first, let last = box.peers.ranges.last else { return }
        let key = Key(protocols: box.protocols, ports: box.ports)
        if let existing = index[key] {
            groups[existing].pending += box.peers.ranges
            groups[existing].lowest = min(groups[existing].lowest, first.lowerBound)
            groups[existing].highest = max(groups[existing].highest, last.upperBound)
        } else {
            index[key] = groups.count
            groups.append(
                Group(
                    protocols: box.protocols, ports: box.ports, peers: .empty,
                    pending: box.peers.ranges, lowest: first.lowerBound,
                    highest: last.upperBound))
        }
    }

    /// Whether a recorded drop may match some packets of `box` (a quick test on bounds,
    /// protocols and ports).
    func touches(_ box: PacketBox) -> Bool {
        guard let first = box.peers.ranges.first, let last = box.peers.ranges.last else {
            return false
        }
        for group in groups
        where first.lowerBound <= group.highest && last.upperBound >= group.lowest
            && box.protocols.overlaps(group.protocols) && box.ports.overlaps(group.ports)
        {
            return true
        }
        return false
    }

    /// The packets of `boxes` no recorded drop matched.
    mutating func subtract(from boxes: [PacketBox]) -> [PacketBox] {
        var remaining = boxes
        for position in groups.indices {
            if remaining.isEmpty { break }
            let group = groups[position]
            let touched = remaining.contains { box in
                guard let first = box.peers.ranges.first, let last = box.peers.ranges.last
                else { return false }
                return first.lowerBound <= group.highest && last.upperBound >= group.lowest
                    && box.protocols.overlaps(group.protocols)
                    && box.ports.overlaps(group.ports)
            }
            guard touched else { continue }
            if !group.pending.isEmpty {
                groups[position].peers = group.peers.union(IntervalSet(group.pending))
                groups[position].pending = []
            }
            let cut = PacketBox(
                peers: groups[position].peers, protocols: group.protocols, ports: group.ports)
            remaining = remaining.flatMap { $0.subtracting(cut) }
        }
        return remaining
    }
}

/// Packets a `RETURN` sent back, with the rule, to name it when a later rule or a policy
/// accepts them.
private struct Passed {
    /// The `RETURN` rule.
    var rule: RuleKey
    /// What it matched, within the conditions of the jumps that led to it.
    var box: PacketBox
}

/// The evaluation of one base chain of one path and family.
private struct Walker {
    /// The chains.
    let program: HostProgram
    /// The path evaluated.
    let path: HostRule.Path
    /// The family evaluated.
    let family: IPFamily
    /// Whose permissions these are.
    let subject: Subject
    /// The bridge the containers' packets come in on (forward path).
    let bridge: String
    /// Every packet of the family.
    let everything: PacketBox
    /// What dropping rules matched so far.
    var drops = DropIndex()
    /// What selective `RETURN`s sent on so far.
    var passed: [Passed] = []
    /// What accepting rules granted so far.
    var grants: [Grant] = []
    /// The rules met that cannot be read.
    var unreadable: [Unreadable] = []
    /// The rules visited, to give up on chains that jump into each other too often.
    var visits = 0
    /// What each rule matches on this path, once computed.
    var outcomes: [[HostMatch.Outcome?]]

    /// A walker of a program's chains on one path, family and bridge.
    init(
        program: HostProgram, path: HostRule.Path, family: IPFamily, subject: Subject,
        bridge: String
    ) {
        self.program = program
        self.bridge = bridge
        everything = .everything(family)
        self.path = path
        self.family = family
        self.subject = subject
        outcomes = program.chains.map { Array(repeating: nil, count: $0.rules.count) }
    }

    /// What a rule matches on this path, computed once.
    mutating func outcome(_ chain: Int, _ position: Int) -> HostMatch.Outcome {
        if let known = outcomes[chain][position] { return known }
        let outcome = program.chains[chain].rules[position].match.outcome(
            on: path, family: family, bridge: bridge)
        outcomes[chain][position] = outcome
        return outcome
    }

    /// Evaluates a chain entered with the packets of `context`, when the chains it is nested
    /// in returned `inherited` before; returns nothing: what it accepts and drops is recorded.
    mutating func walk(
        _ chain: Int, context: PacketBox, inherited: [PacketBox], depth: Int
    ) throws(HostProgram.TooComplex) {
        if depth > HostProgram.depthLimit {
            throw HostProgram.TooComplex(chain: program.chains[chain].name)
        }
        var returned: [PacketBox] = []
        let rules = program.chains[chain].rules
        for position in rules.indices {
            visits += 1
            if visits > HostProgram.visitLimit {
                throw HostProgram.TooComplex(chain: program.chains[chain].name)
            }
            let action = rules[position].action
            if case .next = action { continue }
            let key = RuleKey(chain: chain, position: position)
            let box: PacketBox
            let unconditional: Bool
            switch outcome(chain, position) {
            case .never: continue
            case .unreadable(let reason):
                // A jump into chains that decide nothing does nothing, whatever it matches.
                if case .jump(let target) = action, program.inert[target] { continue }
                unreadable.append(
                    Unreadable(location: rules[position].origin, reason: reason, subject: subject))
                continue
            case .box(let matched):
                unconditional = matched == everything
                box =
                    unconditional
                    ? context : context == everything ? matched : matched.intersection(context)
            }
            if box.isEmpty { continue }
            switch action {
            case .next: continue
            case .unknown(let reason):
                unreadable.append(
                    Unreadable(location: rules[position].origin, reason: reason, subject: subject))
            case .accept:
                if !unconditional && inherited.isEmpty && returned.isEmpty
                    && !drops.touches(box)
                {
                    grants.append(Grant(rule: key, box: box, isPolicy: false))
                    continue
                }
                var pieces = drops.subtract(from: [box])
                if !inherited.isEmpty || !returned.isEmpty {
                    pieces = PacketBox.subtract(pieces, inherited + returned)
                }
                for piece in pieces {
                    let granted = Grant(rule: key, box: piece, isPolicy: false)
                    if unconditional {
                        grant(piece, by: granted)
                    } else {
                        grants.append(granted)
                    }
                }
            case .drop:
                for piece in PacketBox.subtract([box], inherited + returned) {
                    drops.insert(piece)
                }
            case .returns:
                // A RETURN that selects packets is the decision to let them on; one that
                // returns everything only ends the chain.
                if !unconditional { passed.append(Passed(rule: key, box: box)) }
                returned.append(box)
            case .jump(let target):
                try walk(
                    target, context: box, inherited: inherited + returned, depth: depth + 1)
            case .goto(let target):
                try walk(
                    target, context: box, inherited: inherited + returned, depth: depth + 1)
                returned.append(box)
            }
        }
    }

    /// Records what a policy, or an accepting rule that selects nothing (such as Docker's
    /// `-i docker0 -j ACCEPT`), grants: `box` minus every drop, split by the selective
    /// returns that sent those packets on, each piece named after its return (topogen's
    /// forward chain returns each flow to Docker's chains, which accept it).
    mutating func grant(_ box: PacketBox, by rule: Grant) {
        var remaining = rule.isPolicy ? drops.subtract(from: [box]) : [box]
        if remaining.isEmpty { return }
        for pass in passed {
            if remaining.isEmpty { return }
            guard remaining.contains(where: { $0.overlaps(pass.box) }) else { continue }
            for piece in remaining {
                let shared = piece.intersection(pass.box)
                if !shared.isEmpty {
                    grants.append(Grant(rule: pass.rule, box: shared, isPolicy: false))
                }
            }
            remaining = PacketBox.subtract(remaining, [pass.box])
        }
        for piece in remaining {
            var named = rule
            named.box = piece
            grants.append(named)
        }
    }
}
