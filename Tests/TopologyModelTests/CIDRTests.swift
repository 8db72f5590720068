import Glibc
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

/// The byte-wise IPv6 reader and writer against the C library's `inet_pton` and `inet_ntop`,
/// on texts made at random from the pieces addresses are written with.
@Suite struct IPv6AgainstTheCLibraryTests {
    /// What `inet_pton(AF_INET6)` reads from `text`, nil when it refuses it.
    private func cParse(_ text: String) -> (UInt64, UInt64)? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { bytes in
            (
                bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            )
        }
    }

    /// What `inet_ntop(AF_INET6)` writes for the address.
    private func cText(high: UInt64, low: UInt64) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { bytes in
            for index in 0..<8 {
                bytes[index] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * index))
                bytes[index + 8] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * index))
            }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        return String(
            decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A text that is often an address: eight groups of one to four hexadecimal digits, some
    /// compressed to `::`, the last two sometimes a dotted quad; then, often, one character
    /// inserted, removed or replaced.
    private func someText(_ random: inout SeededGenerator) -> String {
        let digits = Array("0123456789abcdefABCDEF")
        var groups = (0..<8).map { _ in
            String(
                (0..<Int.random(in: 1...4, using: &random)).map { _ in
                    digits.randomElement(using: &random) ?? "0"
                })
        }
        if Bool.random(using: &random) {
            let quad = (0..<4).map { _ in String(Int.random(in: 0...255, using: &random)) }
            groups.replaceSubrange(6..<8, with: [quad.joined(separator: ".")])
        }
        var text = groups.joined(separator: ":")
        if Int.random(in: 0..<3, using: &random) != 0 {
            let start = Int.random(in: 0..<groups.count, using: &random)
            let end = Int.random(in: start...groups.count, using: &random)
            text =
                groups[..<start].joined(separator: ":") + "::"
                + groups[end...].joined(separator: ":")
        }
        var characters = Array(text)
        if Bool.random(using: &random), !characters.isEmpty {
            let index = Int.random(in: 0..<characters.count, using: &random)
            let noise = Array(":.0fG9/ ").randomElement(using: &random) ?? ":"
            switch Int.random(in: 0..<3, using: &random) {
            case 0: characters.insert(noise, at: index)
            case 1: characters.remove(at: index)
            default: characters[index] = noise
            }
        }
        return String(characters)
    }

    @Test func readsWhatTheCLibraryReads() {
        var random = SeededGenerator(seed: 0x1F6)
        var accepted = 0
        var refused = 0
        for _ in 0..<50_000 {
            let text = someText(&random)
            let ours = IPAddress(text).flatMap { $0.family == .ipv6 ? ($0.high, $0.low) : nil }
            let theirs = cParse(text)
            #expect(ours?.0 == theirs?.0 && ours?.1 == theirs?.1, "'\(text)'")
            if theirs == nil { refused += 1 } else { accepted += 1 }
        }
        #expect(accepted > 10_000 && refused > 10_000)
    }

    @Test func writesWhatTheCLibraryWrites() throws {
        var random = SeededGenerator(seed: 0x2F6)
        for _ in 0..<50_000 {
            // Groups that are often zero, so that runs of zeros of every length occur.
            var high: UInt64 = 0
            var low: UInt64 = 0
            for group in 0..<8 {
                let value: UInt64 =
                    Bool.random(using: &random)
                    ? 0
                    : UInt64.random(in: 0...0xFFFF, using: &random)
                        >> UInt64.random(in: 0...15, using: &random)
                if group < 4 { high = high << 16 | value } else { low = low << 16 | value }
            }
            // The C library writes the deprecated IPv4-compatible form (::1.2.3.4) for ::/96;
            // RFC 5952 does not.
            if high == 0 && low >> 32 == 0 { continue }
            let address = IPAddress(ipv6High: high, low: low)
            #expect(address.description == cText(high: high, low: low))
            #expect(IPAddress(address.description) == address)
        }
        #expect(IPAddress(ipv6High: 0, low: 0xFFFF_C000_0201).description == "::ffff:192.0.2.1")
        #expect(IPAddress(ipv6High: 0, low: 1).description == "::1")
        #expect(IPAddress(ipv6High: 0, low: 0).description == "::")
    }
}
