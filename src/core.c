/* core.c: the module venice.core. Only luaopen_venice_core is exported. */
#include "venice.h"
#include "sse.h"
#include "json.h"
#include "random.h"
#include "base64.h"
#include "curlapi.h"
#include <string.h>

#define DECODER_MT "venice.SSEDecoder"

/* {==================== a standalone SSE decoder, for users and tests ==================== */

typedef struct { vn_sse sse; int dead; } vn_decoder;

typedef struct { lua_State *L; int n; } vn_collect;

static int collect_event(void *ud, const vn_sse_event *ev) {
  vn_collect *c = (vn_collect *)ud;
  lua_State *L = c->L;
  if (!lua_checkstack(L, 4)) return VN_SSE_ENOMEM;
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, ev->type, ev->type_len);
  lua_setfield(L, -2, "event");
  lua_pushlstring(L, ev->data, ev->data_len);
  lua_setfield(L, -2, "data");
  lua_pushlstring(L, ev->id, ev->id_len);
  lua_setfield(L, -2, "id");
  if (ev->retry >= 0) {
    vn_pushint(L, ev->retry);
    lua_setfield(L, -2, "retry");
  }
  lua_rawseti(L, -2, ++c->n);
  return 0;
}

/* d:feed(bytes) -> list of events { event, data, id, retry } | nil, venice.Error */
static int l_decoder_feed(lua_State *L) {
  vn_decoder *d = (vn_decoder *)luaL_checkudata(L, 1, DECODER_MT);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  vn_collect c;
  int rc;
  c.L = L;
  c.n = 0;
  lua_newtable(L);
  rc = d->dead ? VN_SSE_ETOOBIG : vn_sse_feed(&d->sse, s, len, collect_event, &c);
  if (rc == VN_SSE_OK) return 1;
  d->dead = 1;
  lua_pushnil(L);
  vn_error_push(L, "StreamError", rc == VN_SSE_ETOOBIG ? "a stream line or event is larger than the cap"
                                                       : "out of memory while decoding a stream");
  vn_setstr(L, "code", rc == VN_SSE_ETOOBIG ? "event_too_large" : "out_of_memory");
  return 2;
}

static int l_decoder_gc(lua_State *L) {
  vn_decoder *d = (vn_decoder *)luaL_checkudata(L, 1, DECODER_MT);
  vn_sse_free(&d->sse);
  return 0;
}

/* core.sse_decoder([max_bytes]) -> decoder (max_bytes a whole number, 0 or absent: the default) */
static int l_sse_decoder(lua_State *L) {
  lua_Number n = luaL_optnumber(L, 1, 0);
  vn_decoder *d;
  if (!(n >= 0 && n <= 9007199254740992.0 && n == (lua_Number)(long long)n))
    return luaL_argerror(L, 1, "max_bytes must be a whole number from 0 to 2^53");
  d = (vn_decoder *)lua_newuserdata(L, sizeof *d);
  memset(d, 0, sizeof *d);
  vn_sse_init(&d->sse, (size_t)n);
  luaL_setmetatable(L, DECODER_MT);
  return 1;
}

/* }==================== */

/* core.curl_version() -> libcurl's version, its TLS library's (loads libcurl) */
static int l_curl_version(lua_State *L) {
  const char *why = vn_curl_load();
  curl_version_info_data *cv;
  if (why) return luaL_error(L, "venice: %s", why);
  cv = curl_version_info(CURLVERSION_NOW);
  lua_pushstring(L, cv->version);
  lua_pushstring(L, cv->ssl_version ? cv->ssl_version : "");
  return 2;
}

VN_EXPORT int luaopen_venice_core(lua_State *L);

int luaopen_venice_core(lua_State *L) {
  static const luaL_Reg decoder_methods[] = {
    { "feed", l_decoder_feed },
    { NULL, NULL }
  };
  lua_newtable(L);
  vn_errors_open(L);
  vn_json_open(L);
  vn_transfer_open(L);
  vn_random_open(L);
  vn_base64_open(L);
  vn_keccak_open(L);
  vn_crypto_open(L);
  vn_tdx_open(L);

  luaL_newmetatable(L, DECODER_MT);
  luaL_newlib(L, decoder_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_decoder_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_sse_decoder);
  lua_setfield(L, -2, "sse_decoder");

  vn_setstr(L, "version", VENICE_VERSION);
  lua_pushcfunction(L, l_curl_version);
  lua_setfield(L, -2, "curl_version");
  return 1;
}
