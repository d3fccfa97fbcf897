#ifndef LOOKOUT_CSYSTEMD_H
#define LOOKOUT_CSYSTEMD_H

#include <systemd/sd-journal.h>
#include <systemd/sd-id128.h>

/// Installs a process-wide SIGBUS handler like journalctl's (systemd src/basic/sigbus.c): a read
/// from a journal file that journald truncated under us maps a zero page over the faulting
/// address and records the fault instead of killing the process. Idempotent.
/// Returns 0, or -errno when sigaction fails.
int lookout_sigbus_install(void);

/// The number of SIGBUS faults absorbed since the process started. A reader compares it before
/// and after touching the journal; a change means what it read may be zeros, so it reopens the
/// journal and resumes from its last good cursor.
unsigned long lookout_sigbus_count(void);

// libsystemd is loaded on first use (lazy_systemd.c). Lookout calls it only through the functions
// declared here, lookout_ + the sd-journal(3) name, which forward to the library's; they are not
// named as libsystemd's own so that the loaded library never binds its internal calls to them.

// The functions returning an int: X(name, parameters, arguments); -ELIBACC without libsystemd.
#define LOOKOUT_SYSTEMD_INT_FUNCTIONS(X)                                                            \
    X(sd_journal_open, (sd_journal **ret, int flags), (ret, flags))                                 \
    X(sd_journal_open_directory, (sd_journal **ret, const char *path, int flags), (ret, path, flags)) \
    X(sd_journal_open_files, (sd_journal **ret, const char **paths, int flags), (ret, paths, flags)) \
    X(sd_journal_add_conjunction, (sd_journal *j), (j))                                             \
    X(sd_journal_add_disjunction, (sd_journal *j), (j))                                             \
    X(sd_journal_add_match, (sd_journal *j, const void *data, size_t size), (j, data, size))        \
    X(sd_journal_enumerate_available_data, (sd_journal *j, const void **data, size_t *l), (j, data, l)) \
    X(sd_journal_get_cursor, (sd_journal *j, char **cursor), (j, cursor))                           \
    X(sd_journal_get_monotonic_usec, (sd_journal *j, uint64_t *ret, sd_id128_t *boot), (j, ret, boot)) \
    X(sd_journal_get_realtime_usec, (sd_journal *j, uint64_t *ret), (j, ret))                       \
    X(sd_journal_next, (sd_journal *j), (j))                                                        \
    X(sd_journal_previous, (sd_journal *j), (j))                                                    \
    X(sd_journal_seek_cursor, (sd_journal *j, const char *cursor), (j, cursor))                     \
    X(sd_journal_seek_head, (sd_journal *j), (j))                                                   \
    X(sd_journal_seek_realtime_usec, (sd_journal *j, uint64_t usec), (j, usec))                     \
    X(sd_journal_seek_tail, (sd_journal *j), (j))                                                   \
    X(sd_journal_set_data_threshold, (sd_journal *j, size_t sz), (j, sz))                           \
    X(sd_journal_test_cursor, (sd_journal *j, const char *cursor), (j, cursor))                     \
    X(sd_journal_wait, (sd_journal *j, uint64_t timeout_usec), (j, timeout_usec))

// The functions without a result; nothing happens without libsystemd.
#define LOOKOUT_SYSTEMD_VOID_FUNCTIONS(X)                                                           \
    X(sd_journal_close, (sd_journal *j), (j))                                                       \
    X(sd_journal_restart_data, (sd_journal *j), (j))

#define LOOKOUT_SYSTEMD_DECLARE_INT(name, parameters, arguments) int lookout_##name parameters;
#define LOOKOUT_SYSTEMD_DECLARE_VOID(name, parameters, arguments) void lookout_##name parameters;
LOOKOUT_SYSTEMD_INT_FUNCTIONS(LOOKOUT_SYSTEMD_DECLARE_INT)
LOOKOUT_SYSTEMD_VOID_FUNCTIONS(LOOKOUT_SYSTEMD_DECLARE_VOID)
#undef LOOKOUT_SYSTEMD_DECLARE_INT
#undef LOOKOUT_SYSTEMD_DECLARE_VOID

/// Why libsystemd could not be loaded (dlopen(3)'s message), or NULL when it is loaded; loads it
/// if no sd_journal_* call has yet. When it cannot be loaded, every sd_journal_* call that returns
/// an int returns -ELIBACC.
const char *lookout_systemd_load_error(void);

#endif
