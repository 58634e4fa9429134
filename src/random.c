/* random.c: bytes from the operating system's entropy source.
 *
 * Idempotency keys and the private-inference key material come from here, never from math.random
 * (which Lua 5.1, LuaJIT and Neovim leave unseeded). getrandom(2) is used where the C library has
 * it; /dev/urandom otherwise, or when the kernel lacks the system call. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#  define _DEFAULT_SOURCE 1
#endif
#include "random.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* VN_RANDOM_URANDOM_ONLY builds the /dev/urandom path alone (the tests check it that way). */
#if defined(__linux__) && defined(__GLIBC__) && !defined(VN_RANDOM_URANDOM_ONLY) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#  include <sys/random.h>
#  define VN_HAVE_GETRANDOM 1
#endif

/* The most one call of core.random_bytes hands out (keys and nonces are a few dozen bytes). */
#define VN_RANDOM_MAX (1 << 20)

static int urandom_read(unsigned char *p, size_t n) {
  int fd, err = 0;
  do {
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno ? errno : EIO;
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got < 0) {
      if (errno == EINTR) continue;
      err = errno ? errno : EIO;
      break;
    }
    if (got == 0) {  /* /dev/urandom never ends: something else sits at that path */
      err = EIO;
      break;
    }
    p += got;
    n -= (size_t)got;
  }
  close(fd);
  return err;
}

int vn_random_bytes(void *buf, size_t n) {
  unsigned char *p = (unsigned char *)buf;
#ifdef VN_HAVE_GETRANDOM
  while (n > 0) {
    /* requests up to 256 bytes are never short once the pool is ready; loop for larger ones */
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSYS) return urandom_read(p, n);
      return errno ? errno : EIO;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
#else
  return urandom_read(p, n);
#endif
}

/* core.random_bytes(n) -> a string of n bytes from the OS; raises a venice.Error when the OS
 * gives none (a ValidationError for an n that is not an integer in 0..1 MiB). */
static int l_random_bytes(lua_State *L) {
  lua_Number v = luaL_checknumber(L, 1);
  size_t n;
  int err;
  void *p;
  if (!(v >= 0 && v <= VN_RANDOM_MAX) || v != (lua_Number)(size_t)v) {
    vn_error_push(L, "ValidationError", "random_bytes: n must be an integer from 0 to 1048576");
    return lua_error(L);
  }
  n = (size_t)v;
  p = lua_newuserdata(L, n ? n : 1);   /* the scratch buffer is Lua's: nothing to free on a raise */
  err = vn_random_bytes(p, n);
  if (err) {
    char msg[160];
    snprintf(msg, sizeof msg, "cannot read random bytes from the operating system: %s", strerror(err));
    vn_error_push(L, "Error", msg);
    vn_setstr(L, "code", "entropy_unavailable");
    return lua_error(L);
  }
  lua_pushlstring(L, (const char *)p, n);
  return 1;
}

void vn_random_open(lua_State *L) {
  lua_pushcfunction(L, l_random_bytes);
  lua_setfield(L, -2, "random_bytes");
}
