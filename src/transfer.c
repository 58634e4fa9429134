/* transfer.c: the transfer objects, one per request, driven by the engine (engine.c).
 *
 * libcurl's callbacks never touch the Lua state: they only append to C buffers (headers, body,
 * decoded SSE events) and note progress; Lua reads those buffers between calls to core.step(),
 * from a blocking loop or from the task scheduler. Nothing raises through libcurl's frames. */
#include "engine.h"
#include "json.h"
#include "random.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRANSFER_MT "venice.Transfer"
#define ERROR_BODY_MAX ((size_t)1 << 20)   /* kept of a failed response's body */
#define MAX_SECONDS 2147483.0              /* about 24.8 days: the longest limit libcurl takes in ms */
#define MAX_BYTES 9007199254740992.0       /* 2^53: every byte count up to it is exact in a double */
#define QUEUE_MAX_DEFAULT ((size_t)4 << 20)   /* unread decoded events before the transfer pauses */

static const char VN_DONE_TAG = 'd';       /* core.DONE, the [DONE] sentinel, is its address */

/* {==================== libcurl callbacks: C buffers only ==================== */

static int on_event(void *ud, const vn_sse_event *ev) {
  vn_transfer *t = (vn_transfer *)ud;
  size_t lens[3];
  lens[0] = ev->type_len;
  lens[1] = ev->data_len;
  lens[2] = ev->id_len;
  if (vn_buf_append(&t->events, (const char *)lens, sizeof lens, 0) ||
      vn_buf_append(&t->events, ev->type, ev->type_len, 0) ||
      vn_buf_append(&t->events, ev->data, ev->data_len, 0) ||
      vn_buf_append(&t->events, ev->id, ev->id_len, 0))
    return VN_SSE_ENOMEM;
  t->nevents++;
  return 0;
}

/* Opens the file a successful body is written to: a new file beside out_path, renamed over it
 * once the whole body has arrived (vn_transfer_finish), removed on any failure, so that out_path
 * is either the old file or the complete new one. */
static void open_output(vn_transfer *t) {
  size_t n = strlen(t->out_path);
  int i, fd = -1;
  t->tmp_path = (char *)malloc(n + 32);
  if (!t->tmp_path) {
    t->write_errno = ENOMEM;
    return;
  }
  for (i = 0; i < 8 && fd < 0; i++) {
    unsigned char r[6];
    if (vn_random_bytes(r, sizeof r) != 0) memset(r, i, sizeof r);
    snprintf(t->tmp_path, n + 32, "%s.part-%02x%02x%02x%02x%02x%02x", t->out_path,
             r[0], r[1], r[2], r[3], r[4], r[5]);
    fd = open(t->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0 || (t->out = fdopen(fd, "wb")) == NULL) {
    t->write_errno = errno;
    if (fd >= 0) {
      close(fd);
      unlink(t->tmp_path);
    }
    free(t->tmp_path);
    t->tmp_path = NULL;
  }
}

/* Closes the output file; renames it into place when keep is set, else removes it. */
static void close_output(vn_transfer *t, int keep) {
  if (t->out) {
    if (fclose(t->out) != 0 && keep) {
      t->write_errno = errno;
      t->failure = FAIL_WRITE;
      keep = 0;
    }
    t->out = NULL;
  }
  if (!t->tmp_path) return;
  if (keep && rename(t->tmp_path, t->out_path) != 0) {
    t->write_errno = errno;
    t->failure = FAIL_WRITE;
    keep = 0;
  }
  if (!keep) unlink(t->tmp_path);
  free(t->tmp_path);
  t->tmp_path = NULL;
}

/* Bytes of queued events not read yet. */
static size_t queue_unread(const vn_transfer *t) {
  return t->events.len - t->ev_read;
}

/* Moves the unread events to the front once the read part is at least as large: each byte is
 * moved at most once per byte read, and the buffer stays within twice the unread part. */
static void queue_compact(vn_transfer *t) {
  size_t unread = queue_unread(t);
  if (t->ev_read == 0 || t->ev_read < unread) return;
  if (unread) memmove(t->events.p, t->events.p + t->ev_read, unread);
  t->events.len = unread;
  t->ev_read = 0;
}

static void decide_mode(vn_transfer *t) {
  char *ctype = NULL;
  if (!t->headers_done) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype);
  t->mode = MODE_BUF;
  if (t->status >= 200 && t->status < 300) {
    if (t->want_sse && (!ctype || vn_sse_is_event_stream(ctype))) {
      t->mode = MODE_SSE;
    } else if (t->out_path && (t->output_any || (ctype && !strstr(ctype, "json")))) {
      open_output(t);   /* unless output_any, JSON (or a body of no stated type) stays in memory */
      t->mode = MODE_FILE;
    }
  } else {
    t->max_body = ERROR_BODY_MAX;
  }
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
  vn_transfer *t = ((vn_handle *)ud)->t;
  size_t n = size * nmemb;
  int rc;
  if (!t) return 0;   /* never: a handle is on the multi handle only with its transfer */
  if (t->mode == MODE_UNDECIDED) decide_mode(t);
  if (t->mode == MODE_SSE && queue_unread(t) >= t->max_queue) {
    /* the reader is behind: libcurl keeps these bytes and stops reading the socket until
     * next_event resumes the transfer */
    t->paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  t->eng->activity = 1;
  t->last_activity = vn_now();
  switch (t->mode) {
    case MODE_SSE:
      queue_compact(t);
      rc = vn_sse_feed(&t->sse, p, n, on_event, t);
      if (rc == VN_SSE_OK) return n;
      t->failure = rc == VN_SSE_ETOOBIG ? FAIL_EVENT_TOO_LARGE : FAIL_NOMEM;
      return 0;
    case MODE_FILE:
      if (!t->out) {
        t->failure = FAIL_WRITE;
        return 0;
      }
      if (fwrite(p, 1, n, t->out) != n) {
        t->write_errno = errno;
        t->failure = FAIL_WRITE;
        return 0;
      }
      t->out_bytes += (curl_off_t)n;
      return n;
    default:
      rc = vn_buf_append(&t->body, p, n, t->max_body);
      if (rc == 0) return n;
      if (rc == -2 && (t->status < 200 || t->status >= 300)) {
        /* an error page: its start is enough, and the rest is not read (it may never end) */
        size_t room = t->max_body > t->body.len ? t->max_body - t->body.len : 0;
        if (room > 0 && vn_buf_append(&t->body, p, room, t->max_body) != 0) room = 0;
        t->error_body_cut = 1;
        return 0;
      }
      t->failure = rc == -2 ? FAIL_TOO_LARGE : FAIL_NOMEM;
      return 0;
  }
}

/* ASCII case-insensitive comparison of n bytes; want is lower-case. */
static int vn_ieq(const char *s, const char *want, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != want[i]) return 0;
  }
  return 1;
}

static int vn_icontains(const char *s, size_t n, const char *want) {
  size_t w = strlen(want), i;
  for (i = 0; i + w <= n; i++)
    if (vn_ieq(s + i, want, w)) return 1;
  return 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  vn_transfer *t = ((vn_handle *)ud)->t;
  size_t n = size * nmemb, i, k, j;
  char *colon, *out;
  if (!t) return 0;
  t->eng->activity = 1;
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a status line: which response is this */
    const char *sp = (const char *)memchr(p, ' ', n);
    t->line_status = 0;
    if (sp && (size_t)(sp - p) + 4 <= n && sp[1] >= '0' && sp[1] <= '9' && sp[2] >= '0' && sp[2] <= '9' &&
        sp[3] >= '0' && sp[3] <= '9')
      t->line_status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
  }
  /* interim responses (100 Continue, 102 Processing, 103 Early Hints) are not progress: an
   * endless run of them must not keep the idle timeout from firing */
  if (t->line_status >= 200 || t->line_status == 0) t->last_activity = vn_now();
  while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) n--;
  if (n == 0) {   /* the blank line ending a header block */
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status >= 200) {
      long version = 0;
      t->headers_done = 1;
      curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
      t->http_version = version;   /* kept: the final response's, asked for again by Lua */
      vn_engine_learn(t, version);
    }
    return size * nmemb;
  }
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new response (after 1xx): forget the last */
    t->hdrs.len = 0;
    t->chunked = t->has_length = 0;
    return size * nmemb;
  }
  colon = (char *)memchr(p, ':', n);
  if (!colon || colon == p || p[0] == ' ' || p[0] == '\t') return size * nmemb;
  if (memchr(p, '\0', n)) return size * nmemb;   /* would break the "name\0value\0" block */
  k = (size_t)(colon - p);
  i = k + 1;
  while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
  while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  if (k == 14 && vn_ieq(p, "content-length", 14)) t->has_length = 1;
  if (k == 17 && vn_ieq(p, "transfer-encoding", 17) && vn_icontains(p + i, n - i, "chunked")) t->chunked = 1;
  if (vn_buf_reserve(&t->hdrs, k + 1 + (n - i) + 1) != 0) {
    t->failure = FAIL_NOMEM;
    return 0;
  }
  out = t->hdrs.p + t->hdrs.len;   /* "name\0value\0", the name lower-cased */
  for (j = 0; j < k; j++) out[j] = (char)(p[j] >= 'A' && p[j] <= 'Z' ? p[j] + 32 : p[j]);
  out[k] = '\0';
  memcpy(out + k + 1, p + i, n - i);
  out[k + 1 + (n - i)] = '\0';
  t->hdrs.len += k + 1 + (n - i) + 1;
  return size * nmemb;
}

/* Called by libcurl each time it is about to send the request, on a new or a reused connection.
 * libcurl sends a request again by itself when a reused connection dies before any response
 * byte, whatever the method, even after the server read it: a second call is such a resend, and
 * is refused. Retries are the caller's decision (max_retries), each a new transfer. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port) {
  vn_transfer *t = ((vn_handle *)ud)->t;
  (void)primary_ip;
  (void)local_ip;
  (void)primary_port;
  (void)local_port;
  if (!t) return CURL_PREREQFUNC_ABORT;
  vn_engine_connected(t);
  if (++t->sends > 1) {
    t->sends = 1;
    t->failure = FAIL_RESEND;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

/* Reads a Lua file handle's FILE* for an upload part; the handle is anchored by the transfer. */
static size_t mime_read_file(char *buf, size_t size, size_t nitems, void *arg) {
  size_t n = fread(buf, 1, size * nitems, (FILE *)arg);
  if (n == 0 && ferror((FILE *)arg)) return CURL_READFUNC_ABORT;
  return n;
}

/* }==================== */

/* {==================== the transfer's life ==================== */

void vn_transfer_finish(vn_transfer *t, CURLcode rc) {
  vn_engine_remove(t);
  t->result = rc;
  t->done = 1;
  if (!t->headers_done) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  if (t->mode == MODE_FILE) close_output(t, rc == CURLE_OK && t->failure == FAIL_NONE);
}

/* The transfer at index 1, open: every method but close, cancel, done and ready refuses a closed one. */
static vn_transfer *to_transfer(lua_State *L);

static vn_transfer *check_transfer(lua_State *L) {
  vn_transfer *t = to_transfer(L);
  if (t->closed) luaL_error(L, "attempt to use a closed transfer");
  return t;
}

/* The transfer at index 1. Every function of the transfer's metatable has that metatable as its
 * first upvalue: comparing with it spares luaL_checkudata's look-up of the metatable by name,
 * which still gives the error message for anything else. */
static vn_transfer *to_transfer(lua_State *L) {
  void *p = lua_touserdata(L, 1);
  if (p && lua_getmetatable(L, 1)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    if (same) return (vn_transfer *)p;
  }
  return (vn_transfer *)luaL_checkudata(L, 1, TRANSFER_MT);
}

/* Hands a transfer's buffer back to its handle, emptied, for the next transfer; a large one is
 * freed instead. */
#define BUFFER_KEEP_MAX ((size_t)64 << 10)
static void keep_buffer(vn_buf *to, vn_buf *from) {
  if (from->cap <= BUFFER_KEEP_MAX && !to->p) {
    *to = *from;
    to->len = 0;
  } else {
    vn_buf_free(from);
  }
  from->p = NULL;
  from->len = from->cap = 0;
}

/* The one release path for :close(), __gc and __close, and for a request that fails to start. */
static void transfer_release(lua_State *L, vn_transfer *t) {
  if (t->closed) return;
  t->closed = 1;
  if (t->eng) t->eng->L = L;   /* removing the handle may call the loop hook */
  vn_engine_remove(t);
  close_output(t, 0);   /* closed before the body was complete: the old file stays */
  if (t->h) {
    vn_handle *h = t->h;
    keep_buffer(&h->hdrs, &t->hdrs);
    keep_buffer(&h->body, &t->body);
    /* the usual options are all set again by the next transfer, and the CA and proxy options
     * compared (set_kept): a reset is needed only after options that it would not override
     * (insecure, uploads, custom methods), or when this transfer stopped before all of its
     * options were set */
    if (t->paused) vn_handle_free(h);   /* a paused handle holds data of its own */
    else vn_engine_give(t->eng, h, t->unusual || !t->ready);
    t->h = NULL;
    t->easy = NULL;
  }
  free(t->req_headers);   /* one block (set_headers), not a list of libcurl's */
  t->req_headers = NULL;
  if (t->mime) curl_mime_free(t->mime);
  t->mime = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, t->anchor_ref);
  t->anchor_ref = LUA_NOREF;
  vn_buf_free(&t->hdrs);
  vn_buf_free(&t->body);
  vn_buf_free(&t->events);
  vn_sse_free(&t->sse);
  free(t->out_path);
  t->out_path = NULL;
}

/* Raises a setup failure of a transfer still being made: released first. */
static int setup_error(lua_State *L, vn_transfer *t, const char *what) {
  transfer_release(L, t);
  return luaL_error(L, "venice: %s", what);
}

/* Options that security depends on must be taken: a refusal fails the request. */
static void must_set(lua_State *L, vn_transfer *t, CURLcode rc, const char *option) {
  char msg[160];
  if (rc == CURLE_OK) return;
  snprintf(msg, sizeof msg, "libcurl refused %s: %s", option, curl_easy_strerror(rc));
  setup_error(L, t, msg);
}

/* Keeps the value at idx alive as long as the transfer (a body string, an upload's file handle). */
static void anchor(lua_State *L, vn_transfer *t, int idx) {
  idx = lua_absindex(L, idx);
  if (t->anchor_ref == LUA_NOREF) {
    lua_createtable(L, 2, 0);
    t->anchor_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->anchor_ref);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

/* }==================== */

/* {==================== reading core.request's options ==================== */

/* The options core.request knows. The table is read in one pass (lua_next: its own fields only,
 * no __index): each option's value is left on the stack, at opts.at[option] (0: absent), where it
 * stays until core.request returns; a number given where a string is wanted is converted there,
 * so its string lives as long. Unknown fields are ignored. */
enum {
  O_URL, O_METHOD, O_HEADERS, O_BODY, O_MIME, O_TIMEOUT, O_CONNECT_TIMEOUT, O_IDLE_TIMEOUT, O_SSE,
  O_OUTPUT, O_OUTPUT_ANY, O_MAX_BODY, O_MAX_EVENT, O_MAX_BUFFERED, O_PROXY, O_NOPROXY, O_CA_FILE,
  O_CA_PATH, O_INSECURE, O_HTTP_VERSION, O_MAX_CONNECTION_AGE, O_COUNT
};

#define OPT(name) { name, sizeof name - 1 }
static const struct { const char *name; size_t len; } OPTIONS[O_COUNT] = {
  OPT("url"), OPT("method"), OPT("headers"), OPT("body"), OPT("mime"), OPT("timeout"),
  OPT("connect_timeout"), OPT("idle_timeout"), OPT("sse"), OPT("output"), OPT("output_any"),
  OPT("max_body"), OPT("max_event"), OPT("max_buffered"), OPT("proxy"), OPT("noproxy"),
  OPT("ca_file"), OPT("ca_path"), OPT("insecure"), OPT("http_version"), OPT("max_connection_age")
};
#undef OPT

/* A client's transport options, taken once from a table by core.transport: kept as they were
 * given (a number, a string copied, true), and checked, like the request's own, by each request
 * that uses them. */
#define TRANSPORT_MT "venice.Transport"
typedef struct vn_transport {
  unsigned char type[O_COUNT];   /* LUA_TNIL (0): absent; else the Lua type of the value given */
  double num[O_COUNT];
  char *str[O_COUNT];            /* the value as a string, when it is one or a number */
} vn_transport;

/* The options of a transport: the others are the request's alone. */
static int transport_option(int k) {
  return k == O_TIMEOUT || k == O_CONNECT_TIMEOUT || k == O_IDLE_TIMEOUT || k == O_MAX_BODY ||
         k == O_MAX_EVENT || k == O_MAX_BUFFERED || k == O_PROXY || k == O_NOPROXY || k == O_CA_FILE ||
         k == O_CA_PATH || k == O_INSECURE || k == O_HTTP_VERSION || k == O_MAX_CONNECTION_AGE;
}

/* at[k]: the stack index of option k's value (0: absent); d: the defaults of a transport. */
typedef struct vn_opts { int at[O_COUNT]; const vn_transport *d; } vn_opts;

static int option_of(const char *k, size_t n) {
  int i;
  for (i = 0; i < O_COUNT; i++)
    if (OPTIONS[i].len == n && OPTIONS[i].name[0] == k[0] && memcmp(OPTIONS[i].name, k, n) == 0) return i;
  return -1;
}

/* Reads the table at index idx into o, the options o has no value for yet (with transport set,
 * only a transport's); their values go on the stack. nil and false are absent: a default
 * (core.request's second argument) applies. */
static int transport_option(int k);
static void read_options(lua_State *L, int idx, vn_opts *o, int transport) {
  luaL_checkstack(L, O_COUNT + 4, "core.request");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int k = -1;
    if (lua_type(L, -2) == LUA_TSTRING && lua_toboolean(L, -1)) {
      size_t n;
      const char *key = lua_tolstring(L, -2, &n);   /* already a string: lua_next is not disturbed */
      k = n > 0 ? option_of(key, n) : -1;
    }
    if (k < 0 || o->at[k] || (transport && !transport_option(k))) {
      lua_pop(L, 1);
      continue;
    }
    lua_insert(L, -2);              /* the value stays below the key */
    o->at[k] = lua_gettop(L) - 1;
  }
}

static const char *opt_string(const vn_opts *o, lua_State *L, int k) {
  if (o->at[k]) return lua_tostring(L, o->at[k]);
  return o->d ? o->d->str[k] : NULL;
}

static int opt_bool(const vn_opts *o, lua_State *L, int k) {
  if (o->at[k]) return lua_toboolean(L, o->at[k]);
  return o->d && o->d->type[k] != LUA_TNIL;   /* false was never kept */
}

/* Field k of a table as a string (mime parts). */
static const char *field_string(lua_State *L, int idx, const char *k) {
  const char *s;
  lua_getfield(L, idx, k);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the string stays reachable from the table */
  return s;
}

/* Option k as a number from 0 to max, integral when integral is set; absent (nil or false) is 0.
 * NaN, infinities, negatives and values past max raise: nothing is clamped, and no float that
 * does not fit reaches an integer cast. */
static double opt_range(lua_State *L, vn_transfer *t, const vn_opts *o, int k, double max, int integral) {
  double v = 0;
  int ok, at = o->at[k], type;
  if (at) {
    type = lua_type(L, at);
    if (type == LUA_TBOOLEAN && !lua_toboolean(L, at)) type = LUA_TNIL;
    if (type == LUA_TNUMBER) v = lua_tonumber(L, at);
  } else {
    type = o->d ? o->d->type[k] : LUA_TNIL;
    if (type == LUA_TNUMBER) v = o->d->num[k];
  }
  ok = type == LUA_TNIL;
  if (type == LUA_TNUMBER) ok = v >= 0 && v <= max && (!integral || v == (double)(long long)v);
  if (!ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be %s from 0 to %.0f", OPTIONS[k].name,
             integral ? "a whole number" : "a number", max);
    setup_error(L, t, msg);
  }
  return v;
}

static double opt_seconds(lua_State *L, vn_transfer *t, const vn_opts *o, int k) {
  return opt_range(L, t, o, k, MAX_SECONDS, 0);
}

static size_t opt_bytes(lua_State *L, vn_transfer *t, const vn_opts *o, int k) {
  return (size_t)opt_range(L, t, o, k, MAX_BYTES, 1);
}

static FILE *to_file(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 502
  luaL_Stream *s = (luaL_Stream *)luaL_testudata(L, idx, LUA_FILEHANDLE);
  return s && s->closef ? s->f : NULL;
#else
  FILE **f = (FILE **)luaL_testudata(L, idx, LUA_FILEHANDLE);
  return f ? *f : NULL;
#endif
}

/* }==================== */

/* {==================== core.request, one setter per group of options ==================== */

/* The transfer object, with a pooled or new easy handle; pushed on the stack. */
static vn_transfer *set_pool(lua_State *L, vn_engine *e) {
  vn_transfer *t = (vn_transfer *)lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  t->anchor_ref = LUA_NOREF;
  t->closed = 1;   /* made closed, given its metatable, only then opened */
  lua_pushvalue(L, lua_upvalueindex(1));   /* core.request's upvalue: the transfer's metatable */
  lua_setmetatable(L, -2);
  t->h = vn_engine_take(e);
  if (!t->h) luaL_error(L, "venice: cannot create a libcurl handle");
  t->easy = t->h->easy;
  t->h->t = t;
  t->h->errbuf[0] = '\0';
  t->hdrs = t->h->hdrs;   /* the handle's buffers, emptied: the transfer's until it is released */
  t->body = t->h->body;
  memset(&t->h->hdrs, 0, sizeof t->h->hdrs);
  memset(&t->h->body, 0, sizeof t->h->body);
  t->closed = 0;
  t->eng = e;
  return t;
}

/* What the transfer keeps of the response: event cap, body cap, stream or file. */
static void set_receiving(lua_State *L, vn_transfer *t, const vn_opts *o) {
  const char *s;
  vn_sse_init(&t->sse, opt_bytes(L, t, o, O_MAX_EVENT));
  t->max_body = opt_bytes(L, t, o, O_MAX_BODY);
  t->want_sse = opt_bool(o, L, O_SSE);
  t->output_any = opt_bool(o, L, O_OUTPUT_ANY);
  t->max_queue = opt_bytes(L, t, o, O_MAX_BUFFERED);
  if (t->max_queue == 0) t->max_queue = QUEUE_MAX_DEFAULT;
  if ((s = opt_string(o, L, O_OUTPUT)) != NULL) {
    t->out_path = strdup(s);
    if (!t->out_path) setup_error(L, t, "out of memory");
  }
}

/* The same for every transfer: kept by a pooled handle that was not reset. libcurl's callbacks get
 * the handle, which tells them its transfer. */
static void set_shared(lua_State *L, vn_transfer *t) {
  CURL *c = t->easy;
  vn_handle *h = t->h;
  if (h->shared) return;
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)h);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, h);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  must_set(L, t, curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq), "CURLOPT_PREREQFUNCTION");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  must_set(L, t, curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR");
  if (t->eng->share) curl_easy_setopt(c, CURLOPT_SHARE, t->eng->share);
  h->shared = 1;
}

/* The HTTP version asked for: "2" (HTTP/2 over TLS when the server offers it, and over plain
 * http with prior knowledge), "1.1", or absent: HTTP/2 over TLS when offered, else HTTP/1.1.
 * *wait tells whether the transfer may multiplex: then, starting while another's connection to
 * the same host is still being made, it waits to learn whether that one multiplexes rather than
 * open one more (CURLOPT_PIPEWAIT). Over TLS that is known once the handshake is done; over plain
 * HTTP/1.1 libcurl would learn it only from a whole response, so it never waits there. */
static long http_version_of(lua_State *L, vn_transfer *t, const vn_opts *o, const char *url, long *wait) {
  const char *s = opt_string(o, L, O_HTTP_VERSION);
  int tls = 0, i;
  for (i = 0; url && i < 6 && url[i] && ("https:"[i] == url[i] || "HTTPS:"[i] == url[i]); i++) {}
  tls = i == 6;
  *wait = tls;
  if (!s) return CURL_HTTP_VERSION_2TLS;
  if (strcmp(s, "1.1") == 0) {
    *wait = 0;
    return CURL_HTTP_VERSION_1_1;
  }
  if (strcmp(s, "2") == 0) {
    *wait = 1;
    return tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
  }
  setup_error(L, t, "http_version must be \"1.1\" or \"2\"");
  return 0;
}

static int same_string(const char *a, const char *b) {
  return a ? b && strcmp(a, b) == 0 : b == NULL;
}

/* A string option the handle keeps in *kept (NULL: libcurl's default, which setting NULL brings
 * back): set only when the transfer asks for another value than the handle has. */
static void keep_string(lua_State *L, vn_transfer *t, char **kept, const char *s, CURLoption opt, const char *name) {
  char *copy = NULL;
  if (same_string(s, *kept)) return;
  free(*kept);
  *kept = NULL;   /* until the handle surely has s: a failure below resets it (t->ready unset) */
  must_set(L, t, curl_easy_setopt(t->easy, opt, s), name);
  if (s && (copy = strdup(s)) == NULL) setup_error(L, t, "out of memory");
  *kept = copy;
}

/* The CA file and directory (ca_file, ca_path) and the proxy (proxy, noproxy): a program gives the
 * same ones to every request, so a pooled handle keeps them (h->ca_file, ...) and a transfer asking
 * for the same ones sets nothing. A proxy option the transfer does not ask for goes back to
 * libcurl's default (the environment's proxy); a CA option comes back to the default only with a
 * reset, so a handle with CA options other than the transfer's is reset first, before any other
 * option is set. */
static void set_kept(lua_State *L, vn_transfer *t, const vn_opts *o) {
  vn_handle *h = t->h;
  const char *file = opt_string(o, L, O_CA_FILE), *path = opt_string(o, L, O_CA_PATH);
  if (!same_string(file, h->ca_file) || !same_string(path, h->ca_path)) {
    if (h->ca_file || h->ca_path) vn_handle_reset(h);
    keep_string(L, t, &h->ca_file, file, CURLOPT_CAINFO, "CURLOPT_CAINFO");
    keep_string(L, t, &h->ca_path, path, CURLOPT_CAPATH, "CURLOPT_CAPATH");
  }
  keep_string(L, t, &h->proxy, opt_string(o, L, O_PROXY), CURLOPT_PROXY, "CURLOPT_PROXY");
  keep_string(L, t, &h->noproxy, opt_string(o, L, O_NOPROXY), CURLOPT_NOPROXY, "CURLOPT_NOPROXY");
}

/* The usual options: every transfer has each of them, so none carries over; one the handle
 * already has with the same value (from its last transfer, h->known) is not set again. */
static void set_usual(lua_State *L, vn_transfer *t, const vn_opts *o, const char *url) {
  CURL *c = t->easy;
  vn_handle *h = t->h;
  double v;
  long n, wait = 0, version;
  if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK) setup_error(L, t, "invalid url");
  v = opt_seconds(L, t, o, O_TIMEOUT);
  n = (long)(v * 1000);   /* 0: none */
  if (!h->known || h->timeout_ms != n) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms = n);
  v = opt_seconds(L, t, o, O_CONNECT_TIMEOUT);
  n = (long)(v * 1000);   /* 0: libcurl's */
  if (!h->known || h->connect_ms != n) curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms = n);
  t->idle_s = opt_seconds(L, t, o, O_IDLE_TIMEOUT);
  v = opt_seconds(L, t, o, O_MAX_CONNECTION_AGE);
  n = (long)(v > 0 ? v : VN_MAX_CONNECTION_AGE);
  if (!h->known || h->maxage != n) curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, h->maxage = n);
  version = http_version_of(L, t, o, url, &wait);
  if (!h->known || h->version != version) curl_easy_setopt(c, CURLOPT_HTTP_VERSION, h->version = version);
  if (!h->known || h->wait != wait) curl_easy_setopt(c, CURLOPT_PIPEWAIT, h->wait = wait);
  h->known = 1;
}

/* The unusual ones: a handle that had any of them is reset before its next transfer. */
static void set_unusual(lua_State *L, vn_transfer *t, const vn_opts *o) {
  CURL *c = t->easy;
  if (opt_bool(o, L, O_INSECURE)) {
    t->unusual = 1;
    must_set(L, t, curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L), "CURLOPT_SSL_VERIFYPEER");
    must_set(L, t, curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L), "CURLOPT_SSL_VERIFYHOST");
  }
}

/* The request headers: a list of "Name: value" lines (each up to its first NUL, as libcurl's own
 * lists take them), "Accept-Encoding: gzip" unless the list names an Accept-Encoding of its own
 * (sent from here rather than formatted again by libcurl for every request; CURLOPT_ACCEPT_ENCODING
 * still has libcurl decode the body), and "Expect:" when asked for. The list's nodes and lines are
 * one block of memory owned by the transfer, which libcurl only reads. */
static void set_headers(lua_State *L, vn_transfer *t, const vn_opts *o, int expect) {
  static const char EXPECT_NONE[] = "Expect:", GZIP[] = "Accept-Encoding: gzip";
  int at = o->at[O_HEADERS], base = lua_gettop(L), i, n = 0, gzip = 1, extra;
  size_t bytes = 0;
  struct curl_slist *nodes;
  char *text;
  if (at && lua_istable(L, at)) {
    int len = (int)lua_rawlen(L, at);
    luaL_checkstack(L, len > 0 ? len : 1, "too many request headers");
    for (i = 1; i <= len; i++) {
      const char *s;
      lua_rawgeti(L, at, i);
      s = lua_tostring(L, -1);   /* other values are skipped; a number stays here as a string */
      if (s) {
        size_t sl = strlen(s);
        if (gzip && sl >= 16 && (s[0] == 'a' || s[0] == 'A') && vn_ieq(s, "accept-encoding:", 16)) gzip = 0;
        bytes += sl + 1;
        n++;
      } else {
        lua_pop(L, 1);
      }
    }
  }
  if (expect) bytes += sizeof EXPECT_NONE;
  if (gzip) bytes += sizeof GZIP;
  extra = expect + gzip;
  nodes = (struct curl_slist *)malloc((size_t)(n + extra) * sizeof *nodes + bytes);
  if (!nodes) setup_error(L, t, "out of memory");
  t->req_headers = nodes;
  text = (char *)(nodes + n + extra);
  for (i = 0; i < n + extra; i++) {
    const char *s = i < n ? lua_tostring(L, base + 1 + i) : (i == n && gzip) ? GZIP : EXPECT_NONE;
    size_t len = strlen(s) + 1;
    memcpy(text, s, len);
    nodes[i].data = text;
    nodes[i].next = i + 1 < n + extra ? &nodes[i + 1] : NULL;
    text += len;
  }
  lua_settop(L, base);
}

/* The part's file handle, positioned at its offset, anchored; NULL with *why set on failure. */
static FILE *part_file(lua_State *L, vn_transfer *t, int pi, const char **why) {
  FILE *f;
  lua_getfield(L, pi, "file");
  f = to_file(L, -1);
  if (f) anchor(L, t, -1);
  lua_pop(L, 1);
  if (!f) {
    *why = "a multipart part needs data, path or an open file";
    return NULL;
  }
  lua_getfield(L, pi, "offset");   /* where the upload starts: the same on every retry */
  if (lua_type(L, -1) == LUA_TNUMBER) {
    double off = lua_tonumber(L, -1);
    if (!(off >= 0 && off <= 2147483647.0 && off == (double)(long)off)) {
      lua_pop(L, 1);
      *why = "a multipart part's offset must be a whole number from 0 to 2147483647";
      return NULL;
    }
    fseek(f, (long)off, SEEK_SET);
  }
  lua_pop(L, 1);
  return f;
}

/* Builds the multipart body from a list of parts
 *   { name = "image", data = <string> | path = <file path> | file = <open file handle>,
 *     offset = <where to start reading the file handle>, filename = "x.png", type = "image/png" }
 * Returns NULL, or a message on failure. */
static const char *build_mime(lua_State *L, vn_transfer *t, int idx) {
  size_t i, n = (size_t)lua_rawlen(L, idx);
  t->mime = curl_mime_init(t->easy);
  if (!t->mime) return "cannot create a multipart body";
  for (i = 1; i <= n; i++) {
    curl_mimepart *part = curl_mime_addpart(t->mime);
    const char *name, *path, *fname, *ctype, *why = NULL;
    int pi;
    lua_rawgeti(L, idx, (int)i);
    pi = lua_gettop(L);
    if (!lua_istable(L, pi)) return "a multipart part must be a table";
    name = field_string(L, pi, "name");
    path = field_string(L, pi, "path");
    fname = field_string(L, pi, "filename");
    ctype = field_string(L, pi, "type");
    if (!name) return "a multipart part needs a name";
    curl_mime_name(part, name);
    lua_getfield(L, pi, "data");
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *d = lua_tolstring(L, -1, &len);
      curl_mime_data(part, d, len);   /* copied by libcurl */
    } else if (path) {
      if (curl_mime_filedata(part, path) != CURLE_OK) return "cannot read an upload file";
    } else {
      FILE *f = part_file(L, t, pi, &why);
      long pos, end = -1;
      if (!f) return why;
      pos = ftell(f);
      if (pos >= 0 && fseek(f, 0, SEEK_END) == 0) {
        end = ftell(f);
        fseek(f, pos, SEEK_SET);
      }
      curl_mime_data_cb(part, end >= pos && pos >= 0 ? (curl_off_t)(end - pos) : -1,
                        mime_read_file, NULL, NULL, f);
    }
    lua_pop(L, 1);
    if (fname) curl_mime_filename(part, fname);
    if (ctype) curl_mime_type(part, ctype);
    lua_pop(L, 1);
  }
  return NULL;
}

/* Bodies up to this size are copied into the handle (CURLOPT_COPYPOSTFIELDS); larger ones are
 * read in place from their Lua string, kept alive by the transfer. */
#define BODY_COPY_MAX ((size_t)64 << 10)

/* The body (a string, or multipart parts), the method and the headers. */
static void set_body_and_method(lua_State *L, vn_transfer *t, const vn_opts *o, const char *method) {
  CURL *c = t->easy;
  size_t len = 0;
  int has_body = 0, at = o->at[O_MIME];
  if (at && lua_istable(L, at)) {
    const char *err;
    t->unusual = 1;
    err = build_mime(L, t, at);
    if (err) setup_error(L, t, err);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, t->mime);
    has_body = 1;
  }
  at = o->at[O_BODY];
  if (!t->mime && at && lua_type(L, at) == LUA_TSTRING) {
    const char *b = lua_tolstring(L, at, &len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (len <= BODY_COPY_MAX) {
      must_set(L, t, curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, b), "CURLOPT_COPYPOSTFIELDS");
    } else {
      anchor(L, t, at);   /* no copy: the string lives as long as the transfer */
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);
    }
    has_body = 1;
  } else if (!t->mime && strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  } else if (!t->mime) {   /* no body: a pooled handle may still hold the last POST's, a GET forgets it */
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  /* no 100-continue round trip (libcurl asks for one on bodies of 1 MiB and more, and on uploads) */
  set_headers(L, t, o, len >= ((size_t)1 << 20) || t->mime);
  if (strcmp(method, "GET") == 0) {
    if (has_body) {   /* a GET with a body */
      t->unusual = 1;
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
  } else if (strcmp(method, "HEAD") == 0) {
    t->unusual = 1;
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "POST") != 0) {
    t->unusual = 1;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->req_headers);
}

/* core.request(opts [, defaults]) -> transfer
 * opts: url, method, headers (list of "Name: value"), body (string), mime (list of parts),
 * timeout, connect_timeout, idle_timeout (seconds; 0 or absent = none), sse (decode an event
 * stream), output (path for a successful body of a stated type other than JSON; with output_any,
 * for any successful body), max_body (bytes held in memory),
 * max_event (SSE cap), max_buffered (unread event bytes before the transfer pauses; 0 or absent:
 * 4 MiB), proxy, noproxy, ca_file, ca_path, insecure, http_version, max_connection_age.
 * defaults: a transport (core.transport) or a table of a transport's options (a client's), for
 * those opts leaves nil or false.
 * The transfer starts at once; core.step() moves it on. */
static int l_request(lua_State *L) {
  vn_engine *e = vn_engine_get(L);
  vn_transfer *t;
  vn_opts o;
  const char *url, *method;
  int ti;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  memset(&o, 0, sizeof o);
  o.d = NULL;
  if (lua_touserdata(L, 2) && lua_getmetatable(L, 2)) {   /* upvalue 2: a transport's metatable */
    if (lua_rawequal(L, -1, lua_upvalueindex(2))) o.d = (const vn_transport *)lua_touserdata(L, 2);
    lua_pop(L, 1);
  }
  if (!o.d && !lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  read_options(L, 1, &o, 0);
  if (lua_istable(L, 2)) read_options(L, 2, &o, 1);
  url = opt_string(&o, L, O_URL);
  if (!url) return luaL_argerror(L, 1, "url is required");
  method = opt_string(&o, L, O_METHOD);
  if (!method) method = "GET";
  t = set_pool(L, e);
  ti = lua_gettop(L);
  set_receiving(L, t, &o);
  set_kept(L, t, &o);
  set_shared(L, t);
  set_usual(L, t, &o, url);
  set_unusual(L, t, &o);
  set_body_and_method(L, t, &o, method);
  t->ready = 1;
  t->started = t->last_activity = vn_now();
  if (vn_engine_add(e, t, url) != 0) return setup_error(L, t, "cannot start a transfer");
  lua_settop(L, ti);
  return 1;
}

/* core.transport(opts) -> transport: a client's transport options (timeout, connect_timeout,
 * idle_timeout, max_body, max_event, max_buffered, proxy, noproxy, ca_file, ca_path, insecure,
 * http_version, max_connection_age; others are ignored), taken once, for core.request's second
 * argument. nil and false are absent. */
static int l_transport(lua_State *L) {
  vn_transport *d;
  vn_opts o;
  int k;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  d = (vn_transport *)lua_newuserdata(L, sizeof *d);
  memset(d, 0, sizeof *d);
  luaL_setmetatable(L, TRANSPORT_MT);   /* from here on __gc frees what is copied */
  memset(&o, 0, sizeof o);
  read_options(L, 1, &o, 1);
  for (k = 0; k < O_COUNT; k++) {
    const char *s;
    if (!o.at[k]) continue;
    d->type[k] = (unsigned char)lua_type(L, o.at[k]);
    if (d->type[k] == LUA_TNUMBER) d->num[k] = lua_tonumber(L, o.at[k]);
    if ((s = lua_tostring(L, o.at[k])) != NULL && (d->str[k] = strdup(s)) == NULL)
      return luaL_error(L, "venice: out of memory");
  }
  lua_pushvalue(L, 2);
  return 1;
}

static int l_transport_gc(lua_State *L) {
  vn_transport *d = (vn_transport *)luaL_checkudata(L, 1, TRANSPORT_MT);
  int k;
  for (k = 0; k < O_COUNT; k++) {
    free(d->str[k]);
    d->str[k] = NULL;
  }
  return 0;
}

/* }==================== */

/* {==================== the transfer's methods ==================== */

static int l_transfer_close(lua_State *L) {
  transfer_release(L, to_transfer(L));
  return 0;
}

/* t:cancel(): aborts at once inside libcurl (the connection is closed, the server sees it). */
static int l_transfer_cancel(lua_State *L) {
  vn_transfer *t = to_transfer(L);
  if (t->running) {
    t->eng->L = L;
    t->failure = FAIL_CANCEL;
    vn_transfer_finish(t, CURLE_ABORTED_BY_CALLBACK);
  }
  return 0;
}

/* t:done() -> finished (successfully or not); a closed transfer is done */
static int l_transfer_done(lua_State *L) {
  vn_transfer *t = to_transfer(L);
  lua_pushboolean(L, t->done || t->closed);
  return 1;
}

/* t:ready(what) -> whether waiting for `what` ("done", "headers", "event") can stop; a closed
 * transfer has nothing more to wait for */
static int l_transfer_ready(lua_State *L) {
  vn_transfer *t = to_transfer(L);
  const char *what = luaL_optstring(L, 2, "done");
  int r = t->done || t->closed;
  if (!r && what[0] == 'h') r = t->headers_done;
  else if (!r && what[0] == 'e') r = t->ev_read < t->events.len;
  lua_pushboolean(L, r);
  return 1;
}

static int l_transfer_status(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  lua_pushinteger(L, t->status);
  return 1;
}

/* {==================== response headers ====================
 * One form is kept: the block "name\0value\0..." (names lower-case, in arrival order) that
 * on_header builds. Every table or value handed to Lua is read from it by the two functions
 * below, so repeated names read the same everywhere: joined with ", " (RFC 9110 5.3), except
 * set-cookie, whose values may hold commas themselves: joined with "\n". */

static const char *header_sep(const char *name) {
  return strcmp(name, "set-cookie") == 0 ? "\n" : ", ";
}

/* The next "name\0value\0" pair of block[*i .. len); 0 at the end (or on a truncated block). */
static int header_next(const char *block, size_t len, size_t *i, const char **k, const char **v) {
  const char *end = block + len, *z1, *z2;
  if (*i >= len) return 0;
  *k = block + *i;
  z1 = (const char *)memchr(*k, '\0', (size_t)(end - *k));
  if (!z1) return 0;
  *v = z1 + 1;
  z2 = (const char *)memchr(*v, '\0', (size_t)(end - *v));
  if (!z2) return 0;
  *i = (size_t)(z2 + 1 - block);
  return 1;
}

/* Pushes { [name] = value } of a header block. */
static void headers_push(lua_State *L, const char *block, size_t len) {
  size_t i = 0;
  const char *k, *v;
  lua_newtable(L);
  while (header_next(block, len, &i, &k, &v)) {
    lua_getfield(L, -1, k);
    if (lua_isstring(L, -1)) {
      lua_pushstring(L, header_sep(k));
      lua_pushstring(L, v);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushstring(L, v);
    }
    lua_setfield(L, -2, k);
  }
}

/* Pushes the value of one header of a block (repeats joined), or nothing: returns 1 or 0. */
static int header_push(lua_State *L, const char *block, size_t len, const char *name) {
  size_t i = 0;
  int found = 0;
  const char *k, *v;
  while (header_next(block, len, &i, &k, &v)) {
    if (strcmp(k, name) != 0) continue;
    if (found) {
      lua_pushstring(L, header_sep(name));
      lua_pushstring(L, v);
      lua_concat(L, 3);
    } else {
      lua_pushstring(L, v);
      found = 1;
    }
  }
  return found;
}

/* Pushes t's headers as a table. */
static void push_headers(lua_State *L, vn_transfer *t) {
  headers_push(L, t->hdrs.p ? t->hdrs.p : "", t->hdrs.len);
}

/* core.headers(block) -> the table t:headers() gives, from a block t:header_block() gave */
static int l_headers(lua_State *L) {
  size_t len;
  const char *block = luaL_checklstring(L, 1, &len);
  headers_push(L, block, len);
  return 1;
}

/* t:headers() -> { [lower-case name] = value } */
static int l_transfer_headers(lua_State *L) {
  push_headers(L, check_transfer(L));
  return 1;
}

/* t:header(name) -> the value of one response header (lower-case name), as t:headers() has it */
static int l_transfer_header(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  const char *name = luaL_checkstring(L, 2);
  return header_push(L, t->hdrs.p ? t->hdrs.p : "", t->hdrs.len, name);
}

/* t:header_block() -> every response header as one string "name\0value\0...": kept as it is and
 * read only when asked (venice.meta), which spares a table per request */
static int l_transfer_header_block(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  lua_pushlstring(L, t->hdrs.p ? t->hdrs.p : "", t->hdrs.len);
  return 1;
}

static int l_transfer_body(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  lua_pushlstring(L, t->body.p ? t->body.p : "", t->body.len);
  return 1;
}

/* t:json() -> value | nil, message: the body decoded straight from the receive buffer */
static int l_transfer_json(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  char err[128];
  if (vn_json_decode(L, t->body.p ? t->body.p : "", t->body.len, err, sizeof err)) return 1;
  lua_pushnil(L);
  lua_pushstring(L, err);
  return 2;
}

/* Resumes a transfer paused on a full queue once the reader has read half of it. Called only
 * after the event's values are on the Lua stack: libcurl hands over the bytes it kept from inside
 * curl_easy_pause, and the queue may move. libcurl also arms its timer to go on at once, so a loop
 * driven by the hook (venice.uv) resumes without waiting for a socket to become readable. */
static void transfer_resume(lua_State *L, vn_transfer *t) {
  if (!t->paused || !t->running || queue_unread(t) > t->max_queue / 2) return;
  t->paused = 0;
  t->last_activity = vn_now();
  t->eng->L = L;   /* the loop hook may run */
  t->eng->activity = 1;
  curl_easy_pause(t->easy, CURLPAUSE_CONT);
}

/* Pushes the next queued event as t:next_event(decode) returns it; returns how many values.
 * *message (when given) says whether the event's type is "message". */
static int push_next_event(lua_State *L, vn_transfer *t, int decode, int *message) {
  size_t lens[3];
  const char *p;
  if (t->ev_read >= t->events.len) return 0;
  memcpy(lens, t->events.p + t->ev_read, sizeof lens);
  p = t->events.p + t->ev_read + sizeof lens;
  if (message) *message = lens[0] == 7 && memcmp(p, "message", 7) == 0;
  t->ev_read += sizeof lens + lens[0] + lens[1] + lens[2];
  if (t->ev_read >= t->events.len) t->ev_read = t->events.len = 0;   /* drained: reuse from the start */
  if (!decode) {
    lua_pushlstring(L, p + lens[0], lens[1]);
  } else if (lens[1] == 6 && memcmp(p + lens[0], "[DONE]", 6) == 0) {
    lua_pushlightuserdata(L, (void *)&VN_DONE_TAG);
  } else {
    char err[128];
    if (!vn_json_decode(L, p + lens[0], lens[1], err, sizeof err)) {
      lua_pushboolean(L, 0);
      lua_pushlstring(L, p, lens[0]);
      lua_pushlstring(L, p + lens[0] + lens[1], lens[2]);
      lua_pushstring(L, err);
      transfer_resume(L, t);
      return 4;
    }
  }
  lua_pushlstring(L, p, lens[0]);
  lua_pushlstring(L, p + lens[0] + lens[1], lens[2]);
  transfer_resume(L, t);
  return 3;
}

/* t:next_event([decode]) -> data, type, id
 *   nil when no event is queued; data is the raw string, or with decode the JSON value
 *   (core.DONE for "[DONE]"; false, type, id, message when the data is not JSON). */
static int l_transfer_next_event(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  return push_next_event(L, t, lua_toboolean(L, 2), NULL);
}

/* The keys common_chunk reads, in next_chunk's upvalues from 2 on (1 is the transfer's metatable),
 * so that reading a field costs no look-up of its name. */
enum { K_ERROR, K_TYPE, K_VP, K_USAGE, K_ID, K_CREATED, K_MODEL, K_FP, K_C1, K_HM, K_CHOICES, K_INDEX,
  K_FINISH, K_LOGPROBS, K_DELTA, K_ROLE, K_REASONING, K_TOOL_CALLS, K_CONTENT, K_COUNT };
static const char *const CHUNK_KEYS[K_COUNT] = { "error", "type", "venice_parameters", "usage",
  "id", "created", "model", "system_fingerprint", "c1", "hm", "choices", "index", "finish_reason",
  "logprobs", "delta", "role", "reasoning_content", "tool_calls", "content" };

/* The type of field k of the table at (absolute) idx, its value pushed. Raw: decoded objects have
 * no metatable, and the array metatable of decoded empty arrays has no __index. */
static int field_type(lua_State *L, int idx, int k) {
  lua_pushvalue(L, lua_upvalueindex(2 + k));
#if LUA_VERSION_NUM >= 503
  return lua_rawget(L, idx);
#else
  lua_rawget(L, idx);
  return lua_type(L, -1);
#endif
}

/* Whether the decoded value at v is a common chat chunk, and if so appends its content to
 * acc.c1. Common: no error, type, venice_parameters or usage (null counts as none), no header
 * field (id, created, model, system_fingerprint) that acc has not taken yet (acc.hm: a bit for
 * each field acc lacks, in that order from bit 0), one choice, at
 * index 0, with no finish_reason or logprobs (or null), whose delta (if a table) brings no role,
 * reasoning_content or tool_calls; acc.c1 is the content list of choice 0. A null of a freshly
 * decoded value is the only light userdata it can hold. Leaves the stack as it found it. */
static int common_chunk(lua_State *L, int v, int acc) {
  static const int head[] = { K_ID, K_CREATED, K_MODEL, K_FP };
  int top = lua_gettop(L), ok = 0, i, list, c, d, c1, ty, hm;
  if (lua_type(L, v) != LUA_TTABLE || lua_type(L, acc) != LUA_TTABLE) return 0;
  if (!lua_checkstack(L, 24)) return 0;   /* the fields below stay on the stack until the end */
  if (field_type(L, v, K_ERROR) != LUA_TNIL || field_type(L, v, K_TYPE) != LUA_TNIL
      || field_type(L, v, K_VP) != LUA_TNIL) goto out;
  ty = field_type(L, v, K_USAGE);
  if (ty != LUA_TNIL && ty != LUA_TLIGHTUSERDATA) goto out;
  if (field_type(L, acc, K_HM) != LUA_TNUMBER) goto out;
  hm = (int)lua_tointeger(L, -1);
  for (i = 0; i < 4; i++) {
    if ((hm & (1 << i)) && field_type(L, v, head[i]) != LUA_TNIL) goto out;
  }
  if (field_type(L, acc, K_C1) != LUA_TTABLE) goto out;
  c1 = lua_gettop(L);
  if (field_type(L, v, K_CHOICES) != LUA_TTABLE) goto out;
  list = lua_gettop(L);
  lua_rawgeti(L, list, 1);
  if (lua_type(L, -1) != LUA_TTABLE) goto out;
  c = lua_gettop(L);
  lua_rawgeti(L, list, 2);
  if (lua_type(L, -1) != LUA_TNIL) goto out;
  if (field_type(L, c, K_INDEX) != LUA_TNUMBER || lua_tonumber(L, -1) != 0) goto out;
  ty = field_type(L, c, K_FINISH);
  if (ty != LUA_TNIL && ty != LUA_TLIGHTUSERDATA) goto out;
  ty = field_type(L, c, K_LOGPROBS);
  if (ty != LUA_TNIL && ty != LUA_TLIGHTUSERDATA) goto out;
  if (field_type(L, c, K_DELTA) == LUA_TTABLE) {
    d = lua_gettop(L);
    if (field_type(L, d, K_ROLE) != LUA_TNIL || field_type(L, d, K_REASONING) != LUA_TNIL
        || field_type(L, d, K_TOOL_CALLS) != LUA_TNIL) goto out;
    if (field_type(L, d, K_CONTENT) == LUA_TSTRING) {
      lua_rawseti(L, c1, (int)lua_rawlen(L, c1) + 1);
    }
  }
  ok = 1;
out:
  lua_settop(L, top);
  return ok;
}

/* t:next_chunk(acc) -> chunk, true when the next event (type "message") is a common chat chunk
 * (see common_chunk), its content then already appended to acc.c1; else what t:next_event(true)
 * returns. */
static int l_transfer_next_chunk(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  int n, message = 0;
  lua_settop(L, 2);
  n = push_next_event(L, t, 1, &message);
  if (n != 3) return n;
  if (message && common_chunk(L, 3, 2)) {
    lua_settop(L, 3);
    lua_pushboolean(L, 1);
    return 2;
  }
  return 3;
}

/* t:mode() -> "sse" | "buffer" | "file" | nil: how the body is read (nil before its first byte) */
static int l_transfer_mode(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  static const char *const names[] = { NULL, "buffer", "sse", "file" };
  if (!names[t->mode]) return 0;
  lua_pushstring(L, names[t->mode]);
  return 1;
}

/* t:body_complete() -> whether the body ended by its own framing: the chunked terminator, the
 * whole Content-Length, or the end of an HTTP/2 or HTTP/3 stream (libcurl reports a body cut
 * short of those as an error). A body delimited only by the connection closing never counts:
 * that close cannot be told from a cut. */
static int l_transfer_body_complete(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  long ver = 0;
  int ok = t->done && t->result == CURLE_OK && t->failure == FAIL_NONE;
  if (ok && !t->chunked && !t->has_length) {
    if (t->headers_done) ver = t->http_version;
    else curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &ver);
    ok = ver == CURL_HTTP_VERSION_2_0 || ver == CURL_HTTP_VERSION_3;
  }
  lua_pushboolean(L, ok);
  return 1;
}

/* t:error() -> nil | venice.Error
 * The transport's failure (network, timeout, stream, cancel) or, for a finished response with an
 * HTTP error status, the APIError class of that status with the body's message. */
static int l_transfer_error(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  const char *cls = NULL, *code = NULL, *msg = t->h->errbuf[0] ? t->h->errbuf : NULL;
  const char *which = NULL;
  char buf[256];
  if (!t->done) return 0;
  switch (t->failure) {
    case FAIL_TOO_LARGE:
      cls = "Error"; code = "response_too_large";
      snprintf(buf, sizeof buf, "response body larger than max_response_bytes (%lu bytes)",
               (unsigned long)t->max_body);
      msg = buf;
      break;
    case FAIL_EVENT_TOO_LARGE:
      cls = "StreamError"; code = "event_too_large";
      msg = "a stream line or event is larger than the cap";
      break;
    case FAIL_NOMEM:
      cls = "Error"; code = "out_of_memory"; msg = "out of memory while receiving";
      break;
    case FAIL_IDLE:
      cls = "TimeoutError"; which = "idle_timeout";
      snprintf(buf, sizeof buf, "no data received for %g s (idle_timeout)", t->idle_s);
      msg = buf;
      break;
    case FAIL_CANCEL:
      cls = "Error"; code = "cancelled"; msg = "the request was cancelled";
      break;
    case FAIL_RESEND:
      cls = "NetworkError"; code = "connection_reset";
      msg = "the connection died after the request was sent, before any response (not sent again)";
      break;
    case FAIL_WRITE:
      cls = "Error"; code = "write_error";
      snprintf(buf, sizeof buf, "cannot write the response to %s: %s",
               t->out_path ? t->out_path : "?", strerror(t->write_errno));
      msg = buf;
      break;
    default:
      break;
  }
  if (!cls && !t->error_body_cut) {
    cls = vn_class_for_curlcode((int)t->result, &code);
    if (cls && strcmp(cls, "TimeoutError") == 0) {
      curl_off_t pre = 0;   /* zero until a connection (new or reused) was ready for the request */
      curl_easy_getinfo(t->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
      which = pre == 0 && t->status == 0 ? "connect_timeout" : "timeout";
    }
    if (cls && t->sends > 0 && t->status == 0 && code && strcmp(code, "connection_reset") == 0) {
      snprintf(buf, sizeof buf, "the connection died after the request was sent, before any response%s%.180s",
               t->h->errbuf[0] ? ": " : "", t->h->errbuf);
      msg = buf;
    }
    /* a stream that already gave events and was cut is a broken stream, not a failed request */
    if (cls && t->mode == MODE_SSE && t->nevents > 0 && strcmp(cls, "NetworkError") == 0) {
      cls = "StreamError"; code = "stream_cut";
      snprintf(buf, sizeof buf, "the stream was cut after %lu events%s%.200s", (unsigned long)t->nevents,
               t->h->errbuf[0] ? ": " : "", t->h->errbuf);
      msg = buf;
    }
  }
  if (cls) {
    vn_error_push(L, cls, msg ? msg : curl_easy_strerror(t->result));
    vn_setstr(L, "code", code);
    vn_setstr(L, "timeout", which);
    if (which && strcmp(which, "idle_timeout") != 0) {
      char full[300];
      snprintf(full, sizeof full, "%.250s (%s)", msg ? msg : "timed out", which);
      vn_setstr(L, "message", full);
    }
    if (t->status > 0) {
      vn_pushint(L, t->status);
      lua_setfield(L, -2, "status");
    }
    if (t->result != CURLE_OK) {
      vn_pushint(L, t->result);
      lua_setfield(L, -2, "curl_code");
    }
    return 1;
  }
  if (t->status >= 300) {   /* redirects too: never followed, they are failures */
    int base = lua_gettop(L);
    char err[128];
    push_headers(L, t);                                               /* base + 1 */
    lua_pushlstring(L, t->body.p ? t->body.p : "", t->body.len);      /* base + 2 */
    if (!vn_json_decode(L, t->body.p ? t->body.p : "", t->body.len, err, sizeof err))
      lua_pushnil(L);                                                 /* base + 3 */
    vn_http_error_push(L, t->status, base + 1, base + 2, base + 3);
    return 1;
  }
  return 0;
}

/* t:stats() -> elapsed seconds, events decoded, body bytes received, sends: info()'s hot fields, no
 * table. sends is 1 once the request went out (0 when no connection was made). */
static int l_transfer_stats(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  curl_off_t dl = 0;
  lua_pushnumber(L, vn_now() - t->started);
  lua_pushinteger(L, (lua_Integer)t->nevents);
  if (t->mode == MODE_FILE) dl = t->out_bytes;
  else curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl);
  vn_pushint(L, dl);
  lua_pushinteger(L, t->sends);
  return 4;
}

/* t:http_version() -> "1.0", "1.1", "2", "3", or nil before a response */
static int l_transfer_http_version(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  long v = 0;
  if (t->headers_done) v = t->http_version;
  else curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &v);
  switch (v) {
    case CURL_HTTP_VERSION_1_0: lua_pushliteral(L, "1.0"); break;
    case CURL_HTTP_VERSION_1_1: lua_pushliteral(L, "1.1"); break;
    case CURL_HTTP_VERSION_2_0: lua_pushliteral(L, "2"); break;
    case CURL_HTTP_VERSION_3: lua_pushliteral(L, "3"); break;
    default: lua_pushnil(L);
  }
  return 1;
}

/* t:info() -> { elapsed, connects, bytes, local_port, primary_ip, events, buffered } */
static int l_transfer_info(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  long connects = 0, lport = 0;
  char *ip = NULL;
  curl_off_t dl = 0;
  lua_createtable(L, 0, 7);
  curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(t->easy, CURLINFO_LOCAL_PORT, &lport);
  curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl);
  lua_pushnumber(L, vn_now() - t->started);
  lua_setfield(L, -2, "elapsed");
  lua_pushinteger(L, connects);
  lua_setfield(L, -2, "connects");
  lua_pushinteger(L, lport);
  lua_setfield(L, -2, "local_port");
  vn_pushint(L, t->mode == MODE_FILE ? t->out_bytes : dl);
  lua_setfield(L, -2, "bytes");
  vn_setstr(L, "primary_ip", ip);
  lua_pushinteger(L, (lua_Integer)t->nevents);
  lua_setfield(L, -2, "events");
  lua_pushinteger(L, (lua_Integer)(vn_sse_buffered(&t->sse) + t->events.cap + t->body.cap + t->hdrs.cap));
  lua_setfield(L, -2, "buffered");
  return 1;
}

static int l_transfer_tostring(lua_State *L) {
  vn_transfer *t = to_transfer(L);
  lua_pushfstring(L, "venice.Transfer (%s) %p",
                  t->closed ? "closed" : t->done ? "done" : "running", (void *)t);
  return 1;
}

/* }==================== */

void vn_transfer_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "done", l_transfer_done },
    { "ready", l_transfer_ready },
    { "status", l_transfer_status },
    { "headers", l_transfer_headers },
    { "header", l_transfer_header },
    { "header_block", l_transfer_header_block },
    { "body", l_transfer_body },
    { "json", l_transfer_json },
    { "next_event", l_transfer_next_event },
    { "mode", l_transfer_mode },
    { "body_complete", l_transfer_body_complete },
    { "error", l_transfer_error },
    { "info", l_transfer_info },
    { "http_version", l_transfer_http_version },
    { "stats", l_transfer_stats },
    { "cancel", l_transfer_cancel },
    { "close", l_transfer_close },
    { NULL, NULL }
  };
  static const luaL_Reg metamethods[] = {
    { "__gc", l_transfer_close },
    { "__close", l_transfer_close },
    { "__tostring", l_transfer_tostring },
    { NULL, NULL }
  };
  int mod = lua_gettop(L), i;
  luaL_newmetatable(L, TRANSFER_MT);
  lua_createtable(L, 0, sizeof methods / sizeof methods[0] - 1);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, 1);   /* each with the metatable as its upvalue (to_transfer) */
  lua_pushvalue(L, -2);
  for (i = 0; i < K_COUNT; i++) lua_pushstring(L, CHUNK_KEYS[i]);
  lua_pushcclosure(L, l_transfer_next_chunk, 1 + K_COUNT);   /* and the keys it reads */
  lua_setfield(L, -2, "next_chunk");
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, metamethods, 1);
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)&VN_DONE_TAG);
  lua_setfield(L, mod, "DONE");
  luaL_newmetatable(L, TRANSPORT_MT);
  lua_pushcfunction(L, l_transport_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_getmetatable(L, TRANSFER_MT);
  luaL_getmetatable(L, TRANSPORT_MT);
  lua_pushcclosure(L, l_request, 2);   /* the two metatables it makes and recognises */
  lua_setfield(L, mod, "request");
  lua_pushcfunction(L, l_transport);
  lua_setfield(L, mod, "transport");
  lua_pushcfunction(L, l_headers);
  lua_setfield(L, mod, "headers");
  vn_engine_open(L);
}
