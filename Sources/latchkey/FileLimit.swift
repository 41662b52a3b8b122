import LatchkeyBootstrap
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (each connection holds one).
enum FileLimit {
    /// Raises the soft limit on open files to the hard limit where the system allows it, and logs the limit in force.
    static func raise(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(resourceLimit, &limit) == 0 else {
            logger.warning("cannot read the open-file limit", metadata: ["errno": "\(errno)"])
            return
        }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resourceLimit, &raised) == 0 {
                limit = raised
            } else {
                logger.warning(
                    "cannot raise the open-file limit",
                    metadata: ["soft": "\(describe(before))", "hard": "\(describe(limit.rlim_max))", "errno": "\(errno)"]
                )
            }
        }
        logger.info("open-file limit", metadata: ["limit": "\(describe(limit.rlim_cur))", "was": "\(describe(before))"])
    }

    #if canImport(Glibc)
    static let resourceLimit = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    static let resourceLimit = RLIMIT_NOFILE
    #endif

    static func describe(_ value: rlim_t) -> String {
        value == rlim_t.max ? "unlimited" : String(value)
    }
}
