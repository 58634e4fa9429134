/* transfer.c: the engine (one libcurl multi handle per Lua state) and its transfers.
 *
 * Every request is a transfer on the engine's multi handle, so connections are pooled and reused
 * across requests, streams and clients, and many transfers progress at once. libcurl's callbacks
 * never touch the Lua state: they only append to C buffers (headers, body, decoded SSE events) and
 * note progress; Lua reads those buffers between calls to core.step(), from a blocking loop or from
 * the task scheduler. Nothing raises through libcurl's frames. */
#include "venice.h"
#include "sse.h"
#include "json.h"
#include "curlapi.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENGINE_MT   "venice.Engine"
#define TRANSFER_MT "venice.Transfer"
#define POOL_MAX 16
#define ERROR_BODY_MAX ((size_t)1 << 20)   /* kept of a failed response's body */

static const char VN_ENGINE_KEY = 'e';
static const char VN_DONE_KEY = 'd';       /* the [DONE] sentinel's address */

enum { MODE_UNDECIDED, MODE_BUF, MODE_SSE, MODE_FILE };
enum { FAIL_NONE, FAIL_TOO_LARGE, FAIL_EVENT_TOO_LARGE, FAIL_NOMEM, FAIL_IDLE, FAIL_CANCEL, FAIL_WRITE };

typedef struct vn_transfer vn_transfer;

typedef struct vn_engine {
  CURLM *multi;
  CURL *pool[POOL_MAX];          /* easy handles kept for reuse */
  unsigned char pool_set[POOL_MAX];   /* 1: its options are the ones every transfer sets alike */
  int npool;
  vn_transfer *active;           /* transfers on the multi handle */
  int nactive;
  int activity;                  /* set by callbacks: something arrived since the last step */
  lua_State *L;                  /* the state of the C call in progress, for the event-loop hook */
  int hook_ref;                  /* Lua function(kind, a, b) told of libcurl's sockets and timer */
  int hook_failed;               /* the hook raised: its message is kept under hook_err_ref */
  int hook_err_ref;
} vn_engine;

struct vn_transfer {
  CURL *easy;
  vn_engine *eng;
  vn_transfer *next, *prev;
  struct curl_slist *req_headers;
  curl_mime *mime;
  int body_ref;                  /* the request body's Lua string, anchored while libcurl reads it */
  int running, done, closed;
  int unusual;                   /* set an option beyond the usual ones: reset before reuse */
  int headers_done;
  int mode, want_sse;
  long status;
  CURLcode result;
  int failure;
  vn_buf hdrs;                   /* "name\0value\0" pairs, names lower-cased */
  vn_buf body;
  size_t max_body;
  vn_sse sse;
  vn_buf events;                 /* queued events: [3 x size_t lengths][type][data][id] */
  size_t ev_read;
  size_t nevents;                /* events decoded so far (queued or read) */
  FILE *out;
  char *out_path;
  curl_off_t out_bytes;
  double idle_s, last_activity, started;
  char errbuf[CURL_ERROR_SIZE];
};

/* {==================== buffers and clocks ==================== */

int vn_buf_append(vn_buf *b, const char *s, size_t n, size_t limit) {
  if (limit && (b->len + n > limit || b->len + n < b->len)) return -2;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n) {
      if (cap > ((size_t)-1) / 2) return -1;
      cap *= 2;
    }
    p = (char *)realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

void vn_buf_free(vn_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static double vn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* }==================== */

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

static void decide_mode(vn_transfer *t) {
  char *ctype = NULL;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype);
  t->mode = MODE_BUF;
  if (t->status >= 200 && t->status < 300) {
    if (t->want_sse && (!ctype || strstr(ctype, "event-stream")))
      t->mode = MODE_SSE;
    else if (t->out_path && !(ctype && strstr(ctype, "json"))) {   /* JSON stays in memory */
      t->out = fopen(t->out_path, "wb");
      t->mode = MODE_FILE;
    }
  } else {
    t->max_body = ERROR_BODY_MAX;
  }
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
  vn_transfer *t = (vn_transfer *)ud;
  size_t n = size * nmemb;
  int rc;
  t->eng->activity = 1;
  t->last_activity = vn_now();
  if (t->mode == MODE_UNDECIDED) decide_mode(t);
  switch (t->mode) {
    case MODE_SSE:
      rc = vn_sse_feed(&t->sse, p, n, on_event, t);
      if (rc == VN_SSE_OK) return n;
      t->failure = rc == VN_SSE_ETOOBIG ? FAIL_EVENT_TOO_LARGE : FAIL_NOMEM;
      return 0;
    case MODE_FILE:
      if (!t->out || fwrite(p, 1, n, t->out) != n) {
        t->failure = FAIL_WRITE;
        return 0;
      }
      t->out_bytes += (curl_off_t)n;
      return n;
    default:
      rc = vn_buf_append(&t->body, p, n, t->max_body);
      if (rc == 0) return n;
      if (rc == -2 && t->status >= 400) return n;   /* an error page: its start is enough */
      t->failure = rc == -2 ? FAIL_TOO_LARGE : FAIL_NOMEM;
      return 0;
  }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  vn_transfer *t = (vn_transfer *)ud;
  size_t n = size * nmemb, i, k;
  char *colon;
  t->eng->activity = 1;
  t->last_activity = vn_now();
  while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) n--;
  if (n == 0) {   /* the blank line ending a header block */
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status >= 200) t->headers_done = 1;
    return size * nmemb;
  }
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new response (after 1xx): forget the last */
    t->hdrs.len = 0;
    return size * nmemb;
  }
  colon = (char *)memchr(p, ':', n);
  if (!colon || colon == p || p[0] == ' ' || p[0] == '\t') return size * nmemb;
  k = (size_t)(colon - p);
  i = k + 1;
  while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
  while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  {
    size_t j, start = t->hdrs.len;
    if (vn_buf_append(&t->hdrs, p, k, 0) || vn_buf_append(&t->hdrs, "", 1, 0) ||
        vn_buf_append(&t->hdrs, p + i, n - i, 0) || vn_buf_append(&t->hdrs, "", 1, 0)) {
      t->failure = FAIL_NOMEM;
      return 0;
    }
    for (j = start; j < start + k; j++)
      if (t->hdrs.p[j] >= 'A' && t->hdrs.p[j] <= 'Z') t->hdrs.p[j] = (char)(t->hdrs.p[j] + 32);
  }
  return size * nmemb;
}

/* }==================== */

/* {==================== engine ==================== */

static void engine_unlink(vn_transfer *t) {
  vn_engine *e = t->eng;
  if (!t->running || !e) return;
  curl_multi_remove_handle(e->multi, t->easy);
  if (t->prev) t->prev->next = t->next; else e->active = t->next;
  if (t->next) t->next->prev = t->prev;
  t->next = t->prev = NULL;
  t->running = 0;
  e->nactive--;
}

static void transfer_finish(vn_transfer *t, CURLcode rc) {
  engine_unlink(t);
  t->result = rc;
  t->done = 1;
  if (!t->headers_done) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  if (t->out) {
    if (fclose(t->out) != 0 && t->failure == FAIL_NONE) t->failure = FAIL_WRITE;
    t->out = NULL;
  }
}

static void engine_collect(vn_engine *e) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      vn_transfer *t = NULL;
      CURLcode rc = m->data.result;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
      if (t) transfer_finish(t, rc);
      e->activity = 1;
    }
  }
}

/* Ends transfers silent for longer than their idle timeout; returns seconds to the next deadline. */
static double engine_check_idle(vn_engine *e) {
  double now = vn_now(), next = -1;
  vn_transfer *t = e->active, *nt;
  for (; t; t = nt) {
    nt = t->next;
    if (t->idle_s > 0) {
      double left = t->last_activity + t->idle_s - now;
      if (left <= 0) {
        t->failure = FAIL_IDLE;
        transfer_finish(t, CURLE_OPERATION_TIMEDOUT);
        e->activity = 1;
      } else if (next < 0 || left < next) {
        next = left;
      }
    }
  }
  return next;
}

static void engine_raise_hook_error(lua_State *L, vn_engine *e);

static vn_engine *engine_get(lua_State *L) {
  vn_engine *e;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_ENGINE_KEY);
  e = (vn_engine *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (e) {
    e->L = L;
    return e;
  }
  {
    const char *why = vn_curl_load();
    if (why) luaL_error(L, "venice: %s", why);
  }
  e = (vn_engine *)lua_newuserdata(L, sizeof *e);
  memset(e, 0, sizeof *e);
  luaL_setmetatable(L, ENGINE_MT);
  e->hook_ref = e->hook_err_ref = LUA_NOREF;
  e->multi = curl_multi_init();
  if (!e->multi) luaL_error(L, "venice: cannot create a libcurl multi handle");
  curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, 64L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &VN_ENGINE_KEY);
  e->L = L;
  return e;
}

static int l_engine_gc(lua_State *L) {
  vn_engine *e = (vn_engine *)luaL_checkudata(L, 1, ENGINE_MT);
  int i;
  luaL_unref(L, LUA_REGISTRYINDEX, e->hook_ref);   /* no calls into Lua while the state closes */
  e->hook_ref = LUA_NOREF;
  e->L = NULL;
  while (e->active) {   /* detach what is still running: those transfers are being collected too */
    vn_transfer *t = e->active;
    engine_unlink(t);
    t->eng = NULL;
  }
  for (i = 0; i < e->npool; i++) curl_easy_cleanup(e->pool[i]);
  e->npool = 0;
  if (e->multi) curl_multi_cleanup(e->multi);
  e->multi = NULL;
  return 0;
}

/* core.step([timeout_ms]) -> running, activity
 * Drives every transfer. Waits up to timeout_ms (default 0) for network activity when nothing has
 * arrived since the last step; returns the number of transfers still running and whether anything
 * arrived or finished. */
static int l_step(lua_State *L) {
  vn_engine *e = engine_get(L);
  double wait_ms = luaL_optnumber(L, 1, 0);
  int running = 0, activity;
  double idle_next;
  curl_multi_perform(e->multi, &running);
  engine_collect(e);
  idle_next = engine_check_idle(e);
  if (!e->activity && wait_ms > 0 && e->nactive > 0) {
    int numfds = 0;
    if (idle_next >= 0 && idle_next * 1000 < wait_ms) wait_ms = idle_next * 1000 + 1;
    curl_multi_poll(e->multi, NULL, 0, (int)wait_ms, &numfds);
    curl_multi_perform(e->multi, &running);
    engine_collect(e);
    engine_check_idle(e);
  } else if (!e->activity && wait_ms > 0) {
    struct timespec ts;   /* nothing to wait on: a plain sleep (retry backoff, job polling) */
    ts.tv_sec = (time_t)(wait_ms / 1000);
    ts.tv_nsec = (long)((wait_ms - (double)ts.tv_sec * 1000) * 1e6);
    nanosleep(&ts, NULL);
  }
  engine_raise_hook_error(L, e);
  activity = e->activity;
  e->activity = 0;
  lua_pushinteger(L, e->nactive);
  lua_pushboolean(L, activity);
  return 2;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, vn_now());
  return 1;
}

/* {==================== an outside event loop (libuv in Neovim) ==================== */

/* libcurl tells which sockets to watch and when to call it back; the hook (a Lua function set by
 * venice.uv) starts and stops the loop's poll handles and timer at once, before libcurl closes a
 * socket. It runs under lua_pcall: an error is kept and raised by the next core call instead of
 * unwinding through libcurl. The collector is paused meanwhile: a finalizer closing a forgotten
 * transfer would call curl_multi_remove_handle from inside libcurl, which libcurl refuses, and the
 * easy handle would then be pooled while still on the multi handle. (Lua 5.1 cannot tell whether
 * the collector was already stopped, so there it is always restarted.) */
static void engine_hook(vn_engine *e, const char *kind, lua_Integer a, lua_Integer b) {
  lua_State *L = e->L;
  int gc_on = 1, rc;
  if (!L || e->hook_ref == LUA_NOREF || e->hook_failed) return;
  if (!lua_checkstack(L, 4)) return;
#ifdef LUA_GCISRUNNING
  gc_on = lua_gc(L, LUA_GCISRUNNING, 0) == 1;
#endif
  if (gc_on) lua_gc(L, LUA_GCSTOP, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->hook_ref);
  lua_pushstring(L, kind);
  lua_pushinteger(L, a);
  lua_pushinteger(L, b);
  rc = lua_pcall(L, 3, 0, 0);
  if (rc != LUA_OK) {
    e->hook_failed = 1;
    e->hook_err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  if (gc_on) lua_gc(L, LUA_GCRESTART, 0);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)easy; (void)socketp;
  engine_hook((vn_engine *)userp, "socket", (lua_Integer)s, what);
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  engine_hook((vn_engine *)userp, "timer", timeout_ms, 0);
  return 0;
}

static void engine_raise_hook_error(lua_State *L, vn_engine *e) {
  if (!e->hook_failed) return;
  e->hook_failed = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->hook_err_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, e->hook_err_ref);
  e->hook_err_ref = LUA_NOREF;
  lua_error(L);
}

/* core.set_loop_hook(fn | nil): fn("socket", fd, what) with what 1 in, 2 out, 3 both, 4 remove;
 * fn("timer", ms) with -1 to cancel. With a hook set, the loop calls core.socket_action. */
static int l_set_loop_hook(lua_State *L) {
  vn_engine *e = engine_get(L);
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, e->hook_ref);
  e->hook_ref = LUA_NOREF;
  if (lua_isfunction(L, 1)) {
    lua_pushvalue(L, 1);
    e->hook_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
  } else {
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, NULL);
  }
  return 0;
}

/* core.socket_action(fd, events) -> running, activity, idle_next
 * fd -1 means libcurl's timer fired; events: 1 readable, 2 writable, 4 error. idle_next is the
 * seconds to the nearest idle-timeout deadline, or nil. */
static int l_socket_action(lua_State *L) {
  vn_engine *e = engine_get(L);
  lua_Integer fd = luaL_checkinteger(L, 1);
  int ev = (int)luaL_optinteger(L, 2, 0), flags = 0, running = 0, activity;
  double idle_next;
  if (ev & 1) flags |= CURL_CSELECT_IN;
  if (ev & 2) flags |= CURL_CSELECT_OUT;
  if (ev & 4) flags |= CURL_CSELECT_ERR;
  curl_multi_socket_action(e->multi, fd < 0 ? CURL_SOCKET_TIMEOUT : (curl_socket_t)fd, flags, &running);
  engine_collect(e);
  idle_next = engine_check_idle(e);
  engine_raise_hook_error(L, e);
  activity = e->activity;
  e->activity = 0;
  lua_pushinteger(L, e->nactive);
  lua_pushboolean(L, activity);
  if (idle_next >= 0) lua_pushnumber(L, idle_next); else lua_pushnil(L);
  return 3;
}

/* }==================== */

/* {==================== transfers ==================== */

static vn_transfer *check_transfer(lua_State *L) {
  return (vn_transfer *)luaL_checkudata(L, 1, TRANSFER_MT);
}

/* The one release path for :close(), __gc and __close. */
static void transfer_release(lua_State *L, vn_transfer *t) {
  if (t->closed) return;
  t->closed = 1;
  if (t->eng) t->eng->L = L;   /* removing the handle may call the loop hook */
  engine_unlink(t);
  if (t->out) {
    fclose(t->out);
    t->out = NULL;
  }
  if (t->easy) {
    vn_engine *e = t->eng;
    if (e && e->npool < POOL_MAX) {
      /* the usual options are all set again by the next transfer: a reset is needed only after
       * options that it would not override (proxy, TLS files, uploads, custom methods) */
      if (t->unusual) curl_easy_reset(t->easy);
      e->pool_set[e->npool] = !t->unusual;
      e->pool[e->npool++] = t->easy;
    } else {
      curl_easy_cleanup(t->easy);
    }
    t->easy = NULL;
  }
  curl_slist_free_all(t->req_headers);
  t->req_headers = NULL;
  if (t->mime) curl_mime_free(t->mime);
  t->mime = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, t->body_ref);
  t->body_ref = LUA_NOREF;
  vn_buf_free(&t->hdrs);
  vn_buf_free(&t->body);
  vn_buf_free(&t->events);
  vn_sse_free(&t->sse);
  free(t->out_path);
  t->out_path = NULL;
}

static int l_transfer_close(lua_State *L) {
  transfer_release(L, check_transfer(L));
  return 0;
}

/* t:cancel(): aborts at once inside libcurl (the connection is closed, the server sees it). */
static int l_transfer_cancel(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  if (t->running) {
    t->eng->L = L;
    t->failure = FAIL_CANCEL;
    transfer_finish(t, CURLE_ABORTED_BY_CALLBACK);
  }
  return 0;
}

static const char *opt_string(lua_State *L, int idx, const char *k) {
  const char *s;
  lua_getfield(L, idx, k);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the string stays reachable from the options table */
  return s;
}

static double opt_number(lua_State *L, int idx, const char *k, double dflt) {
  double v;
  lua_getfield(L, idx, k);
  v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int idx, const char *k) {
  int v;
  lua_getfield(L, idx, k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Reads a Lua file handle's FILE* for an upload part; the handle stays owned by Lua. */
static size_t mime_read_file(char *buf, size_t size, size_t nitems, void *arg) {
  size_t n = fread(buf, 1, size * nitems, (FILE *)arg);
  if (n == 0 && ferror((FILE *)arg)) return CURL_READFUNC_ABORT;
  return n;
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

/* Builds the multipart body from a list of parts
 *   { name = "image", data = <string> | path = <file path> | file = <open file handle>,
 *     offset = <where to start reading the file handle>, filename = "x.png", type = "image/png" }
 * Returns NULL with a message pushed on failure. */
static const char *build_mime(lua_State *L, vn_transfer *t, int idx) {
  size_t i, n = (size_t)lua_rawlen(L, idx);
  t->mime = curl_mime_init(t->easy);
  if (!t->mime) return "cannot create a multipart body";
  for (i = 1; i <= n; i++) {
    curl_mimepart *part = curl_mime_addpart(t->mime);
    const char *name, *path, *fname, *ctype;
    int pi;
    lua_rawgeti(L, idx, (int)i);
    pi = lua_gettop(L);
    if (!lua_istable(L, pi)) return "a multipart part must be a table";
    name = opt_string(L, pi, "name");
    path = opt_string(L, pi, "path");
    fname = opt_string(L, pi, "filename");
    ctype = opt_string(L, pi, "type");
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
      FILE *f;
      lua_getfield(L, pi, "file");
      f = to_file(L, -1);
      lua_pop(L, 1);
      if (!f) return "a multipart part needs data, path or an open file";
      lua_getfield(L, pi, "offset");   /* where the upload starts: the same on every retry */
      if (lua_type(L, -1) == LUA_TNUMBER) fseek(f, (long)lua_tonumber(L, -1), SEEK_SET);
      lua_pop(L, 1);
      {
        long pos = ftell(f), end = -1;
        if (pos >= 0 && fseek(f, 0, SEEK_END) == 0) {
          end = ftell(f);
          fseek(f, pos, SEEK_SET);
        }
        curl_mime_data_cb(part, end >= pos && pos >= 0 ? (curl_off_t)(end - pos) : -1,
                          mime_read_file, NULL, NULL, f);
      }
    }
    lua_pop(L, 1);
    if (fname) curl_mime_filename(part, fname);
    if (ctype) curl_mime_type(part, ctype);
    lua_pop(L, 1);
  }
  return NULL;
}

/* core.request(opts) -> transfer
 * opts: url, method, headers (list of "Name: value"), body (string), mime (list of parts),
 * timeout, connect_timeout, idle_timeout (seconds; 0 = none), sse (decode an event stream),
 * output (path for a successful body that is not JSON), max_body (bytes held in memory),
 * max_event (SSE cap), proxy, noproxy, ca_file, ca_path, insecure, verbose.
 * The transfer starts at once; core.step() moves it on. */
static int l_request(lua_State *L) {
  vn_engine *e = engine_get(L);
  vn_transfer *t;
  size_t len = 0;   /* of the request body */
  int set = 0;      /* the handle comes from the pool with the options every transfer shares */
  const char *url, *method, *s, *err = NULL;
  double v;
  CURL *c;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  url = opt_string(L, 1, "url");
  if (!url) return luaL_argerror(L, 1, "url is required");
  method = opt_string(L, 1, "method");
  if (!method) method = "GET";

  t = (vn_transfer *)lua_newuserdata(L, sizeof *t);   /* 2 */
  memset(t, 0, sizeof *t);
  t->body_ref = LUA_NOREF;
  t->closed = 1;   /* made closed, given its metatable, only then opened */
  luaL_setmetatable(L, TRANSFER_MT);
  if (e->npool > 0) {
    e->npool--;
    t->easy = e->pool[e->npool];
    set = e->pool_set[e->npool];
  } else {
    t->easy = curl_easy_init();
  }
  if (!t->easy) return luaL_error(L, "venice: cannot create a libcurl handle");
  t->closed = 0;
  t->eng = e;
  c = t->easy;
  vn_sse_init(&t->sse, (size_t)opt_number(L, 1, "max_event", 0));
  t->max_body = (size_t)opt_number(L, 1, "max_body", 0);
  t->want_sse = opt_bool(L, 1, "sse");
  if ((s = opt_string(L, 1, "output")) != NULL) {
    t->out_path = strdup(s);
    if (!t->out_path) return luaL_error(L, "venice: out of memory");
  }

  if (!set) {   /* the same for every transfer: kept by a pooled handle */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  }
  /* the usual options: every transfer sets each of them, so none carries over */
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)t);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
  v = opt_number(L, 1, "timeout", 0);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, v > 0 ? (long)(v * 1000) : 0L);   /* 0: none */
  v = opt_number(L, 1, "connect_timeout", 0);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, v > 0 ? (long)(v * 1000) : 0L);   /* 0: libcurl's */
  t->idle_s = opt_number(L, 1, "idle_timeout", 0);
  /* the unusual ones */
  if ((s = opt_string(L, 1, "proxy")) != NULL) {
    curl_easy_setopt(c, CURLOPT_PROXY, s);
    t->unusual = 1;
  }
  if ((s = opt_string(L, 1, "noproxy")) != NULL) {
    curl_easy_setopt(c, CURLOPT_NOPROXY, s);
    t->unusual = 1;
  }
  if ((s = opt_string(L, 1, "ca_file")) != NULL) {
    curl_easy_setopt(c, CURLOPT_CAINFO, s);
    t->unusual = 1;
  }
  if ((s = opt_string(L, 1, "ca_path")) != NULL) {
    curl_easy_setopt(c, CURLOPT_CAPATH, s);
    t->unusual = 1;
  }
  if (opt_bool(L, 1, "insecure")) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    t->unusual = 1;
  }

  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    size_t i, n = (size_t)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      struct curl_slist *l;
      lua_rawgeti(L, -1, (int)i);
      s = lua_tostring(L, -1);
      if (s) {
        l = curl_slist_append(t->req_headers, s);
        if (!l) return luaL_error(L, "venice: out of memory");
        t->req_headers = l;
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);

  lua_getfield(L, 1, "mime");
  if (lua_istable(L, -1)) {
    err = build_mime(L, t, lua_gettop(L));
    if (err) {
      transfer_release(L, t);
      return luaL_error(L, "venice: %s", err);
    }
    curl_easy_setopt(c, CURLOPT_MIMEPOST, t->mime);
    t->unusual = 1;
  }
  lua_pop(L, 1);

  lua_getfield(L, 1, "body");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *b = lua_tolstring(L, -1, &len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);   /* no copy: the string is anchored below */
    t->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
    if (t->mime) {
      /* MIMEPOST set above */
    } else if (strcmp(method, "POST") == 0) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    } else {   /* no body: a pooled handle may still hold the last POST's, a GET forgets it */
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
  }
  /* no 100-continue round trip (libcurl asks for one on bodies of 1 MiB and more, and on uploads) */
  if (len >= ((size_t)1 << 20) || t->mime) {
    struct curl_slist *l = curl_slist_append(t->req_headers, "Expect:");
    if (!l) return luaL_error(L, "venice: out of memory");
    t->req_headers = l;
  }
  if (strcmp(method, "GET") == 0) {
    if (t->body_ref != LUA_NOREF || t->mime) {   /* a GET with a body */
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
      t->unusual = 1;
    }
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    t->unusual = 1;
  } else if (strcmp(method, "POST") != 0) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    t->unusual = 1;
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->req_headers);

  t->started = t->last_activity = vn_now();
  if (curl_multi_add_handle(e->multi, c) != CURLM_OK) {
    transfer_release(L, t);
    return luaL_error(L, "venice: cannot start a transfer");
  }
  t->running = 1;
  t->next = e->active;
  if (e->active) e->active->prev = t;
  e->active = t;
  e->nactive++;
  return 1;
}

/* t:done() -> finished (successfully or not) */
static int l_transfer_done(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  lua_pushboolean(L, t->done || t->closed);
  return 1;
}

/* t:ready(what) -> whether waiting for `what` ("done", "headers", "event") can stop */
static int l_transfer_ready(lua_State *L) {
  vn_transfer *t = check_transfer(L);
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

/* t:headers() -> { [lower-case name] = value }, repeated names joined with ", " */
static int l_transfer_headers(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  size_t i = 0;
  lua_newtable(L);
  while (i < t->hdrs.len) {
    const char *k = t->hdrs.p + i, *v = k + strlen(k) + 1;
    i = (size_t)(v - t->hdrs.p) + strlen(v) + 1;
    lua_getfield(L, -1, k);
    if (lua_isstring(L, -1)) {
      lua_pushliteral(L, ", ");
      lua_pushstring(L, v);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushstring(L, v);
    }
    lua_setfield(L, -2, k);
  }
  return 1;
}

/* t:header(name) -> the value of one response header (lower-case name; the first of repeats) */
static int l_transfer_header(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  const char *name = luaL_checkstring(L, 2);
  size_t i = 0;
  while (i < t->hdrs.len) {
    const char *k = t->hdrs.p + i, *v = k + strlen(k) + 1;
    if (strcmp(k, name) == 0) {
      lua_pushstring(L, v);
      return 1;
    }
    i = (size_t)(v - t->hdrs.p) + strlen(v) + 1;
  }
  return 0;
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

/* t:next_event([decode]) -> data, type, id
 *   nil when no event is queued; data is the raw string, or with decode the JSON value
 *   (core.DONE for "[DONE]"; false, type, id, message when the data is not JSON). */
static int l_transfer_next_event(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  int decode = lua_toboolean(L, 2);
  size_t lens[3];
  const char *p;
  if (t->ev_read >= t->events.len) return 0;
  memcpy(lens, t->events.p + t->ev_read, sizeof lens);
  p = t->events.p + t->ev_read + sizeof lens;
  t->ev_read += sizeof lens + lens[0] + lens[1] + lens[2];
  if (t->ev_read >= t->events.len) t->ev_read = t->events.len = 0;   /* drained: reuse from the start */
  if (!decode) {
    lua_pushlstring(L, p + lens[0], lens[1]);
  } else if (lens[1] == 6 && memcmp(p + lens[0], "[DONE]", 6) == 0) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_DONE_KEY);
  } else {
    char err[128];
    if (!vn_json_decode(L, p + lens[0], lens[1], err, sizeof err)) {
      lua_pushboolean(L, 0);
      lua_pushlstring(L, p, lens[0]);
      lua_pushlstring(L, p + lens[0] + lens[1], lens[2]);
      lua_pushstring(L, err);
      return 4;
    }
  }
  lua_pushlstring(L, p, lens[0]);
  lua_pushlstring(L, p + lens[0] + lens[1], lens[2]);
  return 3;
}

/* t:error() -> nil | venice.Error
 * The transport's failure (network, timeout, stream, cancel) or, for a finished response with an
 * HTTP error status, the APIError class of that status with the body's message. */
static int l_transfer_error(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  const char *cls = NULL, *code = NULL, *msg = t->errbuf[0] ? t->errbuf : NULL;
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
    case FAIL_WRITE:
      cls = "Error"; code = "write_error";
      snprintf(buf, sizeof buf, "cannot write the response to %s: %s",
               t->out_path ? t->out_path : "?", strerror(errno));
      msg = buf;
      break;
    default:
      break;
  }
  if (!cls) {
    switch (t->result) {
      case CURLE_OK:
        break;
      case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t pre = 0;   /* zero until a connection (new or reused) was ready for the request */
        curl_easy_getinfo(t->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
        cls = "TimeoutError";
        which = pre == 0 && t->status == 0 ? "connect_timeout" : "timeout";
        break;
      }
      case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
        cls = "NetworkError"; code = "dns"; break;
      case CURLE_COULDNT_CONNECT:
        cls = "NetworkError"; code = "connection_refused"; break;
      case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
        cls = "NetworkError"; code = "tls"; break;
      case CURLE_URL_MALFORMAT: case CURLE_UNSUPPORTED_PROTOCOL:
        cls = "Error"; code = "invalid_url"; break;
      case CURLE_BAD_CONTENT_ENCODING:
        cls = "NetworkError"; code = "bad_content_encoding"; break;
      default:
        cls = "NetworkError"; code = "connection_reset"; break;
    }
    /* a stream that already gave events and was cut is a broken stream, not a failed request */
    if (cls && t->mode == MODE_SSE && t->nevents > 0 && strcmp(cls, "NetworkError") == 0) {
      cls = "StreamError"; code = "stream_cut";
      snprintf(buf, sizeof buf, "the stream was cut after %lu events%s%.200s", (unsigned long)t->nevents,
               t->errbuf[0] ? ": " : "", t->errbuf);
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
  if (t->status >= 400) {
    lua_getfield(L, lua_upvalueindex(1), "http_error");
    lua_pushinteger(L, t->status);
    l_transfer_headers(L);
    lua_pushlstring(L, t->body.p ? t->body.p : "", t->body.len);
    {
      char err[128];
      if (!vn_json_decode(L, t->body.p ? t->body.p : "", t->body.len, err, sizeof err)) lua_pushnil(L);
    }
    lua_call(L, 4, 1);
    return 1;
  }
  return 0;
}

/* t:stats() -> elapsed seconds, events decoded, body bytes received: info()'s hot fields, no table */
static int l_transfer_stats(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  curl_off_t dl = 0;
  lua_pushnumber(L, vn_now() - t->started);
  lua_pushinteger(L, (lua_Integer)t->nevents);
  if (t->mode == MODE_FILE) dl = t->out_bytes;
  else if (t->easy) curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl);
  vn_pushint(L, dl);
  return 3;
}

/* t:info() -> { elapsed, connects, bytes, local_port, primary_ip, http_version } */
static int l_transfer_info(lua_State *L) {
  vn_transfer *t = check_transfer(L);
  long connects = 0, lport = 0, ver = 0;
  char *ip = NULL;
  curl_off_t dl = 0;
  lua_createtable(L, 0, 6);
  if (t->easy) {
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(t->easy, CURLINFO_LOCAL_PORT, &lport);
    curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl);
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &ver);
  }
  lua_pushnumber(L, vn_now() - t->started);
  lua_setfield(L, -2, "elapsed");
  lua_pushinteger(L, connects);
  lua_setfield(L, -2, "connects");
  lua_pushinteger(L, lport);
  lua_setfield(L, -2, "local_port");
  vn_pushint(L, t->mode == MODE_FILE ? t->out_bytes : dl);
  lua_setfield(L, -2, "bytes");
  vn_setstr(L, "primary_ip", ip);
  lua_pushinteger(L, t->nevents);
  lua_setfield(L, -2, "events");
  lua_pushinteger(L, (lua_Integer)(vn_sse_buffered(&t->sse) + t->events.cap + t->body.cap + t->hdrs.cap));
  lua_setfield(L, -2, "buffered");
  return 1;
}

static int l_transfer_tostring(lua_State *L) {
  vn_transfer *t = check_transfer(L);
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
    { "error", l_transfer_error },
    { "info", l_transfer_info },
    { "stats", l_transfer_stats },
    { "cancel", l_transfer_cancel },
    { "close", l_transfer_close },
    { NULL, NULL }
  };
  int mod = lua_gettop(L);

  luaL_newmetatable(L, ENGINE_MT);
  lua_pushcfunction(L, l_engine_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, TRANSFER_MT);
  lua_createtable(L, 0, sizeof methods / sizeof methods[0]);
  lua_pushvalue(L, mod);
  luaL_setfuncs(L, methods, 1);   /* the module as upvalue: error() reaches http_error */
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_transfer_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_transfer_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_transfer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  lua_pushlightuserdata(L, (void *)&VN_DONE_KEY);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &VN_DONE_KEY);
  lua_setfield(L, mod, "DONE");

  lua_pushcfunction(L, l_request);
  lua_setfield(L, mod, "request");
  lua_pushcfunction(L, l_step);
  lua_setfield(L, mod, "step");
  lua_pushcfunction(L, l_now);
  lua_setfield(L, mod, "now");
  lua_pushcfunction(L, l_set_loop_hook);
  lua_setfield(L, mod, "set_loop_hook");
  lua_pushcfunction(L, l_socket_action);
  lua_setfield(L, mod, "socket_action");
}
