/* engine.c: the engine, one libcurl multi handle per Lua state.
 *
 * Every request is a transfer on the engine's multi handle, so connections are pooled and reused
 * across requests, streams and clients, and many transfers progress at once. core.step() drives
 * them from a blocking loop or the task scheduler; with an outside event loop (libuv in Neovim) the
 * loop hook and core.socket_action() do instead. The engine also keeps the idle deadlines, which
 * libcurl has no option for, and a small pool of easy handles. */
#include "engine.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENGINE_MT "venice.Engine"

static const char VN_ENGINE_KEY = 'e';

/* {==================== buffers and clocks ==================== */

int vn_buf_append(vn_buf *b, const char *s, size_t n, size_t limit) {
  if (limit && (b->len + n > limit || b->len + n < b->len)) return -2;
  if (vn_buf_reserve(b, n) != 0) return -1;
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

int vn_buf_reserve(vn_buf *b, size_t n) {
  if (b->len + n < b->len) return -1;   /* the size itself overflows */
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
  return 0;
}

void vn_buf_free(vn_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

double vn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* }==================== */

/* {==================== the multi handle and the pool ==================== */

/* Holding back a burst. libcurl 7.88 makes a transfer wait for a connection being made
 * (CURLOPT_PIPEWAIT) only while it does not know whether the host multiplexes; once it knows,
 * each transfer beyond the streams an HTTP/2 connection takes (100, CURLMOPT_MAX_CONCURRENT_STREAMS)
 * opens a connection of its own: 200 concurrent streams made 101 connections. So, per origin, while
 * STREAMS_PER_CONNECTION or more of its transfers are on the multi handle and one of them is still
 * waiting for its connection, a new transfer waits in the engine's queue (behind the ones of its
 * origin already there; other origins are not held up); it goes on as soon as
 * that connection is made (it then finds room on it), or at once when the origin turns out to
 * speak HTTP/1.1, where every concurrent transfer needs a connection anyway. */
#define STREAMS_PER_CONNECTION 100

static vn_origin *origin_of(vn_engine *e, vn_transfer *t) {
  return t->origin > 0 ? &e->origins[t->origin - 1] : NULL;
}

/* The origin's slot for url (made, or the least recently used idle one reused); 0 when none. */
static int origin_slot(vn_engine *e, const char *url) {
  const char *p = strstr(url, "://"), *end;
  size_t n;
  int i, free_i = -1;
  if (!p) return 0;
  end = p + 3;
  while (*end && *end != '/' && *end != '?' && *end != '#') end++;
  n = (size_t)(end - url);
  if (n >= VN_ORIGIN_KEY) return 0;
  for (i = 0; i < VN_ORIGINS; i++) {
    vn_origin *o = &e->origins[i];
    if (o->key[0] && strncmp(o->key, url, n) == 0 && o->key[n] == '\0') {
      o->used = ++e->origin_clock;
      return i + 1;
    }
    if (o->inflight == 0 && o->held == 0 && (free_i < 0 || o->used < e->origins[free_i].used)) free_i = i;
  }
  if (free_i < 0) return 0;
  memcpy(e->origins[free_i].key, url, n);
  e->origins[free_i].key[n] = '\0';
  e->origins[free_i].kind = ORIGIN_UNKNOWN;
  e->origins[free_i].connecting = 0;
  e->origins[free_i].used = ++e->origin_clock;
  return free_i + 1;
}

static int must_wait(vn_engine *e, vn_transfer *t) {
  vn_origin *o = origin_of(e, t);
  return o && o->kind != ORIGIN_SERIAL && o->connecting > 0 && o->inflight >= STREAMS_PER_CONNECTION;
}

static int engine_put(vn_engine *e, vn_transfer *t) {
  vn_origin *o = origin_of(e, t);
  if (curl_multi_add_handle(e->multi, t->easy) != CURLM_OK) return -1;
  t->next = e->active;
  t->prev = NULL;
  if (e->active) e->active->prev = t;
  e->active = t;
  if (o) {
    o->inflight++;
    o->connecting++;
  }
  return 0;
}

int vn_engine_add(vn_engine *e, vn_transfer *t, const char *url) {
  vn_origin *o;
  t->origin = origin_slot(e, url);
  t->connected = 0;
  o = origin_of(e, t);
  if ((o && o->held > 0) || must_wait(e, t)) {   /* behind its origin's waiting ones: in order */
    if (o) o->held++;
    t->held = 1;
    t->next = NULL;
    t->prev = e->held_tail;
    if (e->held_tail) e->held_tail->next = t; else e->held = t;
    e->held_tail = t;
  } else if (engine_put(e, t) != 0) {
    return -1;
  }
  t->running = 1;
  e->nactive++;
  return 0;
}

/* Puts the held transfers that need not wait any more on the multi handle (never from inside a
 * libcurl callback: libcurl refuses that). One that cannot be added ends as failed. */
static void engine_release(vn_engine *e) {
  vn_transfer *t = e->held, *nt;
  int i, blocked[VN_ORIGINS];
  for (i = 0; i < VN_ORIGINS; i++) blocked[i] = 0;
  for (; t; t = nt) {
    nt = t->next;
    if (t->origin > 0 && blocked[t->origin - 1]) continue;
    if (must_wait(e, t)) {   /* and the later ones of its origin too: in order */
      if (t->origin > 0) blocked[t->origin - 1] = 1;
      continue;
    }
    if (t->prev) t->prev->next = t->next; else e->held = t->next;
    if (t->next) t->next->prev = t->prev; else e->held_tail = t->prev;
    t->held = 0;
    if (origin_of(e, t)) origin_of(e, t)->held--;
    e->activity = 1;   /* the caller steps again at once: libcurl starts it on its next call */
    if (engine_put(e, t) != 0) {
      t->next = t->prev = NULL;
      t->running = 0;
      e->nactive--;
      vn_transfer_finish(t, CURLE_OUT_OF_MEMORY);
      e->activity = 1;
    }
  }
}

void vn_engine_connected(vn_transfer *t) {
  vn_origin *o = t->eng ? origin_of(t->eng, t) : NULL;
  if (t->connected) return;
  t->connected = 1;
  if (o && o->connecting > 0) o->connecting--;
}

void vn_engine_learn(vn_transfer *t, long version) {
  vn_origin *o = t->eng ? origin_of(t->eng, t) : NULL;
  if (!o || version == 0) return;
  o->kind = version >= CURL_HTTP_VERSION_2_0 ? ORIGIN_MULTIPLEX : ORIGIN_SERIAL;
}

void vn_engine_remove(vn_transfer *t) {
  vn_engine *e = t->eng;
  if (!t->running || !e) return;
  if (t->held) {
    if (t->prev) t->prev->next = t->next; else e->held = t->next;
    if (t->next) t->next->prev = t->prev; else e->held_tail = t->prev;
    t->held = 0;
    if (origin_of(e, t)) origin_of(e, t)->held--;
  } else {
    vn_origin *o = origin_of(e, t);
    curl_multi_remove_handle(e->multi, t->easy);
    if (t->prev) t->prev->next = t->next; else e->active = t->next;
    if (t->next) t->next->prev = t->prev;
    if (o) {
      o->inflight--;
      if (!t->connected && o->connecting > 0) o->connecting--;
    }
  }
  t->next = t->prev = NULL;
  t->running = 0;
  e->nactive--;
}

vn_handle *vn_engine_take(vn_engine *e) {
  vn_handle *h;
  if (e->npool > 0) return e->pool[--e->npool];
  h = (vn_handle *)calloc(1, sizeof *h);
  if (!h) return NULL;
  h->easy = curl_easy_init();
  if (!h->easy) {
    free(h);
    return NULL;
  }
  return h;
}

/* Back to libcurl's defaults: no option of an earlier transfer is left on the handle. */
void vn_handle_reset(vn_handle *h) {
  curl_easy_reset(h->easy);
  h->shared = h->known = 0;
  free(h->ca_file);
  free(h->ca_path);
  free(h->proxy);
  free(h->noproxy);
  h->ca_file = h->ca_path = h->proxy = h->noproxy = NULL;
}

void vn_handle_free(vn_handle *h) {
  curl_easy_cleanup(h->easy);
  free(h->ca_file);
  free(h->ca_path);
  free(h->proxy);
  free(h->noproxy);
  vn_buf_free(&h->hdrs);
  vn_buf_free(&h->body);
  free(h);
}

void vn_engine_give(vn_engine *e, vn_handle *h, int reset) {
  h->t = NULL;
  if (!e || e->npool >= POOL_MAX) {
    vn_handle_free(h);
    return;
  }
  if (reset) vn_handle_reset(h);
  e->pool[e->npool++] = h;
}


/* Ends the transfers libcurl has finished, then starts the held ones that may go on. */
static void engine_collect(vn_engine *e) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      vn_handle *h = NULL;
      CURLcode rc = m->data.result;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
      if (h && h->t) vn_transfer_finish(h->t, rc);
      e->activity = 1;
    }
  }
  if (e->held) engine_release(e);
}

/* Ends the transfers silent for longer than their idle timeout (libcurl has no such option; its
 * own timeout is the whole request's); returns the seconds to the nearest idle deadline left, or
 * -1 when there is none. */
static double engine_check_idle(vn_engine *e) {
  double now = vn_now(), next = -1;
  vn_transfer *t = e->active, *nt;
  for (; t; t = nt) {
    nt = t->next;
    if (t->idle_s > 0 && !t->paused) {   /* a paused transfer waits for its reader, not the server */
      double left = t->last_activity + t->idle_s - now;
      if (left <= 0) {
        t->failure = FAIL_IDLE;
        vn_transfer_finish(t, CURLE_OPERATION_TIMEDOUT);
        e->activity = 1;
      } else if (next < 0 || left < next) {
        next = left;
      }
    }
  }
  return next;
}

/* }==================== */

/* {==================== the engine object ==================== */

vn_engine *vn_engine_get(lua_State *L) {
  vn_engine *e;
  const char *why;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &VN_ENGINE_KEY);
  e = (vn_engine *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (e) {
    e->L = L;
    return e;
  }
  why = vn_curl_load();
  if (why) luaL_error(L, "venice: %s", why);
  e = (vn_engine *)lua_newuserdata(L, sizeof *e);
  memset(e, 0, sizeof *e);
  e->hook_ref = e->hook_err_ref = LUA_NOREF;
  luaL_setmetatable(L, ENGINE_MT);
  e->multi = curl_multi_init();
  if (!e->multi) luaL_error(L, "venice: cannot create a libcurl multi handle");
  curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)VN_MAX_CONNECTIONS);
  /* HTTP/2: up to this many streams on one connection (libcurl's default; the server's own limit,
   * from its settings, applies too) */
  curl_multi_setopt(e->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)STREAMS_PER_CONNECTION);
  /* The multi handle pools the connections of every client of the state; TLS sessions live per
   * easy handle unless shared, so a share handle keeps them (and the DNS cache) for all: a new
   * connection to a host already seen resumes its TLS session instead of a full handshake. No
   * locks: a Lua state runs on one thread. Without a share handle transfers still work. */
  e->share = curl_share_init();
  if (e->share) {
    curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
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
  while (e->held) {
    vn_transfer *t = e->held;
    vn_engine_remove(t);
    t->eng = NULL;
  }
  while (e->active) {   /* detach what is still running: those transfers are being collected too */
    vn_transfer *t = e->active;
    vn_engine_remove(t);
    curl_easy_setopt(t->easy, CURLOPT_SHARE, NULL);   /* the share handle goes below */
    t->eng = NULL;
  }
  for (i = 0; i < e->npool; i++) vn_handle_free(e->pool[i]);
  e->npool = 0;
  if (e->multi) curl_multi_cleanup(e->multi);
  e->multi = NULL;
  /* refused (and kept) while a handle still uses it: only a transfer left unclosed at exit */
  if (e->share && curl_share_cleanup(e->share) == CURLSHE_OK) e->share = NULL;
  return 0;
}

/* }==================== */

/* {==================== an outside event loop (libuv in Neovim) ==================== */

/* libcurl tells which sockets to watch and when to call it back; the hook (a Lua function set by
 * venice.uv) starts and stops the loop's poll handles and timer at once, before libcurl closes a
 * socket. The whole call into Lua runs protected (pushing the arguments and keeping an error
 * allocate too): an error is kept and raised by the next core call instead of unwinding through
 * libcurl. The collector is paused meanwhile: a finalizer closing a forgotten transfer would call
 * curl_multi_remove_handle from inside libcurl, which libcurl refuses, and the easy handle would
 * then be pooled while still on the multi handle. (Lua 5.1 cannot tell whether the collector was
 * already stopped, so there it is always restarted.) */

typedef struct { vn_engine *e; const char *kind; lua_Integer a, b; } vn_hook_call;

static int hook_protected(lua_State *L) {
  vn_hook_call *c = (vn_hook_call *)lua_touserdata(L, 1);
  vn_engine *e = c->e;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->hook_ref);
  lua_pushstring(L, c->kind);
  lua_pushinteger(L, c->a);
  lua_pushinteger(L, c->b);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    e->hook_err_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* may raise: caught by the caller's pcall */
    e->hook_failed = 1;
  }
  return 0;
}

static void engine_hook(vn_engine *e, const char *kind, lua_Integer a, lua_Integer b) {
  lua_State *L = e->L;
  vn_hook_call c;
  int gc_on = 1, rc;
  if (!L || e->hook_ref == LUA_NOREF || e->hook_failed) return;
  if (!lua_checkstack(L, 6)) {
    e->hook_failed = 1;   /* hook_err_ref stays LUA_NOREF: reported as out of memory */
    return;
  }
#ifdef LUA_GCISRUNNING
  gc_on = lua_gc(L, LUA_GCISRUNNING, 0) == 1;
#endif
  if (gc_on) lua_gc(L, LUA_GCSTOP, 0);
  c.e = e;
  c.kind = kind;
  c.a = a;
  c.b = b;
#if LUA_VERSION_NUM < 502
  rc = lua_cpcall(L, hook_protected, &c);   /* makes the C function inside the protection */
#else
  lua_pushcfunction(L, hook_protected);     /* a light C function: allocates nothing */
  lua_pushlightuserdata(L, &c);
  rc = lua_pcall(L, 1, 0, 0);
#endif
  if (rc != LUA_OK) {   /* out of memory around the hook's own call */
    lua_pop(L, 1);
    e->hook_failed = 1;
  }
  if (gc_on) lua_gc(L, LUA_GCRESTART, 0);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)easy;
  (void)socketp;
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
  if (e->hook_err_ref == LUA_NOREF || e->hook_err_ref == LUA_REFNIL) {
    luaL_error(L, "venice: out of memory in the event-loop hook");
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->hook_err_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, e->hook_err_ref);
  e->hook_err_ref = LUA_NOREF;
  lua_error(L);
}

/* core.set_loop_hook(fn | nil): fn("socket", fd, what) with what 1 in, 2 out, 3 both, 4 remove;
 * fn("timer", ms) with -1 to cancel. With a hook set, the loop calls core.socket_action. */
static int l_set_loop_hook(lua_State *L) {
  vn_engine *e = vn_engine_get(L);
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
  vn_engine *e = vn_engine_get(L);
  lua_Number fdn = luaL_checknumber(L, 1), evn = luaL_optnumber(L, 2, 0);
  int fd, ev, flags = 0, running = 0, activity;
  double next;
  /* checked before the casts: a float outside int's range has no integer value */
  luaL_argcheck(L, fdn >= -1 && fdn <= 2147483647.0 && fdn == (lua_Number)(int)fdn, 1, "a file descriptor or -1");
  luaL_argcheck(L, evn >= 0 && evn <= 7 && evn == (lua_Number)(int)evn, 2, "events from 0 to 7");
  fd = (int)fdn;
  ev = (int)evn;
  if (ev & 1) flags |= CURL_CSELECT_IN;
  if (ev & 2) flags |= CURL_CSELECT_OUT;
  if (ev & 4) flags |= CURL_CSELECT_ERR;
  curl_multi_socket_action(e->multi, fd < 0 ? CURL_SOCKET_TIMEOUT : (curl_socket_t)fd, flags, &running);
  engine_collect(e);
  next = engine_check_idle(e);
  engine_raise_hook_error(L, e);
  activity = e->activity;
  e->activity = 0;
  lua_pushinteger(L, e->nactive);
  lua_pushboolean(L, activity);
  if (next >= 0) lua_pushnumber(L, next); else lua_pushnil(L);
  return 3;
}

/* }==================== */

/* {==================== core.step ==================== */

/* Milliseconds from a Lua number, for libcurl and nanosleep: NaN and negatives are 0, and anything
 * past a day is a day (a step waits at most that long before returning; callers loop). */
static double wait_ms_of(lua_State *L, int idx) {
  double v = luaL_optnumber(L, idx, 0);
  if (!(v > 0)) return 0;
  return v > 86400000.0 ? 86400000.0 : v;
}

/* core.step([timeout_ms]) -> running, activity
 * Drives every transfer. Waits up to timeout_ms (default 0) for network activity when nothing has
 * arrived since the last step; returns the number of transfers still running and whether anything
 * arrived or finished. */
static int l_step(lua_State *L) {
  vn_engine *e = vn_engine_get(L);
  double wait_ms = wait_ms_of(L, 1), next;
  int running = 0, activity;
  curl_multi_perform(e->multi, &running);
  engine_collect(e);
  next = engine_check_idle(e);
  if (!e->activity && wait_ms > 0 && e->nactive > 0) {
    int numfds = 0;
    if (next >= 0 && next * 1000 < wait_ms) wait_ms = next * 1000 + 1;
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

/* core.configure{ max_connections = n }: the most connections the state's pool keeps open
 * (idle ones beyond are closed, oldest first); for every client of the Lua state. */
static int l_configure(lua_State *L) {
  vn_engine *e = vn_engine_get(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "max_connections");
  if (!lua_isnil(L, -1)) {
    lua_Number n = luaL_checknumber(L, -1);
    luaL_argcheck(L, n >= 1 && n <= 100000 && n == (lua_Number)(long)n, 1,
                  "max_connections must be a whole number from 1 to 100000");
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)n);
  }
  lua_pop(L, 1);
  return 0;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, vn_now());
  return 1;
}

/* }==================== */

void vn_engine_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "step", l_step },
    { "now", l_now },
    { "configure", l_configure },
    { "set_loop_hook", l_set_loop_hook },
    { "socket_action", l_socket_action },
    { NULL, NULL }
  };
  luaL_newmetatable(L, ENGINE_MT);
  lua_pushcfunction(L, l_engine_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
