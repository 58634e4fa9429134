/* keccak.c: Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA3-256's 0x06).
 * OpenSSL 3.0 has only the SHA3 variant, so this is the permutation itself (Keccak-f[1600]). */
#include "venice.h"
#include <stdint.h>
#include <string.h>

static const uint64_t vn_keccak_rc[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
  0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
  0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
  0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
  0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
  0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL
};
static const unsigned vn_keccak_rot[25] = {
  0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14
};

#define ROL(x, n) ((n) ? (((x) << (n)) | ((x) >> (64 - (n)))) : (x))

static void keccak_f(uint64_t a[25]) {
  uint64_t c[5], d[5], b[25];
  int round, x, y;
  for (round = 0; round < 24; round++) {
    for (x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ ROL(c[(x + 1) % 5], 1);
    for (x = 0; x < 25; x++) a[x] ^= d[x % 5];
    /* rho and pi: b[y, 2x + 3y] = rot(a[x, y]) */
    for (x = 0; x < 5; x++)
      for (y = 0; y < 5; y++)
        b[y + 5 * ((2 * x + 3 * y) % 5)] = ROL(a[x + 5 * y], vn_keccak_rot[x + 5 * y]);
    for (y = 0; y < 25; y += 5)
      for (x = 0; x < 5; x++) a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
    a[0] ^= vn_keccak_rc[round];
  }
}

static uint64_t load64(const unsigned char *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void vn_keccak256(const void *data, size_t len, unsigned char out[32]) {
  enum { RATE = 136 };
  const unsigned char *p = (const unsigned char *)data;
  uint64_t a[25];
  unsigned char block[RATE];
  int i;
  memset(a, 0, sizeof a);
  while (len >= RATE) {
    for (i = 0; i < RATE / 8; i++) a[i] ^= load64(p + 8 * i);
    keccak_f(a);
    p += RATE;
    len -= RATE;
  }
  memset(block, 0, sizeof block);
  if (len) memcpy(block, p, len);
  block[len] ^= 0x01;
  block[RATE - 1] ^= 0x80;
  for (i = 0; i < RATE / 8; i++) a[i] ^= load64(block + 8 * i);
  keccak_f(a);
  for (i = 0; i < 32; i++) out[i] = (unsigned char)(a[i / 8] >> (8 * (i % 8)));
}

/* core.keccak256(s) -> 32-byte string */
static int l_keccak256(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char out[32];
  vn_keccak256(s, len, out);
  lua_pushlstring(L, (const char *)out, sizeof out);
  return 1;
}

void vn_keccak_open(lua_State *L) {
  lua_pushcfunction(L, l_keccak256);
  lua_setfield(L, -2, "keccak256");
}
