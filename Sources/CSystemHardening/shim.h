#ifndef KEK_CSYSTEMHARDENING_SHIM_H
#define KEK_CSYSTEMHARDENING_SHIM_H

// prctl(2) is variadic, which Swift cannot call: these wrappers give it fixed arguments.
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>

/// RLIMIT_MEMLOCK's soft limit in bytes (RLIM_INFINITY as UINT64_MAX), for the mlock warning.
static inline unsigned long long CSystemHardening_memlockLimit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return 0;
    return limit.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)limit.rlim_cur;
}

/// PR_SET_DUMPABLE 0: no core dump, no ptrace attach by the same user, /proc/<pid>/mem and
/// friends owned by root. Returns 0 or -1 with errno set.
static inline int CSystemHardening_setNotDumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

/// The current PR_GET_DUMPABLE value (0 when not dumpable), or -1 with errno set.
static inline int CSystemHardening_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
#else
static inline unsigned long long CSystemHardening_memlockLimit(void) { return ~0ULL; }
static inline int CSystemHardening_setNotDumpable(void) { return 0; }
static inline int CSystemHardening_dumpable(void) { return 0; }
#endif

#endif
