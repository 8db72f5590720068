import Testing
import TopologyModel

/// `overlaps` answers without building intersections, and subtracting many permissions of one
/// shape joins their addresses first: both must mean exactly what they meant before.
@Suite struct OverlapAndBulkSubtractionTests {
    @Test func intervalSetsOverlapExactlyWhenTheyIntersect() {
        let sets: [IntervalSet<UInt16>] = [
            .empty, .full, IntervalSet([443...443]), IntervalSet([0...10, 20...30, 40...50]),
            IntervalSet([11...19]), IntervalSet([10...11]), IntervalSet([50...60, 65535...65535]),
            IntervalSet((0..<200).map { UInt16($0 * 3)...UInt16($0 * 3) }),
        ]
        for a in sets {
            for b in sets {
                #expect(a.overlaps(b) == !a.intersection(b).isEmpty, "\(a.ranges) \(b.ranges)")
            }
        }
    }

    @Test func endpointSetsOverlapExactlyWhenTheyIntersect() throws {
        let sets: [EndpointSet] = [
            .nothing, .everything, .anyIPv4, .anyIPv6, .anyName,
            EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.0/8")]),
            EndpointSet(cidrs: [try CIDR(parsing: "2001:db8::/32")]),
            EndpointSet(names: ["sg-1"]), EndpointSet(names: ["sg-1", "sg-2"]),
            EndpointSet(names: ["sg-1"], excludesNames: true),
            EndpointSet(names: ["sg-1", "sg-2"], excludesNames: true),
        ]
        for a in sets {
            for b in sets {
                #expect(a.overlaps(b) == !a.intersection(b).isEmpty, "\(a) \(b)")
            }
        }
    }

    @Test func subtractingABlockListAtOnceLeavesWhatSubtractingEachDoes() throws {
        let subject = Subject(.server, .egress)
        let need = Permission(subject: subject, peer: .everything, protocols: .tcp)
        var others: [Permission] = []
        for index in 0..<600 {
            let address = IPAddress(ipv4: 0x0A00_0000 + UInt32(index) * 7)
            others.append(
                Permission(
                    subject: subject,
                    peer: EndpointSet(
                        cidrs: [try CIDR(parsing: "\(address)/32")]),
                    protocols: index % 3 == 0 ? .udp : .tcp,
                    ports: IntervalSet([443...443])))
        }
        others.append(
            Permission(subject: subject, peer: EndpointSet(names: ["sg-1"]), protocols: .tcp))
        let pieces = need.subtracting(others)
        var oneByOne = [need]
        for other in others {
            oneByOne = oneByOne.flatMap { $0.subtracting(other) }
        }
        // The same packets: each side's pieces minus the other's are empty.
        for piece in pieces { #expect(piece.subtracting(oneByOne).isEmpty) }
        for piece in oneByOne { #expect(piece.subtracting(pieces).isEmpty) }
        #expect(!pieces.isEmpty)
        let hole = Permission(
            subject: subject, peer: EndpointSet(cidrs: [try CIDR(parsing: "10.0.0.7/32")]),
            protocols: .tcp, ports: IntervalSet([443...443]))
        #expect(!pieces.contains { $0.overlaps(hole) })
    }
}
