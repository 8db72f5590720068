public import Foundation

/// A file that tests read, as a test argument: `Tests/Fixtures/yaml/valid/flow-style.yaml` shows
/// as `valid/flow-style.yaml`.
public struct Fixture: Sendable, CustomStringConvertible {
    /// Where the file is.
    public let url: URL
    /// The name a test shows for it.
    public let name: String

    /// A file, with the name tests show for it.
    public init(url: URL, name: String) {
        self.url = url
        self.name = name
    }

    /// The name.
    public var description: String { name }

    /// The file's text.
    public func text() throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    /// `Tests/Fixtures`.
    public static var root: URL { Repository.root.appendingPathComponent("Tests/Fixtures") }

    /// Every file of `Tests/Fixtures/<folder>` whose name ends with `.<ext>`, sorted by name and
    /// named `<last folder component>/<file name>`.
    ///
    /// Empty when the folder is missing: a test of the corpus must check that it is not empty,
    /// since a parameterized test without arguments passes.
    public static func files(in folder: String, extension ext: String) -> [Fixture] {
        let directory = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let prefix = directory.lastPathComponent
        return names.filter { $0.hasSuffix(".\(ext)") }.sorted().map {
            Fixture(url: directory.appendingPathComponent($0), name: "\(prefix)/\($0)")
        }
    }
}
