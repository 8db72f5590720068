import Emitters
import Foundation
import TestSupport
import Testing
import TopologyModel

/// The picture of the reference installation in the repository is current:
/// `docs/reference-installation.dot` is the renderer's Graphviz text for ``Topology/reference``
/// byte for byte, and `docs/reference-installation.svg` is what `dot -Tsvg` draws from it.
///
/// Graphviz's SVG is the same bytes from run to run on one machine (checked by drawing twice);
/// only its comments, which name the Graphviz version, are left out of the comparison.
/// Re-render both with `TOPOGEN_RECORD=1 swift test --filter ReferencePictureTests` (or
/// `Scripts/render-picture.sh`): the files are rewritten and the test still fails, so that a
/// recorded run is never mistaken for a passing one.
@Suite struct ReferencePictureTests {
    /// `docs/reference-installation.dot`.
    static let dotFile = Repository.root.appendingPathComponent("docs/reference-installation.dot")
    /// `docs/reference-installation.svg`.
    static let svgFile = Repository.root.appendingPathComponent("docs/reference-installation.svg")

    @Test func theReferencePictureIsCurrent() throws {
        let dot = GraphRenderer.render(.reference, format: .dot)
        let svg = try Graphviz.svg(dot)
        if Repository.isRecording {
            try Data(dot.utf8).write(to: Self.dotFile)
            try Data(svg.utf8).write(to: Self.svgFile)
            Issue.record(
                "Recorded \(Self.dotFile.path) and \(Self.svgFile.path); re-run without TOPOGEN_RECORD"
            )
            return
        }
        let hint = "re-render with TOPOGEN_RECORD=1 swift test --filter ReferencePictureTests"
        let storedDot = try String(contentsOf: Self.dotFile, encoding: .utf8)
        #expect(
            storedDot == dot,
            "\(Self.dotFile.path) is stale (\(hint)):\n\(lineDiff(expected: storedDot, actual: dot))"
        )
        let storedSVG = try String(contentsOf: Self.svgFile, encoding: .utf8)
        let drawn = try Graphviz.svg(storedDot)
        #expect(
            Self.withoutComments(storedSVG) == Self.withoutComments(drawn),
            "\(Self.svgFile.path) is not dot -Tsvg of \(Self.dotFile.path) (\(hint)):\n\(lineDiff(expected: Self.withoutComments(storedSVG), actual: Self.withoutComments(drawn)))"
        )
    }

    @Test func graphvizDrawsTheSameSVGTwice() throws {
        let dot = GraphRenderer.render(GraphTopologies.kubernetesGateway, format: .dot)
        #expect(try Graphviz.svg(dot) == Graphviz.svg(dot))
    }

    /// The SVG without its `<!-- ... -->` comments.
    static func withoutComments(_ svg: String) -> String {
        svg.replacing(/<!--.*?-->\n?/.dotMatchesNewlines(), with: "")
    }
}
