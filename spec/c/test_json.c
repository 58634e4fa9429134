/* test_json.c: C-level tests of src/json.c: the number fast path against
 * strtod, the C API contract (stack, err buffer, unterminated input) and a
 * decimal-comma locale when one is installed. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "compat.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                       \
  do {                                                         \
    if (!(cond)) {                                             \
      failures++;                                              \
      fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                            \
      fputc('\n', stderr);                                     \
    }                                                          \
  } while (0)

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Decodes text as a number and compares with strtod bit for bit. */
static void check_number(lua_State *L, const char *text) {
  char err[128];
  double want = strtod(text, NULL), got;
  if (!vn_json_decode(L, text, strlen(text), err, sizeof err)) {
    CHECK(0, "%s: %s", text, err);
    return;
  }
  got = (double)lua_tonumber(L, -1);
  lua_pop(L, 1);
  CHECK(memcmp(&got, &want, sizeof got) == 0, "%s: got %.17g want %.17g", text, got, want);
}

static void test_numbers(lua_State *L) {
  char buf[96];
  int i;
  for (i = 0; i < 300000; i++) {
    uint64_t r = next_rand();
    int idig = (int)(r % 12), fdig = (int)((r >> 4) % 20), k, n = 0;
    int ex = (int)((r >> 12) % 80) - 40;
    if (r & (1u << 20)) buf[n++] = '-';
    buf[n++] = (char)('1' + (next_rand() % 9));
    for (k = 0; k < idig; k++) buf[n++] = (char)('0' + next_rand() % 10);
    buf[n++] = '.';
    for (k = 0; k <= fdig; k++) buf[n++] = (char)('0' + next_rand() % 10);
    if (r & (1u << 21)) n += sprintf(buf + n, "e%d", ex);
    buf[n] = '\0';
    check_number(L, buf);
  }
  for (i = 0; i < 300000; i++) {
    double d;
    uint64_t bits = next_rand();
    memcpy(&d, &bits, sizeof d);
    if (d != d || d > 1.79e308 || d < -1.79e308) continue;
    snprintf(buf, sizeof buf, "%.*g", 15 + (int)(bits % 3), d);
    check_number(L, buf);
  }
  for (i = 0; i < 100000; i++) {
    snprintf(buf, sizeof buf, "0.%0*llu", (int)(next_rand() % 25) + 1,
             (unsigned long long)(next_rand() % 100000000));
    check_number(L, buf);
  }
}

/* Encodes v and checks that the text reads back as v, and that it is as
 * short as the %.15g form whenever that form reads back. */
static void check_encode(lua_State *L, double v) {
  char err[64], ref[40];
  const char *s;
  double back;
  lua_pushnumber(L, (lua_Number)v);
  if (!vn_json_encode(L, -1, err, sizeof err)) {
    CHECK(0, "%.17g: %s", v, err);
    lua_pop(L, 1);
    return;
  }
  s = lua_tostring(L, -1);
  back = strtod(s, NULL);
  CHECK(memcmp(&back, &v, sizeof v) == 0, "%.17g written as %s", v, s);
  snprintf(ref, sizeof ref, "%.15g", v);
  if (strtod(ref, NULL) == v && v != floor(v)) CHECK(strcmp(ref, s) == 0, "%s written as %s", ref, s);
  lua_pop(L, 2);
}

static void test_encode_floats(lua_State *L) {
  char buf[64];
  int i;
  for (i = 0; i < 300000; i++) {
    double d;
    uint64_t bits = next_rand();
    memcpy(&d, &bits, sizeof d);
    if (d != d || d > 1.79e308 || d < -1.79e308) continue;
    check_encode(L, d);
  }
  for (i = 0; i < 300000; i++) {
    uint64_t r = next_rand();
    int digits = 1 + (int)(r % 15), ex = (int)((r >> 8) % 30) - 12;
    snprintf(buf, sizeof buf, "%s%llue%d", (r & 0x10000) ? "-" : "",
             (unsigned long long)(next_rand() % 1000000000000000ull) % (unsigned long long)pow(10, digits),
             ex - digits);
    check_encode(L, strtod(buf, NULL));
  }
  for (i = 0; i < 100000; i++) check_encode(L, (double)(next_rand() % 2000000) / 1000.0 - 1000.0);
}

static void test_api(lua_State *L) {
  char err[64], tiny[8];
  const char *s;
  size_t n;
  int top = lua_gettop(L);

  /* not NUL-terminated: only len bytes count */
  CHECK(vn_json_decode(L, "12345", 2, err, sizeof err), "%s", err);
  CHECK(lua_tonumber(L, -1) == 12, "got %g", (double)lua_tonumber(L, -1));
  lua_pop(L, 1);
  CHECK(vn_json_decode(L, "1.5e10", 3, err, sizeof err), "%s", err);
  CHECK(lua_tonumber(L, -1) == 1.5, "got %g", (double)lua_tonumber(L, -1));
  lua_pop(L, 1);
  CHECK(vn_json_decode(L, "\"ab\"", 3, err, sizeof err) == 0, "unterminated accepted");
  CHECK(strcmp(err, "unterminated string at byte 1") == 0, "%s", err);
  CHECK(vn_json_decode(L, "\"a\\u0041\"", 8, err, sizeof err) == 0, "unterminated accepted");
  CHECK(vn_json_decode(L, "\"a\\u004", 7, err, sizeof err) == 0, "short escape accepted");
  CHECK(lua_gettop(L) == top, "stack moved");

  /* err may be tiny or absent */
  CHECK(vn_json_decode(L, "[1,", 3, tiny, sizeof tiny) == 0, "accepted");
  CHECK(strlen(tiny) == sizeof tiny - 1, "%s", tiny);
  CHECK(vn_json_decode(L, "[1,", 3, NULL, 0) == 0, "accepted");
  CHECK(vn_json_decode(L, NULL, 0, err, sizeof err) == 0, "accepted");
  CHECK(vn_json_encode(L, 1, NULL, 0) == 1, "encode of nil failed");
  lua_pop(L, 1);
  CHECK(lua_gettop(L) == top, "stack moved");

  /* negative index, stack untouched below */
  lua_pushinteger(L, 7);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, "v");
  lua_setfield(L, -2, "k");
  lua_pushboolean(L, 1);
  CHECK(vn_json_encode(L, -2, err, sizeof err), "%s", err);
  s = lua_tolstring(L, -1, &n);
  CHECK(n == 9 && memcmp(s, "{\"k\":\"v\"}", 9) == 0, "%s", s);
  CHECK(lua_gettop(L) == top + 4, "stack %d", lua_gettop(L));
  CHECK(lua_toboolean(L, -2) && lua_istable(L, -3) && lua_tointeger(L, -4) == 7, "stack changed");
  lua_settop(L, top);

  /* errors leave the stack as it was, with a path */
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushcfunction(L, luaopen_base);
  lua_rawseti(L, -2, 2);
  CHECK(vn_json_encode(L, -1, err, sizeof err) == 0, "accepted a function");
  CHECK(strcmp(err, "cannot encode function at [2]") == 0, "%s", err);
  CHECK(lua_gettop(L) == top + 1, "stack %d", lua_gettop(L));
  lua_settop(L, top);
}

/* With a decimal-comma locale, numbers must still read and write with '.'. */
static void test_locale(lua_State *L) {
  static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                "ru_RU.UTF-8", "de_DE", "fr_FR", NULL};
  const char **nm;
  char err[64];
  const char *s;
  for (nm = names; *nm; nm++) {
    if (setlocale(LC_NUMERIC, *nm) && strcmp(localeconv()->decimal_point, ",") == 0) break;
  }
  if (!*nm) {
    printf("test_json: no decimal-comma locale installed, locale test skipped\n");
    setlocale(LC_NUMERIC, "C");
    return;
  }
  CHECK(vn_json_decode(L, "[0.1,2.5e-3,1e400,123456789012345678901234.5]", 45, err, sizeof err), "%s", err);
  lua_rawgeti(L, -1, 1);
  CHECK(lua_tonumber(L, -1) == 0.1, "0.1 read as %g", (double)lua_tonumber(L, -1));
  lua_rawgeti(L, -2, 2);
  CHECK(lua_tonumber(L, -1) == 2.5e-3, "2.5e-3 read as %g", (double)lua_tonumber(L, -1));
  lua_rawgeti(L, -3, 4);
  CHECK(lua_tonumber(L, -1) == 123456789012345678901234.5, "big read as %g", (double)lua_tonumber(L, -1));
  lua_pop(L, 4);
  lua_pushnumber(L, 0.1 + 0.2);
  CHECK(vn_json_encode(L, -1, err, sizeof err), "%s", err);
  s = lua_tostring(L, -1);
  CHECK(strcmp(s, "0.30000000000000004") == 0, "wrote %s", s);
  lua_pop(L, 2);
  printf("test_json: locale %s checked\n", *nm);
  setlocale(LC_NUMERIC, "C");
}

int main(void) {
  lua_State *L = luaL_newstate();
  test_api(L);
  test_numbers(L);
  test_encode_floats(L);
  test_locale(L);
  lua_close(L);
  if (failures) {
    fprintf(stderr, "test_json: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_json: ok\n");
  return 0;
}
