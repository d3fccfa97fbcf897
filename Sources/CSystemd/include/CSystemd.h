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

/// Why libsystemd could not be loaded (dlopen(3)'s message), or NULL when it is loaded; loads it
/// if no sd_journal_* call has yet. When it cannot be loaded, every sd_journal_* call that returns
/// an int returns -ELIBACC.
const char *lookout_systemd_load_error(void);

#endif
