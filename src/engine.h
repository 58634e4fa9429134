/* engine.h: what engine.c and transfer.c share: the engine (one libcurl multi handle per Lua
 * state, with its pool of easy handles) and the transfer objects it drives. */
#ifndef VENICE_ENGINE_H
#define VENICE_ENGINE_H

#include "venice.h"
#include "sse.h"
#include "curlapi.h"
#include <stdio.h>

#define POOL_MAX 16
/* The connections the pool keeps open by default (core.configure changes it). */
#define VN_MAX_CONNECTIONS 64
/* Seconds an idle connection stays reusable by default (libcurl's own is 118). */
#define VN_MAX_CONNECTION_AGE 300

typedef struct vn_transfer vn_transfer;

/* An easy handle with what stays with it between transfers: libcurl's callbacks get this, not the
 * transfer, so the options that point at it are set once per handle; the values of the options
 * every transfer sets, so that one equal to the last transfer's is not set again; the error
 * buffer; and the header and body buffers, kept (emptied) for the next transfer when small. */
typedef struct vn_handle {
  CURL *easy;
  vn_transfer *t;                     /* the transfer using it; NULL in the pool */
  int shared;                         /* holds the options every transfer shares (set_shared) */
  int known;                          /* the values below are the handle's */
  long timeout_ms, connect_ms, maxage, version, wait;
  char *ca_file, *ca_path, *proxy, *noproxy;   /* the options it has (set_kept); NULL: libcurl's */
  vn_buf hdrs, body;
  char errbuf[CURL_ERROR_SIZE];
} vn_handle;

/* What the engine knows of one origin (scheme://host:port) for holding back a burst of transfers
 * (see vn_engine_add). */
#define VN_ORIGINS 16
#define VN_ORIGIN_KEY 160
enum { ORIGIN_UNKNOWN, ORIGIN_SERIAL, ORIGIN_MULTIPLEX };
typedef struct vn_origin {
  char key[VN_ORIGIN_KEY];
  int inflight;                       /* its transfers on the multi handle */
  int connecting;                     /* of those, the ones without a connection yet */
  int held;                           /* its transfers waiting in the engine's queue */
  int kind;                           /* ORIGIN_*: learned from the responses */
  unsigned long used;                 /* for reusing the least recently used slot */
} vn_origin;

typedef struct vn_engine {
  CURLM *multi;
  CURLSH *share;                      /* TLS sessions and DNS, for every transfer of the state */
  vn_handle *pool[POOL_MAX];          /* easy handles kept for reuse */
  int npool;
  vn_transfer *active;                /* transfers on the multi handle */
  int nactive;                        /* those and the held ones */
  vn_transfer *held, *held_tail;      /* started, waiting for a connection to be made first */
  vn_origin origins[VN_ORIGINS];
  unsigned long origin_clock;
  int activity;                       /* set by callbacks: something arrived since the last step */
  lua_State *L;                       /* the state of the C call in progress, for the loop hook */
  int hook_ref;                       /* Lua function(kind, a, b) told of libcurl's sockets and timer */
  int hook_failed;                    /* the hook raised: its message is kept under hook_err_ref */
  int hook_err_ref;
} vn_engine;

enum { MODE_UNDECIDED, MODE_BUF, MODE_SSE, MODE_FILE };
enum {
  FAIL_NONE, FAIL_TOO_LARGE, FAIL_EVENT_TOO_LARGE, FAIL_NOMEM, FAIL_IDLE, FAIL_CANCEL, FAIL_WRITE,
  FAIL_RESEND     /* libcurl was about to send the request a second time: refused */
};

struct vn_transfer {
  CURL *easy;                    /* h->easy */
  vn_handle *h;
  vn_engine *eng;
  vn_transfer *next, *prev;
  struct curl_slist *req_headers;
  curl_mime *mime;
  int anchor_ref;                /* table of what libcurl reads while the transfer lives (body, files) */
  int running, done, closed;
  int held;                      /* running, but waiting in the engine's queue (not on the multi) */
  int origin;                    /* 1 + its slot in the engine's origins, 0 for none */
  int connected;                 /* libcurl had a connection for it (the pre-request callback ran) */
  int ready;                     /* every option is set: the handle may be pooled without a reset */
  int unusual;                   /* set an option beyond the usual ones: reset before reuse */
  int headers_done;
  int line_status;               /* the status of the response whose header lines are arriving */
  int error_body_cut;            /* an error response's body was cut once its kept part was full */
  int mode, want_sse;
  int output_any;                /* every successful body goes to out_path, JSON too */
  int sends;                     /* times libcurl was about to send the request (pre-request callback) */
  long status;
  long http_version;             /* CURL_HTTP_VERSION_* of the final response, once headers_done */
  CURLcode result;
  int failure;
  int write_errno;               /* errno of the failed open, write or close of the output file */
  vn_buf hdrs;                   /* "name\0value\0" pairs, names lower-cased */
  vn_buf body;
  size_t max_body;
  vn_sse sse;
  vn_buf events;                 /* queued events: [3 x size_t lengths][type][data][id] */
  size_t ev_read;
  size_t nevents;                /* events decoded so far (queued or read) */
  size_t max_queue;              /* unread event bytes past which the transfer pauses */
  int paused;                    /* the write callback paused the transfer: the queue is full */
  int chunked, has_length;       /* the final response's framing: chunked, or a Content-Length */
  FILE *out;
  char *out_path;                /* where a successful body goes */
  char *tmp_path;                /* the file written meanwhile, renamed to out_path on success */
  curl_off_t out_bytes;
  double idle_s, last_activity, started;
};

/* engine.c */
VN_HIDDEN double vn_now(void);
/* The engine of this Lua state, made (and libcurl loaded) on first use; raises on failure. */
VN_HIDDEN vn_engine *vn_engine_get(lua_State *L);
/* A pooled handle, or a new one (NULL when libcurl or memory gives none). */
VN_HIDDEN vn_handle *vn_engine_take(vn_engine *e);
/* Back to the pool (reset first when reset is set: it then holds no option of its last transfer),
 * or cleaned up when the pool is full or there is no engine. */
VN_HIDDEN void vn_engine_give(vn_engine *e, vn_handle *h, int reset);
/* Cleans up the easy handle and frees h. */
VN_HIDDEN void vn_handle_reset(vn_handle *h);
VN_HIDDEN void vn_handle_free(vn_handle *h);
/* Puts t on the multi handle, or holds it back a moment (see engine.c); 0 on success. url is
 * the transfer's, for its origin. */
VN_HIDDEN int vn_engine_add(vn_engine *e, vn_transfer *t, const char *url);
/* t has a connection (called from the pre-request callback). */
VN_HIDDEN void vn_engine_connected(vn_transfer *t);
/* t's response headers came over HTTP version `version` (CURL_HTTP_VERSION_*). */
VN_HIDDEN void vn_engine_learn(vn_transfer *t, long version);
/* Takes t off the multi handle (when it is on it). */
VN_HIDDEN void vn_engine_remove(vn_transfer *t);
/* Registers the engine's functions (step, now, set_loop_hook, socket_action) into the module at top. */
VN_HIDDEN void vn_engine_open(lua_State *L);

/* transfer.c */
/* Ends t with libcurl's result rc (called by the engine when libcurl or a deadline ends it). */
VN_HIDDEN void vn_transfer_finish(vn_transfer *t, CURLcode rc);

#endif
