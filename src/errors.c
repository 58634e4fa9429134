/* errors.c: the venice.Error class hierarchy and the mapping from HTTP responses to it.
 *
 * A class is a table { name, type, parent, is, new, __index = the methods, __tostring, __name }; an
 * error is a plain table whose metatable is its class, so fields read as err.message and the
 * methods, kept in their own table, as err:is(). Also the mapping of libcurl's result codes. */
#include "venice.h"
#include "curlapi.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char VN_CLASSES_KEY = 'c';   /* registry: name -> class */

static const struct { const char *name, *parent, *type; } vn_classes[] = {
  { "Error", NULL, NULL },
  { "APIError", "Error", NULL },
  { "ValidationError", "APIError", "invalid_request_error" },
  { "AuthenticationError", "APIError", "authentication_error" },
  { "PaymentRequiredError", "APIError", "payment_required_error" },
  { "PermissionError", "APIError", "permission_error" },
  { "NotFoundError", "APIError", "not_found_error" },
  { "ConflictError", "APIError", "conflict_error" },
  { "PayloadTooLargeError", "APIError", "payload_too_large_error" },
  { "RateLimitError", "APIError", "rate_limit_error" },
  { "ServerError", "APIError", "server_error" },
  { "NetworkError", "Error", "network_error" },
  { "TimeoutError", "NetworkError", "timeout_error" },
  { "StreamError", "Error", "stream_error" },
  { "TeeError", "Error", "tee_error" },
  { NULL, NULL, NULL }
};

void vn_setstr(lua_State *L, const char *k, const char *v) {
  if (v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
}

/* tostring(err): "venice: RateLimitError (429): Too many requests (retry after 2s)" */
static int l_error_tostring(lua_State *L) {
  const char *name, *msg;
  int has_status, has_retry;
  long status;
  double retry;
  char s[64];
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  name = lua_tostring(L, -1);
  lua_getfield(L, 1, "message");
  msg = lua_tostring(L, -1);
  lua_getfield(L, 1, "status");
  has_status = lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) >= 300   /* a redirect or an error */
               && lua_tonumber(L, -1) < 1000;
  status = has_status ? (long)lua_tonumber(L, -1) : 0;
  lua_getfield(L, 1, "retry_after");
  has_retry = lua_type(L, -1) == LUA_TNUMBER;
  retry = has_retry ? (double)lua_tonumber(L, -1) : 0;
  lua_pushfstring(L, "venice: %s", name ? name : "Error");
  if (has_status) {
    snprintf(s, sizeof s, " (%ld)", status);
    lua_pushstring(L, s);
  } else {
    lua_pushliteral(L, "");
  }
  lua_pushliteral(L, ": ");
  lua_pushstring(L, msg && *msg ? msg : "unknown error");
  if (has_retry) {
    snprintf(s, sizeof s, " (retry after %gs)", retry);
    lua_pushstring(L, s);
  } else {
    lua_pushliteral(L, "");
  }
  lua_concat(L, 5);
  return 1;
}

/* err:is(cls): true when err's class is cls or inherits from it; cls may be a class or its name. */
static int l_error_is(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_CLASSES_KEY);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    lua_replace(L, 2);
  }
  if (!lua_istable(L, 2)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (!lua_getmetatable(L, 1)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  for (;;) {   /* walk the parents of the class at the top */
    if (lua_rawequal(L, -1, 2)) {
      lua_pushboolean(L, 1);
      return 1;
    }
    lua_pushliteral(L, "parent");
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) break;
    lua_remove(L, -2);
  }
  lua_pushboolean(L, 0);
  return 1;
}

/* cls(fields) or cls:new(fields): builds an error of that class, for users' own code and tests. */
static int l_error_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "message");
    lua_replace(L, 2);
  } else if (lua_isnil(L, 2)) {
    lua_createtable(L, 0, 4);
    lua_replace(L, 2);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  lua_setfield(L, 2, "name");
  lua_getfield(L, 2, "type");
  if (lua_isnil(L, -1)) {
    lua_getfield(L, 1, "type");
    lua_setfield(L, 2, "type");
  }
  lua_pop(L, 1);
  lua_pushvalue(L, 1);
  lua_setmetatable(L, 2);
  return 1;
}

static int l_class_call(lua_State *L) {
  return l_error_new(L);
}

void vn_error_push(lua_State *L, const char *cls, const char *message) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_CLASSES_KEY);
  lua_getfield(L, -1, cls);
  lua_remove(L, -2);
  lua_createtable(L, 0, 8);
  lua_getfield(L, -2, "name");
  lua_setfield(L, -2, "name");
  lua_getfield(L, -2, "type");
  lua_setfield(L, -2, "type");
  vn_setstr(L, "message", message);
  lua_insert(L, -2);
  lua_setmetatable(L, -2);
}

double vn_retry_after(const char *ms, const char *s) {
  char *end;
  double v;
  if (ms && *ms) {
    v = strtod(ms, &end);
    if (end != ms && v >= 0) return v / 1000.0;
  }
  if (s && *s) {
    time_t when;
    v = strtod(s, &end);
    if (end != s && v >= 0) return v;
    when = vn_curl_load() ? (time_t)-1 : curl_getdate(s, NULL);   /* an HTTP date */
    if (when != (time_t)-1) {
      double d = difftime(when, time(NULL));
      return d > 0 ? d : 0;
    }
  }
  return -1;
}

static const char *vn_class_for_status(long status) {
  switch (status) {
    case 400: case 422: return "ValidationError";
    case 401: return "AuthenticationError";
    case 402: return "PaymentRequiredError";
    case 403: return "PermissionError";
    case 404: return "NotFoundError";
    case 409: return "ConflictError";
    case 413: return "PayloadTooLargeError";
    case 429: return "RateLimitError";
    default: return status >= 500 ? "ServerError" : "APIError";
  }
}

const char *vn_class_for_curlcode(int rc, const char **code) {
  *code = NULL;
  switch ((CURLcode)rc) {
    case CURLE_OK:
      return NULL;
    case CURLE_OPERATION_TIMEDOUT:
      return "TimeoutError";
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
      *code = "dns";
      return "NetworkError";
    case CURLE_COULDNT_CONNECT:
      *code = "connection_refused";
      return "NetworkError";
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
      *code = "tls";
      return "NetworkError";
    case CURLE_URL_MALFORMAT: case CURLE_UNSUPPORTED_PROTOCOL:
      *code = "invalid_url";
      return "Error";
    case CURLE_BAD_CONTENT_ENCODING:
      *code = "bad_content_encoding";
      return "NetworkError";
    default:
      *code = "connection_reset";
      return "NetworkError";
  }
}

/* Field k of the table at idx as a string, or NULL; leaves nothing on the stack
 * (the string stays alive as long as the table does). */
static const char *vn_getstr(lua_State *L, int idx, const char *k) {
  const char *s = NULL;
  lua_getfield(L, idx, k);
  if (lua_type(L, -1) == LUA_TSTRING) s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

/* A short, one-line message from a body that is not JSON: the text of an HTML page's <title>,
 * or the first line of text, capped. */
static void vn_push_text_message(lua_State *L, const char *body, size_t len, long status) {
  const char *t = NULL, *e = NULL, *p;
  size_t n;
  char out[201];
  if (len > 0 && (t = strstr(body, "<title>")) != NULL && (size_t)(t - body) < len) {
    t += 7;
    e = strstr(t, "</title>");
  }
  if (!t || !e) {
    t = body;
    while (t < body + len && (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')) t++;
    e = t;
    while (e < body + len && *e != '\n' && *e != '\r') e++;
  }
  n = (size_t)(e - t);
  if (n == 0) {
    lua_pushfstring(L, "HTTP %d with an empty body", (int)status);
    return;
  }
  if (n > sizeof out - 1) n = sizeof out - 1;
  for (p = t; p < t + n; p++) out[p - t] = (*p == '\t' || *p == '\0') ? ' ' : *p;
  out[n] = '\0';
  lua_pushstring(L, out);
}

/* Pushes the field an issue's path names, as the SDK's own checks name one ("messages[1].content":
 * names joined by dots, array positions in brackets counted from 1 as in Lua); returns 0 and pushes
 * nothing when the path is absent or empty. p: index of the path (a list of names and positions). */
static int vn_push_issue_field(lua_State *L, int p) {
  int i, pieces = 0;
  if (!lua_istable(L, p)) return 0;
  for (i = 1; i <= 32; i++) {
    lua_rawgeti(L, p, i);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number n = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (!(n >= 0 && n < 1e9)) break;
      lua_pushfstring(L, "[%d]", (int)n + 1);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      if (pieces) {
        lua_pushliteral(L, ".");
        lua_insert(L, -2);
        pieces++;
      }
    } else {
      lua_pop(L, 1);
      break;
    }
    pieces++;
  }
  if (pieces == 0) return 0;
  lua_concat(L, pieces);
  return 1;
}

/* Venice's validation shape names the field and the rule: {"error": "Invalid request parameters",
 * "details": {"field": {"_errors": ["rule"]}}, "context": {"issues": [{"path": [...], "message":
 * "rule"}]}}. Sets err.param (unless set) to the field of the first issue, else of the first field
 * of details by name, and err.message to "<error>: <field>: <rule>" (with the number of further
 * issues). e: the error, its message set; d: the decoded body. */
static void vn_validation_detail(lua_State *L, int e, int d) {
  int top = lua_gettop(L), field = 0, rule = 0, more = 0;
  const char *msg;
  lua_getfield(L, d, "context");                                    /* top+1 */
  if (lua_istable(L, top + 1)) lua_getfield(L, top + 1, "issues");
  else lua_pushnil(L);                                              /* top+2 */
  if (lua_istable(L, top + 2)) {
    lua_rawgeti(L, top + 2, 1);                                     /* top+3: the first issue */
    if (lua_istable(L, top + 3)) {
      lua_getfield(L, top + 3, "message");                          /* top+4 */
      if (lua_type(L, top + 4) == LUA_TSTRING) rule = top + 4;
      lua_getfield(L, top + 3, "path");                             /* top+5 */
      if (vn_push_issue_field(L, top + 5)) field = top + 6;
      for (;;) {
        lua_rawgeti(L, top + 2, more + 2);
        if (lua_isnil(L, -1)) break;
        lua_pop(L, 1);
        more++;
      }
    }
  }
  if (!rule) {
    lua_settop(L, top);
    more = 0;
    field = 0;
    lua_getfield(L, d, "details");                                  /* top+1 */
    lua_pushnil(L);                                                 /* top+2: the field so far */
    lua_pushnil(L);                                                 /* top+3: its rule */
    if (lua_istable(L, top + 1)) {
      lua_pushnil(L);
      while (lua_next(L, top + 1)) {                                /* key top+4, value top+5 */
        if (lua_type(L, top + 4) == LUA_TSTRING && strcmp(lua_tostring(L, top + 4), "_errors") != 0
            && lua_istable(L, top + 5)) {
          lua_getfield(L, top + 5, "_errors");                      /* top+6 */
          if (lua_istable(L, top + 6)) lua_rawgeti(L, top + 6, 1);
          else lua_pushnil(L);                                      /* top+7 */
          if (lua_type(L, top + 7) == LUA_TSTRING && (lua_isnil(L, top + 2)
              || strcmp(lua_tostring(L, top + 4), lua_tostring(L, top + 2)) < 0)) {
            lua_pushvalue(L, top + 4);
            lua_replace(L, top + 2);
            lua_pushvalue(L, top + 7);
            lua_replace(L, top + 3);
          }
        }
        lua_settop(L, top + 4);
      }
    }
    if (!lua_isnil(L, top + 3)) {
      field = top + 2;
      rule = top + 3;
    }
  }
  if (rule) {
    lua_getfield(L, e, "message");
    msg = lua_tostring(L, -1);
    if (field) {
      lua_getfield(L, e, "param");
      if (lua_isnil(L, -1)) {
        lua_pushvalue(L, field);
        lua_setfield(L, e, "param");
      }
      lua_pop(L, 1);
    }
    if (msg && strstr(msg, lua_tostring(L, rule))) {   /* the message is the rule already */
      if (field && !strstr(msg, lua_tostring(L, field)))
        lua_pushfstring(L, "%s: %s", lua_tostring(L, field), msg);
      else
        lua_pushstring(L, msg);
    } else if (field) {
      lua_pushfstring(L, "%s%s%s: %s", msg ? msg : "", msg ? ": " : "", lua_tostring(L, field),
                      lua_tostring(L, rule));
    } else {
      lua_pushfstring(L, "%s%s%s", msg ? msg : "", msg ? ": " : "", lua_tostring(L, rule));
    }
    if (more > 0) {
      lua_pushfstring(L, " (and %d more issue%s)", more, more == 1 ? "" : "s");
      lua_concat(L, 2);
    }
    lua_setfield(L, e, "message");
  }
  lua_settop(L, top);
}

/* Pushes the venice.Error of an HTTP error response. h: index of the headers table (lower-case
 * names); b: of the raw body string; d: of the body as decoded JSON, or nil. Fills message, code,
 * param, details from either of Venice's two shapes:
 *   {"error": "text", "details": ..., "context": {"errorCode": ...}}
 *   {"error": {"message", "type", "param", "code"}} */
void vn_http_error_push(lua_State *L, long status, int h, int b, int d) {
  size_t blen = 0;
  const char *body;
  int has_msg = 0, e;
  double ra;
  h = lua_absindex(L, h);
  b = lua_absindex(L, b);
  d = lua_absindex(L, d);
  body = lua_type(L, b) == LUA_TSTRING ? lua_tolstring(L, b, &blen) : "";
  vn_error_push(L, vn_class_for_status(status), NULL);
  e = lua_gettop(L);
  vn_pushint(L, status);
  lua_setfield(L, e, "status");
  lua_pushvalue(L, h);
  lua_setfield(L, e, "headers");
  lua_pushvalue(L, b);
  lua_setfield(L, e, "body");
  vn_setstr(L, "request_id", vn_getstr(L, h, "x-request-id"));
  if (status >= 300 && status < 400) {   /* a redirect: where to, never followed */
    const char *loc = vn_getstr(L, h, "location");
    vn_setstr(L, "location", loc);
    lua_pushfstring(L, "HTTP %d redirect%s%s (redirects are not followed)", (int)status,
                    loc ? " to " : "", loc ? loc : "");
    lua_setfield(L, e, "message");
    has_msg = 1;
    d = 0;   /* whatever the body says */
  }
  ra = vn_retry_after(vn_getstr(L, h, "retry-after-ms"), vn_getstr(L, h, "retry-after"));
  if (ra >= 0) {
    lua_pushnumber(L, ra);
    lua_setfield(L, e, "retry_after");
  }
  if (d && lua_istable(L, d)) {
    int inner;
    lua_getfield(L, d, "error");
    inner = lua_gettop(L);
    if (lua_type(L, inner) == LUA_TSTRING) {
      lua_pushvalue(L, inner);
      lua_setfield(L, e, "message");
      has_msg = 1;
      lua_getfield(L, d, "details");
      lua_setfield(L, e, "details");
      if (status == 400 || status == 422) vn_validation_detail(L, e, d);
      lua_getfield(L, d, "context");
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "errorCode");
        lua_setfield(L, e, "code");
        lua_getfield(L, e, "details");
        if (lua_isnil(L, -1)) {   /* keep the issues list when there are no details */
          lua_getfield(L, -2, "issues");
          lua_setfield(L, e, "details");
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    } else if (lua_istable(L, inner)) {
      static const char *const fields[] = { "message", "code", "param", NULL };
      int i;
      for (i = 0; fields[i]; i++) {
        lua_getfield(L, inner, fields[i]);
        if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TLIGHTUSERDATA) {
          if (i == 0 && lua_type(L, -1) == LUA_TSTRING) has_msg = 1;
          lua_setfield(L, e, fields[i]);
        } else {
          lua_pop(L, 1);
        }
      }
      lua_getfield(L, inner, "details");
      lua_setfield(L, e, "details");
      if (has_msg && (status == 400 || status == 422)) {   /* the message names the field */
        const char *param, *msg;
        lua_getfield(L, e, "param");
        lua_getfield(L, e, "message");
        param = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        msg = lua_tostring(L, -1);
        if (param && *param && msg && !strstr(msg, param)) {
          lua_pushfstring(L, "%s: %s", param, msg);
          lua_setfield(L, e, "message");
        }
      }
    }
    lua_settop(L, e);
    if (!has_msg) {   /* {"message": "..."} or {"detail": "..."} from proxies and frameworks */
      const char *m = vn_getstr(L, d, "message");
      if (!m) m = vn_getstr(L, d, "detail");
      if (m) {
        vn_setstr(L, "message", m);
        has_msg = 1;
      }
    }
  }
  if (!has_msg) {
    vn_push_text_message(L, body, blen, status);
    lua_setfield(L, e, "message");
  }
  lua_settop(L, e);
}

/* core.http_error(status, headers, body, decoded) -> venice.Error (see vn_http_error_push) */
static int l_http_error(lua_State *L) {
  lua_Number status = luaL_checknumber(L, 1);
  if (!(status >= 100 && status < 1000)) return luaL_argerror(L, 1, "an HTTP status from 100 to 999");
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_optstring(L, 3, "");
  lua_settop(L, 4);
  vn_http_error_push(L, (long)status, 2, 3, 4);
  return 1;
}

/* core.error(class_name, message_or_fields) -> venice.Error */
static int l_error_make(lua_State *L) {
  const char *cls = luaL_checkstring(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_CLASSES_KEY);
  lua_getfield(L, -1, cls);
  if (!lua_istable(L, -1)) return luaL_argerror(L, 1, "unknown error class");
  lua_replace(L, 1);
  lua_settop(L, 2);
  return l_error_new(L);
}

void vn_errors_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "is", l_error_is },
    { "new", l_error_new },
    { NULL, NULL }
  };
  int i, mod = lua_gettop(L), m;
  luaL_newlib(L, methods);                          /* what errors reach through __index */
  m = lua_gettop(L);
  lua_newtable(L);                                  /* errors: name -> class */
  for (i = 0; vn_classes[i].name; i++) {
    lua_createtable(L, 0, 8);
    vn_setstr(L, "name", vn_classes[i].name);
    vn_setstr(L, "type", vn_classes[i].type);
    lua_pushliteral(L, "venice.Error");
    lua_setfield(L, -2, "__name");
    lua_pushcfunction(L, l_error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, l_error_is);
    lua_setfield(L, -2, "is");
    lua_pushcfunction(L, l_error_new);
    lua_setfield(L, -2, "new");
    lua_pushvalue(L, m);
    lua_setfield(L, -2, "__index");
    lua_createtable(L, 0, 2);                       /* the class's own metatable */
    lua_pushcfunction(L, l_class_call);
    lua_setfield(L, -2, "__call");
    if (vn_classes[i].parent) {
      lua_getfield(L, -3, vn_classes[i].parent);
      lua_pushvalue(L, -1);
      lua_setfield(L, -4, "parent");
      lua_setfield(L, -2, "__index");               /* inherit fields the class lacks */
    }
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, vn_classes[i].name);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &VN_CLASSES_KEY);
  lua_setfield(L, mod, "errors");
  lua_pop(L, 1);                                    /* the methods */
  lua_pushcfunction(L, l_http_error);
  lua_setfield(L, mod, "http_error");
  lua_pushcfunction(L, l_error_make);
  lua_setfield(L, mod, "error");
}
