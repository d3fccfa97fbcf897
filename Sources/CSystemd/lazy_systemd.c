// libsystemd is loaded when a journal is first opened, not when Lookout starts: a daemon without
// --journal.* never maps it or the compression and crypto libraries it needs (liblz4, libzstd,
// liblzma, libgcrypt). Each sd_journal_* function Lookout calls is defined here and forwards to
// the library's; when the library cannot be loaded, the opening calls fail with -ELIBACC and
// lookout_systemd_load_error() says why (dlopen(3)).
#include "CSystemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

// The library's soname, as its ABI promises it (sd-journal(3) belongs to libsystemd.so.0).
#define LOOKOUT_SYSTEMD_SONAME "libsystemd.so.0"

// Every function Lookout calls: X(return type, name, parameters, arguments).
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

#define LOOKOUT_SYSTEMD_VOID_FUNCTIONS(X)                                                           \
    X(sd_journal_close, (sd_journal *j), (j))                                                       \
    X(sd_journal_restart_data, (sd_journal *j), (j))

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
    int name parameters {                                                                           \
        if (!systemd_available()) return -ELIBACC;                                                  \
        return systemd.name arguments;                                                              \
    }
#define LOOKOUT_FORWARD_VOID(name, parameters, arguments)                                           \
    void name parameters {                                                                          \
        if (systemd_available()) systemd.name arguments;                                            \
    }
LOOKOUT_SYSTEMD_INT_FUNCTIONS(LOOKOUT_FORWARD_INT)
LOOKOUT_SYSTEMD_VOID_FUNCTIONS(LOOKOUT_FORWARD_VOID)
