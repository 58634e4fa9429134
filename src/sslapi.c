/* sslapi.c: opens libcrypto on first use and fills the table of its functions. */
#define VN_SSLAPI_IMPL
#include "sslapi.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

vn_ssl_api vn_ssl;

static int vn_ssl_state;               /* 0 not tried, 1 ready, -1 failed for good */
static char vn_ssl_error[512];

const char *vn_ssl_load(void) {
  static const char *const names[] = {
    "libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib", NULL
  };
  const char *env = getenv("VENICE_LIBCRYPTO");
  void *h = NULL;
  int i;
  if (vn_ssl_state == 1) return NULL;
  if (vn_ssl_state == -1) return vn_ssl_error;
  if (env && *env) h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
  for (i = 0; !h && names[i]; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    snprintf(vn_ssl_error, sizeof vn_ssl_error,
             "cannot load OpenSSL's libcrypto (%s%stried libcrypto.so.3 and libcrypto.so): %s; "
             "install it (Debian: apt-get install libssl3) or set VENICE_LIBCRYPTO to its path",
             env && *env ? env : "", env && *env ? ", then " : "", why ? why : "not found");
    vn_ssl_state = -1;
    return vn_ssl_error;
  }
#define VN_SSL_SYM(name) \
  *(void **)(&vn_ssl.name) = dlsym(h, #name); \
  if (!vn_ssl.name) { \
    snprintf(vn_ssl_error, sizeof vn_ssl_error, "the libcrypto loaded lacks %s: OpenSSL 3.0 or newer is needed", #name); \
    vn_ssl_state = -1; \
    dlclose(h); \
    return vn_ssl_error; \
  }
  VN_SSL_FUNCS(VN_SSL_SYM)
#undef VN_SSL_SYM
  vn_ssl_state = 1;
  return NULL;
}

void vn_ssl_need(lua_State *L) {
  const char *why = vn_ssl_load();
  if (why) {
    vn_error_push(L, "Error", why);
    lua_error(L);
  }
}
