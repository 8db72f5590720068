extension String {
    /// Runs of 0 to 64 spaces, made once.
    private static let spaceRuns = (0...64).map { String(repeating: " ", count: $0) }

    /// Appends `count` spaces in place, without building a string of them: the indentation of
    /// the writers (``YAMLNode``, ``JSONValue``), which write one for every line.
    mutating func appendSpaces(_ count: Int) {
        var remaining = count
        while remaining > 0 {
            let step = Swift.min(remaining, 64)
            self += Self.spaceRuns[step]
            remaining -= step
        }
    }
}

extension String {
    /// Whether every UTF-8 byte satisfies `predicate`, read from the string's contiguous
    /// storage when it has one: the writers' test for text they may copy without escaping.
    func utf8AllSatisfy(_ predicate: (UInt8) -> Bool) -> Bool {
        utf8.withContiguousStorageIfAvailable { $0.allSatisfy(predicate) }
            ?? utf8.allSatisfy(predicate)
    }
}
