/* random.c: bytes from the operating system's entropy source.
 *
 * Idempotency keys and the private-inference key material come from here, never from math.random
 * (which Lua 5.1, LuaJIT and Neovim leave unseeded). getrandom(2) is used where the C library has
 * it; /dev/urandom otherwise, or when the kernel lacks the system call.
 *
 * Idempotency keys are drawn from a per-process reserve of OS entropy, refilled 4 KiB at a time,
 * so that a request makes no system call for its key. The reserve lives in a page of its own that
 * the kernel empties in a child after fork() (MADV_WIPEONFORK): a child never hands out the bytes
 * its parent will, it refills from the OS. Bytes are wiped once handed out. Where that page cannot
 * be had (a kernel without MADV_WIPEONFORK, another system), every key is one read from the OS.
 * core.random_bytes (key material, nonces) always reads the OS directly. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#  define _DEFAULT_SOURCE 1
#endif
#include "random.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#  include <sys/mman.h>
#endif

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

/* {==================== the reserve for idempotency keys ==================== */

/* VN_RANDOM_NO_RESERVE builds the path without a reserve alone (the tests check it that way). */
#if defined(__linux__) && defined(__GNUC__) && defined(MADV_WIPEONFORK) && defined(MAP_ANONYMOUS) && \
    !defined(VN_RANDOM_NO_RESERVE)
#  define VN_HAVE_RESERVE 1
#endif

#define VN_RESERVE_BYTES 4096
#define VN_KEY_BYTES 16

#ifdef VN_HAVE_RESERVE
/* All of it in the wiped mapping: after fork() the child sees zeros, that is an empty reserve
 * that nobody holds. */
typedef struct vn_reserve {
  unsigned char busy;                      /* held by a thread (test-and-set; 0 free) */
  size_t avail;                            /* unread bytes, at the start of bytes[] */
  unsigned char bytes[VN_RESERVE_BYTES];
} vn_reserve;

static vn_reserve *reserve;                /* NULL until first use */
static int reserve_state;                  /* 0 not tried, 1 mapped, -1 unavailable */

static void reserve_map(void) {
  void *p = mmap(NULL, sizeof(vn_reserve), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    __atomic_store_n(&reserve_state, -1, __ATOMIC_RELEASE);
    return;
  }
  if (madvise(p, sizeof(vn_reserve), MADV_WIPEONFORK) != 0) {   /* older kernel: no reserve */
    munmap(p, sizeof(vn_reserve));
    __atomic_store_n(&reserve_state, -1, __ATOMIC_RELEASE);
    return;
  }
  reserve = (vn_reserve *)p;
  __atomic_store_n(&reserve_state, 1, __ATOMIC_RELEASE);
}

/* n bytes (n <= VN_KEY_BYTES) from the reserve into out: 0 when done, -1 when the reserve cannot
 * serve (unavailable, held by another thread, or the OS refused a refill): the caller then reads
 * the OS itself. */
static int reserve_take(unsigned char *out, size_t n) {
  static unsigned char mapping;            /* one thread maps; the others read the OS meanwhile */
  vn_reserve *r;
  int rc = -1;
  int state = __atomic_load_n(&reserve_state, __ATOMIC_ACQUIRE);
  if (state == 0) {
    if (__atomic_test_and_set(&mapping, __ATOMIC_ACQ_REL)) return -1;
    if (__atomic_load_n(&reserve_state, __ATOMIC_ACQUIRE) == 0) reserve_map();
    state = __atomic_load_n(&reserve_state, __ATOMIC_ACQUIRE);
  }
  if (state != 1) return -1;
  r = reserve;
  if (__atomic_test_and_set(&r->busy, __ATOMIC_ACQUIRE)) return -1;   /* never waits */
  if (r->avail < n) {
    r->avail = 0;
    if (vn_random_bytes(r->bytes, sizeof r->bytes) == 0) r->avail = sizeof r->bytes;
  }
  if (r->avail >= n) {
    r->avail -= n;
    memcpy(out, r->bytes + r->avail, n);
    memset(r->bytes + r->avail, 0, n);    /* handed out: not kept */
    rc = 0;
  }
  __atomic_clear(&r->busy, __ATOMIC_RELEASE);
  return rc;
}
#endif

/* n bytes (at most VN_KEY_BYTES) for an identifier: from the reserve, else from the OS. */
static int random_for_key(unsigned char *out, size_t n) {
#ifdef VN_HAVE_RESERVE
  if (reserve_take(out, n) == 0) return 0;
#endif
  return vn_random_bytes(out, n);
}

static int raise_entropy_error(lua_State *L, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "cannot read random bytes from the operating system: %s", strerror(err));
  vn_error_push(L, "Error", msg);
  vn_setstr(L, "code", "entropy_unavailable");
  return lua_error(L);
}

/* core.idempotency_key() -> "venice-lua-" and 32 lowercase hex digits of OS entropy (16 bytes) */
static int l_idempotency_key(lua_State *L) {
  static const char digits[] = "0123456789abcdef";
  static const char prefix[] = "venice-lua-";
  unsigned char r[VN_KEY_BYTES];
  char key[sizeof prefix - 1 + 2 * VN_KEY_BYTES];
  size_t i;
  int err = random_for_key(r, sizeof r);
  if (err) return raise_entropy_error(L, err);
  memcpy(key, prefix, sizeof prefix - 1);
  for (i = 0; i < sizeof r; i++) {
    key[sizeof prefix - 1 + 2 * i] = digits[r[i] >> 4];
    key[sizeof prefix - 1 + 2 * i + 1] = digits[r[i] & 15];
  }
  memset(r, 0, sizeof r);
  lua_pushlstring(L, key, sizeof key);
  return 1;
}

/* core.random_reserve() -> whether idempotency keys come from the fork-safe reserve (for tests) */
static int l_random_reserve(lua_State *L) {
#ifdef VN_HAVE_RESERVE
  unsigned char r[1];
  if (__atomic_load_n(&reserve_state, __ATOMIC_ACQUIRE) == 0) (void)reserve_take(r, 0);
  lua_pushboolean(L, __atomic_load_n(&reserve_state, __ATOMIC_ACQUIRE) == 1);
#else
  lua_pushboolean(L, 0);
#endif
  return 1;
}

/* }==================== */

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
  if (err) return raise_entropy_error(L, err);
  lua_pushlstring(L, (const char *)p, n);
  return 1;
}

void vn_random_open(lua_State *L) {
  lua_pushcfunction(L, l_random_bytes);
  lua_setfield(L, -2, "random_bytes");
  lua_pushcfunction(L, l_idempotency_key);
  lua_setfield(L, -2, "idempotency_key");
  lua_pushcfunction(L, l_random_reserve);
  lua_setfield(L, -2, "random_reserve");
}
