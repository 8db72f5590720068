import Testing
import TopologyModel

@Suite struct EndpointSetTests {
    private func cidrs(_ texts: String...) throws -> EndpointSet {
        EndpointSet(cidrs: try texts.map { text throws(CIDRError) in try CIDR(parsing: text) })
    }

    @Test func containsNarrowerNetworks() throws {
        let wide = try cidrs("10.0.0.0/8", "2001:db8::/32")
        let narrow = try cidrs("10.1.0.0/16", "2001:db8:1::/48")
        #expect(narrow.isSubset(of: wide))
        #expect(!wide.isSubset(of: narrow))
        #expect(narrow.isSubset(of: .everything))
    }

    @Test func printsTheFewestNetworks() throws {
        let rest = try cidrs("10.0.0.0/8").subtracting(try cidrs("10.0.0.0/9"))
        #expect(rest.description == "10.128.0.0/9")
        #expect(EndpointSet.everything.description == "anywhere")
        #expect(try cidrs("0.0.0.0/0").description == "0.0.0.0/0")
        let odd = EndpointSet(ipv4: IntervalSet([1...6]))
        #expect(
            odd.cidrs.map(\.description) == [
                "0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32",
            ])
        let v6 = try cidrs("::/0").subtracting(try cidrs("8000::/1"))
        #expect(v6.description == "::/1")
    }

    @Test func comparesNamedEndpointsByName() {
        let lb = EndpointSet(names: ["security group spacelift-lb"])
        let other = EndpointSet(names: ["security group sg-0123"])
        #expect(lb.isSubset(of: .anyName))
        #expect(!lb.isSubset(of: other))
        #expect(!EndpointSet.anyName.isSubset(of: lb))
        let allButLB = EndpointSet.anyName.subtracting(lb)
        #expect(!allButLB.overlaps(lb))
        #expect(allButLB.overlaps(other))
        #expect(allButLB.union(lb) == .anyName)
        #expect(!lb.isSubset(of: .anyIPv4))
    }
}
