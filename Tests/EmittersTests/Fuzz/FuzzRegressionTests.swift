import Foundation
import FuzzHarnesses
import TestSupport
import Testing

/// The inputs the fuzzers (`Scripts/fuzz.sh`) and their review found to crash, overflow the
/// stack, hang or fill the memory, kept in `Tests/Fixtures/fuzz/HARNESS/` and replayed through
/// the same harness: each must now be read or refused with a diagnostic, in seconds (a
/// debug build on a busy machine; the fuzzer's own limit is 10 s). A file named
/// `refused-*` must be refused (a limit of the reader).
///
/// For example: `terraform/refused-nested-tuples.tf` is refused with `<fuzz>:2: expressions and
/// blocks are nested deeper than 200 levels`.
@Suite struct FuzzRegressionTests {
    /// Every kept input, named `HARNESS/FILE`.
    static let inputs: [Fixture] = Harness.allCases.flatMap { harness in
        ["tf", "yaml", "json", "nft", "rules", "txt"].flatMap {
            Fixture.files(in: "fuzz/\(harness.rawValue)", extension: $0)
        }
    }

    @Test func theCorpusIsNotEmpty() {
        #expect(!Self.inputs.isEmpty)
    }

    @Test(arguments: inputs)
    func aFoundInputIsReadOrRefused(input: Fixture) throws {
        let folder = input.url.deletingLastPathComponent().lastPathComponent
        let harness = try #require(Harness(rawValue: folder))
        let bytes = Array(try Data(contentsOf: input.url))
        let clock = ContinuousClock()
        var outcome: Harness.Outcome?
        let elapsed = clock.measure { outcome = harness.run(bytes) }
        #expect(elapsed < .seconds(20), "\(input) took \(elapsed)")
        if input.url.lastPathComponent.hasPrefix("refused-") {
            guard case .refused(let diagnostics) = outcome else {
                Issue.record("\(input) was not refused: \(String(describing: outcome))")
                return
            }
            #expect(diagnostics.first?.contains("error:") == true, "\(diagnostics)")
        }
    }
}
