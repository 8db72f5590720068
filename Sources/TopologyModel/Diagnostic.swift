/// A problem found in what the user wrote: an error, which stops the run, or a warning.
///
/// For example: `error: invalid CIDR '10.0.0.1/8' for '--cidr postgres': host bits are set`
/// with the hint `did you mean '10.0.0.0/8'?`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    /// How serious a diagnostic is.
    public enum Severity: String, Hashable, Sendable {
        /// The input cannot be used.
        case error
        /// The input can be used, but probably does not say what was meant.
        case warning
    }

    /// How serious the problem is.
    public let severity: Severity
    /// The problem, lower-case, with offending values in single quotes.
    public let message: String
    /// What to do about it, when there is something to say.
    public let hint: String?
    /// The line of the topology file the problem is on, for YAML.
    public let line: Int?
    /// Where the problem is, printed in front as compilers do: `topology.yaml:12`.
    public let location: String?

    /// Creates a diagnostic.
    public init(
        _ severity: Severity, _ message: String, hint: String? = nil, line: Int? = nil,
        location: String? = nil
    ) {
        self.severity = severity
        self.message = message
        self.hint = hint
        self.line = line
        self.location = location
    }

    /// `error: message`, and `hint: hint` on a second line when there is one; the location,
    /// when known, in front: `topology.yaml:12: error: message`.
    public var description: String {
        var text = (location.map { "\($0): " } ?? "") + "\(severity.rawValue): \(message)"
        if let hint { text += "\nhint: \(hint)" }
        return text
    }
}

/// The errors that made a ``TopologySpec`` unusable, every one of them, and the warnings
/// found beside them.
public struct TopologyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Every diagnostic, in the order found; at least one is an error.
    public let diagnostics: [Diagnostic]

    /// Creates the error from diagnostics.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Every diagnostic, one after the other.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The candidate closest to a mistyped word, for "did you mean" hints.
///
/// - Returns: The only candidate the word abbreviates, or else the candidate with the smallest
///   edit distance, when that distance is small enough for the word to be a typo of it;
///   otherwise `nil`.
public func closestMatch(to word: String, in candidates: some Sequence<String>) -> String? {
    let lowered = word.lowercased()
    let prefixed = candidates.filter { $0.lowercased().hasPrefix(lowered) }
    if lowered.count >= 3, prefixed.count == 1 { return prefixed[0] }
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(lowered, candidate.lowercased())
        if best.map({ distance < $0.distance }) ?? true {
            best = (candidate, distance)
        }
    }
    guard let best else { return nil }
    let allowed = max(2, min(word.count, best.candidate.count) / 3)
    return best.distance <= allowed ? best.candidate : nil
}

/// The Levenshtein distance between two strings, counted in characters.
func editDistance(_ left: String, _ right: String) -> Int {
    let left = Array(left)
    let right = Array(right)
    guard !left.isEmpty else { return right.count }
    guard !right.isEmpty else { return left.count }
    var previous = Array(0...right.count)
    var current = Array(repeating: 0, count: right.count + 1)
    for (i, leftCharacter) in left.enumerated() {
        current[0] = i + 1
        for (j, rightCharacter) in right.enumerated() {
            let substitution = previous[j] + (leftCharacter == rightCharacter ? 0 : 1)
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[right.count]
}
