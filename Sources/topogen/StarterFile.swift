import Foundation

/// Writes the file `topogen init` makes: whole or not at all, and never over an existing
/// file unless `--force` says so, as `terraform init` and `git init` never clobber.
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
        do {
            // Written beside the destination and renamed over it, so no reader sees a part.
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError(
                message: "cannot write '\(path)': \((error as NSError).localizedDescription)")
        }
    }
}
