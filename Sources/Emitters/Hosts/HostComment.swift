/// The comments of host firewall rules: the ids of the flows a rule implements, joined by
/// commas, and after `: ` the reasons of its extra egress flows (user text), within the engine's
/// length limit and safe inside a double-quoted word of `iptables-restore` and `nft`.
///
/// The user's text is made safe by ``sanitized(_:)``: control characters (line feeds, tabs)
/// become spaces, `"` becomes `'` and `\` becomes `/`, so that no quote closes early and no
/// escape is read differently by the engines and by topogen's readers; `$`, backticks and `#`
/// stay, since the iptables rules sit in a quoted here-document and nft reads a quoted string
/// whole. Comments longer than the limit are split between flows, and a reason that still does
/// not fit is cut, deterministically, ending in `...`.
///
/// For example: the ids `server-otel-collector,drain-otel-collector` with the reason
/// `Telemetry: "OTLP"` give the comment
/// `server-otel-collector,drain-otel-collector: Telemetry: 'OTLP'`.
enum HostComment {
    /// The longest comment iptables accepts, in bytes (the kernel's 256 with its terminating
    /// zero).
    static let iptablesLimit = 255
    /// The longest comment nft accepts, in bytes.
    static let nftLimit = 128

    /// The comments of a rule implementing `flows`, each at most `limit` bytes: as few as the
    /// limit allows, every flow id in exactly one, each followed by the reasons of its extra
    /// egress flows.
    ///
    /// For example: `["server-postgres", "server-dns"]` without reasons is the one comment
    /// `server-postgres,server-dns`.
    static func comments(flows: [String], reasons: [String: String], limit: Int) -> [String] {
        // Most rules: ids without reasons that fit in one comment.
        if reasons.isEmpty || !flows.contains(where: { reasons[$0] != nil }) {
            let ids = flows.joined(separator: ",")
            if ids.utf8.count <= limit { return [ids] }
        }
        var groups: [[String]] = []
        for flow in flows {
            if let last = groups.last,
                comment(last + [flow], reasons: reasons).utf8.count <= limit
            {
                groups[groups.count - 1].append(flow)
            } else {
                groups.append([flow])
            }
        }
        return groups.map { truncated(comment($0, reasons: reasons), toBytes: limit) }
    }

    /// The comment of a group of flows, whatever its length.
    private static func comment(_ flows: [String], reasons: [String: String]) -> String {
        let ids = flows.joined(separator: ",")
        var texts: [String] = []
        for flow in flows {
            guard let reason = reasons[flow] else { continue }
            let text = sanitized(reason)
            if !text.isEmpty && !texts.contains(text) { texts.append(text) }
        }
        return texts.isEmpty ? ids : ids + ": " + texts.joined(separator: "; ")
    }

    /// User text as it may stand in a double-quoted comment: control characters as spaces,
    /// runs of spaces as one, `"` as `'`, `\` as `/`, trimmed.
    ///
    /// For example: `"a\n\"b\"` is `a 'b'`.
    static func sanitized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var space = false
        for scalar in text.unicodeScalars {
            let replaced: Unicode.Scalar
            switch scalar {
            case "\"": replaced = "'"
            case "\\": replaced = "/"
            default:
                let isControl =
                    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                    || scalar.properties.generalCategory == .lineSeparator
                    || scalar.properties.generalCategory == .paragraphSeparator
                replaced = isControl || scalar.properties.isWhitespace ? " " : scalar
            }
            if replaced == " " {
                space = !scalars.isEmpty
                continue
            }
            if space { scalars.append(" ") }
            space = false
            scalars.append(replaced)
        }
        return String(scalars)
    }

    /// The text cut to at most `limit` bytes of UTF-8 at a character boundary, ending in
    /// `...` when cut.
    ///
    /// For example: `abcdef` cut to 5 bytes is `ab...`.
    static func truncated(_ text: String, toBytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var bytes = 0
        let room = max(limit - 3, 0)
        for character in text {
            let size = character.utf8.count
            guard bytes + size <= room else { break }
            result.append(character)
            bytes += size
        }
        while result.last == " " { result.removeLast() }
        return result + (limit >= 3 ? "..." : "")
    }
}
