#if canImport(Glibc)
    import Glibc

    private let systemRead = Glibc.read
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin

    private let systemRead = Darwin.read
    private let systemWrite = Darwin.write
#endif

/// The few calls of the C library that topogen reads and writes through: what a path is, the
/// names in a directory, a whole file descriptor read up to a limit, and bytes written whole.
/// topogen keeps Foundation out of the binary, whose loading alone would cost a few
/// milliseconds of every run (the reference installation renders in about as long).
///
/// Failures are `errno`'s text, as `cat` and `ls` print it: `Permission denied`.
///
/// For example: `SystemFiles.kind(of: "out")` is `.directory` for a directory (or a link to
/// one), `.missing` for nothing there (or a dangling link).
enum SystemFiles {
    /// What a path names, links followed.
    enum Kind: Equatable {
        case missing
        case directory
        /// A file, a device or a pipe, and its size in bytes (0 for what is not a regular file).
        case file(size: Int)
    }

    /// The path of `name` inside `directory`: `out/server.sh`, and `/server.sh` in `/`.
    static func path(_ name: String, in directory: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// What `path` names, following links, as `stat` sees it.
    static func kind(of path: String) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file(size: Int(status.st_size))
        default: return .file(size: 0)
        }
    }

    /// The names in a directory, `.` and `..` left out, in no particular order.
    ///
    /// - Throws: The reason, when the directory cannot be opened: `Permission denied`.
    static func names(in directory: String) throws(SystemError) -> [String] {
        guard let stream = opendir(directory) else { throw SystemError() }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The bytes of an open file or stream, read to its end or to one byte over `limit`,
    /// whichever comes first, so that an endless stream is not read into memory whole.
    ///
    /// - Throws: The reason, when a read fails: `Is a directory`.
    static func read(_ descriptor: Int32, limit: Int, sizeHint: Int = 0) throws(SystemError)
        -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: max(1 << 16, min(sizeHint, limit) + 1))
        var count = 0
        while count <= limit {
            if count == bytes.count {
                bytes += repeatElement(0, count: min(bytes.count, limit + 1 - count))
            }
            let got = bytes.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress.map { $0 + count }, buffer.count - count)
            }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw SystemError() }
            if got == 0 { break }
            count += got
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Writes all of `text`, as UTF-8, to the descriptor, retrying after a signal and a short
    /// write.
    ///
    /// - Throws: The reason, when a write fails: `No space left on device`.
    static func write(_ descriptor: Int32, _ text: String) throws(SystemError) {
        var text = text
        let failure = text.withUTF8 { buffer -> SystemError? in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(
                    descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return SystemError() }
                offset += written
            }
            return nil
        }
        if let failure { throw failure }
    }
}

/// A failed call of the C library, with `errno`'s text: `Permission denied`.
struct SystemError: Error, CustomStringConvertible {
    var description: String

    /// The error of the call that just failed, from `errno`.
    init() {
        description = String(cString: strerror(errno))
    }
}
