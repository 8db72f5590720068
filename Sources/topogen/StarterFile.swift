import Emitters

/// Writes the file `topogen init` makes: whole or not at all (through ``OutputDirectory``, so
/// a missing directory is created as for `-o` of `generate`), and never over an existing file
/// unless `--force` says so, as `terraform init` and `git init` never clobber. A directory of that
/// name is an error, and so is a symbolic link (with `--force`, or a dangling one): the file is
/// replaced whole, never written through a link.
///
/// For example: `topogen init -o topology.yaml` twice fails the second time with
/// `error: 'topology.yaml' exists` and the hint to pass `--force`.
struct StarterFile {
    var path: String
    var force: Bool

    func write(_ text: String) throws(RuntimeError) {
        switch SystemFiles.kind(of: path) {
        case .directory:
            throw RuntimeError(message: "'\(path)' is a directory", hint: "name a file")
        case .file:
            guard force else {
                throw RuntimeError(
                    message: "'\(path)' exists",
                    hint: "pass '--force' to replace it, or name another file")
            }
        case .missing: break
        }
        guard let slash = path.lastIndex(of: "/") else {
            try OutputDirectory(path: ".").write([RenderedFile(name: path, contents: text)])
            return
        }
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty else {
            throw RuntimeError(message: "'\(path)' names a directory", hint: "name a file")
        }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        try OutputDirectory(path: directory).write([RenderedFile(name: name, contents: text)])
    }
}
