import Testing

@testable import Emitters

/// The texts host rules are reported with.
@Suite struct HostPermissionsTests {
    /// The fast reading of already single-spaced lines gives what the general one gives, around
    /// the 100-byte cut, with white space and two-byte characters anywhere.
    @Test func excerptsOfPlainLinesAreThoseOfTheGeneralReading() {
        var random = SplitMix64(seed: 8)
        let pieces = ["a", "-A", " ", " ", "\t", "é", "x", "  ", "\r", "--dport 443"]
        for _ in 0..<5000 {
            var line = ""
            let length = Int.random(in: 0...130, using: &random)
            while line.utf8.count < length { line += random.pick(pieces) }
            // A sequence without contiguous storage takes the general reading.
            let general = HostPermissions.excerpt(bytes: AnySequence(Array(line.utf8)))
            #expect(HostPermissions.excerpt(Substring(line)) == general, "\(line.debugDescription)")
        }
        #expect(HostPermissions.excerpt(" -A  INPUT\t-j ACCEPT ") == "-A INPUT -j ACCEPT")
        let long = String(repeating: "a", count: 100)
        #expect(HostPermissions.excerpt(Substring(long + " ")) == long)
        #expect(HostPermissions.excerpt(Substring(long + " b")) == String(long.prefix(97)) + "...")
    }

    @Test(arguments: [
        ("server-postgres", ["server-postgres"]), ("a-b,c-d: a reason", ["a-b", "c-d"]),
        ("kube-proxy: x", ["kube-proxy"]), ("no flow here", []), ("a-b,", []), (":a-b", []),
        ("", []), ("-a", []), ("a--b", []),
    ])
    func flowIdsAreReadFromTheCommentBeforeAColon(comment: String, flows: [String]) {
        #expect(HostPermissions.flows(inComment: comment) == flows)
    }
}
