import Emitters
import Foundation

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
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw RuntimeError(message: "'\(path)' is a directory", hint: "name a file")
            }
            guard force else {
                throw RuntimeError(
                    message: "'\(path)' exists",
                    hint: "pass '--force' to replace it, or name another file")
            }
        }
        let url = URL(fileURLWithPath: path)
        let directory = (path as NSString).deletingLastPathComponent
        try OutputDirectory(path: directory.isEmpty ? "." : directory).write([
            RenderedFile(name: url.lastPathComponent, contents: text)
        ])
    }
}
