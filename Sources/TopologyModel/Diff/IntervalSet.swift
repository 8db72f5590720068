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

    private init(normalized ranges: [ClosedRange<Bound>]) {
        self.ranges = ranges
    }

    /// Whether the set holds nothing.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether the set holds every value of the type.
    public var isFull: Bool { ranges == [Bound.min...Bound.max] }

    /// Whether the set holds `value`.
    public func contains(_ value: Bound) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < ranges.count && ranges[low].contains(value)
    }

    /// The values in either set.
    public func union(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return IntervalSet(ranges + other.ranges)
    }

    /// The values in both sets.
    public func intersection(_ other: IntervalSet) -> IntervalSet {
        var result: [ClosedRange<Bound>] = []
        var left = 0
        var right = 0
        while left < ranges.count && right < other.ranges.count {
            let a = ranges[left]
            let b = other.ranges[right]
            let lower = max(a.lowerBound, b.lowerBound)
            let upper = min(a.upperBound, b.upperBound)
            if lower <= upper { result.append(lower...upper) }
            if a.upperBound < b.upperBound { left += 1 } else { right += 1 }
        }
        return IntervalSet(normalized: result)
    }

    /// The values in this set and not in `other`.
    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty || isEmpty { return self }
        var result: [ClosedRange<Bound>] = []
        var index = 0
        for range in ranges {
            var lower = range.lowerBound
            var exhausted = false
            while index < other.ranges.count && other.ranges[index].upperBound < lower {
                index += 1
            }
            var probe = index
            while probe < other.ranges.count && other.ranges[probe].lowerBound <= range.upperBound {
                let cut = other.ranges[probe]
                if cut.lowerBound > lower { result.append(lower...(cut.lowerBound - 1)) }
                if cut.upperBound >= range.upperBound {
                    exhausted = true
                    break
                }
                lower = cut.upperBound + 1
                probe += 1
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
            var low = 0
            var high = large.ranges.count
            while low < high {
                let middle = (low + high) / 2
                if large.ranges[middle].upperBound < range.lowerBound {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            if low < large.ranges.count && large.ranges[low].lowerBound <= range.upperBound {
                return true
            }
        }
        return false
    }
}
