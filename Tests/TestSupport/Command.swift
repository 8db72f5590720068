public import Foundation

/// The result of running a program.
public struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal that ended the program.
    public var status: Int32
    /// What the program printed to standard output.
    public var stdout: String
    /// What the program printed to standard error.
    public var stderr: String
}

/// Why a program could not be run.
public struct CommandError: Error, CustomStringConvertible {
    /// The reason.
    public var description: String

    /// Creates the error.
    public init(description: String) {
        self.description = description
    }
}

/// Runs programs for tests: the built `topogen`, and the checkers that judge its output.
public enum Command {
    /// Runs `executable` with `arguments` and waits for it; output goes through temporary files,
    /// so a chatty program can never block on a full pipe.
    public static func run(
        _ executable: URL, _ arguments: [String], stdin: String? = nil,
        currentDirectory: URL? = nil, environment: [String: String]? = nil
    ) throws -> CommandResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        let inURL = scratch.appendingPathComponent("in")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        do {
            try process.run()
        } catch {
            throw CommandError(description: "cannot run '\(executable.path)': \(error)")
        }
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        try inHandle.close()
        let status =
            process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        return CommandResult(
            status: status,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Runs the built `topogen`.
    public static func topogen(_ arguments: [String], currentDirectory: URL? = nil) throws
        -> CommandResult
    {
        try run(Repository.topogen, arguments, currentDirectory: currentDirectory)
    }

    /// The path of a system program the tests drive, for example `unshare` (util-linux, which
    /// `Scripts/bootstrap.sh` checks): the first on `PATH`, then in `/usr/sbin`, `/usr/bin`,
    /// `/sbin` and `/bin`.
    ///
    /// - Throws: When it is missing: a check that cannot run is a failure, never a skip.
    public static func system(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories =
            path.split(separator: ":").map(String.init) + [
                "/usr/sbin", "/usr/bin", "/sbin", "/bin",
            ]
        for directory in directories {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CommandError(description: "missing program '\(name)'; run Scripts/bootstrap.sh")
    }

    /// The path of a checker installed by `Scripts/bootstrap.sh` into `.venv/bin`.
    ///
    /// - Throws: When the checker is missing: a check that cannot run is a failure, never a skip.
    public static func checker(_ name: String) throws -> URL {
        let url = Repository.root.appendingPathComponent(".venv/bin").appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw CommandError(
                description: "missing checker '\(name)' at \(url.path); run Scripts/bootstrap.sh")
        }
        return url
    }
}

/// A line diff for test failures: the lines only in `expected` marked `-`, only in `actual`
/// marked `+`, with a little context, as `diff -u` would show them.
public func lineDiff(expected: String, actual: String, context: Int = 2) -> String {
    let old = expected.components(separatedBy: "\n")
    let new = actual.components(separatedBy: "\n")
    // Longest common subsequence table, from the end.
    var lcs = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
    for i in stride(from: old.count - 1, through: 0, by: -1) {
        for j in stride(from: new.count - 1, through: 0, by: -1) {
            lcs[i][j] = old[i] == new[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
        }
    }
    var lines: [(mark: Character, text: String)] = []
    var i = 0
    var j = 0
    while i < old.count || j < new.count {
        if i < old.count, j < new.count, old[i] == new[j] {
            lines.append((" ", old[i]))
            i += 1
            j += 1
        } else if j < new.count, i == old.count || lcs[i][j + 1] >= lcs[i + 1][j] {
            lines.append(("+", new[j]))
            j += 1
        } else {
            lines.append(("-", old[i]))
            i += 1
        }
    }
    let changed = lines.indices.filter { lines[$0].mark != " " }
    var shown = Set<Int>()
    for index in changed {
        for near in max(0, index - context)...min(lines.count - 1, index + context) {
            shown.insert(near)
        }
    }
    var output: [String] = []
    var previous = -1
    for index in shown.sorted() {
        if previous >= 0, index != previous + 1 { output.append("@@") }
        output.append("\(lines[index].mark)\(lines[index].text)")
        previous = index
    }
    return output.joined(separator: "\n")
}

/// A new empty directory under the system's temporary directory, named
/// `topogen-<purpose>-<uuid>`; the caller removes it.
public func temporaryDirectory(_ purpose: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("topogen-\(purpose)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
