#include "CSystemd.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_ulong sigbus_faults;
static atomic_int sigbus_installed;
static long sigbus_page_size;  // sysconf is not async-signal-safe: read once at install

// Only async-signal-safe calls here: mmap, sigaction, raise.
static void sigbus_handler(int sig, siginfo_t *info, void *context) {
    (void)context;
    long page = sigbus_page_size;
    if (info->si_code == BUS_ADRERR && info->si_addr != NULL && page > 0) {
        void *aligned = (void *)((uintptr_t)info->si_addr & ~((uintptr_t)page - 1));
        void *zero = mmap(aligned, (size_t)page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (zero != MAP_FAILED) {
            atomic_fetch_add(&sigbus_faults, 1);
            return;
        }
    }
    // Not a fault we can paper over: die the way the default action would.
    struct sigaction fallback;
    memset(&fallback, 0, sizeof(fallback));
    fallback.sa_handler = SIG_DFL;
    sigaction(sig, &fallback, NULL);
    raise(sig);
}

int lookout_sigbus_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&sigbus_installed, &expected, 1)) return 0;
    sigbus_page_size = sysconf(_SC_PAGESIZE);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = sigbus_handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, NULL) < 0) {
        atomic_store(&sigbus_installed, 0);
        return -errno;
    }
    return 0;
}

unsigned long lookout_sigbus_count(void) {
    return atomic_load(&sigbus_faults);
}
