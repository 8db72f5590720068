import Emitters
import Foundation
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
                inputs.append(try text(bounded(.standardInput, name: "<stdin>"), name: "<stdin>"))
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError("cannot read '\(path)': No such file or directory")
            }
            if isDirectory.boolValue {
                inputs += try directory(path, for: target)
            } else {
                inputs.append(try file(path, name: path))
            }
        }
        return inputs
    }

    /// The text of one file, or of stdin for `-`: a topology file.
    static func readOne(_ path: String) throws(InputError) -> InputText {
        if path == "-" {
            return try text(bounded(.standardInput, name: "<stdin>"), name: "<stdin>")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError("cannot read '\(path)': No such file or directory")
        }
        guard !isDirectory.boolValue else {
            throw InputError("'\(path)' is a directory", hint: "name a YAML or JSON file")
        }
        return try file(path, name: path)
    }

    private static func directory(_ path: String, for target: Format) throws(InputError)
        -> [InputText]
    {
        let extensions: Set<String> =
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
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw InputError("cannot read directory '\(path)': \(reason(error))")
        }
        let chosen = names.filter {
            !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension)
        }.sorted()
        guard !chosen.isEmpty else {
            let list = extensions.sorted().map { "*.\($0)" }.joined(separator: ", ")
            throw InputError("'\(path)' has no \(list) files")
        }
        var inputs: [InputText] = []
        for name in chosen {
            let full = (path as NSString).appendingPathComponent(name)
            inputs.append(try file(full, name: full))
        }
        return inputs
    }

    private static func file(_ path: String, name: String) throws(InputError) -> InputText {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maximumSize {
            throw InputError(
                "'\(path)' is \(size >> 20) MiB; topogen reads inputs of at most \(maximumSize >> 20) MiB"
            )
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        return try text(bounded(handle, name: path), name: name)
    }

    /// What a file or stream holds, read up to one byte over ``maximumSize`` so that an
    /// endless stream (a pipe, `/dev/zero`, `--topology -`) is refused rather than read into
    /// memory whole; ``text(_:name:)`` refuses what is over.
    private static func bounded(_ handle: FileHandle, name: String) throws(InputError) -> Data {
        var data = Data()
        do {
            while data.count <= maximumSize,
                let chunk = try handle.read(upToCount: min(1 << 20, maximumSize + 1 - data.count)),
                !chunk.isEmpty
            {
                data.append(chunk)
            }
        } catch {
            throw InputError("cannot read '\(name)': \(reason(error))")
        }
        return data
    }

    private static func text(_ data: Data, name: String) throws(InputError) -> InputText {
        guard data.count <= maximumSize else {
            throw InputError(
                "'\(name)' is over \(maximumSize >> 20) MiB; topogen reads inputs of at most \(maximumSize >> 20) MiB"
            )
        }
        guard let contents = String(data: data, encoding: .utf8) else {
            throw InputError("'\(name)' is not UTF-8 text")
        }
        return InputText(name: name, contents: contents)
    }

    private static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain,
            let message = strerror(Int32(code))
        {
            return String(cString: message)
        }
        return error.localizedDescription
    }
}
