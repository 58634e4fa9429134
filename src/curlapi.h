/* curlapi.h: libcurl, loaded when the first request needs it.
 *
 * Loading libcurl and the thirty libraries it depends on takes longer than the rest of
 * `require "venice"` together, and a script that only builds requests, decodes JSON or reads the
 * error classes never needs it. So venice.core does not link libcurl: vn_curl_load() opens it
 * with dlopen and fills a table of its functions, and the macros below make the rest of the core
 * call through that table under the usual names.
 *
 * The list of functions is VN_CURL_FUNCS; each needs its #define below, and the build checks that
 * it has one (a function without one would reach libcurl's own symbol, which is not linked).
 * Built with VN_CURL_TYPECHECK (make typecheck-curl), the core is compiled against libcurl's own
 * declarations with its curl_easy_setopt type checking on: that build checks, it does not run. */
#ifndef VENICE_CURLAPI_H
#define VENICE_CURLAPI_H

#ifndef VN_CURL_TYPECHECK
#  define CURL_DISABLE_TYPECHECK 1   /* the type-checking macros would hide the names below */
#endif
#include <curl/curl.h>
#include "venice.h"

#define VN_CURL_FUNCS(X) \
  X(curl_global_init) \
  X(curl_version_info) \
  X(curl_getdate) \
  X(curl_easy_init) \
  X(curl_easy_setopt) \
  X(curl_easy_getinfo) \
  X(curl_easy_cleanup) \
  X(curl_easy_reset) \
  X(curl_easy_pause) \
  X(curl_easy_strerror) \
  X(curl_multi_init) \
  X(curl_multi_setopt) \
  X(curl_multi_add_handle) \
  X(curl_multi_remove_handle) \
  X(curl_multi_perform) \
  X(curl_multi_poll) \
  X(curl_multi_info_read) \
  X(curl_multi_socket_action) \
  X(curl_multi_cleanup) \
  X(curl_share_init) \
  X(curl_share_setopt) \
  X(curl_share_cleanup) \
  X(curl_mime_init) \
  X(curl_mime_addpart) \
  X(curl_mime_name) \
  X(curl_mime_data) \
  X(curl_mime_data_cb) \
  X(curl_mime_filedata) \
  X(curl_mime_filename) \
  X(curl_mime_type) \
  X(curl_mime_free) \
  X(curl_slist_append) \
  X(curl_slist_free_all)

typedef struct vn_curl_api {
#define VN_CURL_FIELD(name) __typeof__(&name) name;
  VN_CURL_FUNCS(VN_CURL_FIELD)
#undef VN_CURL_FIELD
} vn_curl_api;

VN_HIDDEN extern vn_curl_api vn_curl;

/* The oldest libcurl whose options the core uses (CURLOPT_PROTOCOLS_STR). */
#define VN_CURL_MIN_VERSION 0x075500
#define VN_CURL_MIN_VERSION_STR "7.85.0"

/* Loads libcurl once (the file named by $VENICE_LIBCURL, else the usual names); NULL when it is
 * ready, else a message saying what failed. */
VN_HIDDEN const char *vn_curl_load(void);

#if !defined(VN_CURLAPI_IMPL) && !defined(VN_CURL_TYPECHECK)
/* curl.h passes these four through function-like macros of its own */
#  undef curl_easy_setopt
#  undef curl_easy_getinfo
#  undef curl_multi_setopt
#  undef curl_share_setopt
#  define curl_global_init (vn_curl.curl_global_init)
#  define curl_version_info (vn_curl.curl_version_info)
#  define curl_getdate (vn_curl.curl_getdate)
#  define curl_easy_init (vn_curl.curl_easy_init)
#  define curl_easy_setopt (vn_curl.curl_easy_setopt)
#  define curl_easy_getinfo (vn_curl.curl_easy_getinfo)
#  define curl_easy_cleanup (vn_curl.curl_easy_cleanup)
#  define curl_easy_reset (vn_curl.curl_easy_reset)
#  define curl_easy_pause (vn_curl.curl_easy_pause)
#  define curl_easy_strerror (vn_curl.curl_easy_strerror)
#  define curl_multi_init (vn_curl.curl_multi_init)
#  define curl_multi_setopt (vn_curl.curl_multi_setopt)
#  define curl_multi_add_handle (vn_curl.curl_multi_add_handle)
#  define curl_multi_remove_handle (vn_curl.curl_multi_remove_handle)
#  define curl_multi_perform (vn_curl.curl_multi_perform)
#  define curl_multi_poll (vn_curl.curl_multi_poll)
#  define curl_multi_info_read (vn_curl.curl_multi_info_read)
#  define curl_multi_socket_action (vn_curl.curl_multi_socket_action)
#  define curl_multi_cleanup (vn_curl.curl_multi_cleanup)
#  define curl_share_init (vn_curl.curl_share_init)
#  define curl_share_setopt (vn_curl.curl_share_setopt)
#  define curl_share_cleanup (vn_curl.curl_share_cleanup)
#  define curl_mime_init (vn_curl.curl_mime_init)
#  define curl_mime_addpart (vn_curl.curl_mime_addpart)
#  define curl_mime_name (vn_curl.curl_mime_name)
#  define curl_mime_data (vn_curl.curl_mime_data)
#  define curl_mime_data_cb (vn_curl.curl_mime_data_cb)
#  define curl_mime_filedata (vn_curl.curl_mime_filedata)
#  define curl_mime_filename (vn_curl.curl_mime_filename)
#  define curl_mime_type (vn_curl.curl_mime_type)
#  define curl_mime_free (vn_curl.curl_mime_free)
#  define curl_slist_append (vn_curl.curl_slist_append)
#  define curl_slist_free_all (vn_curl.curl_slist_free_all)

/* Each function of VN_CURL_FUNCS has its #define above: the name must read as the table's
 * pointer, not as libcurl's function (whose sizeof is not a pointer's). */
#  define VN_CURL_CHECK(name) \
  typedef char vn_curl_has_define_##name[sizeof(name) == sizeof(void (*)(void)) ? 1 : -1];
VN_CURL_FUNCS(VN_CURL_CHECK)
#  undef VN_CURL_CHECK
#endif

#endif
