import TopologyModel

/// The exit statuses of topogen, documented in the README.
enum ExitCode: Int32, Sendable {
    /// Success.
    case success = 0
    /// Any other failure, for example an output directory that cannot be written; for
    /// `topogen diff`, drift: the deployed rules differ from the model.
    case failure = 1
    /// The command line is wrong: unknown option, missing or invalid value (`EX_USAGE`).
    case usage = 64
    /// A file given as input cannot be read or is not of its format (`EX_DATAERR`).
    case dataError = 65
}

/// A problem with the command line, reported with exit status 64.
///
/// For example: `error: unknown option '--with-sq'` with the hint `did you mean '--with-sqs'?`.
struct UsageError: Error, Hashable, Sendable {
    /// The problems, each an error or a warning; at least one is an error.
    var diagnostics: [Diagnostic]
    /// The subcommand whose help the message points to.
    var subcommand: Subcommand?

    init(_ message: String, hint: String? = nil, subcommand: Subcommand? = nil) {
        diagnostics = [Diagnostic(.error, message, hint: hint)]
        self.subcommand = subcommand
    }

    init(diagnostics: [Diagnostic], subcommand: Subcommand?) {
        self.diagnostics = diagnostics
        self.subcommand = subcommand
    }
}

/// A failure that is not the command line's fault, reported with exit status 1.
///
/// For example: `error: cannot write 'out/networkpolicies.yaml': Permission denied`.
struct RuntimeError: Error, Hashable, Sendable {
    var message: String
    var hint: String?
}
