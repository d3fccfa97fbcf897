#ifndef LOOKOUT_CCURL_H
#define LOOKOUT_CCURL_H

#include <curl/curl.h>

// libcurl is loaded on first use (lazy_curl.c). Lookout calls it only through the functions
// declared here, lookout_ + the libcurl name, which forward to the library's; they are not named
// as libcurl's own so that the loaded library never binds its internal calls to them. Swift
// cannot call C variadic functions, so curl_easy_setopt and curl_easy_getinfo get one typed
// wrapper per argument type (curl_easy_setopt(3): long, char *, void *, curl_off_t, function).

// The plain functions: X(return type, name, parameters, arguments, result when libcurl is missing).
#define LOOKOUT_CURL_FUNCTIONS(X)                                                                   \
    X(CURL *, curl_easy_init, (void), (), NULL)                                                     \
    X(CURLcode, curl_easy_perform, (CURL *curl), (curl), CURLE_FAILED_INIT)                         \
    X(const char *, curl_easy_strerror, (CURLcode code), (code), lookout_curl_missing())            \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data),          \
      (list, data), NULL)                                                                           \
    X(CURLM *, curl_multi_init, (void), (), NULL)                                                   \
    X(CURLMcode, curl_multi_cleanup, (CURLM *multi), (multi), CURLM_INTERNAL_ERROR)                 \
    X(CURLMcode, curl_multi_add_handle, (CURLM *multi, CURL *curl), (multi, curl),                  \
      CURLM_INTERNAL_ERROR)                                                                         \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *multi, CURL *curl), (multi, curl),               \
      CURLM_INTERNAL_ERROR)                                                                         \
    X(CURLMcode, curl_multi_perform, (CURLM *multi, int *running), (multi, running),                \
      CURLM_INTERNAL_ERROR)                                                                         \
    X(CURLMsg *, curl_multi_info_read, (CURLM *multi, int *queued), (multi, queued), NULL)          \
    X(CURLMcode, curl_multi_poll,                                                                   \
      (CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeout_ms, int *ready),   \
      (multi, extra, count, timeout_ms, ready), CURLM_INTERNAL_ERROR)                               \
    X(const char *, curl_multi_strerror, (CURLMcode code), (code), lookout_curl_missing())

// The functions without a result: X(name, parameters, arguments); nothing happens without libcurl.
#define LOOKOUT_CURL_VOID_FUNCTIONS(X)                                                              \
    X(curl_easy_cleanup, (CURL *curl), (curl))                                                      \
    X(curl_easy_reset, (CURL *curl), (curl))                                                        \
    X(curl_slist_free_all, (struct curl_slist *list), (list))

#define LOOKOUT_CURL_DECLARE(type, name, parameters, arguments, missing) type lookout_##name parameters;
#define LOOKOUT_CURL_DECLARE_VOID(name, parameters, arguments) void lookout_##name parameters;
LOOKOUT_CURL_FUNCTIONS(LOOKOUT_CURL_DECLARE)
LOOKOUT_CURL_VOID_FUNCTIONS(LOOKOUT_CURL_DECLARE_VOID)
#undef LOOKOUT_CURL_DECLARE
#undef LOOKOUT_CURL_DECLARE_VOID

/// curl_global_init(CURL_GLOBAL_DEFAULT); CURLE_FAILED_INIT when libcurl cannot be loaded.
CURLcode lookout_curl_global_init(void);

/// Why libcurl could not be loaded (dlopen(3)'s message), or NULL when it is loaded; loads it if
/// nothing has yet.
const char *lookout_curl_load_error(void);

/// curl_easy_setopt with a long.
CURLcode lookout_curl_setopt_long(CURL *handle, CURLoption option, long value);

/// curl_easy_setopt with a curl_off_t.
CURLcode lookout_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// curl_easy_setopt with a string, which libcurl copies.
CURLcode lookout_curl_setopt_string(CURL *handle, CURLoption option, const char *value);

/// curl_easy_setopt with a pointer.
CURLcode lookout_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);

/// curl_easy_setopt with a header list.
CURLcode lookout_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

/// CURLOPT_WRITEFUNCTION's callback type (curl_write_callback without the char * / void * pun).
typedef size_t (*lookout_curl_write_callback)(char *data, size_t size, size_t count, void *context);

/// curl_easy_setopt(CURLOPT_WRITEFUNCTION).
CURLcode lookout_curl_setopt_write_callback(CURL *handle, lookout_curl_write_callback callback);

/// curl_easy_setopt(CURLOPT_XFERINFOFUNCTION).
CURLcode lookout_curl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback);

/// curl_easy_getinfo with a long result.
CURLcode lookout_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
