import Testing

@testable import Emitters

@Suite struct NumberingTests {
    @Test func numbersKeysInOrderOfFirstAppearance() {
        var numbering = Numbering<String>()
        #expect(numbering.number(of: "b") == (0, true))
        #expect(numbering.number(of: "a") == (1, true))
        #expect(numbering.number(of: "b") == (0, false))
        #expect(numbering.keys == ["b", "a"])
        #expect(numbering["a"] == 1)
        #expect(numbering["c"] == nil)
    }
}
