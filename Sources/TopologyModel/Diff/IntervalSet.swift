/// A set of unsigned integers held as sorted, disjoint, non-adjacent closed ranges: the
/// addresses of a family, or the ports of a protocol.
///
/// For example: the ports `IntervalSet([80...80, 443...443, 444...500])` are held as
/// `80`, `443-500`.
public struct IntervalSet<Bound: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable,
    Sendable
{
    /// The ranges, sorted, disjoint and not adjacent.
    public private(set) var ranges: [ClosedRange<Bound>]

    /// The empty set.
    public static var empty: IntervalSet { IntervalSet() }

    /// Every value of the type.
    public static var full: IntervalSet { IntervalSet([Bound.min...Bound.max]) }

    /// Creates the empty set.
    public init() {
        ranges = []
    }

    /// Creates the union of some ranges.
    public init(_ ranges: some Sequence<ClosedRange<Bound>>) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Bound>] = []
        merged.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = merged.last,
                last.upperBound == Bound.max || range.lowerBound <= last.upperBound + 1
            {
                if range.upperBound > last.upperBound {
                    merged[merged.count - 1] = last.lowerBound...range.upperBound
                }
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    /// One range.
    public init(_ range: ClosedRange<Bound>) {
        ranges = [range]
    }

    /// Ranges already sorted, disjoint and not adjacent, taken as they are.
    ///
    /// - Precondition: `ranges` is sorted, disjoint and not adjacent.
    public init(normalized ranges: [ClosedRange<Bound>]) {
        self.ranges = ranges
    }

    /// Whether the set holds nothing.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether the set holds every value of the type.
    public var isFull: Bool { ranges.count == 1 && ranges[0] == Bound.min...Bound.max }

    /// The index of the first range that ends at or after `value`, by bisection.
    private func firstRange(endingAtOrAfter value: Bound) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the set holds `value`.
    public func contains(_ value: Bound) -> Bool {
        let index = firstRange(endingAtOrAfter: value)
        return index < ranges.count && ranges[index].contains(value)
    }

    /// The values in either set.
    public func union(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return IntervalSet(ranges + other.ranges)
    }

    /// The values in both sets. Each range of the smaller set is looked up in the larger by
    /// bisection, so that a few ranges against a long block list cost a few searches.
    public func intersection(_ other: IntervalSet) -> IntervalSet {
        let (small, large) = ranges.count <= other.ranges.count ? (self, other) : (other, self)
        var result: [ClosedRange<Bound>] = []
        for range in small.ranges {
            var index = large.firstRange(endingAtOrAfter: range.lowerBound)
            while index < large.ranges.count && large.ranges[index].lowerBound <= range.upperBound {
                let piece = large.ranges[index]
                result.append(
                    Swift.max(
                        piece.lowerBound, range.lowerBound)...Swift.min(
                            piece.upperBound, range.upperBound))
                index += 1
            }
        }
        return IntervalSet(normalized: result)
    }

    /// The values in this set and not in `other`; `other`'s ranges are found by bisection.
    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty || isEmpty { return self }
        var result: [ClosedRange<Bound>] = []
        for range in ranges {
            var lower = range.lowerBound
            var index = other.firstRange(endingAtOrAfter: lower)
            var exhausted = false
            while index < other.ranges.count && other.ranges[index].lowerBound <= range.upperBound {
                let cut = other.ranges[index]
                if cut.lowerBound > lower { result.append(lower...(cut.lowerBound - 1)) }
                if cut.upperBound >= range.upperBound {
                    exhausted = true
                    break
                }
                lower = cut.upperBound + 1
                index += 1
            }
            if !exhausted { result.append(lower...range.upperBound) }
        }
        return IntervalSet(normalized: result)
    }

    /// Whether every value of this set is in `other`.
    public func isSubset(of other: IntervalSet) -> Bool { subtracting(other).isEmpty }

    /// Whether the sets share a value, without building their intersection: each range of the
    /// smaller set is looked up in the larger by bisection.
    public func overlaps(_ other: IntervalSet) -> Bool {
        let (small, large) = ranges.count <= other.ranges.count ? (self, other) : (other, self)
        for range in small.ranges {
            let index = large.firstRange(endingAtOrAfter: range.lowerBound)
            if index < large.ranges.count && large.ranges[index].lowerBound <= range.upperBound {
                return true
            }
        }
        return false
    }
}
