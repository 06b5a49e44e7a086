import CSystemHardening
#if canImport(Glibc)
import Glibc
#endif

/// What every kek process does first: no core file, not dumpable.
///
/// Why: a crash (or `gcore`, or a same-user `ptrace`) would otherwise write the root keys,
/// KEKs and secret values in memory to disk. `RLIMIT_CORE` 0 stops the kernel's core file,
/// `PR_SET_DUMPABLE` 0 also stops `ptrace` attach by the same user and makes
/// `/proc/<pid>/mem` and friends root-only. Key bytes additionally live in `KeyMemory`
/// (MADV_DONTDUMP, mlock). The Swift runtime's backtracer, which prints memory near register
/// values on a crash, is turned off by `SWIFT_BACKTRACE=enable=no` in the shipped units: it
/// reads that variable before any code of ours runs.
public enum ProcessHardening {
    /// Applies both settings; returns a warning per one the system refused (the process goes
    /// on: refusing to start would turn a hardening step into an outage).
    @discardableResult
    public static func apply() -> [String] {
        var warnings: [String] = []
        #if os(Linux)
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) != 0 {
            warnings.append("cannot set RLIMIT_CORE to 0: \(String(cString: strerror(errno)))")
        }
        if CSystemHardening_setNotDumpable() != 0 {
            warnings.append("cannot set PR_SET_DUMPABLE 0: \(String(cString: strerror(errno)))")
        }
        #endif
        return warnings
    }

    /// Whether the process is marked not dumpable (what `apply` set).
    public static var isDumpable: Bool { CSystemHardening_dumpable() != 0 }
}
