import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias Support = HostReaderSupport

@Suite struct NftablesReaderRoundTripTests {
    @Test(arguments: Example.all)
    func everyGoldenRulesetReadsBackInSync(example: Example) throws {
        let topology = try HostExampleTopology.of(example)
        for role in Node.components {
            let name = "\(role).nft"
            let text = try String(contentsOf: example.golden("nftables", name), encoding: .utf8)
            let (deployed, drift) = try Support.drift(
                NftablesReader(), [(name, text)], role: role, topology: topology)
            #expect(drift.isInSync, "\(example) \(role):\n\(Support.describe(drift))")
            #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        }
    }

    @Test func engineOutputs() throws {
        let topology = try HostExampleTopology.of(try Support.example("hosts"))
        for file in ["hosts-worker-docker-kube.nft", "hosts-worker-docker-kube.json"] {
            let text = try Support.fixture("nftables/\(file)")
            let (deployed, drift) = try Support.drift(
                NftablesReader(), [(file, text)], role: .worker, topology: topology)
            print(file, Support.describe(drift), deployed.diagnostics)
        }
    }
}
