import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `generate -o DIR` and `init -o FILE` leave behind when a run is interrupted or its
/// writes fail: the user's files exactly as they were (bytes, mode, modification time), and
/// topogen's files either as they were or the complete new set, never a temporary file
/// (`.NAME.topogen-*.tmp`). The built binary is run as users run it. The tests run as root, whom
/// permission bits do not stop, so an unwritable directory is a read-only bind mount, or a
/// `r-x` directory with root's `CAP_DAC_OVERRIDE` dropped (`setpriv`), and a full one a tiny
/// tmpfs, each in a private mount namespace (`unshare -m`) that vanishes with the run.
@Suite struct FailureBehaviourTests {
    /// An iptables installation with `pools` worker pools: `3 + pools` scripts of about 5 to 8 KB
    /// (`server.sh`, `drain.sh`, `scheduler.sh`, `worker-pool-N.sh`), each flushed to disk, so
    /// writing them takes a measurable time (about 0.1 s for 10 pools).
    static func pools(_ count: Int) -> String {
        "workerPools:\n" + (0..<count).map { "  - name: pool-\($0)\n" }.joined()
    }

    /// Writes `text` to a new file `name` in `directory` and returns its URL.
    @discardableResult
    static func file(_ name: String, in directory: URL, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// topogen's files of a run into an empty directory, by name.
    static func rendered(_ arguments: [String]) throws -> [String: Data] {
        let directory = try temporaryDirectory("failure-render")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Command.topogen(arguments + ["-o", directory.path])
        guard result.status == 0 else {
            throw CommandError(description: "topogen \(arguments): \(result.stderr)")
        }
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }

    // MARK: - Interrupted runs

    /// What a directory holds after a run: what it held before, or the new set.
    enum Outcome: Equatable {
        /// Every entry exactly as it was.
        case asBefore
        /// topogen's complete new set, every other entry as it was.
        case complete
    }

    /// One way to run topogen into a directory, to interrupt: how to lay the directory out before,
    /// the arguments, and topogen's complete new set of files.
    struct Writer {
        /// Lays out the directory before the run.
        var prepare: (URL) throws -> Void
        /// The arguments, for the directory.
        var arguments: (URL) -> [String]
        /// topogen's files after a complete run, by name.
        var newFiles: [String: Data]
    }

    /// A directory with the user's files and the iptables output for 5 pools, into which
    /// `generate` writes the output for `pools` pools (with 10, 13 scripts, 8 of them replacing
    /// older ones). Its topology files are written into `scratch`.
    static func generateWriter(pools count: Int, scratch: URL) throws -> Writer {
        let topology = try topologyFile(pools: count, in: scratch)
        let old = try rendered([
            "--target", "iptables", "--topology", try topologyFile(pools: 5, in: scratch).path,
        ])
        let arguments = { (directory: URL) in
            ["generate", "--target", "iptables", "--topology", topology.path, "-o", directory.path]
        }
        return Writer(
            prepare: { directory in
                try Self.userFiles(in: directory)
                for (name, data) in old {
                    let url = directory.appendingPathComponent(name)
                    try data.write(to: url)
                    try FileManager.default.setAttributes(
                        [.posixPermissions: 0o755, .modificationDate: Self.past],
                        ofItemAtPath: url.path)
                }
            },
            arguments: arguments,
            newFiles: try rendered(["--target", "iptables", "--topology", topology.path]))
    }

    /// A directory with the user's files and an older `topology.yaml`, which `init
    /// --force` replaces with the starter file.
    static func initWriter() throws -> Writer {
        let starter = try Command.topogen(["init"]).stdout
        return Writer(
            prepare: { directory in
                try Self.userFiles(in: directory)
                let old = try Self.file("topology.yaml", in: directory, "options:\n  sqs: true\n")
                try FileManager.default.setAttributes(
                    [.modificationDate: Self.past], ofItemAtPath: old.path)
            },
            arguments: {
                ["init", "-o", $0.appendingPathComponent("topology.yaml").path, "--force"]
            },
            newFiles: ["topology.yaml": Data(starter.utf8)])
    }

    /// A fixed time in the past, for files a run must not touch.
    static let past = Date(timeIntervalSince1970: 1_000_000_000)

    /// The user's own files: a private file, a link and a subdirectory.
    static func userFiles(in directory: URL) throws {
        let notes = try file("notes.txt", in: directory, "mine\n")
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600, .modificationDate: past], ofItemAtPath: notes.path)
        try FileManager.default.createSymbolicLink(
            atPath: directory.appendingPathComponent("latest").path,
            withDestinationPath: "notes.txt")
        let sub = directory.appendingPathComponent("drafts")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        try file("draft.sh", in: sub, "#!/bin/sh\n")
    }

    /// A topology file `pools-N.yaml` with `count` worker pools in `directory`.
    static func topologyFile(pools count: Int, in directory: URL) throws -> URL {
        try file("pools-\(count).yaml", in: directory, pools(count))
    }

    /// What happened in one interrupted run.
    struct Run {
        /// Whether a temporary file of topogen's was seen before the signal was sent: the signal
        /// was sent while topogen was writing.
        var sawTemporary: Bool
        /// Whether the signal ended topogen (rather than topogen finishing first).
        var signalled: Bool
        /// What the directory held afterwards; nil when it was neither as before nor complete.
        var outcome: Outcome?
    }

    /// Runs `writer` `runs` times per signal, sending the signal either as soon as a temporary
    /// file appears (even runs) or after a random delay up to twice a clean run's time (odd
    /// runs), and more times if needed until the signal has landed during the write once; and
    /// checks every outcome.
    static func interrupt(_ writer: Writer, runs: Int) throws -> [Int32: [Run]] {
        let directory = try temporaryDirectory("failure-signal")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out")
        let started = Date()
        try reset(output, with: writer)
        #expect(try Command.topogen(writer.arguments(output)).status == 0)
        let clean = Date().timeIntervalSince(started)
        var results: [Int32: [Run]] = [:]
        func run(_ signal: Int32, onTemporary: Bool) throws -> Run {
            try reset(output, with: writer)
            let before = try Snapshot(output)
            let child = try Child(Repository.topogen.path, writer.arguments(output))
            var sawTemporary = false
            if onTemporary {
                let deadline = Date().addingTimeInterval(10)
                while child.isRunning, Date() < deadline {
                    if !(try temporaries(in: output)).isEmpty {
                        sawTemporary = true
                        break
                    }
                }
            } else {
                usleep(UInt32(Double.random(in: 0...(2 * clean)) * 1_000_000))
            }
            kill(child.pid, signal)
            let (status, ending) = child.wait()
            let signalled = ending != nil
            #expect(
                signalled ? ending == signal : status == 0,
                "signal \(signal): status \(status), signal \(ending ?? 0)")
            #expect(try temporaries(in: output).isEmpty, "signal \(signal)")
            let outcome = try Snapshot(output).outcome(from: before, newFiles: writer.newFiles)
            #expect(outcome != nil, "signal \(signal): neither as before nor the new set")
            return Run(sawTemporary: sawTemporary, signalled: signalled, outcome: outcome)
        }
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var runs = try (0..<runs).map { try run(signal, onTemporary: $0 % 2 == 0) }
            // A short write can end before the signal is sent: try again, a bounded number of
            // times, until one signal has landed during the write.
            for _ in 0..<12 where !runs.contains(where: { $0.sawTemporary && $0.signalled }) {
                runs.append(try run(signal, onTemporary: true))
            }
            results[signal] = runs
        }
        return results
    }

    /// Empties `directory` and lays it out as `writer` wants it before a run.
    static func reset(_ directory: URL, with writer: Writer) throws {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writer.prepare(directory)
    }

    /// Checks the runs: a signal that landed while topogen was writing (a temporary file was seen)
    /// waited for the write to finish, then ended topogen; every signal landed so at least once.
    static func checkHeldDuringWrites(_ results: [Int32: [Run]]) {
        for (signal, runs) in results {
            let duringWrite = runs.filter { $0.sawTemporary && $0.signalled }
            #expect(!duringWrite.isEmpty, "signal \(signal) never landed during the write: \(runs)")
            for run in duringWrite {
                #expect(run.outcome == .complete, "signal \(signal) during the write: \(run)")
            }
            // A signal that ended topogen before it wrote left the directory as it was.
            #expect(runs.contains { $0.signalled } && runs.allSatisfy { $0.outcome != nil })
        }
    }

    @Test func anInterruptedGenerateLeavesTheDirectoryAsItWasOrComplete() throws {
        let scratch = try temporaryDirectory("failure-signal-topology")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let writer = try Self.generateWriter(pools: 10, scratch: scratch)
        Self.checkHeldDuringWrites(try Self.interrupt(writer, runs: 6))
    }

    @Test func anInterruptedInitLeavesTheFileAsItWasOrComplete() throws {
        Self.checkHeldDuringWrites(try Self.interrupt(try Self.initWriter(), runs: 8))
    }

    // MARK: - Unwritable and full directories

    /// Runs `script` with `sh` in a private mount namespace, with `arguments` as `$1`, `$2`...
    static func inMountNamespace(_ script: String, _ arguments: [String]) throws -> CommandResult {
        try Command.run(
            try Command.system("unshare"), ["--mount", "--", "sh", "-c", script, "sh"] + arguments)
    }

    /// Runs topogen with `DIR` a read-only bind mount of itself.
    static func readOnly(_ directory: URL, _ arguments: [String]) throws -> CommandResult {
        try inMountNamespace(
            """
            set -e
            mount --bind "$1" "$1"
            mount -o remount,bind,ro "$1"
            shift
            exec "$@"
            """, [directory.path, Repository.topogen.path] + arguments)
    }

    @Test func aReadOnlyDirectoryFailsWithTheSystemsReasonAndChangesNothing() throws {
        let scratch = try temporaryDirectory("failure-readonly-topology")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let writer = try Self.generateWriter(pools: 2, scratch: scratch)
        let directory = try temporaryDirectory("failure-readonly")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writer.prepare(directory)
        let before = try Snapshot(directory)
        let cases: [(arguments: [String], message: String)] = [
            (writer.arguments(directory), "error: cannot write '\(directory.path)/"),
            (
                writer.arguments(directory.appendingPathComponent("new/deeper")),
                "error: cannot create directory '\(directory.path)/new'"
            ),
            (
                ["init", "-o", directory.appendingPathComponent("topology.yaml").path],
                "error: cannot write '\(directory.path)/topology.yaml'"
            ),
        ]
        for (arguments, message) in cases {
            let result = try Self.readOnly(directory, arguments)
            Self.expectWriteError(result, startingWith: message, reason: "Read-only file system")
            #expect(try Snapshot(directory) == before)
        }
    }

    @Test func aDirectoryWithoutWritePermissionFailsAndChangesNothing() throws {
        let directory = try temporaryDirectory("failure-permission")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.generateWriter(pools: 2, scratch: directory)
        let output = try Self.output(in: directory, writer)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: output.path)
        let before = try Snapshot(output)
        // Root without CAP_DAC_OVERRIDE is bound by the permission bits, as any user is.
        for arguments in [
            writer.arguments(output), ["init", "-o", output.appendingPathComponent("t.yaml").path],
        ] {
            let result = try Command.run(
                try Command.system("setpriv"),
                ["--bounding-set", "-dac_override,-dac_read_search", "--", Repository.topogen.path]
                    + arguments)
            Self.expectWriteError(
                result, startingWith: "error: cannot write '\(output.path)/",
                reason: "Permission denied")
            #expect(try Snapshot(output) == before)
        }
    }

    @Test func anOutputPathBelowAFileFailsAndChangesNothing() throws {
        let directory = try temporaryDirectory("failure-file")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try Self.file("plain", in: directory, "keep\n")
        let before = try Snapshot(directory)
        for arguments in [
            ["--target", "iptables", "-o", file.path],
            ["--target", "iptables", "-o", file.appendingPathComponent("out").path],
            ["init", "-o", file.appendingPathComponent("topology.yaml").path],
        ] {
            let result = try Command.topogen(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.hasPrefix("error: cannot write into '")
                    && result.stderr.contains("'\(file.path)' is not a directory"),
                "\(result.stderr)")
            #expect(try Snapshot(directory) == before)
        }
    }

    /// Runs topogen into `DIR`, a tmpfs of `size` holding a copy of `template`; afterwards the
    /// tmpfs's entries, hidden ones too, are copied (modes and times kept) into `result`.
    static func onTmpfs(size: String, template: URL, result: URL, _ arguments: (URL) -> [String])
        throws -> CommandResult
    {
        let mountPoint = result.deletingLastPathComponent().appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: result, withIntermediateDirectories: true)
        return try inMountNamespace(
            """
            set -e
            mnt=$1 template=$2 result=$3
            shift 3
            mount -t tmpfs -o size=\(size),mode=755 tmpfs "$mnt"
            cp -a "$template/." "$mnt/"
            status=0
            "$@" || status=$?
            cp -a "$mnt/." "$result/"
            exit $status
            """,
            [mountPoint.path, template.path, result.path, Repository.topogen.path]
                + arguments(mountPoint))
    }

    @Test func aFullDirectoryFailsPartWayAndLeavesTheOldFiles() throws {
        let directory = try temporaryDirectory("failure-full")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.generateWriter(pools: 10, scratch: directory)
        let template = directory.appendingPathComponent("template")
        try FileManager.default.createDirectory(at: template, withIntermediateDirectories: false)
        try writer.prepare(template)
        // The old set (8 scripts of 2 pages) and the user's files take 18 of the 24 pages; the
        // new set (13 scripts of 2 pages) needs 26: 3 are written, then the disk is full.
        let result = directory.appendingPathComponent("result")
        let run = try Self.onTmpfs(size: "96k", template: template, result: result) {
            writer.arguments($0)
        }
        #expect(run.status == 1, "\(run.stderr)")
        let mount = directory.appendingPathComponent("mnt").path
        let failed = writer.newFiles.keys.filter {
            run.stderr == "error: cannot write '\(mount)/\($0)': No space left on device\n"
        }
        #expect(failed.count == 1, "\(run.stderr)")
        #expect(try Snapshot(result) == (try Snapshot(template)))

        // init on a full disk: the starter file does not fit beside the user's 16 KB.
        let full = directory.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: false)
        try Self.file("filler", in: full, String(repeating: "x", count: 16384))
        try FileManager.default.removeItem(at: result)
        let starter = try Self.onTmpfs(size: "16k", template: full, result: result) {
            ["init", "-o", $0.appendingPathComponent("topology.yaml").path]
        }
        #expect(starter.status == 1)
        #expect(
            starter.stderr
                == "error: cannot write '\(mount)/topology.yaml': No space left on device\n")
        #expect(try Snapshot(result) == (try Snapshot(full)))
    }

    @Test func aFileSizeLimitFailsLikeAFullDisk() throws {
        // Over `ulimit -f` a write fails with EFBIG and raises SIGXFSZ, which would dump core
        // half-way; topogen holds it back and reports the write's error instead.
        let directory = try temporaryDirectory("failure-fsize")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.generateWriter(pools: 2, scratch: directory)
        let output = try Self.output(in: directory, writer)
        let before = try Snapshot(output)
        for target in [output, output.appendingPathComponent("new")] {
            let result = try Command.run(
                try Command.system("prlimit"),
                ["--fsize=4096", "--", Repository.topogen.path] + writer.arguments(target))
            Self.expectWriteError(
                result, startingWith: "error: cannot write '\(target.path)/",
                reason: "File too large")
            #expect(try Snapshot(output) == before)
        }
    }

    @Test(arguments: [
        ["--version"], ["init"], ["--target", "aws"], ["flows", "--format", "json"],
    ])
    func aFullStandardOutputIsAnErrorNotACrash(_ arguments: [String]) throws {
        // `> /dev/full`: every write fails with ENOSPC, as on a full disk.
        let result = try Command.run(
            try Command.system("sh"),
            ["-c", "exec \"$0\" \"$@\" > /dev/full", Repository.topogen.path] + arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(
            result.stderr == "error: cannot write to standard output: No space left on device\n")
    }

    // MARK: - A directory with other things in it

    @Test func otherFilesAreLeftAloneAndTopogensAreReplacedWhole() throws {
        let directory = try temporaryDirectory("failure-existing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.generateWriter(pools: 2, scratch: directory)
        // The 5-pool output: worker-pool-2...4 are an older run's, which this one does not write.
        let output = try Self.output(in: directory, writer)
        let server = output.appendingPathComponent("server.sh")
        let oldServer = try Data(contentsOf: server)
        // A hard link keeps the old inode: replaced whole, it still holds the old bytes.
        try FileManager.default.linkItem(
            at: server, to: output.appendingPathComponent("server.sh.bak"))
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o444], ofItemAtPath: output.appendingPathComponent("drain.sh").path
        )
        let before = try Snapshot(output)

        let result = try Command.topogen(writer.arguments(output))
        #expect(result.status == 0, "\(result.stderr)")
        let after = try Snapshot(output)
        #expect(after.outcome(from: before, newFiles: writer.newFiles) == .complete)
        #expect(try Data(contentsOf: output.appendingPathComponent("server.sh.bak")) == oldServer)
        #expect(after.entries["drain.sh"]?.permissions == 0o777 & ~Self.umask())
        for name in ["worker-pool-2.sh", "worker-pool-3.sh", "worker-pool-4.sh"] {
            #expect(after.entries[name] == before.entries[name], "an older run's \(name)")
        }
        #expect(try Self.temporaries(in: output).isEmpty)

        // `-o` may name a link to a directory: followed.
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: output)
        #expect(try Command.topogen(writer.arguments(link)).status == 0)
        #expect(try Snapshot(output).outcome(from: after, newFiles: writer.newFiles) == .complete)
    }

    @Test func aDirectoryOrLinkInTheWayFailsBeforeAnythingIsWritten() throws {
        let directory = try temporaryDirectory("failure-inway")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.generateWriter(pools: 2, scratch: directory)
        let outside = try Self.file("outside.sh", in: directory, "#!/bin/sh\necho outside\n")
        let output = directory.appendingPathComponent("out")
        for (name, what) in [("scheduler.sh", "a directory"), ("drain.sh", "a symbolic link")] {
            try? FileManager.default.removeItem(at: output)
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
            try writer.prepare(output)
            let target = output.appendingPathComponent(name)
            try FileManager.default.removeItem(at: target)
            if what == "a directory" {
                try FileManager.default.createDirectory(
                    at: target, withIntermediateDirectories: false)
            } else {
                try FileManager.default.createSymbolicLink(at: target, withDestinationURL: outside)
            }
            let before = try Snapshot(directory)
            let result = try Command.topogen(writer.arguments(output))
            #expect(result.status == 1)
            #expect(
                result.stderr.hasPrefix("error: cannot write '\(target.path)': it is \(what)\n"),
                "\(result.stderr)")
            #expect(try Snapshot(directory) == before)
            let initResult = try Command.topogen(["init", "-o", target.path, "--force"])
            #expect(initResult.status == 1, "\(initResult.stderr)")
            #expect(try Snapshot(directory) == before)
        }
    }

    // MARK: - Support

    /// `DIR/out`, laid out by `writer`.
    static func output(in directory: URL, _ writer: Writer) throws -> URL {
        let output = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        try writer.prepare(output)
        return output
    }

    /// Expects a failed write: status 1 and the one line `PREFIX...: REASON` on standard error,
    /// for example `error: cannot write 'out/server.sh': Read-only file system`.
    static func expectWriteError(
        _ result: CommandResult, startingWith prefix: String, reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            result.stderr.hasPrefix(prefix) && result.stderr.hasSuffix(": \(reason)\n")
                && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)",
            sourceLocation: sourceLocation)
    }

    /// A child process started the way a shell starts a command: every signal unblocked and at
    /// its default action (a test runs on a thread that blocks signals, and `Process` passes the
    /// thread's mask on), output discarded.
    final class Child {
        /// The process id.
        let pid: pid_t
        private var status: Int32?

        /// Starts `path` with `arguments`.
        init(_ path: String, _ arguments: [String]) throws {
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            var all = sigset_t()
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(
                &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let argv = ([path] + arguments).map { strdup($0) } + [nil]
            defer { for argument in argv { free(argument) } }
            var pid: pid_t = 0
            let error = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
            guard error == 0 else {
                throw CommandError(
                    description: "cannot run '\(path)': \(String(cString: strerror(error)))")
            }
            self.pid = pid
        }

        /// Whether it has not ended yet (it is reaped when it has).
        var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = raw
            return false
        }

        /// Waits for it to end: its exit status, or the signal that ended it.
        func wait() -> (status: Int32, signal: Int32?) {
            var raw = status ?? 0
            if status == nil {
                while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
                status = raw
            }
            let signal = raw & 0x7f
            return signal == 0 ? ((raw >> 8) & 0xff, nil) : (128 + signal, signal)
        }
    }

    /// topogen's temporary files in `directory`.
    static func temporaries(in directory: URL) throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.contains(".topogen-") && $0.hasSuffix(".tmp") }
    }

    /// The process's file mode creation mask, from `/proc/self/status`.
    static func umask() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        return line.flatMap {
            Int($0.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8)
        } ?? 0o022
    }
}

/// Everything under a directory a write must not change, links not followed: every entry's
/// kind, permission bits, modification time, and contents (a file's bytes, a link's target).
struct Snapshot: Equatable, CustomStringConvertible {
    /// One entry.
    struct Entry: Equatable {
        /// Regular file, directory, link...
        var type: FileAttributeType
        var permissions: Int
        var modified: Date
        var contents: Data
    }

    /// The entries by path relative to the directory: `notes.txt`, `drafts/draft.sh`.
    var entries: [String: Entry] = [:]

    /// Reads the directory.
    init(_ directory: URL) throws {
        let manager = FileManager.default
        var pending = [""]
        while let relative = pending.popLast() {
            let base = relative.isEmpty ? directory : directory.appendingPathComponent(relative)
            for name in try manager.contentsOfDirectory(atPath: base.path) {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                let url = directory.appendingPathComponent(path)
                let attributes = try manager.attributesOfItem(atPath: url.path)
                let type = attributes[.type] as? FileAttributeType ?? .typeUnknown
                var contents = Data()
                switch type {
                case .typeRegular: contents = try Data(contentsOf: url)
                case .typeSymbolicLink:
                    contents = Data(try manager.destinationOfSymbolicLink(atPath: url.path).utf8)
                case .typeDirectory: pending.append(path)
                default: break
                }
                entries[path] = Entry(
                    type: type, permissions: (attributes[.posixPermissions] as? Int) ?? -1,
                    modified: (attributes[.modificationDate] as? Date) ?? .distantPast,
                    contents: contents)
            }
        }
    }

    /// The paths and their modes, for messages: `notes.txt 600, drafts 755`.
    var description: String {
        entries.keys.sorted().map {
            "\($0) \(entries[$0].map { String($0.permissions, radix: 8) } ?? "")"
        }
        .joined(separator: ", ")
    }

    /// Whether this is the directory `before` as it was, or with exactly topogen's `newFiles` in
    /// place of its own and every other entry as it was; nil when it is neither.
    func outcome(from before: Snapshot, newFiles: [String: Data]) -> FailureBehaviourTests.Outcome?
    {
        if self == before { return .asBefore }
        let others = before.entries.filter { newFiles[$0.key] == nil }
        guard self.entries.filter({ newFiles[$0.key] == nil }) == others else { return nil }
        for (name, data) in newFiles {
            guard let entry = entries[name], entry.type == .typeRegular, entry.contents == data
            else { return nil }
        }
        return .complete
    }
}
