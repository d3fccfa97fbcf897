#ifndef LOOKOUT_CCURL_H
#define LOOKOUT_CCURL_H

#include <curl/curl.h>

// libcurl is loaded on first use (lazy_curl.c): the curl_* functions Lookout calls are defined
// there and forward to the library's. Swift cannot call C variadic functions, so
// curl_easy_setopt and curl_easy_getinfo get one typed wrapper per argument type
// (curl_easy_setopt(3): long, char *, void *, curl_off_t, function).

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
