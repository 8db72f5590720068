/// What a reader made of deployed rules: the permissions they grant, the constructs it could
/// not understand, and notes on what it compared.
///
/// For example: reading an `iptables-save` without its `ip6tables-save` gives the IPv4
/// permissions, ``compared`` limited to IPv4 addresses and named endpoints, and a warning.
public struct DeployedRules: Hashable, Sendable {
    /// Every permission the rules grant, for every subject they hold rules of.
    public var permissions: [Permission]
    /// The peers the rules speak for: permissions the model requires outside of it are not
    /// compared (for example IPv6, when only IPv4 rules were given).
    public var compared: EndpointSet
    /// Constructs the reader could not understand; each is reported instead of guessed at.
    public var unreadable: [Unreadable]
    /// Warnings about the input, for example a component with no rules of its own.
    public var diagnostics: [Diagnostic]

    /// Creates the result of a read.
    public init(
        permissions: [Permission] = [], compared: EndpointSet = .everything,
        unreadable: [Unreadable] = [], diagnostics: [Diagnostic] = []
    ) {
        self.permissions = permissions
        self.compared = compared
        self.unreadable = unreadable
        self.diagnostics = diagnostics
    }
}

/// A construct a reader could not understand, with where it is and why.
///
/// For example: `rules.v4:14: '-m owner --uid-owner 0' is not understood by topogen diff`.
public struct Unreadable: Hashable, Sendable {
    /// Where the construct is.
    public var location: SourceLocation
    /// What it is and why topogen cannot read it, in the project's message style.
    public var reason: String
    /// The node whose rules hold it, when known.
    public var subject: Subject?

    /// Creates an unreadable construct.
    public init(location: SourceLocation, reason: String, subject: Subject? = nil) {
        self.location = location
        self.reason = reason
        self.subject = subject
    }
}

/// One difference between deployed rules and the model.
///
/// For example: a missing finding for `server-postgres` reads
/// `missing  server-postgres: tcp 5432 to postgres (10.0.0.0/16)`.
public struct Finding: Hashable, Sendable {
    /// The kinds of differences.
    public enum Kind: String, Hashable, Sendable, CaseIterable, Comparable {
        /// A connection the model requires that the rules do not allow.
        case missing
        /// A rule that allows connections the model does not require at all.
        case extra
        /// A rule that allows what a flow requires, and more: other ports, other protocols, or
        /// wider addresses.
        case broader
        /// A rule topogen cannot read; the comparison holds for the rest.
        case unreadable

        /// The order reports list kinds in.
        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// What kind of difference.
    public var kind: Kind
    /// Whose rules differ; `nil` for an unreadable construct outside any node's rules.
    public var subject: Subject?
    /// The flows concerned: the missing flow, or the flows a broader rule serves.
    public var flows: [String]
    /// The connections concerned: for a missing finding, what is not allowed; for extra and
    /// broader, what the rule allows beyond the model.
    public var permission: Permission?
    /// How a broader rule is broader, for example `all ports` or
    /// `0.0.0.0/0 where the model has 10.0.0.0/16`.
    public var reasons: [String]
    /// The rule responsible, for extra, broader and unreadable findings.
    public var location: SourceLocation?
    /// The finding in one line of words.
    public var message: String

    /// Creates a finding.
    public init(
        kind: Kind, subject: Subject?, flows: [String] = [], permission: Permission? = nil,
        reasons: [String] = [], location: SourceLocation? = nil, message: String
    ) {
        self.kind = kind
        self.subject = subject
        self.flows = flows
        self.permission = permission
        self.reasons = reasons
        self.location = location
        self.message = message
    }
}

/// The differences between deployed rules and what the model requires of them, found on
/// permissions: containment of addresses, protocols and ports, whatever the format.
///
/// For example: comparing topogen's own rules with the same options gives no findings;
/// a security group that allows all ports from `0.0.0.0/0` where the model needs `tcp 1983`
/// from the load balancer gives one broader finding.
public struct Drift: Hashable, Sendable {
    /// The findings, by subject, then kind, then location.
    public var findings: [Finding]
    /// Warnings from reading the rules.
    public var diagnostics: [Diagnostic]

    /// Whether the deployed rules allow exactly what the model requires.
    public var isInSync: Bool { findings.isEmpty }

    /// Compares deployed rules with the permissions the model requires.
    ///
    /// - Parameters:
    ///   - expected: What the model requires of the format, from its reader.
    ///   - deployed: What the deployed rules allow.
    public init(expected: [Permission], deployed: DeployedRules) {
        diagnostics = deployed.diagnostics
        var findings: [Finding] = []
        let compared = deployed.compared
        var required: [Subject: [Permission]] = [:]
        for var permission in expected {
            permission.peer = permission.peer.intersection(compared)
            if !permission.isEmpty { required[permission.subject, default: []].append(permission) }
        }
        var granted: [Subject: [Permission]] = [:]
        for var permission in deployed.permissions {
            permission.peer = permission.peer.intersection(compared)
            if !permission.isEmpty { granted[permission.subject, default: []].append(permission) }
        }
        for subject in Set(required.keys).union(granted.keys).sorted() {
            let needs = required[subject] ?? []
            let grants = granted[subject] ?? []
            findings += Self.missing(needs, grants)
            findings += Self.excess(grants, needs)
        }
        for construct in deployed.unreadable {
            findings.append(
                Finding(
                    kind: .unreadable, subject: construct.subject, location: construct.location,
                    message: construct.reason))
        }
        self.findings = findings.sorted(by: Self.order)
    }

    /// The order of findings: by subject (none last), kind, location (none first), flows,
    /// message.
    private static func order(_ lhs: Finding, _ rhs: Finding) -> Bool {
        if lhs.subject != rhs.subject {
            guard let left = lhs.subject else { return false }
            guard let right = rhs.subject else { return true }
            return left < right
        }
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        if lhs.location != rhs.location {
            guard let left = lhs.location else { return true }
            guard let right = rhs.location else { return false }
            return left < right
        }
        if lhs.flows != rhs.flows { return lhs.flows.lexicographicallyPrecedes(rhs.flows) }
        return lhs.message < rhs.message
    }

    /// Required permissions no grant covers, in whole or in part; the pieces of one flow,
    /// service and peer node are one finding (IPv4 and IPv6 of one flow, for example).
    private static func missing(_ needs: [Permission], _ grants: [Permission]) -> [Finding] {
        var pieces: [(piece: Permission, partly: Bool)] = []
        for need in needs {
            let uncovered = need.subtracting(grants)
            guard !uncovered.isEmpty else { continue }
            let partly = uncovered != [need]
            for piece in merged(uncovered) {
                if let index = pieces.firstIndex(where: {
                    $0.piece.flows == piece.flows && $0.piece.peerName == piece.peerName
                        && $0.piece.protocols == piece.protocols && $0.piece.ports == piece.ports
                }) {
                    pieces[index].piece.peer = pieces[index].piece.peer.union(piece.peer)
                    pieces[index].partly = pieces[index].partly || partly
                } else {
                    pieces.append((piece, partly))
                }
            }
        }
        return pieces.map { piece, partly in
            let direction = piece.subject.direction == .ingress ? "from" : "to"
            let peer = piece.peerName.map { "\($0) (\(piece.peer))" } ?? "\(piece.peer)"
            return Finding(
                kind: .missing, subject: piece.subject, flows: piece.flows, permission: piece,
                reasons: partly ? ["partly allowed"] : [],
                message:
                    "\(piece.flows.joined(separator: ", ")): \(piece.serviceDescription) \(direction) \(peer) is not allowed"
                    + (partly ? " (the rest of the flow is)" : ""))
        }
    }

    /// Grants that allow what no required permission does.
    private static func excess(_ grants: [Permission], _ needs: [Permission]) -> [Finding] {
        var findings: [Finding] = []
        // Indices, not elements: most grants are within the needs, and a copy of a permission
        // retains each of its fields.
        for index in grants.indices {
            let beyond = grants[index].subtracting(needs)
            guard !beyond.isEmpty else { continue }
            let grant = grants[index]
            let overlapping = needs.filter { $0.overlaps(grant) }
            // The flows the rule is written for: those whose peers it names whole, when there
            // are any; a rule to one group also overlaps every flow to any address.
            let named = overlapping.filter { $0.peer.isSubset(of: grant.peer) }
            let serving = named.isEmpty ? overlapping : named
            let direction = grant.subject.direction == .ingress ? "from" : "to"
            let what = grant.excerpt.map { "'\($0)'" } ?? "a rule"
            if serving.isEmpty {
                findings.append(
                    Finding(
                        kind: .extra, subject: grant.subject, flows: grant.flows,
                        permission: grant, location: grant.origin,
                        message:
                            "\(what) allows \(grant.serviceDescription) \(direction) \(grant.peer), which no flow requires"
                    ))
                continue
            }
            let flows = Array(Set(serving.flatMap(\.flows))).sorted()
            var reasons: [String] = []
            let protocols = serving.reduce(ProtocolSet.none) { $0.union($1.protocols) }
            if !grant.protocols.isSubset(of: protocols) {
                reasons.append(grant.protocols.isAll ? "all protocols" : "\(grant.protocols)")
            }
            let ports = serving.reduce(IntervalSet<UInt16>.empty) { $0.union($1.ports) }
            if !grant.ports.isSubset(of: ports) {
                reasons.append(
                    grant.ports.isFull
                        ? "all ports" : "ports \(grant.ports.subtracting(ports).portList)")
            }
            let peers = serving.reduce(EndpointSet.nothing) { $0.union($1.peer) }
            if !grant.peer.isSubset(of: peers) {
                let names = Array(Set(serving.compactMap(\.peerName))).sorted()
                reasons.append(
                    "\(grant.peer) where the model has \(names.isEmpty ? "" : names.joined(separator: ", ") + " ")(\(peers))"
                )
            }
            if reasons.isEmpty {
                reasons = merged(beyond).map { "\($0.serviceDescription) \(direction) \($0.peer)" }
            }
            var needed: [String] = []
            for need in serving {
                let text =
                    "\(need.serviceDescription) \(direction) \(need.peerName ?? need.peer.description)"
                if !needed.contains(text) { needed.append(text) }
            }
            let verb = flows.count == 1 ? "needs" : "need"
            findings.append(
                Finding(
                    kind: .broader, subject: grant.subject, flows: flows,
                    permission: merged(beyond).first, reasons: reasons, location: grant.origin,
                    message:
                        "\(what) allows more than \(flows.joined(separator: ", ")) \(verb) (\(needed.joined(separator: "; "))): \(reasons.joined(separator: "; "))"
                ))
        }
        return findings
    }

    /// Pieces with equal protocols and ports joined into one, peers united.
    private static func merged(_ pieces: [Permission]) -> [Permission] {
        var result: [Permission] = []
        for piece in pieces {
            if let index = result.firstIndex(where: {
                $0.protocols == piece.protocols && $0.ports == piece.ports
            }) {
                result[index].peer = result[index].peer.union(piece.peer)
            } else {
                result.append(piece)
            }
        }
        return result
    }
}
