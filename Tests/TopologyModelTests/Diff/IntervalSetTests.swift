import Testing
import TopologyModel

@Suite struct IntervalSetTests {
    @Test func mergesOverlappingAndAdjacentRanges() {
        let set = IntervalSet<UInt16>([443...500, 80...80, 81...90, 400...450])
        #expect(set.ranges == [80...90, 400...500])
    }

    @Test func subtractsAndIntersects() {
        let all = IntervalSet<UInt16>.full
        let https = IntervalSet<UInt16>([443...443])
        #expect(all.subtracting(https).ranges == [0...442, 444...65535])
        #expect(all.intersection(https) == https)
        #expect(https.isSubset(of: all))
        #expect(!all.isSubset(of: https))
        #expect(https.subtracting(all).isEmpty)
        let gaps = IntervalSet<UInt16>([10...20, 30...40]).subtracting(
            IntervalSet([15...32, 40...40]))
        #expect(gaps.ranges == [10...14, 33...39])
    }

    @Test func handlesTheEndsOfTheType() {
        let top = IntervalSet<UInt8>([250...255, 0...3])
        #expect(top.union(IntervalSet([4...249])).isFull)
        #expect(top.contains(255) && top.contains(0) && !top.contains(4))
        #expect(IntervalSet<UInt8>.full.subtracting(top).ranges == [4...249])
    }

    @Test(arguments: 0..<200)
    func agreesWithSetsOfNumbers(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        func random() -> (IntervalSet<UInt8>, Set<UInt8>) {
            var ranges: [ClosedRange<UInt8>] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let a = UInt8.random(in: 0...255, using: &generator)
                let b = UInt8.random(
                    in: a...min(255, a &+ 40 < a ? 255 : a + 40), using: &generator)
                ranges.append(a...b)
            }
            return (IntervalSet(ranges), Set(ranges.flatMap { Array($0) }))
        }
        let (a, setA) = random()
        let (b, setB) = random()
        func values(_ set: IntervalSet<UInt8>) -> Set<UInt8> {
            Set(set.ranges.flatMap { Array($0) })
        }
        #expect(values(a.union(b)) == setA.union(setB))
        #expect(values(a.intersection(b)) == setA.intersection(setB))
        #expect(values(a.subtracting(b)) == setA.subtracting(setB))
        #expect(a.isSubset(of: b) == setA.isSubset(of: setB))
    }
}

/// A small deterministic generator (SplitMix64), so that random cases repeat.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
