/* venice.h: what the C files of venice.core share. Nothing here is exported from the module. */
#ifndef VENICE_H
#define VENICE_H

#include "compat.h"
#include <stddef.h>

#define VENICE_VERSION "0.1.0"

#if defined(__GNUC__)
#  define VN_HIDDEN __attribute__((visibility("hidden")))
#else
#  define VN_HIDDEN
/* keccak.c: Keccak-256 (Ethereum's); registers core.keccak256 into the module at top. */
VN_HIDDEN void vn_keccak256(const void *data, size_t len, unsigned char out[32]);
VN_HIDDEN void vn_keccak_open(lua_State *L);
/* crypto.c, tdx.c: private inference (libcrypto opened on first use, sslapi.h); register their
 * functions into the module at top. */
VN_HIDDEN void vn_crypto_open(lua_State *L);
VN_HIDDEN void vn_tdx_open(lua_State *L);

#endif

/* A growable byte buffer; owned by whatever embeds it. */
typedef struct vn_buf {
  char *p;
  size_t len, cap;
} vn_buf;

/* 0 on success, -1 out of memory, -2 the result would exceed limit (0 = no limit). */
VN_HIDDEN int vn_buf_append(vn_buf *b, const char *s, size_t n, size_t limit);
/* Makes room for n more bytes past len (len unchanged): 0, or -1 out of memory. */
VN_HIDDEN int vn_buf_reserve(vn_buf *b, size_t n);
VN_HIDDEN void vn_buf_free(vn_buf *b);

/* errors.c: the venice.Error classes. */
VN_HIDDEN void vn_errors_open(lua_State *L);          /* sets module.errors; module at top */
/* Pushes a new error of class `cls` ("NetworkError", ...) with `message`. */
VN_HIDDEN void vn_error_push(lua_State *L, const char *cls, const char *message);
/* Sets field k of the table at the top to string v (when v is not NULL). */
VN_HIDDEN void vn_setstr(lua_State *L, const char *k, const char *v);
/* Seconds to wait from a Retry-After / retry-after-ms header value; negative when absent or unparsable. */
VN_HIDDEN double vn_retry_after(const char *retry_after_ms, const char *retry_after);

/* Pushes the venice.Error of an HTTP error response (status; stack indices of the headers table,
 * the raw body string and the body decoded from JSON, or nil). */
VN_HIDDEN void vn_http_error_push(lua_State *L, long status, int headers, int body, int decoded);
/* The error class of a libcurl result code (a CURLcode), NULL for success; *code gets the
 * error's code field ("dns", "tls", ...) or NULL. */
VN_HIDDEN const char *vn_class_for_curlcode(int rc, const char **code);

/* transfer.c and engine.c: the transfers, and the engine on libcurl's multi interface. */
VN_HIDDEN void vn_transfer_open(lua_State *L);        /* registers functions into the module at top */

/* keccak.c: Keccak-256 (Ethereum's); registers core.keccak256 into the module at top. */
VN_HIDDEN void vn_keccak256(const void *data, size_t len, unsigned char out[32]);
VN_HIDDEN void vn_keccak_open(lua_State *L);
/* crypto.c, tdx.c: private inference (libcrypto opened on first use, sslapi.h); register their
 * functions into the module at top. */
VN_HIDDEN void vn_crypto_open(lua_State *L);
VN_HIDDEN void vn_tdx_open(lua_State *L);

#endif
