/* sse.c: incremental text/event-stream decoder, see sse.h. */
#include "sse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* the tests build this file with a failing allocator */
#ifndef vn_sse_realloc
#define vn_sse_realloc realloc
#endif

static const char vn_sse_bom[3] = { '\xEF', '\xBB', '\xBF' };

/* {==================== the decoder's life ==================== */

void vn_sse_init(vn_sse *d, size_t max_size) {
  memset(d, 0, sizeof *d);
  if (max_size == 0) max_size = VN_SSE_DEFAULT_MAX;
  /* keeps max + 1 and friends from wrapping */
  if (max_size > (size_t)-1 / 2) max_size = (size_t)-1 / 2;
  d->max = max_size;
  d->retry = -1;
}

void vn_sse_reset(vn_sse *d) {
  d->line_len = d->data_len = d->type_len = d->id_len = 0;
  d->retry = -1;
  d->err = 0;
  d->bom = 0;
  d->cr = 0;
}

void vn_sse_free(vn_sse *d) {
  size_t max = d->max;
  free(d->line);
  free(d->data);
  free(d->type);
  free(d->id);
  vn_sse_init(d, max);
}

size_t vn_sse_buffered(const vn_sse *d) {
  return d->line_len + d->data_len;
}

/* }==================== */

/* {==================== buffers ==================== */

/* Room for need bytes, need <= limit. Doubling keeps appends amortised O(1);
 * the limit keeps a buffer from ever outgrowing the cap. */
static int vn_sse_reserve(char **buf, size_t *cap, size_t need, size_t limit) {
  size_t n;
  char *p;
  if (need <= *cap) return VN_SSE_OK;
  n = *cap < 64 ? 64 : *cap;
  while (n < need) n = n > limit / 2 ? limit : n * 2;
  if (n > limit) n = limit;
  p = (char *)vn_sse_realloc(*buf, n);
  if (!p) return VN_SSE_ENOMEM;
  *buf = p;
  *cap = n;
  return VN_SSE_OK;
}

static int vn_sse_fail(vn_sse *d, int err) {
  d->err = err;
  return err;
}

/* Copies a value into one of the NUL-terminated field buffers (type, id). */
static int vn_sse_set(vn_sse *d, char **buf, size_t *len, size_t *cap,
                      const char *v, size_t n) {
  if (vn_sse_reserve(buf, cap, n + 1, d->max + 1)) return vn_sse_fail(d, VN_SSE_ENOMEM);
  if (n) memcpy(*buf, v, n);
  (*buf)[n] = '\0';
  *len = n;
  return VN_SSE_OK;
}

/* }==================== */

/* {==================== lines and fields ==================== */

/* A blank line ends the block: dispatch if any data line was seen. */
static int vn_sse_dispatch(vn_sse *d, vn_sse_cb cb, void *ud) {
  vn_sse_event ev;
  if (d->data_len == 0) {
    d->type_len = 0;
    d->retry = -1;
    return VN_SSE_OK;
  }
  /* the final '\n' becomes the terminator */
  d->data[--d->data_len] = '\0';
  ev.type = d->type_len ? d->type : "message";
  ev.type_len = d->type_len ? d->type_len : 7;
  ev.data = d->data;
  ev.data_len = d->data_len;
  ev.id = d->id_len ? d->id : "";
  ev.id_len = d->id_len;
  ev.retry = d->retry;
  /* state is clean before the callback, so stopping leaves it consistent */
  d->data_len = 0;
  d->type_len = 0;
  d->retry = -1;
  return cb ? cb(ud, &ev) : VN_SSE_OK;
}

/* retry: only ASCII digits, at least one; clamped rather than wrapped. */
static void vn_sse_retry(vn_sse *d, const char *v, size_t n) {
  long r = 0;
  size_t i;
  if (n == 0) return;
  for (i = 0; i < n; i++) {
    int c = (unsigned char)v[i] - '0';
    if (c < 0 || c > 9) return;
    r = r > (LONG_MAX - c) / 10 ? LONG_MAX : r * 10 + c;
  }
  d->retry = r;
}

/* One complete line, terminator excluded. */
static int vn_sse_line(vn_sse *d, const char *s, size_t n, vn_sse_cb cb, void *ud) {
  const char *colon, *v;
  size_t k, vn;
  if (n == 0) return vn_sse_dispatch(d, cb, ud);
  if (s[0] == ':') return VN_SSE_OK;   /* comment */
  colon = (const char *)memchr(s, ':', n);
  if (colon) {
    k = (size_t)(colon - s);
    v = colon + 1;
    vn = n - k - 1;
    if (vn && *v == ' ') {             /* one optional space */
      v++;
      vn--;
    }
  } else {
    k = n;                             /* whole line is the name, value empty */
    v = s + n;
    vn = 0;
  }
  switch (k) {
    case 4:
      if (memcmp(s, "data", 4) == 0) {
        /* joined data (data_len - 1 + 1 + vn) may not exceed max; data_len can
         * already be max + 1 after empty lines, hence the first test */
        if (d->data_len > d->max || vn > d->max - d->data_len)
          return vn_sse_fail(d, VN_SSE_ETOOBIG);
        if (vn_sse_reserve(&d->data, &d->data_cap, d->data_len + vn + 1, d->max + 1))
          return vn_sse_fail(d, VN_SSE_ENOMEM);
        if (vn) memcpy(d->data + d->data_len, v, vn);
        d->data_len += vn;
        d->data[d->data_len++] = '\n';
      }
      break;
    case 5:
      if (memcmp(s, "event", 5) == 0)
        return vn_sse_set(d, &d->type, &d->type_len, &d->type_cap, v, vn);
      if (memcmp(s, "retry", 5) == 0) vn_sse_retry(d, v, vn);
      break;
    case 2:
      if (s[0] == 'i' && s[1] == 'd' && !memchr(v, '\0', vn))
        return vn_sse_set(d, &d->id, &d->id_len, &d->id_cap, v, vn);
      break;
    default:
      break;                             /* unknown field */
  }
  return VN_SSE_OK;
}

/* }==================== */

/* {==================== feeding ==================== */

/* Appends an incomplete line's bytes, all of them already scanned. */
static int vn_sse_hold(vn_sse *d, const char *s, size_t n) {
  if (n > d->max - d->line_len) return vn_sse_fail(d, VN_SSE_ETOOBIG);
  if (vn_sse_reserve(&d->line, &d->line_cap, d->line_len + n, d->max))
    return vn_sse_fail(d, VN_SSE_ENOMEM);
  memcpy(d->line + d->line_len, s, n);
  d->line_len += n;
  return VN_SSE_OK;
}

static size_t vn_sse_find(const char *buf, size_t from, size_t len, int c) {
  const char *p = (const char *)memchr(buf + from, c, len - from);
  return p ? (size_t)(p - buf) : len;
}

/* Input past the BOM check. lf/cr hold the next LF/CR at or after i (len if
 * none) and are searched again only once i has passed them, so every byte is
 * scanned once per character even in CR-only streams. */
static int vn_sse_body(vn_sse *d, const char *buf, size_t len, vn_sse_cb cb, void *ud) {
  size_t i = 0, lf, cr;
  if (d->cr) {
    d->cr = 0;
    if (buf[0] == '\n') i = 1;         /* second half of a CRLF split across feeds */
  }
  lf = vn_sse_find(buf, i, len, '\n');
  cr = vn_sse_find(buf, i, len, '\r');
  while (i < len) {
    size_t eol;
    int rc;
    if (lf < i) lf = vn_sse_find(buf, i, len, '\n');
    if (cr < i) cr = vn_sse_find(buf, i, len, '\r');
    eol = lf < cr ? lf : cr;
    if (eol == len) return vn_sse_hold(d, buf + i, len - i);
    if (d->line_len) {
      /* the line started in an earlier feed: complete it in the line buffer */
      size_t n;
      if ((rc = vn_sse_hold(d, buf + i, eol - i)) != 0) return rc;
      n = d->line_len;
      d->line_len = 0;
      rc = vn_sse_line(d, d->line, n, cb, ud);
    } else {
      /* whole line inside buf: no copy */
      if (eol - i > d->max) return vn_sse_fail(d, VN_SSE_ETOOBIG);
      rc = vn_sse_line(d, buf + i, eol - i, cb, ud);
    }
    if (buf[eol] == '\r') {
      if (eol + 1 == len) d->cr = 1;
      else if (buf[eol + 1] == '\n') eol++;
    }
    i = eol + 1;
    if (rc) return rc;
  }
  return VN_SSE_OK;
}

int vn_sse_feed(vn_sse *d, const char *buf, size_t len, vn_sse_cb cb, void *ud) {
  if (d->err) return d->err;
  if (len == 0) return VN_SSE_OK;
  if (d->bom < 3) {
    /* the BOM may arrive split across feeds: match it byte by byte */
    while (len && d->bom < 3 && (unsigned char)*buf == (unsigned char)vn_sse_bom[d->bom]) {
      d->bom++;
      buf++;
      len--;
    }
    if (d->bom == 3) {
      /* matched: dropped */
    } else if (len == 0) {
      return VN_SSE_OK;                /* still a possible BOM prefix */
    } else {
      /* not a BOM: the bytes held back are ordinary input */
      size_t held = d->bom;
      int rc;
      d->bom = 3;
      if (held && (rc = vn_sse_body(d, vn_sse_bom, held, cb, ud)) != 0) return rc;
    }
    if (len == 0) return VN_SSE_OK;
  }
  return vn_sse_body(d, buf, len, cb, ud);
}

/* }==================== */

/* {==================== the media type ==================== */

int vn_sse_is_event_stream(const char *ctype) {
  static const char want[] = "text/event-stream";
  size_t i;
  if (!ctype) return 0;
  while (*ctype == ' ' || *ctype == '\t') ctype++;
  for (i = 0; want[i]; i++) {
    char c = ctype[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != want[i]) return 0;
  }
  ctype += i;
  while (*ctype == ' ' || *ctype == '\t') ctype++;
  return *ctype == '\0' || *ctype == ';';
}

/* }==================== */
