/* sse_fuzz.c: libFuzzer target for the SSE decoder.
 *
 * Input: 4 header bytes, then the stream. Header: byte 0 bits 1-3 = stop after
 * that many events (0: never), byte 1 = small cap, bytes 2-3 = seed for the
 * split positions. The stream is decoded by a plain whole-input reference
 * model, then by the decoder fed whole, in random pieces, one byte at a time
 * and whole again after vn_sse_reset; all with the default cap and with the
 * small one. Every run must give the same events and the same final status. */
#include "sse.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STOP_RC 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { unsigned char *p; size_t len, cap; } fbuf;

static void fb_put(fbuf *b, const void *s, size_t n)
{
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->p = (unsigned char *)realloc(b->p, cap);
    if (!b->p) abort();
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
}

/* Length-prefixed so that different event lists never log the same. */
static void fb_field(fbuf *b, const char *s, size_t n)
{
  fb_put(b, &n, sizeof n);
  fb_put(b, s, n);
}

static void fb_event(fbuf *b, const char *type, size_t tl, const char *data, size_t dl,
                     const char *id, size_t il, long retry)
{
  fb_field(b, type, tl);
  fb_field(b, data, dl);
  fb_field(b, id, il);
  fb_put(b, &retry, sizeof retry);
}

/* ---- reference model: whole input, one step at a time ------------------- */

static int is_name(const char *s, size_t n, const char *name)
{
  return strlen(name) == n && memcmp(s, name, n) == 0;
}

static int reference(const char *s, size_t n, size_t cap, int stop_after, fbuf *log)
{
  fbuf data = { NULL, 0, 0 }, type = { NULL, 0, 0 }, id = { NULL, 0, 0 };
  int have_data = 0, events = 0, rc = 0;
  long retry = -1;
  size_t i = 0;
  if (cap == 0) cap = VN_SSE_DEFAULT_MAX;
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
  /* a BOM prefix at the end of the input may still become a BOM: the decoder
   * holds it back rather than count it against the line cap */
  if (n < 3 && memcmp(s, "\xEF\xBB\xBF", n) == 0) i = n;
  while (i < n) {
    size_t j = i, k, vlen;
    const char *v;
    while (j < n && s[j] != '\r' && s[j] != '\n') j++;
    if (j - i > cap) { rc = VN_SSE_ETOOBIG; break; }
    if (j == n) break;                      /* unterminated last line */
    if (j == i) {                           /* blank line */
      if (have_data) {
        fb_event(log, type.len ? (const char *)type.p : "message", type.len ? type.len : 7,
                 (const char *)data.p, data.len, (const char *)id.p, id.len, retry);
        if (stop_after && ++events >= stop_after) { rc = STOP_RC; break; }
      }
      data.len = type.len = 0;
      have_data = 0;
      retry = -1;
    } else if (s[i] != ':') {
      for (k = i; k < j && s[k] != ':'; k++) {}
      v = s + k;
      vlen = j - k;
      if (k < j) { v++; vlen--; }
      if (vlen && *v == ' ') { v++; vlen--; }
      if (is_name(s + i, k - i, "data")) {
        size_t joined = have_data ? data.len + 1 + vlen : vlen;
        if (joined > cap) { rc = VN_SSE_ETOOBIG; break; }
        if (have_data) fb_put(&data, "\n", 1);
        fb_put(&data, v, vlen);
        have_data = 1;
      } else if (is_name(s + i, k - i, "event")) {
        type.len = 0;
        fb_put(&type, v, vlen);
      } else if (is_name(s + i, k - i, "id")) {
        if (!memchr(v, 0, vlen)) {
          id.len = 0;
          fb_put(&id, v, vlen);
        }
      } else if (is_name(s + i, k - i, "retry") && vlen) {
        long r = 0;
        size_t q;
        for (q = 0; q < vlen && v[q] >= '0' && v[q] <= '9'; q++)
          r = r > (LONG_MAX - (v[q] - '0')) / 10 ? LONG_MAX : r * 10 + (v[q] - '0');
        if (q == vlen) retry = r;
      }
    }
    if (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') j++;
    i = j + 1;
  }
  free(data.p);
  free(type.p);
  free(id.p);
  return rc;
}

/* ---- the decoder --------------------------------------------------------- */

typedef struct { fbuf *log; int stop_after, events; } sink;

static int sink_cb(void *ud, const vn_sse_event *ev)
{
  sink *k = (sink *)ud;
  /* promised by sse.h */
  if (!ev->type || !ev->data || !ev->id || ev->type[ev->type_len] || ev->data[ev->data_len] ||
      ev->id[ev->id_len] || ev->retry < -1)
    abort();
  fb_event(k->log, ev->type, ev->type_len, ev->data, ev->data_len, ev->id, ev->id_len, ev->retry);
  return k->stop_after && ++k->events >= k->stop_after ? STOP_RC : 0;
}

static uint32_t next_rand(uint32_t *s)
{
  /* xorshift32; the seed comes from the input so runs are reproducible */
  uint32_t x = *s ? *s : 0x2545F491u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

/* mode 0: whole; 1: random pieces; 2: one byte per feed. The caller owns d. */
static int decode(vn_sse *d, const char *s, size_t n, int mode, uint32_t seed, int stop_after,
                  fbuf *log)
{
  sink k;
  size_t i = 0;
  int rc = 0;
  k.log = log;
  k.stop_after = stop_after;
  k.events = 0;
  if (mode == 0) return vn_sse_feed(d, s, n, sink_cb, &k);
  while (i < n && rc == 0) {
    size_t step = 1;
    if (mode == 1) {
      uint32_t r = next_rand(&seed);
      /* mostly short pieces, some empty, some long */
      step = (r & 0x300) == 0x300 ? r % (n + 1) : r % 9;
    }
    if (step > n - i) step = n - i;
    rc = vn_sse_feed(d, s + i, step, sink_cb, &k);
    i += step;
  }
  /* a decoder that stopped must still report death on the next feed */
  if (rc == VN_SSE_ETOOBIG && vn_sse_feed(d, "\n\n", 2, sink_cb, &k) != VN_SSE_ETOOBIG) abort();
  return rc;
}

static void same(const fbuf *a, int ra, const fbuf *b, int rb)
{
  if (ra != rb || a->len != b->len || (a->len && memcmp(a->p, b->p, a->len) != 0)) abort();
}

static void check(const char *s, size_t n, size_t cap, uint32_t seed, int stop_after)
{
  fbuf ref = { NULL, 0, 0 }, got = { NULL, 0, 0 };
  int rref, rc, mode;
  vn_sse d;
  rref = reference(s, n, cap, stop_after, &ref);
  vn_sse_init(&d, cap);
  for (mode = 0; mode < 3; mode++) {
    got.len = 0;
    rc = decode(&d, s, n, mode, seed, stop_after, &got);
    same(&ref, rref, &got, rc);
    if (vn_sse_buffered(&d) > 2 * (cap ? cap : VN_SSE_DEFAULT_MAX) + 2) abort();
    /* reset must bring back the initial state whatever was left over */
    vn_sse_reset(&d);
  }
  vn_sse_free(&d);
  free(ref.p);
  free(got.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s;
  size_t n, cap;
  uint32_t seed;
  int stop_after;
  if (size < 4) return 0;
  stop_after = (data[0] >> 1) & 7;
  cap = 1 + data[1] % 96;
  seed = (uint32_t)data[2] | (uint32_t)data[3] << 8;
  s = (const char *)data + 4;
  n = size - 4;
  check(s, n, 0, seed, stop_after);
  check(s, n, cap, seed, stop_after);
  return 0;
}
