import Testing

@testable import Emitters

@Suite struct ParallelMapTests {
    /// Below, at and above the size where the work is shared, and with fewer elements per
    /// chunk than chunks: the results of a serial `map`, in order.
    @Test(arguments: [0, 1, 31, 63, 64, 65, 100, 1000, 10_007])
    func givesWhatMapGivesInOrder(count: Int) {
        let values = Array(0..<count)
        let transform: @Sendable (Int) -> String = { "\($0 * 7 % 1000)-\($0)" }
        #expect(values.parallelMap(transform) == values.map(transform))
        #expect(values.parallelMap(minimumCount: 1, transform) == values.map(transform))
    }
}
