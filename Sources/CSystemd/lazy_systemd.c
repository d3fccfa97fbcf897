// libsystemd is loaded when a journal is first opened, not when Lookout starts: a daemon without
// --journal.* never maps it or the compression and crypto libraries it needs (liblz4, libzstd,
// liblzma, libgcrypt). Each sd_journal_* function Lookout calls has a forwarder here,
// lookout_sd_journal_* (CSystemd.h lists them), that calls the library's through dlsym; when the
// library cannot be loaded, the opening calls fail with -ELIBACC and lookout_systemd_load_error()
// says why (dlopen(3)).
#include "CSystemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

// The library's soname, as its ABI promises it (sd-journal(3) belongs to libsystemd.so.0).
#define LOOKOUT_SYSTEMD_SONAME "libsystemd.so.0"

#define LOOKOUT_POINTER_INT(name, parameters, arguments) int (*name) parameters;
#define LOOKOUT_POINTER_VOID(name, parameters, arguments) void (*name) parameters;
static struct {
    LOOKOUT_SYSTEMD_INT_FUNCTIONS(LOOKOUT_POINTER_INT)
    LOOKOUT_SYSTEMD_VOID_FUNCTIONS(LOOKOUT_POINTER_VOID)
} systemd;

static pthread_once_t systemd_once = PTHREAD_ONCE_INIT;
static int systemd_loaded;
static char systemd_error[256];

static void systemd_load(void) {
    void *library = dlopen(LOOKOUT_SYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(systemd_error, sizeof(systemd_error), "%s", dlerror());
        return;
    }
#define LOOKOUT_RESOLVE(name, parameters, arguments)                                                \
    *(void **)&systemd.name = dlsym(library, #name);                                                \
    if (systemd.name == NULL) {                                                                     \
        snprintf(systemd_error, sizeof(systemd_error), "%s has no %s", LOOKOUT_SYSTEMD_SONAME, #name); \
        return;                                                                                     \
    }
    LOOKOUT_SYSTEMD_INT_FUNCTIONS(LOOKOUT_RESOLVE)
    LOOKOUT_SYSTEMD_VOID_FUNCTIONS(LOOKOUT_RESOLVE)
    systemd_loaded = 1;
}

static int systemd_available(void) {
    pthread_once(&systemd_once, systemd_load);
    return systemd_loaded;
}

const char *lookout_systemd_load_error(void) {
    return systemd_available() ? NULL : systemd_error;
}

#define LOOKOUT_FORWARD_INT(name, parameters, arguments)                                            \
    int lookout_##name parameters {                                                                 \
        if (!systemd_available()) return -ELIBACC;                                                  \
        return systemd.name arguments;                                                              \
    }
#define LOOKOUT_FORWARD_VOID(name, parameters, arguments)                                           \
    void lookout_##name parameters {                                                                \
        if (systemd_available()) systemd.name arguments;                                            \
    }
LOOKOUT_SYSTEMD_INT_FUNCTIONS(LOOKOUT_FORWARD_INT)
LOOKOUT_SYSTEMD_VOID_FUNCTIONS(LOOKOUT_FORWARD_VOID)
