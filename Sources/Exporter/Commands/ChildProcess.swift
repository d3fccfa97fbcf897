#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// The command of `lookout run`, started with `posix_spawnp` and waited for.
enum ChildProcess {
    /// How a command ended.
    enum Ending: Sendable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal killed it.
        case signalled(Int32)
        /// It could not be started.
        case notStarted(SpawnError)

        /// Whether it exited 0.
        var succeeded: Bool {
            if case .exited(0) = self { return true }
            return false
        }

        /// The exit code a shell would report: the status, 128 + the signal, 127 or 126.
        var exitCode: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            case .notStarted(let error): error.exitCode
            }
        }

        /// What to say in the event's message, when the exit code does not say it all.
        var message: String? {
            switch self {
            case .exited: nil
            case .signalled(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            case .notStarted(let error): error.description
            }
        }
    }

    /// A command that could not be started.
    struct SpawnError: Error, Sendable, CustomStringConvertible {
        /// The command.
        let command: String
        /// `posix_spawnp`'s error number.
        let number: Int32

        var description: String { "cannot run \(command): \(String(cString: strerror(number)))" }

        /// 127 when the command was not found, 126 when it could not be executed, as shells say.
        var exitCode: Int32 { number == ENOENT ? 127 : 126 }
    }

    /// The signals passed on to the command while it runs.
    static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Runs `arguments` (found on PATH) to its end, passing on the forwarded signals.
    static func run(_ arguments: [String]) async throws(SpawnError) -> Ending {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The command starts with default dispositions and no blocked signals, whatever Lookout's.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in forwardedSignals + [SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], nil, &attributes, argv, environ)
        guard status == 0 else { throw SpawnError(command: arguments[0], number: status) }
        let child = pid

        runningChild.store(child, ordering: .sequentiallyConsistent)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = forwardToChild
        action.sa_flags = SA_SIGINFO | SA_RESTART
        for signal in forwardedSignals { sigaction(signal, &action, nil) }
        defer {
            runningChild.store(0, ordering: .sequentiallyConsistent)
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue(label: "lookout.run.wait").async {
                // This thread takes the forwarded signals, even if Lookout's parent blocked them.
                var forwarded = sigset_t()
                sigemptyset(&forwarded)
                for signal in forwardedSignals { sigaddset(&forwarded, signal) }
                pthread_sigmask(SIG_UNBLOCK, &forwarded, nil)
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0, errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal))
            }
        }
    }

    /// Ends Lookout with `signal`, as the command ended (without a core dump of Lookout).
    static func dieLike(_ signal: Int32) -> Never {
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        Glibc.signal(signal, SIG_DFL)
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signal)
        sigprocmask(SIG_UNBLOCK, &only, nil)
        raise(signal)
        exit(128 + signal)
    }
}

/// The running command's process id, for the signal handler; 0 when none runs.
private let runningChild = Atomic<Int32>(0)

/// Passes a signal another process sent to the running command (async-signal-safe: an atomic
/// load and kill(2)). A signal from the terminal (Ctrl-C) reached the command already, with the
/// whole foreground process group, so it is not sent twice.
private let forwardToChild: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { signal, info, _ in
    let pid = runningChild.load(ordering: .sequentiallyConsistent)
    guard pid > 0, let info, info.pointee.si_code <= 0 else { return }
    kill(pid, signal)
}
