import Testing
import TopologyModel

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("::/0", "::/0"),
        ("2001:DB8:0:0::/32", "2001:db8::/32"),
        ("2600:1F18::/36", "2600:1f18::/36"),
        ("2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"),
        ("2001:0:0:1:0:0:0:0/64", "2001:0:0:1::/64"),
        ("::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120"),
        ("fe80::", "fe80::/128"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"),
        ("1::", "1::/128"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String) throws {
        #expect(try CIDR(parsing: text).description == canonical)
    }

    @Test(arguments: [
        "10.0.0.300/8", "10.0.0/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "010.0.0.0/8",
        "2001:db8::/129", "2001:db8:::/32", "1:2:3:4:5:6:7:8:9/128", "2001:dg8::/32", "", "/8",
        "::1::/128", "1:2:3:4:5:6:7::8/128", "example.com/24", "10.0.0.0/08x",
    ])
    func refusesWhatIsNoNetwork(text: String) {
        #expect(throws: CIDRError.malformed(text)) { try CIDR(parsing: text) }
    }

    @Test(arguments: [
        ("10.0.0.1/8", "10.0.0.0/8"),
        ("192.168.1.1/16", "192.168.0.0/16"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("0.0.0.1/0", "0.0.0.0/0"),
    ])
    func namesTheNetworkWhenHostBitsAreSet(text: String, network: String) throws {
        let expected = try CIDR(parsing: network)
        #expect(throws: CIDRError.hostBitsSet(text, network: expected)) {
            try CIDR(parsing: text)
        }
    }

    @Test func containment() throws {
        let wide = try CIDR(parsing: "10.0.0.0/8")
        #expect(wide.contains(try CIDR(parsing: "10.1.0.0/16")))
        #expect(!wide.contains(try CIDR(parsing: "11.0.0.0/16")))
        #expect(!wide.contains(try CIDR(parsing: "::/0")))
        #expect(CIDR.anyIPv6.contains(try CIDR(parsing: "2001:db8::/32")))
        #expect(try CIDR(parsing: "10.1.0.0/16").lastAddress.description == "10.1.255.255")
        #expect(
            try CIDR(parsing: "2001:db8::/32").lastAddress.description
                == "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
    }

    @Test func supernetsOfGivenLengths() throws {
        let cidr = try CIDR(parsing: "10.1.2.0/24")
        #expect(
            cidr.supernets(ofLengths: [0, 8, 16, 24, 32]).map(\.description) == [
                "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
            ])
        let host = try CIDR(parsing: "2001:db8::1/128")
        #expect(
            host.supernets(ofLengths: [32, 128]).map(\.description) == [
                "2001:db8::/32", "2001:db8::1/128",
            ])
        #expect(host.supernets(ofLengths: [32]).allSatisfy { $0.contains(host) })
    }

    @Test(arguments: [
        "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "01.2.3.4", "1.2.3.00", "1.2.3.256",
        "1.2.3.1000", "1.2.3.+4", "1.2.3.4a", "1.2.3.٤",
    ])
    func refusesWhatIsNoIPv4Address(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: ["0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.100.200"])
    func parsesIPv4Addresses(text: String) {
        #expect(IPAddress(text)?.description == text)
    }

    @Test func sortsIPv4BeforeIPv6AndByAddress() throws {
        let sorted = try ["::/0", "10.0.0.0/8", "2001:db8::/32", "9.0.0.0/8"].map {
            try CIDR(parsing: $0)
        }.sorted().map(\.description)
        #expect(sorted == ["9.0.0.0/8", "10.0.0.0/8", "::/0", "2001:db8::/32"])
    }
}

@Suite struct PortRangeTests {
    @Test func parsesPortsAndRanges() throws {
        #expect(try PortRange(parsing: "443") == PortRange(443))
        #expect(try PortRange(parsing: "30000-32767").description == "30000-32767")
        #expect(try PortRange(parsing: "1-65535").contains(PortRange(parsing: "443")))
    }

    @Test(arguments: [
        ("0", PortError.outOfRange("0")), ("65536", .outOfRange("65536")),
        ("99999999999", .outOfRange("99999999999")), ("https", .malformed("https")),
        ("", .malformed("")), ("-443", .malformed("-443")), ("2000-1000", .reversed("2000-1000")),
        ("443-", .malformed("443-")), ("+443", .malformed("+443")),
    ])
    func refusesWhatIsNoPort(text: String, error: PortError) {
        #expect(throws: error) { try PortRange(parsing: text) }
    }
}
