import Testing

@testable import Emitters

@Suite struct YAMLNodeTests {
    @Test(arguments: [
        "on", "off", "yes", "no", "y", "n", "true", "False", "null", "~", "1983", "0x1F", "1e5",
        "12.5", "0o17", "1_000", "1983-01-01", "", " lead", "trail ", "a: b", "a #b", "#x", "-x",
        "::/0", "2001:db8::/32", "*alias", "&anchor", "!tag", "{x}", "[x]", "'q'", "\"q\"", "%x",
        "@x", "`x", "|", ">", "a\nb", "tab\there", ".inf", "-.inf", ".nan", "+1", "x:y",
    ])
    func quotesWhatYAMLWouldReadAsSomethingElse(value: String) {
        let rendered = YAMLScalar.render(.string(value))
        #expect(rendered.hasPrefix("\"") && rendered.hasSuffix("\""), "\(value) → \(rendered)")
    }

    @Test(arguments: [
        "spacelift", "kube-dns", "app.kubernetes.io/name", "10.0.0.0/8", "0.0.0.0/0",
        "networking.k8s.io/v1", "lb-server-http,worker-mqtt", "TCP",
    ])
    func leavesOrdinaryStringsPlain(value: String) {
        #expect(YAMLScalar.render(.string(value)) == value)
    }

    @Test func escapesInsideDoubleQuotes() {
        #expect(YAMLScalar.render(.string("a\"b\\c\nd\u{1}")) == #""a\"b\\c\nd\x01""#)
    }

    @Test func rendersBlockStyleWithCommentsAndEmptyCollections() {
        let document = YAMLNode.map([
            "spec": .map([
                "podSelector": .mapping([]),
                "ports": .sequence([
                    YAMLItem(
                        comments: ["why"],
                        node: .map(["protocol": .string("TCP"), "port": .int(443)])),
                    YAMLItem(comments: [], node: .string("on")),
                ]),
                "none": .sequence([]),
            ])
        ])
        #expect(
            YAMLNode.render(documents: [document, .map(["a": .int(1)])], header: ["head"]) == """
                # head
                ---
                spec:
                  podSelector: {}
                  ports:
                    # why
                    - protocol: TCP
                      port: 443
                    - "on"
                  none: []
                ---
                a: 1

                """)
    }
}
