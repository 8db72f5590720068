import Emitters
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes rendered files into a directory all or nothing: every file goes to a temporary file
/// beside its destination first, and only when all were written are they renamed into place.
/// On any failure the temporary files, and any directory created for the output, are removed.
struct OutputDirectory {
    var path: String

    func write(_ files: [RenderedFile]) throws(RuntimeError) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        var createdDirectory: String?
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw RuntimeError(
                    message: "cannot write into '\(path)': it is not a directory",
                    hint: "-o names a directory; the files are written inside it")
            }
        } else {
            createdDirectory = topmostMissingDirectory()
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw RuntimeError(
                    message: "cannot create directory '\(path)': \(Self.reason(error))")
            }
        }
        var temporaries: [(temporary: String, destination: String)] = []
        func cleanUp() {
            for file in temporaries { unlink(file.temporary) }
            if let createdDirectory { try? manager.removeItem(atPath: createdDirectory) }
        }
        for file in files {
            let destination = (path as NSString).appendingPathComponent(file.name)
            let temporary =
                (path as NSString).appendingPathComponent(".\(file.name).topogen-\(getpid()).tmp")
            do {
                try Data(file.contents.utf8).write(
                    to: URL(fileURLWithPath: temporary), options: .withoutOverwriting)
                temporaries.append((temporary, destination))
                if file.isExecutable {
                    // rwx for the owner, r-x for the rest, as umask allows.
                    let mask = umask(0)
                    umask(mask)
                    guard chmod(temporary, 0o755 & ~mask) == 0 else {
                        throw CocoaError(.fileWriteNoPermission)
                    }
                }
            } catch {
                unlink(temporary)
                cleanUp()
                throw RuntimeError(message: "cannot write '\(destination)': \(Self.reason(error))")
            }
        }
        for (index, file) in temporaries.enumerated()
        where rename(file.temporary, file.destination) != 0 {
            let reason = String(cString: strerror(errno))
            for remaining in temporaries[index...] { unlink(remaining.temporary) }
            throw RuntimeError(message: "cannot write '\(file.destination)': \(reason)")
        }
    }

    /// The outermost ancestor of `path` that does not exist yet, to remove on failure.
    private func topmostMissingDirectory() -> String? {
        var current = URL(fileURLWithPath: path).standardizedFileURL
        var missing: String?
        while !FileManager.default.fileExists(atPath: current.path) {
            missing = current.path
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        return missing
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(nsError.code)))
        }
        return nsError.localizedDescription
    }
}
