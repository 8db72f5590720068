/// Keys numbered in order of first appearance, so that a key is hashed once and what belongs to
/// it lives in arrays indexed by its number.
///
/// For example, numbering `b`, `a`, `b` gives `b` the number 0 (new), `a` 1 (new), then `b` 0
/// again (not new); ``keys`` is `[b, a]`.
struct Numbering<Key: Hashable> {
    /// The keys, each at its number.
    private(set) var keys: [Key] = []
    private var numbers: [Key: Int] = [:]

    /// The number of `key`, numbering it when it is new.
    mutating func number(of key: Key) -> (number: Int, isNew: Bool) {
        if let known = numbers[key] { return (known, false) }
        let number = keys.count
        numbers[key] = number
        keys.append(key)
        return (number, true)
    }

    /// The number of `key`, nil when it was never numbered.
    subscript(key: Key) -> Int? { numbers[key] }
}
