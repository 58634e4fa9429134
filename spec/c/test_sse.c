/* test_sse.c: table-driven tests for the SSE decoder (src/sse.c).
 * Every table case is fed whole, split at every position, split at every pair
 * of positions (short inputs), one byte per feed and with random splits; all
 * must give the same events. `test_sse --bench` measures throughput instead. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Allocation failures on demand: the decoder is built into this program with
 * its realloc routed here. */
static long alloc_budget = -1;   /* reallocs left before they fail; -1: no limit */

static void *test_realloc(void *p, size_t n)
{
  if (alloc_budget == 0) return NULL;
  if (alloc_budget > 0) alloc_budget--;
  return realloc(p, n);
}

#define vn_sse_realloc test_realloc
#include "sse.c"

#define STOP_RC 42

static int n_pass, n_fail;

/* ---- growable byte buffer ---------------------------------------------- */

typedef struct { char *p; size_t len, cap; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    b->p = (char *)realloc(b->p, cap);
    if (!b->p) { fputs("out of memory\n", stderr); exit(2); }
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Escapes so that expected logs are one readable line: \n \r \\ \| \; \xHH. */
static void sb_esc(sbuf *b, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char tmp[8];
    if (c == '\n') sb_str(b, "\\n");
    else if (c == '\r') sb_str(b, "\\r");
    else if (c == '\\' || c == '|' || c == ';') { tmp[0] = '\\'; tmp[1] = (char)c; sb_put(b, tmp, 2); }
    else if (c < 0x20 || c >= 0x7f) { sprintf(tmp, "\\x%02x", c); sb_str(b, tmp); }
    else sb_put(b, (const char *)&s[i], 1);
  }
}

/* type|data|id|retry; */
static void sb_event(sbuf *b, const vn_sse_event *ev)
{
  char tmp[32];
  sb_esc(b, ev->type, ev->type_len);
  sb_str(b, "|");
  sb_esc(b, ev->data, ev->data_len);
  sb_str(b, "|");
  sb_esc(b, ev->id, ev->id_len);
  sprintf(tmp, "|%ld;", ev->retry);
  sb_str(b, tmp);
}

/* ---- running the decoder ------------------------------------------------ */

typedef struct {
  sbuf log;
  int stop_after;   /* return STOP_RC from this event on (1-based); 0 never */
  int count;
} collector;

static int collect_cb(void *ud, const vn_sse_event *ev)
{
  collector *c = (collector *)ud;
  /* the header promises non-NULL, '\0'-terminated fields */
  if (!ev->type || !ev->data || !ev->id || ev->type[ev->type_len] || ev->data[ev->data_len] ||
      ev->id[ev->id_len])
    sb_str(&c->log, "<bad pointers>");
  sb_event(&c->log, ev);
  c->count++;
  return c->stop_after && c->count >= c->stop_after ? STOP_RC : 0;
}

/* Feeds in[0..len) cut at the ascending positions cuts[0..ncuts). Stops at
 * the first non-zero return, which it returns. The log goes to *out. */
static int run_cuts(size_t cap, const char *in, size_t len, const size_t *cuts, size_t ncuts,
                    int stop_after, sbuf *out)
{
  vn_sse d;
  collector c;
  size_t prev = 0, k;
  int rc = 0;
  memset(&c, 0, sizeof c);
  c.stop_after = stop_after;
  sb_str(&c.log, "");
  vn_sse_init(&d, cap);
  for (k = 0; k <= ncuts && rc == 0; k++) {
    size_t at = k < ncuts ? cuts[k] : len;
    rc = vn_sse_feed(&d, in + prev, at - prev, collect_cb, &c);
    prev = at;
  }
  vn_sse_free(&d);
  *out = c.log;
  return rc;
}

static unsigned long long rng_next(unsigned long long *s)
{
  /* xorshift64* */
  unsigned long long x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 2685821657736338717ULL;
}

static void describe_cuts(const size_t *cuts, size_t n)
{
  size_t i;
  fprintf(stderr, "    cuts:");
  for (i = 0; i < n && i < 24; i++) fprintf(stderr, " %lu", (unsigned long)cuts[i]);
  if (n > 24) fprintf(stderr, " ... (%lu in all)", (unsigned long)n);
  fprintf(stderr, "\n");
}

/* Runs one split pattern; on mismatch reports it and returns 0. */
static int try_cuts(const char *name, const char *mode, size_t cap, const char *in, size_t len,
                    const size_t *cuts, size_t ncuts, int stop_after, const char *want, int want_rc)
{
  sbuf got;
  int rc = run_cuts(cap, in, len, cuts, ncuts, stop_after, &got);
  int ok = rc == want_rc && strcmp(got.p, want) == 0;
  if (!ok) {
    fprintf(stderr, "FAIL %s [%s]\n    want rc %d: %s\n    got  rc %d: %s\n", name, mode, want_rc,
            want, rc, got.p);
    describe_cuts(cuts, ncuts);
  }
  free(got.p);
  return ok;
}

static void tally(int ok)
{
  if (ok) n_pass++;
  else n_fail++;
}

/* All split strategies for one input; one tally per strategy. */
static void check_splits(const char *name, size_t cap, const char *in, size_t len, int stop_after,
                         const char *want, int want_rc)
{
  size_t *cuts = (size_t *)malloc((len + 2) * sizeof *cuts);
  size_t i, j;
  unsigned long long seed = 0x9e3779b97f4a7c15ULL ^ (unsigned long long)len;
  int ok;
  if (!cuts) exit(2);

  tally(try_cuts(name, "whole", cap, in, len, NULL, 0, stop_after, want, want_rc));

  /* two feeds, cut everywhere including both ends (empty feeds) */
  ok = 1;
  for (i = 0; i <= len && ok; i++) {
    cuts[0] = i;
    ok = try_cuts(name, "split1", cap, in, len, cuts, 1, stop_after, want, want_rc);
  }
  tally(ok);

  /* three feeds, every pair of cuts (quadratic: short inputs only) */
  if (len <= 160) {
    ok = 1;
    for (i = 1; i < len && ok; i++)
      for (j = i; j < len && ok; j++) {
        cuts[0] = i;
        cuts[1] = j;
        ok = try_cuts(name, "split2", cap, in, len, cuts, 2, stop_after, want, want_rc);
      }
    tally(ok);
  }

  /* one byte per feed */
  for (i = 1; i < len; i++) cuts[i - 1] = i;
  tally(try_cuts(name, "bytes", cap, in, len, cuts, len ? len - 1 : 0, stop_after, want, want_rc));

  /* random cut sets of varying density */
  ok = 1;
  for (j = 0; j < 40 && ok; j++) {
    size_t n = 0, pos = 0;
    unsigned long long r = rng_next(&seed);
    size_t maxstep = 1 + (size_t)(r % (len / 2 + 2));
    for (;;) {
      pos += (size_t)(rng_next(&seed) % (maxstep + 1));   /* steps of 0 make empty feeds */
      if (pos > len) break;
      cuts[n++] = pos;
      if (n == len + 1) break;
    }
    ok = try_cuts(name, "random", cap, in, len, cuts, n, stop_after, want, want_rc);
  }
  tally(ok);
  free(cuts);
}

/* ---- the table ---------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *in;
  size_t len;
  size_t cap;        /* 0: default */
  int rc;            /* final return of the feeds */
  const char *want;  /* events as sb_event renders them */
} sse_case;

#define IN(s) s, sizeof(s) - 1
#define X10 "0123456789"
#define X50 X10 X10 X10 X10 X10

static const sse_case cases[] = {
  { "empty input", IN(""), 0, 0, "" },
  { "blank lines only", IN("\n\n\r\n\r\r"), 0, 0, "" },
  { "lf", IN("data: a\n\n"), 0, 0, "message|a||-1;" },
  { "crlf", IN("data: a\r\n\r\n"), 0, 0, "message|a||-1;" },
  { "cr", IN("data: a\r\r"), 0, 0, "message|a||-1;" },
  { "mixed line ends", IN("data: a\r\ndata: b\rdata: c\n\r\n"), 0, 0, "message|a\\nb\\nc||-1;" },
  { "crlf then lf", IN("data: a\r\n\ndata: b\r\r\n"), 0, 0, "message|a||-1;message|b||-1;" },
  { "lf then cr is two ends", IN("data: a\n\rdata: b\n\n"), 0, 0, "message|a||-1;message|b||-1;" },
  { "cr cr lf", IN("data: a\r\r\ndata: b\n\n"), 0, 0, "message|a||-1;message|b||-1;" },
  { "bom", IN("\xEF\xBB\xBF" "data: a\n\n"), 0, 0, "message|a||-1;" },
  { "bom then blank", IN("\xEF\xBB\xBF\ndata: a\n\n"), 0, 0, "message|a||-1;" },
  { "bom only once", IN("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\ndata: b\n\n"), 0, 0, "message|b||-1;" },
  { "bom later is data", IN("data: a\n\n\xEF\xBB\xBF" "data: b\n\ndata: \xEF\xBB\xBF\n\n"), 0, 0,
    "message|a||-1;message|\\xef\\xbb\\xbf||-1;" },
  { "partial bom is input", IN("\xEF\xBB\ndata: a\n\n"), 0, 0, "message|a||-1;" },
  { "partial bom joins line", IN("\xEF\xBB" "data: a\n\ndata: b\n\n"), 0, 0, "message|b||-1;" },
  { "bom-like start", IN("\xEF\xBB\xBE\ndata: a\n\n"), 0, 0, "message|a||-1;" },
  { "lone bom", IN("\xEF\xBB\xBF"), 0, 0, "" },
  { "comments", IN(": hello\ndata: a\n:\n:: x\n\n: ping\n\n"), 0, 0, "message|a||-1;" },
  { "multi-line data", IN("data: a\ndata: b\ndata: c\n\n"), 0, 0, "message|a\\nb\\nc||-1;" },
  { "no space", IN("data:a\n\n"), 0, 0, "message|a||-1;" },
  { "two spaces", IN("data:  a\n\n"), 0, 0, "message| a||-1;" },
  { "trailing space", IN("data: a \n\n"), 0, 0, "message|a ||-1;" },
  { "tab not stripped", IN("data:\ta\n\n"), 0, 0, "message|\\x09a||-1;" },
  { "colon in value", IN("data: a: b:c\n\n"), 0, 0, "message|a: b:c||-1;" },
  { "no colon", IN("data\n\n"), 0, 0, "message|||-1;" },
  { "no colon twice", IN("data\ndata\n\n"), 0, 0, "message|\\n||-1;" },
  { "empty value", IN("data:\n\n"), 0, 0, "message|||-1;" },
  { "space only value", IN("data: \n\n"), 0, 0, "message|||-1;" },
  { "empty then value", IN("data\ndata: x\n\n"), 0, 0, "message|\\nx||-1;" },
  { "nul in data", IN("data: a\0b\n\n"), 0, 0, "message|a\\x00b||-1;" },
  { "utf-8 passes", IN("data: h\xC3\xA9llo \xE2\x9C\x93\n\n"), 0, 0,
    "message|h\\xc3\\xa9llo \\xe2\\x9c\\x93||-1;" },
  { "event type", IN("event: add\ndata: 1\n\n"), 0, 0, "add|1||-1;" },
  { "type resets after dispatch", IN("event: add\ndata: 1\n\ndata: 2\n\n"), 0, 0,
    "add|1||-1;message|2||-1;" },
  { "type reset without data", IN("event: add\n\ndata: 1\n\n"), 0, 0, "message|1||-1;" },
  { "empty type is message", IN("event:\ndata: 1\n\nevent\ndata: 2\n\n"), 0, 0,
    "message|1||-1;message|2||-1;" },
  { "last type wins", IN("event: a\ndata: 1\nevent: b\n\n"), 0, 0, "b|1||-1;" },
  { "id", IN("id: 7\ndata: 1\n\n"), 0, 0, "message|1|7|-1;" },
  { "id persists", IN("id: 7\ndata: 1\n\ndata: 2\n\n"), 0, 0, "message|1|7|-1;message|2|7|-1;" },
  { "id without dispatch persists", IN("id: 9\n\ndata: 1\n\n"), 0, 0, "message|1|9|-1;" },
  { "id after data in block", IN("data: 1\nid: 3\n\n"), 0, 0, "message|1|3|-1;" },
  { "empty id clears", IN("id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n"), 0, 0,
    "message|a|1|-1;message|b||-1;message|c||-1;" },
  { "id with nul ignored", IN("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n"), 0, 0,
    "message|a|1|-1;message|b|1|-1;" },
  { "id two spaces", IN("id:  5\ndata: a\n\n"), 0, 0, "message|a| 5|-1;" },
  { "retry", IN("retry: 3000\ndata: a\n\ndata: b\n\n"), 0, 0, "message|a||3000;message|b||-1;" },
  { "retry no space", IN("retry:0\ndata: a\n\n"), 0, 0, "message|a||0;" },
  { "retry leading zeros", IN("retry: 007\ndata: a\n\n"), 0, 0, "message|a||7;" },
  { "retry invalid", IN("retry: 30x\ndata: a\n\nretry: -5\ndata: b\n\nretry:  10\ndata: c\n\n"
                        "retry:\ndata: d\n\nretry\ndata: e\n\nretry: 1.5\ndata: f\n\n"),
    0, 0, "message|a||-1;message|b||-1;message|c||-1;message|d||-1;message|e||-1;message|f||-1;" },
  { "retry block without data", IN("retry: 5\n\ndata: a\n\n"), 0, 0, "message|a||-1;" },
  { "retry after data", IN("data: a\nretry: 10\n\n"), 0, 0, "message|a||10;" },
  { "invalid retry keeps valid", IN("retry: 10\nretry: x\ndata: a\n\n"), 0, 0, "message|a||10;" },
  { "last retry wins", IN("retry: 10\nretry: 20\ndata: a\n\n"), 0, 0, "message|a||20;" },
  { "unknown fields", IN("foo: bar\nDATA: x\nData: y\ndata : z\ndat: q\ndatas: r\n\n"), 0, 0, "" },
  { "unknown fields mixed", IN("foo: bar\ndata: a\nevent2: x\nid2: 3\n\n"), 0, 0,
    "message|a||-1;" },
  { "unfinished event dropped", IN("data: a\n\ndata: b\n"), 0, 0, "message|a||-1;" },
  { "unfinished line dropped", IN("data: a\n\ndata: b"), 0, 0, "message|a||-1;" },
  { "unfinished cr line", IN("data: a\n\ndata: b\r"), 0, 0, "message|a||-1;" },
  { "json payload", IN("event: delta\nid: 42\ndata: {\"a\":[1,2],\"b\":\"x|y;z\"}\n\n"), 0, 0,
    "delta|{\"a\":[1,2],\"b\":\"x\\|y\\;z\"}|42|-1;" },
  { "full block", IN(": c\r\nretry: 100\r\nid: e1\r\nevent: t\r\ndata: x\r\ndata: y\r\n\r\n"), 0, 0,
    "t|x\\ny|e1|100;" },

  /* caps (64): a line is the bytes before its terminator; data is the joined
   * value without the final '\n' */
  { "line at cap", IN("data: " X50 "01234567\n\n"), 64, 0, "message|" X50 "01234567||-1;" },
  { "line over cap", IN("data: a\n\ndata: " X50 "012345678\n\ndata: b\n\n"), 64, VN_SSE_ETOOBIG,
    "message|a||-1;" },
  { "crlf line at cap", IN("data: " X50 "01234567\r\n\r\n"), 64, 0, "message|" X50 "01234567||-1;" },
  { "unterminated line over cap", IN("data: a\n\n: " X50 X10 "012"), 64, VN_SSE_ETOOBIG,
    "message|a||-1;" },
  { "comment over cap", IN(": " X50 X10 "012\n"), 64, VN_SSE_ETOOBIG, "" },
  { "data at cap", IN("data: " X50 "\ndata: 0123456789012\n\n"), 64, 0,
    "message|" X50 "\\n0123456789012||-1;" },
  { "data over cap", IN("data: a\n\ndata: " X50 "\ndata: 01234567890123\n\ndata: b\n\n"), 64,
    VN_SSE_ETOOBIG, "message|a||-1;" },
  { "empty data lines over cap", IN("data\ndata\ndata\ndata\ndata\ndata\n"), 4, VN_SSE_ETOOBIG, "" },
  { "empty data lines at cap", IN("data\ndata\ndata\ndata\ndata\n\n"), 4, 0, "message|\\n\\n\\n\\n||-1;" },
  { "dead stays dead", IN("data: " X50 X10 "0123456\n\ndata: b\n\n"), 64, VN_SSE_ETOOBIG, "" },
  { "cap 1", IN("a\n\n:\nb\n"), 1, 0, "" },
  { "cap 1 over", IN("a\nbc\n"), 1, VN_SSE_ETOOBIG, "" },
};

/* ---- a recorded chat completion stream ---------------------------------- */

#define CHUNK(delta, fin)                                                                   \
  "{\"id\":\"chatcmpl-8f3a\",\"object\":\"chat.completion.chunk\",\"created\":1732531200,"  \
  "\"model\":\"llama-3.3-70b\",\"choices\":[{\"index\":0,\"delta\":" delta                 \
  ",\"finish_reason\":" fin "}]}"

static const char *const chat_payloads[] = {
  CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null"),
  CHUNK("{\"content\":\"Hello\"}", "null"),
  CHUNK("{\"content\":\"!\"}", "null"),
  CHUNK("{\"content\":\" How\"}", "null"),
  CHUNK("{\"content\":\" can I\"}", "null"),
  CHUNK("{\"content\":\" help\\nyou\"}", "null"),
  CHUNK("{\"content\":\" today? \\u00e9\\ud83d\\ude00\"}", "null"),
  CHUNK("{}", "\"stop\""),
  "{\"id\":\"chatcmpl-8f3a\",\"object\":\"chat.completion.chunk\",\"created\":1732531200,"
  "\"model\":\"llama-3.3-70b\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
  "\"completion_tokens\":9,\"total_tokens\":21}}",
  "[DONE]",
};
#define N_CHAT (sizeof chat_payloads / sizeof chat_payloads[0])

/* The stream as a server sends it, with a keep-alive comment in it. */
static void chat_stream(sbuf *s, const char *eol, int bom)
{
  size_t i;
  if (bom) sb_str(s, "\xEF\xBB\xBF");
  sb_str(s, ": keep-alive");
  sb_str(s, eol);
  for (i = 0; i < N_CHAT; i++) {
    sb_str(s, "data: ");
    sb_str(s, chat_payloads[i]);
    sb_str(s, eol);
    sb_str(s, eol);
    if (i == 4) {
      sb_str(s, ":");
      sb_str(s, eol);
    }
  }
}

static void chat_want(sbuf *w, size_t upto)
{
  size_t i;
  for (i = 0; i < upto; i++) {
    sb_str(w, "message|");
    sb_esc(w, chat_payloads[i], strlen(chat_payloads[i]));
    sb_str(w, "||-1;");
  }
}

static void test_chat(void)
{
  static const char *const eols[] = { "\n", "\r\n", "\r" };
  static const char *const names[] = { "chat lf", "chat crlf", "chat cr" };
  sbuf want = { NULL, 0, 0 };
  size_t e, k;
  chat_want(&want, N_CHAT);
  for (e = 0; e < 3; e++) {
    int bom;
    for (bom = 0; bom < 2; bom++) {
      sbuf s = { NULL, 0, 0 };
      char name[64];
      chat_stream(&s, eols[e], bom);
      sprintf(name, "%s%s", names[e], bom ? " bom" : "");
      check_splits(name, 0, s.p, s.len, 0, want.p, 0);
      free(s.p);
    }
  }
  /* stopping after each event: later events never arrive, whatever the split */
  for (k = 1; k <= N_CHAT; k++) {
    sbuf s = { NULL, 0, 0 }, w = { NULL, 0, 0 };
    char name[64];
    chat_stream(&s, "\r\n", 0);
    chat_want(&w, k);
    sprintf(name, "chat stop after %lu", (unsigned long)k);
    check_splits(name, 0, s.p, s.len, (int)k, w.p, STOP_RC);
    free(s.p);
    free(w.p);
  }
  free(want.p);
}

/* ---- direct API checks --------------------------------------------------- */

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) n_pass++;                                                          \
    else { n_fail++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)

static int feed_str(vn_sse *d, const char *s, collector *c)
{
  return vn_sse_feed(d, s, strlen(s), collect_cb, c);
}

static void log_clear(collector *c)
{
  c->log.len = 0;
  sb_str(&c->log, "");
}

static void test_api(void)
{
  vn_sse d;
  collector c;
  char tmp[64];
  memset(&c, 0, sizeof c);
  sb_str(&c.log, "");

  /* stop, then go on with the next feed */
  vn_sse_init(&d, 0);
  c.stop_after = 1;
  CHECK(feed_str(&d, "data: a\n\ndata: b\n\n", &c) == STOP_RC);
  CHECK(strcmp(c.log.p, "message|a||-1;") == 0);
  c.stop_after = 0;
  log_clear(&c);
  CHECK(feed_str(&d, "data: c\n\n", &c) == 0);
  CHECK(strcmp(c.log.p, "message|c||-1;") == 0);

  /* stop on a blank line whose CR is the last byte of the feed */
  c.stop_after = c.count + 1;
  log_clear(&c);
  CHECK(feed_str(&d, "data: d\r\r", &c) == STOP_RC);
  c.stop_after = 0;
  CHECK(feed_str(&d, "\ndata: e\n\n", &c) == 0);
  CHECK(strcmp(c.log.p, "message|d||-1;message|e||-1;") == 0);

  /* buffered(): incomplete line + pending data */
  vn_sse_reset(&d);
  CHECK(vn_sse_buffered(&d) == 0);
  CHECK(feed_str(&d, "data: abc", &c) == 0);
  CHECK(vn_sse_buffered(&d) == 9);
  CHECK(feed_str(&d, "\n", &c) == 0);
  CHECK(vn_sse_buffered(&d) == 4);
  CHECK(feed_str(&d, "data", &c) == 0);
  CHECK(vn_sse_buffered(&d) == 8);
  log_clear(&c);
  CHECK(feed_str(&d, "\n\n", &c) == 0);
  CHECK(vn_sse_buffered(&d) == 0);
  CHECK(strcmp(c.log.p, "message|abc\\n||-1;") == 0);

  /* empty feed, NULL buffer allowed when len is 0; NULL callback just parses */
  CHECK(vn_sse_feed(&d, NULL, 0, collect_cb, &c) == 0);
  CHECK(vn_sse_feed(&d, "data: x\n\n", 9, NULL, NULL) == 0);

  /* reset: pending line, data, type, last id, BOM check all back to the start */
  log_clear(&c);
  CHECK(feed_str(&d, "\xEF\xBB\xBFid: 5\ndata: a\nevent: t\ndata: part", &c) == 0);
  vn_sse_reset(&d);
  CHECK(vn_sse_buffered(&d) == 0);
  CHECK(feed_str(&d, "\xEF\xBB\xBF" "data: y\n\n", &c) == 0);
  CHECK(strcmp(c.log.p, "message|y||-1;") == 0);
  vn_sse_free(&d);

  /* dead after ETOOBIG until reset */
  vn_sse_init(&d, 64);
  log_clear(&c);
  CHECK(feed_str(&d, "data: " X50 X10, &c) == VN_SSE_ETOOBIG);
  CHECK(feed_str(&d, "\n\ndata: x\n\n", &c) == VN_SSE_ETOOBIG);
  CHECK(vn_sse_feed(&d, NULL, 0, collect_cb, &c) == VN_SSE_ETOOBIG);
  CHECK(c.log.len == 0);
  vn_sse_reset(&d);
  CHECK(feed_str(&d, "data: x\n\n", &c) == 0);
  CHECK(strcmp(c.log.p, "message|x||-1;") == 0);
  /* the data cap kills it too */
  log_clear(&c);
  CHECK(feed_str(&d, "data: " X50 "\n", &c) == 0);
  CHECK(feed_str(&d, "data: " X50 "\n", &c) == VN_SSE_ETOOBIG);
  CHECK(feed_str(&d, "\n", &c) == VN_SSE_ETOOBIG);
  CHECK(c.log.len == 0);
  vn_sse_free(&d);

  /* free twice and init again */
  vn_sse_free(&d);
  vn_sse_init(&d, 0);
  log_clear(&c);
  CHECK(feed_str(&d, "data: again\n\n", &c) == 0);
  CHECK(strcmp(c.log.p, "message|again||-1;") == 0);
  vn_sse_free(&d);

  /* retry larger than a long clamps */
  vn_sse_init(&d, 0);
  log_clear(&c);
  CHECK(feed_str(&d, "retry: 99999999999999999999999999\ndata: a\n\n", &c) == 0);
  sprintf(tmp, "message|a||%ld;", LONG_MAX);
  CHECK(strcmp(c.log.p, tmp) == 0);
  vn_sse_free(&d);

  free(c.log.p);
}

/* ENOMEM at every allocation in turn: sticky, no leak, events before it
 * intact, and reset brings the decoder back. */
static void test_nomem(void)
{
  sbuf s = { NULL, 0, 0 }, want = { NULL, 0, 0 };
  long budget;
  int mode, ok = 1, fails = 0;
  chat_stream(&s, "\r\n", 1);
  sb_str(&s, "event: t\nid: 1\ndata: y\n\n");
  chat_want(&want, N_CHAT);
  sb_str(&want, "t|y|1|-1;");
  for (mode = 0; mode < 2; mode++) {
    for (budget = 0; ok; budget++) {
      vn_sse d;
      collector c;
      size_t i;
      int rc = 0;
      memset(&c, 0, sizeof c);
      sb_str(&c.log, "");
      vn_sse_init(&d, 0);
      alloc_budget = budget;
      if (mode == 0) rc = vn_sse_feed(&d, s.p, s.len, collect_cb, &c);
      else
        for (i = 0; i < s.len && rc == 0; i++) rc = vn_sse_feed(&d, s.p + i, 1, collect_cb, &c);
      alloc_budget = -1;
      if (rc == 0) {
        ok = strcmp(c.log.p, want.p) == 0;
        vn_sse_free(&d);
        free(c.log.p);
        break;
      }
      fails++;
      ok = rc == VN_SSE_ENOMEM && strncmp(c.log.p, want.p, c.log.len) == 0 &&
           vn_sse_feed(&d, "\n", 1, collect_cb, &c) == VN_SSE_ENOMEM;
      vn_sse_reset(&d);
      c.log.len = 0;
      ok = ok && vn_sse_feed(&d, s.p, s.len, collect_cb, &c) == 0 && strcmp(c.log.p, want.p) == 0;
      vn_sse_free(&d);
      free(c.log.p);
    }
  }
  CHECK(ok);
  CHECK(fails >= 4);   /* line, data, type and id buffers each failed once at least */
  free(s.p);
  free(want.p);
}

/* Large payloads with the default cap: a 3 MiB event in 4 KiB feeds, and a
 * line just over 16 MiB that must fail without taking more than the cap. */
typedef struct { size_t events, bytes; int ok; } big_count;

static int big_cb(void *ud, const vn_sse_event *ev)
{
  big_count *b = (big_count *)ud;
  size_t i;
  b->events++;
  b->bytes += ev->data_len;
  for (i = 0; i < ev->data_len; i++)
    if (ev->data[i] != (i % 1001 == 1000 ? '\n' : 'x')) { b->ok = 0; break; }
  return 0;
}

static void test_big(void)
{
  size_t n = (size_t)3 << 20, i, off;
  sbuf s = { NULL, 0, 0 };
  vn_sse d;
  big_count b = { 0, 0, 1 };
  int rc = 0;
  char *chunk = (char *)malloc(1 << 16);
  if (!chunk) exit(2);
  memset(chunk, 'x', 1000);
  /* 1000-byte data lines, 3 MiB of them, one event */
  for (i = 0; i * 1001 < n; i++) {
    sb_str(&s, "data: ");
    sb_put(&s, chunk, 1000);
    sb_str(&s, "\n");
  }
  sb_str(&s, "\n");
  vn_sse_init(&d, 0);
  for (off = 0; off < s.len && rc == 0; off += 4096)
    rc = vn_sse_feed(&d, s.p + off, s.len - off < 4096 ? s.len - off : 4096, big_cb, &b);
  CHECK(rc == 0);
  CHECK(b.events == 1 && b.ok && b.bytes == i * 1001 - 1);
  vn_sse_free(&d);

  /* over 16 MiB on one line, fed in 64 KiB pieces */
  vn_sse_init(&d, 0);
  memset(chunk, 'y', 1 << 16);
  rc = vn_sse_feed(&d, "data: ", 6, big_cb, &b);
  for (off = 6; off <= VN_SSE_DEFAULT_MAX && rc == 0; off += 1 << 16)
    rc = vn_sse_feed(&d, chunk, 1 << 16, big_cb, &b);
  CHECK(rc == VN_SSE_ETOOBIG);
  CHECK(vn_sse_buffered(&d) <= VN_SSE_DEFAULT_MAX);
  CHECK(d.line_cap <= VN_SSE_DEFAULT_MAX);
  vn_sse_free(&d);

  /* many short CR-only lines in one feed: must stay linear */
  s.len = 0;
  for (i = 0; i < 200000; i++) sb_str(&s, "data: z\r\r");
  vn_sse_init(&d, 0);
  b.events = 0;
  b.ok = 1;
  {
    clock_t t0 = clock();
    rc = vn_sse_feed(&d, s.p, s.len, NULL, NULL);
    CHECK(rc == 0);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
  }
  vn_sse_free(&d);
  free(s.p);
  free(chunk);
}

/* ---- benchmark ----------------------------------------------------------- */

typedef struct { size_t events, bytes; } bench_count;

static int bench_cb(void *ud, const vn_sse_event *ev)
{
  bench_count *b = (bench_count *)ud;
  b->events++;
  b->bytes += ev->data_len;
  return 0;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench(void)
{
  sbuf s = { NULL, 0, 0 };
  static const size_t chunks[] = { 1 << 20, 16384, 1500, 100 };
  size_t i, k, one;
  chat_stream(&s, "\n", 0);
  one = s.len;
  while (s.len < ((size_t)64 << 20)) chat_stream(&s, "\n", 0);
  printf("input: %.1f MiB of chat-completion chunks (~%lu bytes per event)\n",
         (double)s.len / (1 << 20), (unsigned long)(one / N_CHAT));
  for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
    vn_sse d;
    bench_count b = { 0, 0 };
    double t0, t;
    int rep;
    vn_sse_init(&d, 0);
    t0 = now();
    for (rep = 0; rep < 3; rep++)
      for (i = 0; i < s.len; i += chunks[k])
        vn_sse_feed(&d, s.p + i, s.len - i < chunks[k] ? s.len - i : chunks[k], bench_cb, &b);
    t = now() - t0;
    printf("feeds of %7lu bytes: %8.0f MB/s, %6.2f M events/s\n", (unsigned long)chunks[k],
           3.0 * (double)s.len / t / 1e6, (double)b.events / t / 1e6);
    vn_sse_free(&d);
  }
  free(s.p);
  return 0;
}

/* Content-Type values: which name an event stream. */
static void test_media_type(void)
{
  static const struct { const char *ctype; int want; } types[] = {
    { "text/event-stream", 1 }, { "Text/Event-Stream", 1 }, { "TEXT/EVENT-STREAM", 1 },
    { "text/event-stream; charset=utf-8", 1 }, { "text/event-stream;charset=utf-8", 1 },
    { " \ttext/event-stream \t", 1 }, { "text/event-stream ;x=y", 1 },
    { "text/x-event-stream", 0 }, { "text/event-streams", 0 }, { "text/event-stream-x", 0 },
    { "application/json", 0 }, { "event-stream", 0 }, { "text/event", 0 }, { "", 0 },
    { "xtext/event-stream", 0 }, { "text/event-stream,text/html", 0 },
  };
  size_t i;
  for (i = 0; i < sizeof types / sizeof types[0]; i++) {
    int got = vn_sse_is_event_stream(types[i].ctype);
    if (got != types[i].want) fprintf(stderr, "FAIL media type \"%s\": got %d\n", types[i].ctype, got);
    tally(got == types[i].want);
  }
  tally(vn_sse_is_event_stream(NULL) == 0);
}

int main(int argc, char **argv)
{
  size_t i;
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench();
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const sse_case *t = &cases[i];
    check_splits(t->name, t->cap, t->in, t->len, 0, t->want, t->rc);
  }
  test_chat();
  test_api();
  test_nomem();
  test_big();
  test_media_type();
  printf("sse: %d passed, %d failed\n", n_pass, n_fail);
  return n_fail ? 1 : 0;
}
