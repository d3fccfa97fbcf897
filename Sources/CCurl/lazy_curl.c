// libcurl is loaded when Lookout first makes a transfer, not when it starts: a daemon that ships
// nothing, notifies no Alertmanager and asks no hypervisor socket never maps libcurl or the TLS,
// Kerberos, LDAP, SSH and IDN libraries it needs. Each curl_* function Lookout calls has a
// forwarder here, lookout_curl_* (CCurl.h lists them), that calls the library's through dlsym;
// when the library cannot be loaded, initialisation fails with CURLE_FAILED_INIT, no handle is
// made, and lookout_curl_load_error() says why (dlopen(3)).
#include "CCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

// The library's soname (libcurl's ABI version 4, libcurl(3)).
#define LOOKOUT_CURL_SONAME "libcurl.so.4"

#define LOOKOUT_POINTER(type, name, parameters, arguments, missing) type (*name) parameters;
#define LOOKOUT_POINTER_VOID(name, parameters, arguments) void (*name) parameters;
static struct {
    LOOKOUT_CURL_FUNCTIONS(LOOKOUT_POINTER)
    LOOKOUT_CURL_VOID_FUNCTIONS(LOOKOUT_POINTER_VOID)
    CURLcode (*curl_global_init)(long flags);
    // The variadic two, called through their own (variadic) types.
    CURLcode (*curl_easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*curl_easy_getinfo)(CURL *curl, CURLINFO info, ...);
} libcurl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_loaded;
static char curl_error[256];

static void curl_load(void) {
    void *library = dlopen(LOOKOUT_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(curl_error, sizeof(curl_error), "%s", dlerror());
        return;
    }
#define LOOKOUT_RESOLVE_NAMED(name)                                                                 \
    *(void **)&libcurl.name = dlsym(library, #name);                                                \
    if (libcurl.name == NULL) {                                                                     \
        snprintf(curl_error, sizeof(curl_error), "%s has no %s", LOOKOUT_CURL_SONAME, #name);       \
        return;                                                                                     \
    }
#define LOOKOUT_RESOLVE(type, name, parameters, arguments, missing) LOOKOUT_RESOLVE_NAMED(name)
#define LOOKOUT_RESOLVE_VOID(name, parameters, arguments) LOOKOUT_RESOLVE_NAMED(name)
    LOOKOUT_CURL_FUNCTIONS(LOOKOUT_RESOLVE)
    LOOKOUT_CURL_VOID_FUNCTIONS(LOOKOUT_RESOLVE_VOID)
    LOOKOUT_RESOLVE_NAMED(curl_global_init)
    LOOKOUT_RESOLVE_NAMED(curl_easy_setopt)
    LOOKOUT_RESOLVE_NAMED(curl_easy_getinfo)
    curl_loaded = 1;
}

static int curl_available(void) {
    pthread_once(&curl_once, curl_load);
    return curl_loaded;
}

const char *lookout_curl_load_error(void) {
    return curl_available() ? NULL : curl_error;
}

// What the string functions answer without libcurl: why it could not be loaded.
static const char *lookout_curl_missing(void) {
    return curl_error;
}

#define LOOKOUT_FORWARD(type, name, parameters, arguments, missing)                                 \
    type lookout_##name parameters {                                                                \
        if (!curl_available()) return missing;                                                      \
        return libcurl.name arguments;                                                              \
    }
#define LOOKOUT_FORWARD_VOID(name, parameters, arguments)                                           \
    void lookout_##name parameters {                                                                \
        if (curl_available()) libcurl.name arguments;                                               \
    }
LOOKOUT_CURL_FUNCTIONS(LOOKOUT_FORWARD)
LOOKOUT_CURL_VOID_FUNCTIONS(LOOKOUT_FORWARD_VOID)

CURLcode lookout_curl_global_init(void) {
    if (!curl_available()) return CURLE_FAILED_INIT;
    return libcurl.curl_global_init(CURL_GLOBAL_DEFAULT);
}

// The typed wrappers: each passes its argument through curl_easy_setopt's variadic type, as a
// direct call to it would. The member is parenthesised: curl.h may define curl_easy_setopt and
// curl_easy_getinfo as function-like macros (typecheck-gcc.h, with newer compilers and curl).
#define LOOKOUT_SETOPT(suffix, type)                                                                \
    CURLcode lookout_curl_setopt_##suffix(CURL *handle, CURLoption option, type value) {            \
        if (!curl_available()) return CURLE_FAILED_INIT;                                            \
        return (libcurl.curl_easy_setopt)(handle, option, value);                                   \
    }
LOOKOUT_SETOPT(long, long)
LOOKOUT_SETOPT(off_t, curl_off_t)
LOOKOUT_SETOPT(string, const char *)
LOOKOUT_SETOPT(pointer, void *)
LOOKOUT_SETOPT(slist, struct curl_slist *)

CURLcode lookout_curl_setopt_write_callback(CURL *handle, lookout_curl_write_callback callback) {
    if (!curl_available()) return CURLE_FAILED_INIT;
    return (libcurl.curl_easy_setopt)(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode lookout_curl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback) {
    if (!curl_available()) return CURLE_FAILED_INIT;
    return (libcurl.curl_easy_setopt)(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode lookout_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    if (!curl_available()) return CURLE_FAILED_INIT;
    return (libcurl.curl_easy_getinfo)(handle, info, value);
}
