import Emitters
import Glibc
import TopologyModel

/// A problem with a file given as input, reported with exit status 65: it cannot be read, or
/// it is not of the format.
///
/// For example: `error: cannot read 'rules.v4': No such file or directory`.
struct InputError: Error, Hashable, Sendable {
    var diagnostics: [Diagnostic]

    init(_ message: String, hint: String? = nil) {
        diagnostics = [Diagnostic(.error, message, hint: hint)]
    }

    init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }
}

/// Reads the inputs of `topogen diff`: files, directories and standard input, whole and as
/// UTF-8, refusing what is too large to be rules.
enum InputFiles {
    /// The largest input file topogen reads: 256 MiB, far above the `iptables-save` of a host
    /// with a million rules (about 100 MB).
    static let maximumSize = 256 << 20

    /// The texts of the paths, in order; a directory gives its files with the extensions the
    /// target reads (every `.tf` file for Terraform), sorted by name.
    static func read(_ paths: [String], for target: Format) throws(InputError) -> [InputText] {
        var inputs: [InputText] = []
        for path in paths {
            if path == "-" {
                inputs.append(try standardInput())
                continue
            }
            switch SystemFiles.kind(of: path) {
            case .missing: throw InputError("cannot read '\(path)': No such file or directory")
            case .directory: inputs += try directory(path, for: target)
            case .file(let size): inputs.append(try file(path, size: size))
            }
        }
        return inputs
    }

    /// The text of one file, or of stdin for `-`: a topology file.
    static func readOne(_ path: String) throws(InputError) -> InputText {
        if path == "-" { return try standardInput() }
        switch SystemFiles.kind(of: path) {
        case .missing: throw InputError("cannot read '\(path)': No such file or directory")
        case .directory:
            throw InputError("'\(path)' is a directory", hint: "name a YAML or JSON file")
        case .file(let size): return try file(path, size: size)
        }
    }

    private static func directory(_ path: String, for target: Format) throws(InputError)
        -> [InputText]
    {
        let extensions: Set<Substring> =
            switch target {
            case .terraform: ["tf"]
            case .kubernetes: ["yaml", "yml", "json"]
            case .aws: ["json"]
            case .iptables, .nftables: []
            }
        guard !extensions.isEmpty else {
            throw InputError(
                "'\(path)' is a directory",
                hint: "give the files of '\(CommandLineParser.exportHint(target))' output")
        }
        let names: [String]
        do {
            names = try SystemFiles.names(in: path)
        } catch {
            throw InputError("cannot read directory '\(path)': \(error)")
        }
        let chosen = names.filter { name in
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
            return extensions.contains(name[name.index(after: dot)...])
        }.sorted()
        guard !chosen.isEmpty else {
            let list = extensions.sorted().map { "*.\($0)" }.joined(separator: ", ")
            throw InputError("'\(path)' has no \(list) files")
        }
        var inputs: [InputText] = []
        for name in chosen {
            let full = SystemFiles.path(name, in: path)
            var size = 0
            if case .file(let bytes) = SystemFiles.kind(of: full) { size = bytes }
            inputs.append(try file(full, size: size))
        }
        return inputs
    }

    /// The text of a file of `size` bytes (0 when not a regular file), as `stat` gave it.
    private static func file(_ path: String, size: Int) throws(InputError) -> InputText {
        if size > maximumSize {
            throw InputError(
                "'\(path)' is \(size >> 20) MiB; topogen reads inputs of at most \(maximumSize >> 20) MiB"
            )
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw InputError("cannot read '\(path)': \(SystemError())")
        }
        defer { close(descriptor) }
        return try text(bounded(descriptor, name: path, sizeHint: size), name: path)
    }

    private static func standardInput() throws(InputError) -> InputText {
        try text(bounded(STDIN_FILENO, name: "<stdin>"), name: "<stdin>")
    }

    /// What a file or stream holds, read up to one byte over ``maximumSize`` so that an
    /// endless stream (a pipe, `/dev/zero`, `--topology -`) is refused rather than read into
    /// memory whole; ``text(_:name:)`` refuses what is over.
    private static func bounded(_ descriptor: Int32, name: String, sizeHint: Int = 0)
        throws(InputError) -> [UInt8]
    {
        do {
            return try SystemFiles.read(descriptor, limit: maximumSize, sizeHint: sizeHint)
        } catch {
            throw InputError("cannot read '\(name)': \(error)")
        }
    }

    private static func text(_ bytes: [UInt8], name: String) throws(InputError) -> InputText {
        guard bytes.count <= maximumSize else {
            throw InputError(
                "'\(name)' is over \(maximumSize >> 20) MiB; topogen reads inputs of at most \(maximumSize >> 20) MiB"
            )
        }
        guard let contents = String(validating: bytes, as: UTF8.self) else {
            throw InputError("'\(name)' is not UTF-8 text")
        }
        return InputText(name: name, contents: contents)
    }
}
