/// A set of unsigned integers held as sorted, disjoint, non-adjacent closed ranges: the
/// addresses of a family, or the ports of a protocol.
///
/// Its operations are `@inlinable`, so that the readers in other modules get them specialized
/// for their bound types (a generic call across modules looks its types up at run time, which
/// cost a third of reading 100,000 iptables rules).
///
/// For example: the ports `IntervalSet([80...80, 443...443, 444...500])` are held as
/// `80`, `443-500`.
public struct IntervalSet<Bound: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable,
    Sendable
{
    /// The ranges, sorted, disjoint and not adjacent.
    public private(set) var ranges: [ClosedRange<Bound>]

    /// The empty set.
    @inlinable public static var empty: IntervalSet { IntervalSet() }

    /// Every value of the type.
    @inlinable public static var full: IntervalSet { IntervalSet(Bound.min...Bound.max) }

    /// Ranges taken as they are, for the inlinable operations.
    @usableFromInline
    init(storage ranges: [ClosedRange<Bound>]) {
        self.ranges = ranges
    }

    /// Creates the empty set.
    @inlinable public init() {
        self.init(storage: [])
    }

    /// Creates the union of some ranges.
    @inlinable public init(_ ranges: some Sequence<ClosedRange<Bound>>) {
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
        self.init(storage: merged)
    }

    /// One range.
    @inlinable public init(_ range: ClosedRange<Bound>) {
        self.init(storage: [range])
    }

    /// Ranges already sorted, disjoint and not adjacent, taken as they are.
    ///
    /// - Precondition: `ranges` is sorted, disjoint and not adjacent.
    @inlinable public init(normalized ranges: [ClosedRange<Bound>]) {
        self.init(storage: ranges)
    }

    /// Whether the set holds nothing.
    @inlinable public var isEmpty: Bool { ranges.isEmpty }

    /// Whether the set holds every value of the type.
    @inlinable public var isFull: Bool {
        ranges.count == 1 && ranges[0] == Bound.min...Bound.max
    }

    /// The index of the first range that ends at or after `value`, by bisection.
    @inlinable func firstRange(endingAtOrAfter value: Bound) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the set holds `value`.
    @inlinable public func contains(_ value: Bound) -> Bool {
        let index = firstRange(endingAtOrAfter: value)
        return index < ranges.count && ranges[index].contains(value)
    }

    /// The values in either set.
    @inlinable public func union(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return IntervalSet(ranges + other.ranges)
    }

    /// The values in both sets. Each range of the smaller set is looked up in the larger by
    /// bisection, so that a few ranges against a long block list cost a few searches.
    @inlinable public func intersection(_ other: IntervalSet) -> IntervalSet {
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
    @inlinable public func subtracting(_ other: IntervalSet) -> IntervalSet {
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

    /// Whether every value of this set is in `other`: each range lies within one of
    /// `other`'s (they are not adjacent), found by bisection.
    @inlinable public func isSubset(of other: IntervalSet) -> Bool {
        for range in ranges {
            let index = other.firstRange(endingAtOrAfter: range.upperBound)
            guard index < other.ranges.count, other.ranges[index].lowerBound <= range.lowerBound
            else { return false }
        }
        return true
    }

    /// Whether the sets share a value, without building their intersection: each range of the
    /// smaller set is looked up in the larger by bisection.
    @inlinable public func overlaps(_ other: IntervalSet) -> Bool {
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
