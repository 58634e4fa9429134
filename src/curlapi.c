/* curlapi.c: opens libcurl on first use and fills the table of its functions. */
#define VN_CURLAPI_IMPL
#include "curlapi.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

vn_curl_api vn_curl;

static int vn_curl_state;              /* 0 not tried, 1 ready, -1 failed for good */
static char vn_curl_error[512];

const char *vn_curl_load(void) {
  static const char *const names[] = {
    "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4", "libcurl.4.dylib", "libcurl.dylib", NULL
  };
  const char *env = getenv("VENICE_LIBCURL");
  void *h = NULL;
  int i;
  if (vn_curl_state == 1) return NULL;
  if (vn_curl_state == -1) return vn_curl_error;
  if (env && *env) h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
  for (i = 0; !h && names[i]; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    snprintf(vn_curl_error, sizeof vn_curl_error,
             "cannot load libcurl (%s%stried libcurl.so.4, libcurl.so and libcurl.dylib): %s; "
             "install it (Debian: apt-get install libcurl4) or set VENICE_LIBCURL to its path",
             env && *env ? env : "", env && *env ? ", then " : "", why ? why : "not found");
    vn_curl_state = -1;
    return vn_curl_error;
  }
  /* POSIX: a function pointer is read from dlsym through an object pointer */
#define VN_CURL_SYM(name) \
  *(void **)(&vn_curl.name) = dlsym(h, #name); \
  if (!vn_curl.name) { \
    snprintf(vn_curl_error, sizeof vn_curl_error, "the libcurl loaded lacks %s: 7.73 or newer is needed", #name); \
    vn_curl_state = -1; \
    return vn_curl_error; \
  }
  VN_CURL_FUNCS(VN_CURL_SYM)
#undef VN_CURL_SYM
  if (vn_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(vn_curl_error, sizeof vn_curl_error, "libcurl failed to initialise");
    vn_curl_state = -1;
    return vn_curl_error;
  }
  vn_curl_state = 1;
  return NULL;
}
