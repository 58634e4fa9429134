/* json.c: JSON decoder and encoder for venice.core (see json.h). */
/* compat.h defines static shims that this file does not all use. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "compat.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "json.h"

#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define VN_SSE2 1
#else
#define VN_SSE2 0
#endif

/* Unique addresses: the null sentinel and three registry keys. */
static const char null_tag = 0;
static const char array_mt_key = 0;
static const char box_mt_key = 0;
static const char strcache_key = 0;

#define JSON_NULL ((void *)&null_tag)

/* For the few small functions of the decoder's inner loops. */
#if defined(__GNUC__)
#define HOT_INLINE static inline __attribute__((always_inline))
#else
#define HOT_INLINE static inline
#endif

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
/* 1 for bytes that end a plain run inside a string: control chars, '"', '\\'
 * (the set the encoder escapes); 2 for every byte >= 0x80, where a UTF-8
 * sequence is checked. A run of ASCII costs one table look-up a byte. */
static const unsigned char str_stop[256] = {
  R16(1), R16(1),                                 /* 0x00-0x1f */
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20-0x2f: '"' */
  R16(0), R16(0),                                 /* 0x30-0x4f */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50-0x5f: '\\' */
  R16(0), R16(0),                                 /* 0x60-0x7f */
  R16(2), R16(2), R16(2), R16(2),                 /* 0x80-0xbf */
  R16(2), R16(2), R16(2), R16(2)                  /* 0xc0-0xff */
};
#undef R16

/* The array metatable lives in the registry so that decode, encode and
 * json_array agree on it even without vn_json_open. */
static void push_array_mt(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
  if (lua_type(L, -1) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key);
}

/* {==================== the string cache ==================== */

/* Short strings recur from one document to the next (keys, and values such as a stream's id or
 * model), and pushing one costs Lua a hash of all its bytes and a look-up. The decoder keeps the
 * strings it pushed last in a small cache, one per Lua state: a string lives in a table (which
 * keeps it alive) at one of the two slots of its set, picked by a hash of a few of its bytes, and a
 * userdata holds each slot's full hash. A string whose hash matches a slot's is fetched from the
 * table and compared byte for byte with the input before it is used; anything else is pushed as
 * usual. A string is kept the second time its hash is seen, in a slot not used since the last
 * time both were: strings seen once cost only the hash and never push out the ones that recur.
 * The table also holds the array metatable (SC_MT). */
#define SC_BITS 8
#define SC_SETS (1 << SC_BITS)
#define SC_SLOTS (2 * SC_SETS)
#define SC_MAXLEN 40 /* Lua's short strings; longer ones are not hashed by Lua 5.2+ */
#define SC_MT (SC_SLOTS + 1)
#define SC_SET(h) ((unsigned)((h) >> (32 - SC_BITS)))

#define SHAPE_OFF 0xFF

typedef struct {
  uint32_t tag[SC_SLOTS];     /* hash of each slot's string, or of the last one seen there */
  unsigned char used[SC_SLOTS]; /* the slot was used since both of its set were */
  /* objects by first key and depth: 0 unknown, SHAPE_OFF not guessed, else 1 + log2 of the
   * hash part Lua gave the last one */
  unsigned char shape[SC_SETS];
} strcache;

HOT_INLINE uint32_t load32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

HOT_INLINE uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* memcmp(a, b, n) == 0 for n of 1..SC_MAXLEN, read as words (the last one may overlap). */
HOT_INLINE int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
  size_t i;
  if (n >= 8) {
    for (i = 0; i + 8 < n; i += 8)
      if (load64(a + i) != load64(b + i)) return 0;
    return load64(a + n - 8) == load64(b + n - 8);
  }
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1];
}

/* n is 1..SC_MAXLEN. The length and the first, middle and last four bytes (all of a string of up
 * to 12); the top bits pick the slot. */
HOT_INLINE uint32_t sc_hash(const unsigned char *s, size_t n) {
  uint32_t a, b;
  if (n >= 4) {
    a = load32(s) ^ (n >= 8 ? load32(s + (n >> 1) - 2) << 7 : 0);
    b = load32(s + n - 4);
  } else {
    a = (uint32_t)s[0] | (uint32_t)s[n >> 1] << 8 | (uint32_t)s[n - 1] << 16;
    b = 0;
  }
  return (a + (b ^ (uint32_t)n) * 0x85EBCA77u) * 0x9E3779B1u;
}

/* Pushes this state's cache userdata and then its table (two slots) and returns the cache; on
 * first use makes both. */
static strcache *sc_open(lua_State *L) {
  strcache *sc;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &strcache_key);
  sc = (strcache *)lua_touserdata(L, -1);
  if (!sc) {
    lua_pop(L, 1);
    sc = (strcache *)lua_newuserdata(L, sizeof *sc);
    memset(sc, 0, sizeof *sc);
    lua_createtable(L, SC_MT, 0);
    push_array_mt(L);
    lua_rawseti(L, -2, SC_MT);
    lua_setuservalue(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &strcache_key);
  }
  lua_getuservalue(L, -1);
  return sc;
}

/* }==================== */

/* {==================== the decoder ==================== */

typedef struct {
  lua_State *L;
  const unsigned char *start, *p, *end;
  char *err;
  size_t errlen;
  int depth;
  int base;                /* stack top on entry; restored on failure */
  int scratch_slot;        /* stack slot of the scratch userdata, 0 if none */
  int sc_slot;             /* stack slot of the string cache's table (its userdata below), or 0 */
  strcache *sc;
  unsigned char *scratch;
  size_t scratch_cap;
  unsigned char small[512]; /* scratch for short escaped strings and numbers */
} decoder;

static unsigned long dec_pos(const decoder *d, const unsigned char *at) {
  return (unsigned long)(at - d->start) + 1;
}

static int dec_error(decoder *d, const unsigned char *at, const char *what) {
  if (d->errlen) snprintf(d->err, d->errlen, "%s at byte %lu", what, dec_pos(d, at));
  return 0;
}

static int dec_unexpected(decoder *d, const unsigned char *at) {
  if (!d->errlen) return 0;
  if (at >= d->end)
    snprintf(d->err, d->errlen, "unexpected end of input at byte %lu", dec_pos(d, at));
  else if (*at >= 0x20 && *at < 0x7f)
    snprintf(d->err, d->errlen, "unexpected character '%c' at byte %lu", *at, dec_pos(d, at));
  else
    snprintf(d->err, d->errlen, "unexpected byte 0x%02X at byte %lu", *at, dec_pos(d, at));
  return 0;
}

static const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end) {
  while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

/* A buffer of at least n bytes. Big ones are a userdata kept in one stack
 * slot below the value being built, so a Lua error cannot leak them. */
static unsigned char *dec_scratch(decoder *d, size_t n) {
  if (n <= sizeof d->small) return d->small;
  if (n > d->scratch_cap) {
    size_t cap = d->scratch_cap * 2;
    if (cap < n) cap = n;
    d->scratch = (unsigned char *)lua_newuserdata(d->L, cap);
    d->scratch_cap = cap;
    if (d->scratch_slot) {
      lua_replace(d->L, d->scratch_slot);
    } else {
      d->scratch_slot = d->base + 1 + 2 * (d->sc_slot != 0);
      lua_insert(d->L, d->scratch_slot);
    }
  }
  return d->scratch;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') v |= (c | 0x20) - 'a' + 10;
    else return 0;
  }
  *out = v;
  return 1;
}

static unsigned char *put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (unsigned char)cp;
  } else if (cp < 0x800) {
    *o++ = (unsigned char)(0xC0 | (cp >> 6));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (unsigned char)(0xE0 | (cp >> 12));
    *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (unsigned char)(0xF0 | (cp >> 18));
    *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* The length a sequence led by c has (2 to 4), with the range of its second
 * byte (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
 * or 0 when c cannot lead one. */
static size_t utf8_lead(unsigned c, unsigned *lo, unsigned *hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) {
    if (c == 0xE0) *lo = 0xA0;
    else if (c == 0xED) *hi = 0x9F;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (c == 0xF0) *lo = 0x90;
    else if (c == 0xF4) *hi = 0x8F;
    return 4;
  }
  return 0;
}

/* Length of the well-formed UTF-8 sequence at p, or 0. *p >= 0x80. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
  size_t left = (size_t)(end - p);
  unsigned lo, hi;
  size_t n = utf8_lead(p[0], &lo, &hi), i;
  if (n == 0 || left < n || p[1] < lo || p[1] > hi) return 0;
  for (i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return n;
}

/* Length of the maximal subpart of an ill-formed sequence at p (WHATWG
 * Encoding, Unicode 3.9 D93b): the longest start of a well-formed sequence
 * found there, or 1 when *p cannot start one. The decoder replaces each
 * such subpart with one U+FFFD. */
static size_t utf8_bad(const unsigned char *p, const unsigned char *end) {
  size_t left = (size_t)(end - p);
  unsigned lo, hi;
  size_t n = utf8_lead(p[0], &lo, &hi), i;
  if (n == 0 || left < 2 || p[1] < lo || p[1] > hi) return 1;
  for (i = 2; i < n && i < left; i++)
    if ((p[i] & 0xC0) != 0x80) break;
  return i;
}

/* Slow path of a string with an escape or ill-formed UTF-8; s is its first
 * byte, p the first such place (the bytes before it are plain and well
 * formed). Each ill-formed subpart becomes U+FFFD, as a UTF-8 decoder with
 * replacement does. A first scan finds the closing quote and a bound on the
 * output: an escape never yields more than its text (\uXXXX is 6 bytes and
 * yields at most 3, a surrogate pair 12 for 4), a subpart at most 3 bytes. */
static int dec_string_slow(decoder *d, const unsigned char *s, const unsigned char *p) {
  const unsigned char *end = d->end, *q = p;
  unsigned char *buf, *o;
  size_t need = (size_t)(p - s);
  while (q < end) {
    unsigned c = *q;
    if (c == '"') break;
    if (c == '\\') {
      if (end - q < 2) { q = end; break; }
      q += 2;
      need += 2;
    } else if (c < 0x20) {
      return dec_error(d, q, "control character in string");
    } else if (c < 0x80) {
      q++;
      need++;
    } else {
      size_t k = utf8_seq(q, end);
      if (k) {
        need += k;
      } else {
        k = utf8_bad(q, end);
        need += 3;
      }
      q += k;
    }
  }
  if (q >= end) return dec_error(d, s - 1, "unterminated string");
  buf = dec_scratch(d, need);
  memcpy(buf, s, (size_t)(p - s));
  o = buf + (p - s);
  while (p < q) {
    if (*p != '\\') {
      const unsigned char *r = p;
      size_t k;
      while (p < q && !str_stop[*p]) p++;
      memcpy(o, r, (size_t)(p - r));
      o += p - r;
      if (p == q || *p < 0x80) continue;
      k = utf8_seq(p, end);
      if (k) {
        memcpy(o, p, k);
        o += k;
        p += k;
      } else {
        p += utf8_bad(p, end);
        o = put_utf8(o, 0xFFFD);
      }
      continue;
    }
    /* the scan above guarantees p[1] lies before q */
    switch (p[1]) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (q - p < 6 || !hex4(p + 2, &cp)) return dec_error(d, p, "invalid \\u escape");
      p += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (q - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) &&
            lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        } else {
          cp = 0xFFFD; /* lone high surrogate */
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD; /* lone low surrogate */
      }
      o = put_utf8(o, cp);
      continue;
    }
    default:
      return dec_error(d, p, "invalid escape");
    }
    p += 2;
  }
  lua_pushlstring(d->L, (const char *)buf, (size_t)(o - buf));
  d->p = q + 1;
  return 1;
}

/* Pushes s[0..n), n in 1..SC_MAXLEN, of hash h, through the cache: two more stack slots. */
HOT_INLINE void sc_push(decoder *d, const unsigned char *s, size_t n, uint32_t h) {
  lua_State *L = d->L;
  strcache *sc = d->sc;
  unsigned i = 2 * SC_SET(h);
  size_t len;
  const char *c;
  if (sc->tag[i] != h && sc->tag[++i] != h) {
    /* not seen lately (i is the set's second slot): note its hash in a slot not used lately */
    if (!sc->used[i - 1]) i--;
    if (!sc->used[i]) {
      sc->tag[i] = h;
      sc->used[i] = 1;
    } else {
      sc->used[i] = sc->used[i - 1] = 0;
    }
    lua_pushlstring(L, (const char *)s, n);
    return;
  }
  sc->used[i] = 1;
#if LUA_VERSION_NUM >= 503
  c = lua_rawgeti(L, d->sc_slot, (int)i + 1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
#else
  lua_rawgeti(L, d->sc_slot, (int)i + 1);
  c = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
#endif
  if (c && len == n && same_bytes((const unsigned char *)c, s, n)) return;
  lua_pop(L, 1);
  lua_pushlstring(L, (const char *)s, n);
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->sc_slot, (int)i + 1); /* an existing array slot: never allocates */
}

/* Where the plain, well-formed text from p ends: at the closing quote, at the first byte that
 * needs the slow path (an escape, a control character, an ill-formed sequence), or at end. */
HOT_INLINE const unsigned char *str_plain(const unsigned char *p, const unsigned char *end) {
  for (;;) {
    size_t k;
#if VN_SSE2
    /* 16 bytes at a time: '"', '\\', and as signed bytes everything below 0x20 (control
     * characters, and every byte >= 0x80), the bytes str_stop marks */
    while (end - p >= 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
      __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                               _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
      unsigned bits = (unsigned)_mm_movemask_epi8(m);
      if (bits) {
        p += __builtin_ctz(bits);
        goto stop;
      }
      p += 16;
    }
#endif
    while (end - p >= 4) {
      if (str_stop[p[0]]) goto stop;
      if (str_stop[p[1]]) { p += 1; goto stop; }
      if (str_stop[p[2]]) { p += 2; goto stop; }
      if (str_stop[p[3]]) { p += 3; goto stop; }
      p += 4;
    }
    while (p < end && !str_stop[*p]) p++;
  stop:
    if (p >= end || *p < 0x80) return p;
    /* a run of non-ASCII letters: check each sequence, back to the loop
     * above at the next ASCII byte */
    while (p < end) {
      unsigned c = *p;
      if (c < 0x80) {
        break;
      } else if (c >= 0xC2 && c <= 0xDF && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
        p += 2;
      } else if (c >= 0xE1 && c <= 0xEF && c != 0xED && end - p >= 3 &&
                 (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
        p += 3;
      } else {
        k = utf8_seq(p, end);
        if (!k) return p;
        p += k;
      }
    }
  }
}

/* Pushes the string whose text starts at s (after the opening quote), given q = str_plain(s):
 * plain text straight from the input, anything else through the slow path. */
HOT_INLINE int dec_string_at(decoder *d, const unsigned char *s, const unsigned char *q) {
  if (q >= d->end) return dec_error(d, s - 1, "unterminated string");
  if (*q == '"') {
    size_t n = (size_t)(q - s);
    d->p = q + 1;
    if (n - 1 < SC_MAXLEN && d->sc) {
      uint32_t h = sc_hash(s, n);
      sc_push(d, s, n, h);
    } else {
      lua_pushlstring(d->L, (const char *)s, n);
    }
    return 1;
  }
  if (*q < 0x20) return dec_error(d, q, "control character in string");
  return dec_string_slow(d, s, q);
}

/* d->p is at the opening quote. */
static int dec_string(decoder *d) {
  const unsigned char *s = d->p + 1;
  return dec_string_at(d, s, str_plain(s, d->end));
}

/* Exact powers of ten for the fast float path. */
static const double pow10_tab[23] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* strtod on a copy, since the input is not NUL-terminated and strtod
 * follows the C locale's decimal point, which may not be '.'. */
static int dec_strtod(decoder *d, const unsigned char *s, size_t n, double *out) {
  const char *dp = localeconv()->decimal_point;
  size_t dpl = (dp && *dp) ? strlen(dp) : 1, i;
  char *buf, *o, *endp;
  if (!dp || !*dp) dp = ".";
  buf = (char *)dec_scratch(d, n + dpl + 1);
  o = buf;
  for (i = 0; i < n; i++) {
    if (s[i] == '.') {
      memcpy(o, dp, dpl);
      o += dpl;
    } else {
      *o++ = (char)s[i];
    }
  }
  *o = '\0';
  *out = strtod(buf, &endp);
  if (endp != o) return dec_error(d, s, "invalid number");
  return 1;
}

static int is_digit(unsigned c) {
  return c - '0' < 10u;
}

static int dec_number(decoder *d) {
  const unsigned char *s = d->p, *p = s, *end = d->end;
  uint64_t m = 0;    /* up to 19 significant digits */
  int nd = 0;        /* digits in m */
  int inexact = 0;   /* digits did not fit in m */
  int isint = 1;
  int neg = 0;
  long scale = 0;    /* fraction digits folded into m */
  long ex = 0;
  int exneg = 0;
  double v;

  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (p < end && *p == '0') {
    p++;
    if (p < end && is_digit(*p)) return dec_error(d, p - 1, "leading zero in number");
  } else if (p < end && is_digit(*p)) {
    do {
      if (nd < 19) {
        m = m * 10 + (unsigned)(*p - '0');
        nd++;
      } else {
        inexact = 1;
      }
      p++;
    } while (p < end && is_digit(*p));
  } else {
    return dec_unexpected(d, p);
  }
  if (p < end && *p == '.') {
    isint = 0;
    p++;
    if (p >= end || !is_digit(*p)) return dec_unexpected(d, p);
    do {
      unsigned dig = (unsigned)(*p - '0');
      if (m == 0 && dig == 0) {
        scale++; /* leading zeros of the fraction are not significant */
      } else if (nd < 19) {
        m = m * 10 + dig;
        nd++;
        scale++;
      } else {
        inexact = 1;
      }
      p++;
    } while (p < end && is_digit(*p));
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    isint = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) {
      exneg = (*p == '-');
      p++;
    }
    if (p >= end || !is_digit(*p)) return dec_unexpected(d, p);
    do {
      if (ex < 100000) ex = ex * 10 + (*p - '0'); /* saturate: only strtod sees it */
      p++;
    } while (p < end && is_digit(*p));
  }
  d->p = p;

  if (isint && !inexact) {
#if LUA_VERSION_NUM >= 503
    if (!neg && m <= (uint64_t)LUA_MAXINTEGER) {
      lua_pushinteger(d->L, (lua_Integer)m);
      return 1;
    }
    if (neg && m != 0 && m - 1 <= (uint64_t)LUA_MAXINTEGER) {
      lua_pushinteger(d->L, -(lua_Integer)(m - 1) - 1);
      return 1;
    }
    if (neg && m == 0) {
      lua_pushinteger(d->L, 0);
      return 1;
    }
#else
    /* uint64 -> double rounds correctly, as strtod would; "-0" is 0 */
    v = (double)m;
    lua_pushnumber(d->L, (lua_Number)(neg && m ? -v : v));
    return 1;
#endif
  }
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  /* Exact mantissa and exact power of ten: one correctly rounded IEEE
   * operation gives the same double as strtod. */
  if (!inexact && m <= ((uint64_t)1 << 53)) {
    long e10 = (exneg ? -ex : ex) - scale;
    if (m == 0) {
      lua_pushnumber(d->L, (lua_Number)(neg ? -0.0 : 0.0));
      return 1;
    }
    if (e10 >= -22 && e10 <= 22) {
      v = (double)m;
      v = e10 < 0 ? v / pow10_tab[-e10] : v * pow10_tab[e10];
      lua_pushnumber(d->L, (lua_Number)(neg ? -v : v));
      return 1;
    }
  }
#else
  (void)scale;
  (void)exneg;
#endif
  if (!dec_strtod(d, s, (size_t)(p - s), &v)) return 0;
  lua_pushnumber(d->L, (lua_Number)v);
  return 1;
}

static int dec_literal(decoder *d, const char *word, size_t n) {
  const unsigned char *p = d->p;
  size_t i;
  for (i = 1; i < n; i++) {
    if (p + i >= d->end || p[i] != (unsigned char)word[i]) return dec_unexpected(d, p + i);
  }
  d->p = p + n;
  return 1;
}

static int dec_value(decoder *d);

/* Stack room: whoever starts to decode a value has made sure of DEC_ROOM free slots (a string
 * through the cache needs 2, an empty array its table and metatable, a number a scratch buffer
 * inserted below). Objects and arrays make sure of room for DEC_CHECK members at a time. */
#define DEC_ROOM 4
#define DEC_CHECK 8

static int dec_enter(decoder *d) {
  if (++d->depth > VN_JSON_MAX_DEPTH) return dec_error(d, d->p, "nesting too deep");
  return 1;
}

/* Objects and arrays are made at their final size: the first DEC_BATCH members wait on the
 * stack, then go into a table created for exactly that many, so that it never grows (every growth
 * of a Lua table rehashes it). Members beyond DEC_BATCH go straight into the table. Stack
 * positions are taken from the top: dec_scratch may insert its buffer below everything. */
#define DEC_BATCH 64

/* Moves the top value to slot i and drops everything above it. */
static void put_last(lua_State *L, int i) {
#if LUA_VERSION_NUM >= 502
  lua_copy(L, -1, i);
#else
  lua_replace(L, i);
#endif
  lua_settop(L, i);
}

/* Replaces the n key/value pairs on top of the stack with a table holding them, made with room
 * for `size` fields. */
static void flush_object(lua_State *L, int n, int size) {
  int i, first = lua_gettop(L) - 2 * n + 1;
  lua_createtable(L, 0, size);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + 2 * i);
    lua_pushvalue(L, first + 2 * i + 1);
    lua_rawset(L, -3); /* a duplicate key overwrites: last wins */
  }
  put_last(L, first);
}

/* The same for the n values on top of the stack, as an array. */
static void flush_array(lua_State *L, int n, int size) {
  int i, first = lua_gettop(L) - n + 1;
  lua_createtable(L, size, 0);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  put_last(L, first);
}

/* An object's members normally wait on the stack until its size is known. The cache also
 * remembers, by the object's first key and depth, the size the last such object had (in
 * strcache.shape); when it is known, the table is made at that size before the first value and
 * each member goes straight in. Lua sizes a table's hash part to a power of two, so the table is
 * the same as one made at the final size when the count rounds up to the same power; when it
 * does not, the object is decoded again the usual way and its shape is no longer guessed. */
static int dec_object(decoder *d) {
  lua_State *L = d->L;
  const unsigned char *p, *end = d->end, *s, *q, *obj = d->p;
  unsigned char *shape = NULL;
  int n = 0, direct = 0, cap = 0;
  if (!dec_enter(d)) return 0;
  p = skip_ws(d->p + 1, end);
  if (p < end && *p == '}') {
    lua_newtable(L);
    d->p = p + 1;
    d->depth--;
    return 1;
  }
  if (p >= end || *p != '"') return dec_unexpected(d, p);
  s = p + 1;
  q = str_plain(s, end);
  if (q < end && *q == '"' && (size_t)(q - s) - 1 < SC_MAXLEN && d->sc) {
    size_t len = (size_t)(q - s);
    uint32_t h = sc_hash(s, len);
    shape = &d->sc->shape[(SC_SET(h) + (unsigned)d->depth * 0x9Du) & (SC_SETS - 1)];
    if (*shape && *shape != SHAPE_OFF) {
      /* room for the table and a pair, and for what the value needs */
      if (!lua_checkstack(L, 2 + DEC_ROOM)) return dec_error(d, p, "Lua stack exhausted");
      cap = 1 << (*shape - 1);
      lua_createtable(L, 0, cap);
      direct = 1;
    } else if (!lua_checkstack(L, 2 * DEC_CHECK + DEC_ROOM)) {
      return dec_error(d, p, "Lua stack exhausted");
    }
    sc_push(d, s, len, h);
    d->p = q + 1;
  } else {
    /* room for DEC_CHECK pairs, and for what a value needs */
    if (!lua_checkstack(L, 2 * DEC_CHECK + DEC_ROOM)) return dec_error(d, p, "Lua stack exhausted");
    if (!dec_string_at(d, s, q)) return 0;
  }
  for (;;) {
    /* a key is on top */
    p = skip_ws(d->p, end);
    if (p >= end || *p != ':') return dec_unexpected(d, p);
    d->p = skip_ws(p + 1, end);
    if (!dec_value(d)) return 0;
    if (direct) {
      lua_rawset(L, -3); /* a duplicate key overwrites: last wins */
      n++;
    } else if (++n == DEC_BATCH) {
      flush_object(L, n, 2 * n);
      direct = 1;
    }
    p = skip_ws(d->p, end);
    if (p < end && *p == ',') {
      if (n == cap) goto again; /* more members than guessed */
      p = skip_ws(p + 1, end);
      if (p >= end || *p != '"') return dec_unexpected(d, p);
      /* room for the next DEC_CHECK pairs above the pending ones */
      if (!direct && n % DEC_CHECK == 0 && !lua_checkstack(L, 2 * DEC_CHECK + DEC_ROOM))
        return dec_error(d, p, "Lua stack exhausted");
      d->p = p;
      if (!dec_string(d)) return 0;
      continue;
    }
    if (p < end && *p == '}') {
      if (cap) {
        if (2 * n <= cap) goto again; /* a smaller power of two than guessed */
      } else {
        if (!direct) flush_object(L, n, n);
        if (shape && !*shape) {
          int lg = 0;
          while ((1 << lg) < n) lg++;
          *shape = (unsigned char)(n < DEC_BATCH ? lg + 1 : SHAPE_OFF);
        }
      }
      d->p = p + 1;
      d->depth--;
      return 1;
    }
    return dec_unexpected(d, p);
  }
again:
  *shape = SHAPE_OFF;
  lua_pop(L, 1);
  d->p = obj;
  d->depth--;
  return dec_object(d);
}

static int dec_array(decoder *d) {
  lua_State *L = d->L;
  const unsigned char *p, *end = d->end;
  int n = 0, direct = 0;
  if (!dec_enter(d)) return 0;
  p = skip_ws(d->p + 1, end);
  if (p < end && *p == ']') {
    /* only empty arrays are marked: they are the ambiguous ones */
    lua_newtable(L);
    lua_rawgeti(L, d->sc_slot, SC_MT); /* a container is being decoded: the cache is open */
    lua_setmetatable(L, -2);
    d->p = p + 1;
    d->depth--;
    return 1;
  }
  for (;;) {
    d->p = p;
    if (n == INT_MAX) return dec_error(d, p, "array too long");
    if (n % DEC_CHECK == 0 && !direct && !lua_checkstack(L, DEC_CHECK + DEC_ROOM))
      return dec_error(d, p, "Lua stack exhausted");
    if (!dec_value(d)) return 0;
    if (direct) {
      lua_rawseti(L, -2, ++n);
    } else if (++n == DEC_BATCH) {
      flush_array(L, n, 2 * n);
      direct = 1;
    }
    p = skip_ws(d->p, end);
    if (p < end && *p == ',') {
      p = skip_ws(p + 1, end);
      continue;
    }
    if (p < end && *p == ']') {
      if (!direct) flush_array(L, n, n);
      d->p = p + 1;
      d->depth--;
      return 1;
    }
    return dec_unexpected(d, p);
  }
}

/* d->p is at the first byte of the value (whitespace skipped). */
static int dec_value(decoder *d) {
  const unsigned char *p = d->p;
  if (p >= d->end) return dec_unexpected(d, p);
  switch (*p) {
  case '"': return dec_string(d);
  case '{': return dec_object(d);
  case '[': return dec_array(d);
  case 't':
    if (!dec_literal(d, "true", 4)) return 0;
    lua_pushboolean(d->L, 1);
    return 1;
  case 'f':
    if (!dec_literal(d, "false", 5)) return 0;
    lua_pushboolean(d->L, 0);
    return 1;
  case 'n':
    if (!dec_literal(d, "null", 4)) return 0;
    lua_pushlightuserdata(d->L, JSON_NULL);
    return 1;
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return dec_number(d);
  default:
    return dec_unexpected(d, p);
  }
}

int vn_json_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen) {
  decoder d;
  const unsigned char *p;
  if (!s) s = "";
  if (!err) errlen = 0;
  if (errlen) err[0] = '\0';
  d.L = L;
  d.start = (const unsigned char *)s;
  d.end = d.start + len;
  d.err = err;
  d.errlen = errlen;
  d.depth = 0;
  d.base = lua_gettop(L);
  d.scratch_slot = 0;
  d.scratch = NULL;
  d.scratch_cap = 0;
  d.sc_slot = 0;
  d.sc = NULL;
  if (!lua_checkstack(L, 2 + DEC_ROOM)) { /* the cache's userdata and table, and the value */
    if (errlen) snprintf(err, errlen, "Lua stack exhausted");
    return 0;
  }
  d.p = skip_ws(d.start, d.end);
  if (d.p < d.end && (*d.p == '{' || *d.p == '[')) {
    d.sc = sc_open(L);
    d.sc_slot = d.base + 2;
  }
  if (!dec_value(&d)) goto fail;
  p = skip_ws(d.p, d.end);
  if (p != d.end) {
    dec_unexpected(&d, p);
    goto fail;
  }
  if (d.sc_slot || d.scratch_slot) put_last(L, d.base + 1);
  return 1;
fail:
  lua_settop(L, d.base);
  return 0;
}

/* }==================== */

/* {==================== the encoder ==================== */

/* Owner of the heap buffer while Lua calls that may raise are made: its
 * __gc frees the buffer if a memory error unwinds past us. */
typedef struct {
  char *p;
} heapbox;

#define PATH_MAX_LEN 120

typedef struct {
  lua_State *L;
  char *buf;
  size_t len, cap;
  heapbox *box;
  int mt_slot;   /* the array metatable (or nil), fetched on first need */
  int mt_loaded;
  int box_slot;  /* the heapbox once there is one (nil before) */
  int depth;
  int in_key;     /* a key is being written (for the error message) */
  char *err;
  size_t errlen;
  size_t pathpos; /* the path is built right to left while unwinding */
  int pathcut;
  char path[PATH_MAX_LEN];
  char stackbuf[2048];
} encoder;

static int box_gc(lua_State *L) {
  heapbox *b = (heapbox *)lua_touserdata(L, 1);
  if (b && b->p) {
    free(b->p);
    b->p = NULL;
  }
  return 0;
}

static int enc_fail(encoder *e, const char *a, const char *b) {
  if (e->errlen) snprintf(e->err, e->errlen, "%s%s", a, b ? b : "");
  return 0;
}

static int enc_grow(encoder *e, size_t n) {
  lua_State *L = e->L;
  size_t need = e->len + n, cap = e->cap * 2;
  char *nb;
  if (need < e->len) return enc_fail(e, "out of memory", NULL);
  if (cap < need) cap = need;
  if (!e->box) {
    /* made before any malloc, so a memory error here leaks nothing */
    e->box = (heapbox *)lua_newuserdata(L, sizeof(heapbox));
    e->box->p = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &box_mt_key);
    if (lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_createtable(L, 0, 1);
      lua_pushcfunction(L, box_gc);
      lua_setfield(L, -2, "__gc");
      lua_pushvalue(L, -1);
      lua_rawsetp(L, LUA_REGISTRYINDEX, &box_mt_key);
    }
    lua_setmetatable(L, -2);
    lua_replace(L, e->box_slot);
  }
  if (e->buf == e->stackbuf) {
    nb = (char *)malloc(cap);
    if (nb) memcpy(nb, e->buf, e->len);
  } else {
    nb = (char *)realloc(e->buf, cap);
  }
  if (!nb) return enc_fail(e, "out of memory", NULL);
  e->buf = nb;
  e->box->p = nb;
  e->cap = cap;
  return 1;
}

static int enc_reserve(encoder *e, size_t n) {
  return (e->cap - e->len >= n) ? 1 : enc_grow(e, n);
}

static int enc_raw(encoder *e, const char *s, size_t n) {
  if (!enc_reserve(e, n)) return 0;
  memcpy(e->buf + e->len, s, n);
  e->len += n;
  return 1;
}

static int enc_char(encoder *e, char c) {
  if (!enc_reserve(e, 1)) return 0;
  e->buf[e->len++] = c;
  return 1;
}

static const char hexdig[] = "0123456789abcdef";

static int enc_bad_utf8(encoder *e, const char *str, const unsigned char *at) {
  if (e->errlen)
    snprintf(e->err, e->errlen, "%s is not valid UTF-8 (byte 0x%02x at offset %lu)",
             e->in_key ? "key" : "string", (unsigned)*at, (unsigned long)(at - (const unsigned char *)str));
  return 0;
}

static int enc_string(encoder *e, const char *str, size_t n) {
  const unsigned char *p = (const unsigned char *)str, *end = p + n;
  char *o;
  if (!enc_reserve(e, n + 2)) return 0;
  o = e->buf + e->len;
  *o++ = '"';
  for (;;) {
    const unsigned char *r = p;
    unsigned c;
    for (;;) {
      size_t k;
      while (p < end && !str_stop[*p]) p++;
      if (p == end || *p < 0x80) break;
      k = utf8_seq(p, end);
      if (!k) return enc_bad_utf8(e, str, p);
      p += k;
    }
    memcpy(o, r, (size_t)(p - r));
    o += p - r;
    if (p == end) break;
    /* room for this escape (6), the rest of the input and the quote */
    e->len = (size_t)(o - e->buf);
    if (!enc_reserve(e, (size_t)(end - p) + 7)) return 0;
    o = e->buf + e->len;
    c = *p++;
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      *o++ = 'u';
      *o++ = '0';
      *o++ = '0';
      *o++ = hexdig[c >> 4];
      *o++ = hexdig[c & 15];
      break;
    }
  }
  *o++ = '"';
  e->len = (size_t)(o - e->buf);
  return 1;
}

static int enc_int(encoder *e, long long v) {
  char tmp[24], *t = tmp + sizeof tmp;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    *--t = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (v < 0) *--t = '-';
  return enc_raw(e, t, (size_t)(tmp + sizeof tmp - t));
}

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
/* Plain decimals such as 0.7 or 1234.5678 without printf: find the fewest
 * fraction digits k with m / 10^k == a for an integer m < 2^53. That
 * division is what the decoder (and a correct strtod) computes, so the text
 * reads back exactly. Returns -1 when a needs the general path. */
static int enc_decimal(encoder *e, double v) {
  char tmp[40], *t = tmp + sizeof tmp;
  double a = v < 0 ? -v : v;
  uint64_t m = 0;
  int k, found = 0;
  if (!(a >= 1e-4 && a < 1e15)) return -1; /* where %g also writes no exponent */
  for (k = 1; k <= 19; k++) {
    double x = a * pow10_tab[k];
    if (x >= 9007199254740992.0) break;
    m = (uint64_t)(x + 0.5);
    if ((double)m / pow10_tab[k] == a) {
      found = 1;
      break;
    }
  }
  if (!found) return -1;
  while (k > 0 && m % 10 == 0) {
    m /= 10;
    k--;
  }
  do {
    *--t = (char)('0' + (int)(m % 10));
    m /= 10;
    if (--k == 0) *--t = '.';
  } while (m || k >= 0);
  if (v < 0) *--t = '-';
  return enc_raw(e, t, (size_t)(tmp + sizeof tmp - t));
}
#endif

static int enc_double(encoder *e, double v) {
  char tmp[40], out[40];
  int prec, n, i, j;
  if (v != v) return enc_fail(e, "cannot encode NaN", NULL);
  if (v > DBL_MAX) return enc_fail(e, "cannot encode inf", NULL);
  if (v < -DBL_MAX) return enc_fail(e, "cannot encode -inf", NULL);
  if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
    if (v == 0 && signbit(v)) return enc_raw(e, "-0.0", 4); /* keeps the sign */
    return enc_int(e, (long long)v);
  }
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  n = enc_decimal(e, v);
  if (n >= 0) return n;
#endif
  /* shortest of 15, 16, 17 significant digits that reads back the same */
  n = 0;
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (prec == 17 || strtod(tmp, NULL) == v) break;
  }
  if (n <= 0 || (size_t)n >= sizeof tmp) return enc_fail(e, "cannot format number", NULL);
  /* the C locale's decimal point may not be '.' (nor one byte) */
  for (i = j = 0; i < n; i++) {
    char c = tmp[i];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
      out[j++] = c;
    } else {
      out[j++] = '.';
      while (i + 1 < n && !(tmp[i + 1] >= '0' && tmp[i + 1] <= '9')) i++;
    }
  }
  return enc_raw(e, out, (size_t)j);
}

static void path_prepend(encoder *e, const char *s, size_t n) {
  if (e->pathcut) return;
  if (n > e->pathpos) {
    e->pathcut = 1;
    return;
  }
  e->pathpos -= n;
  memcpy(e->path + e->pathpos, s, n);
}

static void path_index(encoder *e, lua_Integer i) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "[%lld]", (long long)i);
  if (n > 0) path_prepend(e, tmp, (size_t)n);
}

static void path_key(encoder *e, const char *k, size_t n) {
  char tmp[48];
  size_t i, j = 0;
  int ident = n > 0 && n <= 40 && !is_digit((unsigned char)k[0]);
  for (i = 0; ident && i < n; i++) {
    unsigned char c = (unsigned char)k[i];
    ident = c == '_' || is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
  }
  if (ident) {
    tmp[j++] = '.';
    memcpy(tmp + j, k, n);
    j += n;
  } else {
    tmp[j++] = '[';
    tmp[j++] = '"';
    for (i = 0; i < n && i < 32; i++) {
      unsigned char c = (unsigned char)k[i];
      tmp[j++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
    }
    if (n > 32) {
      memcpy(tmp + j, "...", 3);
      j += 3;
    }
    tmp[j++] = '"';
    tmp[j++] = ']';
  }
  path_prepend(e, tmp, j);
}

static int enc_value(encoder *e, int idx);

/* Keys exactly 1..n (n = rawlen > 0)? */
static int keys_are_sequence(lua_State *L, int idx, size_t n) {
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) goto no;
#if LUA_VERSION_NUM >= 503
    {
      lua_Integer k;
      if (!lua_isinteger(L, -1)) goto no;
      k = lua_tointeger(L, -1);
      if (k < 1 || (lua_Unsigned)k > n) goto no;
    }
#else
    {
      lua_Number k = lua_tonumber(L, -1);
      if (!(k >= 1 && k <= (lua_Number)n && k == (lua_Number)(size_t)k)) goto no;
    }
#endif
    count++;
  }
  return count == n;
no:
  lua_pop(L, 1);
  return 0;
}

static int enc_table(encoder *e, int idx) {
  lua_State *L = e->L;
  size_t n;
  int is_array = 0;
  if (e->depth >= VN_JSON_MAX_DEPTH) return enc_fail(e, "nesting too deep", NULL);
  /* key, value, metatable, plus the heapbox and its metatable */
  if (!lua_checkstack(L, 6)) return enc_fail(e, "Lua stack exhausted", NULL);
  e->depth++;
  n = lua_rawlen(L, idx);
  if (lua_getmetatable(L, idx)) {
    if (!e->mt_loaded) {
      lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
      lua_replace(L, e->mt_slot);
      e->mt_loaded = 1;
    }
    is_array = lua_rawequal(L, -1, e->mt_slot);
    lua_pop(L, 1);
  }
  if (!is_array && n > 0) is_array = keys_are_sequence(L, idx, n);
  if (is_array) {
    size_t i;
    if (!enc_char(e, '[')) return 0;
    for (i = 1; i <= n; i++) {
      if (i > 1 && !enc_char(e, ',')) return 0;
      lua_rawgeti(L, idx, (int)i);
      if (!enc_value(e, lua_gettop(L))) {
        path_index(e, (lua_Integer)i);
        return 0;
      }
      lua_pop(L, 1);
    }
    if (!enc_char(e, ']')) return 0;
  } else {
    int first = 1;
    if (!enc_char(e, '{')) return 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      size_t kl;
      const char *k;
      if (lua_type(L, -2) != LUA_TSTRING) return enc_fail(e, "table has non-string keys", NULL);
      k = lua_tolstring(L, -2, &kl);
      if (!first && !enc_char(e, ',')) return 0;
      first = 0;
      e->in_key = 1;
      if (!enc_string(e, k, kl)) {
        path_key(e, k, kl);
        return 0;
      }
      e->in_key = 0;
      if (!enc_char(e, ':')) return 0;
      if (!enc_value(e, lua_gettop(L))) {
        path_key(e, k, kl);
        return 0;
      }
      lua_pop(L, 1);
    }
    if (!enc_char(e, '}')) return 0;
  }
  e->depth--;
  return 1;
}

static int enc_value(encoder *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return enc_raw(e, "null", 4);
  case LUA_TBOOLEAN:
    return lua_toboolean(L, idx) ? enc_raw(e, "true", 4) : enc_raw(e, "false", 5);
  case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) return enc_int(e, (long long)lua_tointeger(L, idx));
#endif
    return enc_double(e, (double)lua_tonumber(L, idx));
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return enc_string(e, s, n);
  }
  case LUA_TTABLE:
    return enc_table(e, idx);
  case LUA_TLIGHTUSERDATA: {
    /* our null, and also a NULL light userdata (lua-cjson's null) */
    void *p = lua_touserdata(L, idx);
    if (p == JSON_NULL || p == NULL) return enc_raw(e, "null", 4);
    return enc_fail(e, "cannot encode ", "light userdata");
  }
  default:
    return enc_fail(e, "cannot encode ", luaL_typename(L, idx));
  }
}

/* vn_json_encode, also copying the failing value's path (NUL-terminated,
 * "" at the top) into where[0..wherelen) when where is not NULL. */
static int json_encode_at(lua_State *L, int idx, char *err, size_t errlen, char *where, size_t wherelen) {
  encoder e;
  int ok, base;
  if (!err) errlen = 0;
  if (errlen) err[0] = '\0';
  idx = lua_absindex(L, idx);
  if (!lua_checkstack(L, 8)) {
    if (errlen) snprintf(err, errlen, "Lua stack exhausted");
    return 0;
  }
  base = lua_gettop(L);
  lua_pushnil(L);
  lua_pushnil(L);
  e.L = L;
  e.buf = e.stackbuf;
  e.len = 0;
  e.cap = sizeof e.stackbuf;
  e.box = NULL;
  e.mt_slot = base + 1;
  e.mt_loaded = 0;
  e.box_slot = base + 2;
  e.depth = 0;
  e.in_key = 0;
  e.err = err;
  e.errlen = errlen;
  e.pathpos = PATH_MAX_LEN;
  e.pathcut = 0;
  ok = enc_value(&e, idx);
  if (ok) lua_pushlstring(L, e.buf, e.len); /* if this raises, the box frees */
  if (e.box) {
    free(e.box->p);
    e.box->p = NULL;
  }
  if (ok) {
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return 1;
  }
  lua_settop(L, base);
  if (where && wherelen) where[0] = '\0';
  if (e.pathpos < PATH_MAX_LEN || e.pathcut) {
    const char *path = e.path + e.pathpos;
    size_t plen = PATH_MAX_LEN - e.pathpos, used = errlen ? strlen(err) : 0;
    if (!e.pathcut && plen && *path == '.') {
      path++;
      plen--;
    }
    if (errlen && used < errlen)
      snprintf(err + used, errlen - used, " at %s%.*s", e.pathcut ? "..." : "", (int)plen, path);
    if (where && wherelen)
      snprintf(where, wherelen, "%s%.*s", e.pathcut ? "..." : "", (int)plen, path);
  }
  return 0;
}

int vn_json_encode(lua_State *L, int idx, char *err, size_t errlen) {
  return json_encode_at(L, idx, err, errlen, NULL, 0);
}

/* }==================== */

/* {==================== the Lua functions ==================== */

static int l_json_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char err[160];
  if (vn_json_decode(L, s, len, err, sizeof err)) return 1;
  lua_pushnil(L);
  lua_pushstring(L, err);
  return 2;
}

/* json_encode(v) -> text | nil, message, path of the failing value ("" at the top) */
static int l_json_encode(lua_State *L) {
  char err[256], where[PATH_MAX_LEN + 8];
  lua_settop(L, 1);
  if (json_encode_at(L, 1, err, sizeof err, where, sizeof where)) return 1;
  lua_pushnil(L);
  lua_pushstring(L, err);
  lua_pushstring(L, where);
  return 3;
}

static int l_json_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  push_array_mt(L);
  lua_setmetatable(L, 1);
  return 1;
}

void vn_json_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"json_decode", l_json_decode},
    {"json_encode", l_json_encode},
    {"json_array", l_json_array},
    {NULL, NULL}
  };
  luaL_setfuncs(L, fns, 0);
  lua_pushlightuserdata(L, JSON_NULL);
  lua_setfield(L, -2, "null");
  push_array_mt(L);
  lua_setfield(L, -2, "array_mt");
}

/* }==================== */
