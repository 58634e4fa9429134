/* json_fuzz.c: libFuzzer target for the JSON codec.
 * Decodes arbitrary bytes in a fresh lua_State. Whatever decodes must encode
 * again (unless it holds an infinity), that text must decode, and the two
 * values must be equal. Decoding the input again in the same state, where the
 * decoder's cache now knows its strings and object sizes, must give the same
 * value, with every table iterating in the same order, or the same error.
 * Any broken property aborts. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "compat.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why) {
  fprintf(stderr, "json_fuzz: %s\n", why);
  abort();
}

/* Deep equality of the values at absolute indices a and b. */
static int same(lua_State *L, int a, int b) {
  int ta = lua_type(L, a), n = 0, m = 0, ok = 1;
  if (ta != lua_type(L, b)) return 0;
  if (ta != LUA_TTABLE) return lua_rawequal(L, a, b);
  if (!lua_checkstack(L, 6)) fail("stack");
  /* both arrays marked empty, or neither */
  n = lua_getmetatable(L, a);
  m = lua_getmetatable(L, b);
  if (n != m || (n && !lua_rawequal(L, -1, -2))) ok = 0;
  lua_pop(L, n + m);
  if (!ok) return 0;
  n = m = 0;
  lua_pushnil(L);
  while (lua_next(L, a)) {
    int top = lua_gettop(L);
    n++;
    lua_pushvalue(L, -2);
    lua_rawget(L, b);
    if (!same(L, top, top + 1)) {
      lua_pop(L, 3);
      return 0;
    }
    lua_pop(L, 2);
  }
  lua_pushnil(L);
  while (lua_next(L, b)) {
    m++;
    lua_pop(L, 1);
  }
  return n == m;
}

/* Equal, and every table iterates its keys in the same order (the same table layout). */
static int same_order(lua_State *L, int a, int b) {
  int ta = lua_type(L, a), ok = 1;
  if (ta != lua_type(L, b)) return 0;
  if (ta != LUA_TTABLE) return lua_rawequal(L, a, b);
  if (!same(L, a, b)) return 0;
  if (!lua_checkstack(L, 6)) fail("stack");
  lua_pushnil(L);
  lua_pushnil(L);
  for (;;) {
    int top = lua_gettop(L), ma, mb;   /* key of a at top - 1, key of b at top */
    lua_pushvalue(L, top - 1);
    ma = lua_next(L, a);               /* key, value of a at top + 1, top + 2 */
    lua_pushvalue(L, top);
    mb = lua_next(L, b);               /* then those of b */
    if (ma != mb) fail("tables of different sizes");
    if (!ma) {
      lua_settop(L, top - 2);
      return ok;
    }
    ok = lua_rawequal(L, top + 1, top + 3) && same_order(L, top + 2, top + 4);
    if (!ok) {
      lua_settop(L, top - 2);
      return 0;
    }
    lua_pushvalue(L, top + 1); /* the two keys, for the next step */
    lua_replace(L, top - 1);
    lua_pushvalue(L, top + 3);
    lua_replace(L, top);
    lua_settop(L, top);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  char err[200];
  int i;
  if (!L) return 0;
  if (vn_json_decode(L, (const char *)data, size, err, sizeof err)) {
    if (lua_gettop(L) != 1) fail("decode pushed more than one value");
    if (vn_json_encode(L, 1, err, sizeof err)) {
      size_t n;
      const char *s = lua_tolstring(L, 2, &n);
      if (lua_gettop(L) != 2) fail("encode pushed more than one value");
      if (!vn_json_decode(L, s, n, err, sizeof err)) {
        fprintf(stderr, "re-decode: %s\n", err);
        fail("own output does not decode");
      }
      if (!same(L, 1, 3)) fail("round trip changed the value");
    } else {
      if (lua_gettop(L) != 1) fail("failed encode left values");
      /* the decoder passes bytes through; the encoder refuses what is not UTF-8 */
      if (!strstr(err, "cannot encode inf") && !strstr(err, "cannot encode -inf") &&
          !strstr(err, "not valid UTF-8")) {
        fprintf(stderr, "encode: %s\n", err);
        fail("decoded value does not encode");
      }
    }
    /* again, twice, in the same state: the strings seen before now come from the decoder's
     * cache of short strings, and must give the same value */
    lua_settop(L, 1);
    for (i = 0; i < 2; i++) {
      if (!vn_json_decode(L, (const char *)data, size, err, sizeof err)) fail("second decode failed");
      if (lua_gettop(L) != 2 || !same_order(L, 1, 2)) fail("second decode gave another value");
      lua_settop(L, 1);
    }
  } else {
    char err2[sizeof err];
    if (lua_gettop(L) != 0) fail("failed decode left values");
    if (err[0] == '\0') fail("failed decode without message");
    if (vn_json_decode(L, (const char *)data, size, err2, sizeof err2)) fail("second decode passed");
    if (lua_gettop(L) != 0 || strcmp(err, err2) != 0) fail("second decode failed otherwise");
  }
  lua_close(L);
  return 0;
}
