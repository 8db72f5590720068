import Dispatch

extension Array where Element: Sendable {
    /// The transform of every element, in order, computed on all the machine's cores when
    /// there are enough elements to share: each host's firewall of a big installation (10,000
    /// worker pools) renders on its own, and the files come out as a serial `map` would give
    /// them, byte for byte.
    ///
    /// For example: `components.parallelMap { render($0) }` is `components.map { render($0) }`,
    /// in about half the time on two cores.
    func parallelMap<Result: Sendable>(
        minimumCount: Int = 64, _ transform: @Sendable (Element) -> Result
    ) -> [Result] {
        guard count >= minimumCount else { return map(transform) }
        // 32 chunks of consecutive elements, which Dispatch spreads over the cores it has:
        // several per core, so that uneven costs even out.
        let chunks = Swift.min(count, 32)
        var pieces = [[Result]](repeating: [], count: chunks)
        pieces.withUnsafeMutableBufferPointer { buffer in
            let slots = ChunkSlots(buffer: buffer)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let range = (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
                slots.buffer[chunk] = self[range].map(transform)
            }
        }
        return pieces.flatMap { $0 }
    }
}

/// The result slots of ``Swift/Array/parallelMap(minimumCount:_:)``, one per chunk: each
/// chunk writes only its own slot, and the buffer outlives every write (`concurrentPerform`
/// returns when all are done), so sharing it across threads is free of races.
private struct ChunkSlots<Result>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<[Result]>
}
