import Emitters

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes rendered files into a directory, all or nothing.
///
/// Missing directories are created. Every file is written to a fresh temporary file beside its
/// destination (`.NAME.topogen-PID-RANDOM.tmp`, created exclusively); when all were written,
/// they are flushed to disk and renamed into place; on any failure (a read-only or full file
/// system, a permission) the temporary files, and the directories created for the output, are
/// removed, and existing files are untouched. Scripts are created executable, as the umask allows
/// (`rwxr-xr-x` with the usual `022`); every other file `rw-r--r--`.
///
/// What is already in the directory:
/// - Files topogen does not write this time (the user's, or an earlier run's for a host role that
///   is gone) are left alone: topogen cannot know they are its own.
/// - A regular file of the same name is replaced whole, as `mv -f` would, whatever its mode (a
///   read-only file too): it is topogen's output. The new file has topogen's mode.
/// - A directory, a symbolic link or any other non-regular file of the same name is an error
///   before anything is written: topogen never writes through a link (to a file that may be
///   outside the directory) nor replaces a link or a directory it did not make. The directory
///   `-o` names may itself be a link to a directory: that one is followed, as `cp` and `kubectl`
///   follow it.
///
/// Signals: `SIGHUP`, `SIGINT`, `SIGQUIT` and `SIGTERM` are held back while the directories are
/// created and the files written and renamed (see ``HeldSignals``; the writing thread is the only
/// one that takes them, Dispatch's threads block them), so an interrupted run leaves either the
/// directory as it was or the complete new set, never a temporary file; the signal then ends
/// topogen as it would have (exit status 128 + the signal in a shell) once the write has finished,
/// which takes as long as the writes take. A file over `ulimit -f` is an error like a full disk.
/// `SIGKILL` cannot be held back: killed while writing, topogen can leave temporary files
/// (`.*.topogen-*.tmp`) and directories it created, and if killed while renaming, some files new
/// and the others old; a later run replaces topogen's files, and the temporary files can be
/// removed. Renames within one directory do not fail in practice, but if one did, the
/// files renamed before it would stay.
///
/// For example: `OutputDirectory(path: "out").write(files)` with `out/main.tf` a link fails with
/// `error: cannot write 'out/main.tf': it is a symbolic link`, and writes nothing.
struct OutputDirectory {
    /// The directory, as given to `-o`: `out`, `/etc/topogen`.
    var path: String

    /// Writes the files, all or nothing, with termination signals held back until it is done.
    func write(_ files: [RenderedFile]) throws(RuntimeError) {
        let signals = HeldSignals()
        defer { signals.release() }
        try writeHoldingSignals(files)
    }

    private func writeHoldingSignals(_ files: [RenderedFile]) throws(RuntimeError) {
        let created = try createDirectories()
        var temporaries: [(temporary: String, destination: String)] = []
        func abandon() {
            for file in temporaries { unlink(file.temporary) }
            for directory in created.reversed() { rmdir(directory) }
        }
        do {
            for file in files { try checkDestination(SystemFiles.path(file.name, in: path)) }
            for file in files {
                let destination = SystemFiles.path(file.name, in: path)
                temporaries.append((try writeTemporary(file, beside: destination), destination))
            }
            try flush()
        } catch {
            abandon()
            throw error
        }
        for (index, file) in temporaries.enumerated()
        where rename(file.temporary, file.destination) != 0 {
            let reason = SystemError()
            for remaining in temporaries[index...] { unlink(remaining.temporary) }
            throw RuntimeError(message: "cannot write '\(file.destination)': \(reason)")
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Fails unless the destination is missing or a regular file, which a rename replaces whole.
    private func checkDestination(_ destination: String) throws(RuntimeError) {
        var status = stat()
        guard lstat(destination, &status) == 0 else {
            guard errno == ENOENT else {
                throw RuntimeError(message: "cannot write '\(destination)': \(SystemError())")
            }
            return
        }
        let what: String
        switch status.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: what = "it is a directory"
        case S_IFLNK: what = "it is a symbolic link"
        default: what = "it is not a regular file"
        }
        throw RuntimeError(
            message: "cannot write '\(destination)': \(what)",
            hint: "topogen replaces only regular files and never writes through a link;"
                + " remove it, or choose another output directory")
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
                let reason = SystemError()
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
        let temporary = SystemFiles.path(
            ".\(file.name).topogen-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp", in: path)
        let mode: mode_t = file.isExecutable ? 0o777 : 0o666
        let descriptor = open(
            temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw RuntimeError(message: "cannot write '\(destination)': \(SystemError())")
        }
        defer { close(descriptor) }
        do {
            try SystemFiles.write(descriptor, file.contents)
        } catch {
            unlink(temporary)
            throw RuntimeError(message: "cannot write '\(destination)': \(error)")
        }
        return temporary
    }

    /// Flushes the temporary files to disk before any is renamed into place, with one `syncfs`
    /// of the directory's file system rather than an `fsync` per file: ten thousand `fsync`s
    /// (one host file per worker pool) take tens of seconds on a busy disk, one `syncfs` about
    /// as long as the slowest file. `syncfs` is looked up at run time, as Glibc's Swift module
    /// does not declare it; where it is missing, `sync` flushes every file system.
    private func flush() throws(RuntimeError) {
        #if canImport(Glibc)
            if let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "syncfs") {
                typealias SyncFS = @convention(c) (Int32) -> Int32
                let syncfs = unsafeBitCast(symbol, to: SyncFS.self)
                let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard directory >= 0 else {
                    throw RuntimeError(
                        message: "cannot write into '\(path)': \(SystemError())")
                }
                defer { close(directory) }
                guard syncfs(directory) == 0 else {
                    throw RuntimeError(
                        message: "cannot write into '\(path)': \(SystemError())")
                }
                return
            }
        #endif
        sync()
    }
}
