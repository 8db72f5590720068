import Emitters
import Foundation

#if canImport(Glibc)
    import Glibc

    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin

    private let systemWrite = Darwin.write
#endif

/// Writes rendered files into a directory, all or nothing.
///
/// Missing directories are created. Every file is written to a fresh temporary file beside its
/// destination (created exclusively, flushed to disk), and only when all were written are they
/// renamed into place; on any failure the temporary files, and the directories created for the
/// output, are removed, and existing files are untouched. Renames within one directory do not
/// fail in practice, but if one did, the files renamed before it would stay. Scripts are
/// created executable, as the umask allows (`rwxr-xr-x` with the usual `022`).
struct OutputDirectory {
    var path: String

    func write(_ files: [RenderedFile]) throws(RuntimeError) {
        let created = try createDirectories()
        var temporaries: [(temporary: String, destination: String)] = []
        func abandon() {
            for file in temporaries { unlink(file.temporary) }
            for directory in created.reversed() { rmdir(directory) }
        }
        for file in files {
            let destination = join(path, file.name)
            do {
                temporaries.append((try writeTemporary(file, beside: destination), destination))
            } catch {
                abandon()
                throw error
            }
        }
        for (index, file) in temporaries.enumerated()
        where rename(file.temporary, file.destination) != 0 {
            let reason = Self.errnoText()
            for remaining in temporaries[index...] { unlink(remaining.temporary) }
            throw RuntimeError(message: "cannot write '\(file.destination)': \(reason)")
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Creates the directory and its missing ancestors.
    ///
    /// - Returns: The directories created, outermost first.
    private func createDirectories() throws(RuntimeError) -> [String] {
        var created: [String] = []
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/\(component)"
            var status = stat()
            if stat(prefix, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    for directory in created.reversed() { rmdir(directory) }
                    throw RuntimeError(
                        message: "cannot write into '\(path)': '\(prefix)' is not a directory",
                        hint: "-o names a directory; the files are written inside it")
                }
                continue
            }
            guard mkdir(prefix, 0o777) == 0 else {
                let reason = Self.errnoText()
                for directory in created.reversed() { rmdir(directory) }
                throw RuntimeError(message: "cannot create directory '\(prefix)': \(reason)")
            }
            created.append(prefix)
        }
        return created
    }

    /// Writes the file's contents to a new temporary file in the destination's directory.
    private func writeTemporary(_ file: RenderedFile, beside destination: String)
        throws(RuntimeError) -> String
    {
        let temporary = join(
            path, ".\(file.name).topogen-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp")
        let mode: mode_t = file.isExecutable ? 0o777 : 0o666
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw RuntimeError(message: "cannot write '\(destination)': \(Self.errnoText())")
        }
        defer { close(descriptor) }
        let bytes = Array(file.contents.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                systemWrite(descriptor, $0.baseAddress, $0.count)
            }
            guard written > 0 else {
                let reason = Self.errnoText()
                unlink(temporary)
                throw RuntimeError(message: "cannot write '\(destination)': \(reason)")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let reason = Self.errnoText()
            unlink(temporary)
            throw RuntimeError(message: "cannot write '\(destination)': \(reason)")
        }
        return temporary
    }

    private func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
