public import Foundation

/// Where the package's files are, found from this source file's path rather than from a
/// bundle, so that tests can read and re-record the goldens in place.
public enum Repository {
    /// The package root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `examples/`.
    public static var examples: URL { root.appendingPathComponent("examples") }
    /// `golden/`.
    public static var golden: URL { root.appendingPathComponent("golden") }

    /// The built `topogen` executable beside the test bundle.
    public static var topogen: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("topogen"),
            Bundle.main.bundleURL.appendingPathComponent("topogen"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("topogen"),
            root.appendingPathComponent(".build/debug/topogen"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? candidates[candidates.count - 1]
    }

    /// Whether re-recording goldens was asked for with `TOPOGEN_RECORD=1`.
    public static var isRecording: Bool {
        ProcessInfo.processInfo.environment["TOPOGEN_RECORD"] == "1"
    }
}

/// An invocation users would run, kept in `examples/NAME.args`: the arguments that follow
/// `topogen generate --target <target>`. Lines starting with `#` are comments; the rest is split
/// on white space. A topology file `examples/NAME.yaml` is the example `--topology PATH`.
public struct Example: Sendable, CustomStringConvertible {
    /// The file's name without `.args` or `.yaml`, also the folder of its goldens.
    public let name: String
    /// The arguments.
    public let arguments: [String]

    /// The name, as tests show the argument.
    public var description: String { name }

    /// Every example, sorted by name.
    public static let all: [Example] = {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: Repository.examples.path)) ?? []
        return names.filter { $0.hasSuffix(".args") || $0.hasSuffix(".yaml") }.sorted().map {
            file in
            let url = Repository.examples.appendingPathComponent(file)
            if file.hasSuffix(".yaml") {
                return Example(
                    name: String(file.dropLast(".yaml".count)),
                    arguments: ["--topology", url.path],
                    file: url)
            }
            let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            let arguments = text.split(separator: "\n")
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
                .flatMap { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
            return Example(
                name: String(file.dropLast(".args".count)), arguments: arguments, file: url)
        }
    }()

    /// The path of the example's file: `NAME.args`, or the topology file `NAME.yaml`.
    public let file: URL

    /// The folder of the example's goldens for one target, `golden/NAME/TARGET`.
    public func goldenFolder(_ target: String) -> URL {
        Repository.golden.appendingPathComponent(name).appendingPathComponent(target)
    }

    /// The path of one of the example's goldens for one target.
    public func golden(_ target: String, _ fileName: String) -> URL {
        goldenFolder(target).appendingPathComponent(fileName)
    }
}
