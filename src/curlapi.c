/* curlapi.c: opens libcurl on first use and fills the table of its functions. */
#define VN_CURLAPI_IMPL
#include "curlapi.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

vn_curl_api vn_curl;

static int vn_curl_state;              /* 0 not tried, 1 ready, -1 failed for good */
static char vn_curl_error[1024];

/* The names tried, in order, after $VENICE_LIBCURL. */
static const char *const vn_curl_names[] = {
#if defined(__APPLE__)
  "libcurl.4.dylib", "libcurl.dylib",
#else
  "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4",
#endif
  NULL
};

static const char *vn_curl_fail(void) {
  vn_curl_state = -1;
  return vn_curl_error;
}

#define VN_TRIED_MAX 768

/* Appends "name: why" to the list of names tried (cut short when it is full). */
static void vn_curl_note(char *tried, size_t *len, const char *name, const char *why) {
  int n;
  if (*len >= VN_TRIED_MAX) return;
  n = snprintf(tried + *len, VN_TRIED_MAX - *len, "%s%s: %s", *len > 0 ? "; " : "", name,
               why ? why : "not found");
  if (n > 0) *len += (size_t)n;
}

const char *vn_curl_load(void) {
  const char *env = getenv("VENICE_LIBCURL");
  curl_version_info_data *cv;
  char tried[VN_TRIED_MAX];
  size_t len = 0;
  void *h = NULL;
  int i;
  if (vn_curl_state == 1) return NULL;
  if (vn_curl_state == -1) return vn_curl_error;
  tried[0] = '\0';
  if (env && *env) {
    h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    if (!h) vn_curl_note(tried, &len, env, dlerror());
  }
  for (i = 0; !h && vn_curl_names[i]; i++) {
    h = dlopen(vn_curl_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) vn_curl_note(tried, &len, vn_curl_names[i], dlerror());
  }
  if (!h) {
    snprintf(vn_curl_error, sizeof vn_curl_error,
             "cannot load libcurl (%.767s); install it (Debian: apt-get install libcurl4) or set "
             "VENICE_LIBCURL to its path", tried);
    return vn_curl_fail();
  }
  /* POSIX: a function pointer is read from dlsym through an object pointer */
#define VN_CURL_SYM(name) \
  *(void **)(&vn_curl.name) = dlsym(h, #name); \
  if (!vn_curl.name) { \
    snprintf(vn_curl_error, sizeof vn_curl_error, "the libcurl loaded lacks %s: %s or newer is needed", \
             #name, VN_CURL_MIN_VERSION_STR); \
    return vn_curl_fail(); \
  }
  VN_CURL_FUNCS(VN_CURL_SYM)
#undef VN_CURL_SYM
  cv = vn_curl.curl_version_info(CURLVERSION_NOW);
  if (!cv || cv->version_num < VN_CURL_MIN_VERSION) {
    snprintf(vn_curl_error, sizeof vn_curl_error, "the libcurl loaded is %s: %s or newer is needed",
             cv && cv->version ? cv->version : "of an unknown version", VN_CURL_MIN_VERSION_STR);
    return vn_curl_fail();
  }
  if (vn_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(vn_curl_error, sizeof vn_curl_error, "libcurl failed to initialise");
    return vn_curl_fail();
  }
  vn_curl_state = 1;
  return NULL;
}
