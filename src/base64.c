/* base64.c: RFC 4648 base64, the standard alphabet with padding.
 *
 * Decoding is strict, as RFC 4648 section 3.5 allows a decoder to be: the length is a multiple
 * of 4, every character is in the alphabet, '=' appears only as the last one or two, and the bits
 * after the last byte are zero (so each byte string has exactly one encoding). Line breaks and
 * other whitespace are errors too; the error says what was found and where. */
#include "base64.h"
#include <stdio.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, 64 for '=', 255 for every other byte. */
static unsigned char dec_table[256];
static int dec_ready;

static void dec_init(void) {
  int i;
  memset(dec_table, 255, sizeof dec_table);
  for (i = 0; i < 64; i++) dec_table[(unsigned char)alphabet[i]] = (unsigned char)i;
  dec_table['='] = 64;
  dec_ready = 1;
}

/* The largest input either function takes: its output must fit a size_t with room to spare. */
#define B64_MAX ((size_t)1 << 40)

/* core.base64_encode(s) -> base64 text */
static int l_base64_encode(lua_State *L) {
  size_t n, i, o = 0;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  char *out;
  if (n > B64_MAX) return luaL_error(L, "venice: base64.encode: input too large");
  out = (char *)lua_newuserdata(L, (n + 2) / 3 * 4 + 1);
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0u);
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  lua_pushlstring(L, out, o);
  return 1;
}

static void describe(char *buf, size_t len, unsigned char c) {
  if (c >= 0x21 && c < 0x7f) snprintf(buf, len, "'%c'", c);
  else if (c == ' ') snprintf(buf, len, "a space");
  else if (c == '\n') snprintf(buf, len, "a line feed");
  else if (c == '\r') snprintf(buf, len, "a carriage return");
  else if (c == '\t') snprintf(buf, len, "a tab");
  else snprintf(buf, len, "byte 0x%02x", c);
}

/* core.base64_decode(s) -> bytes | nil, message, offset (0-based) of the first bad character */
static int l_base64_decode(lua_State *L) {
  size_t n, i, o = 0, pad = 0;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  unsigned char *out;
  char msg[160], what[24];
  size_t bad = 0;
  if (!dec_ready) dec_init();
  if (n > B64_MAX) return luaL_error(L, "venice: base64.decode: input too large");
  /* first the characters, so that a stray byte is reported before a length that is off */
  for (i = 0; i < n; i++) {
    unsigned char d = dec_table[s[i]];
    if (d == 255) {
      describe(what, sizeof what, s[i]);
      snprintf(msg, sizeof msg, "invalid base64: %s at offset %lu is not in the alphabet", what,
               (unsigned long)i);
      bad = i;
      goto fail;
    }
    if (d == 64) {
      /* padding: the last character, or the last two */
      if (!(i + 1 == n || (i + 2 == n && s[n - 1] == '='))) {
        snprintf(msg, sizeof msg, "invalid base64: '=' at offset %lu before the end", (unsigned long)i);
        bad = i;
        goto fail;
      }
      pad++;
    }
  }
  if (n % 4 != 0) {
    snprintf(msg, sizeof msg, "invalid base64: length %lu is not a multiple of 4 (padding missing or "
             "text cut)", (unsigned long)n);
    bad = n;
    goto fail;
  }
  out = (unsigned char *)lua_newuserdata(L, n / 4 * 3 + 1);
  for (i = 0; i < n; i += 4) {
    unsigned a = dec_table[s[i]], b = dec_table[s[i + 1]], c = dec_table[s[i + 2]], d = dec_table[s[i + 3]];
    if (i + 4 == n && pad) {
      /* the last quantum: "xx==" holds one byte, "xxx=" two; the unused bits must be zero */
      if (pad == 2) {
        if (b & 15) goto trailing;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
      } else {
        if (c & 3) goto trailing;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
      }
      break;
    }
    out[o++] = (unsigned char)(a << 2 | b >> 4);
    out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
    out[o++] = (unsigned char)((c & 3) << 6 | d);
  }
  lua_pushlstring(L, (const char *)out, o);
  return 1;
trailing:
  bad = n - pad - 1;
  snprintf(msg, sizeof msg, "invalid base64: the character at offset %lu has bits set after the last "
           "byte (not the canonical encoding)", (unsigned long)bad);
fail:
  lua_pushnil(L);
  lua_pushstring(L, msg);
  vn_pushint(L, bad);
  return 3;
}

void vn_base64_open(lua_State *L) {
  lua_pushcfunction(L, l_base64_encode);
  lua_setfield(L, -2, "base64_encode");
  lua_pushcfunction(L, l_base64_decode);
  lua_setfield(L, -2, "base64_decode");
}
