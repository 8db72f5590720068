#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The signals that would end topogen half-way through writing its files, held back (blocked
/// with `pthread_sigmask`) on the calling thread from creation until ``release()``: a signal that
/// arrives in between stays pending and takes effect, with its default action and exit status,
/// the moment it is released. Nothing is installed or stored process-wide, so there is no handler
/// and no global state; the mask is the thread's own and is restored exactly.
///
/// Held: `SIGHUP` (terminal closed), `SIGINT` (Ctrl-C), `SIGQUIT` (Ctrl-\) and `SIGTERM` (`kill`,
/// a supervisor), and `SIGXFSZ`, which a write over the file size limit (`ulimit -f`) raises: held,
/// that write fails with `EFBIG` and is reported as an error like any other, so the signal is then
/// discarded instead of dumping core. `SIGKILL` and `SIGSTOP` cannot be held back by any program.
///
/// For example: `let held = HeldSignals(); defer { held.release() }` around the writes; Ctrl-C
/// during them ends topogen right after the last rename, with status 130 in a shell.
struct HeldSignals {
    /// The termination signals held back, whose pending delivery is kept.
    static let termination: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM]

    /// The thread's signal mask before, restored by ``release()``.
    private var previous = sigset_t()

    /// Blocks the signals on the calling thread.
    init() {
        var held = sigset_t()
        sigemptyset(&held)
        for signal in Self.termination + [SIGXFSZ] { sigaddset(&held, signal) }
        pthread_sigmask(SIG_BLOCK, &held, &previous)
    }

    /// Restores the thread's mask, so that a termination signal that arrived meanwhile ends the
    /// process now; a pending `SIGXFSZ` (already reported as the write's error) is discarded.
    func release() {
        var previous = self.previous
        #if os(Linux)
            var pending = sigset_t()
            if sigismember(&previous, SIGXFSZ) == 0, sigpending(&pending) == 0,
                sigismember(&pending, SIGXFSZ) == 1
            {
                var fileSize = sigset_t()
                sigemptyset(&fileSize)
                sigaddset(&fileSize, SIGXFSZ)
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&fileSize, nil, &now)
            }
        #endif
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
}
