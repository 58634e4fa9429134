/* crypto.c: the primitives of private inference, on OpenSSL's libcrypto (opened on first use).
 *
 *   core.sha256(s) -> 32 bytes
 *   core.tee_key([curve]) -> venice.TeeKey: a fresh key pair (curve "secp256k1", the default, or
 *     "P-256", which the local server's test enclave signs its quotes with) whose private half stays here, in
 *     C memory, and is wiped with OPENSSL_cleanse by key:close(), __close and __gc
 *       key:public() -> 65 bytes (04 || x || y)
 *       key:decrypt(blob) -> plaintext | nil, message
 *       key:sign(digest32) -> 65 bytes r || s || v (v 0 or 1, low s), the form secp256k1_recover reads
 *       key:close()
 *   core.tee_encrypt(peer_pub, plaintext) -> blob
 *   core.ecdsa_verify(curve, pub, digest32, sig64) -> boolean   (curve "P-256" or "secp256k1")
 *   core.secp256k1_recover(digest32, sig65) -> 65-byte public key | nil
 *
 * A blob is ephemeral public key (65) || nonce (12) || AES-256-GCM ciphertext || tag (16); the AES
 * key is HKDF-SHA256 (no salt, info "ecdsa_encryption") of the x coordinate of the ECDH secret.
 * Every OpenSSL object is freed before anything that can raise a Lua error. */
#include "sslapi.h"
#include <string.h>

#define TEEKEY_MT "venice.TeeKey"
#define VN_PUB_LEN 65
#define VN_NONCE_LEN 12
#define VN_TAG_LEN 16
#define VN_BLOB_MIN (VN_PUB_LEN + VN_NONCE_LEN + VN_TAG_LEN)

typedef struct {
  unsigned char priv[32];
  unsigned char pub[VN_PUB_LEN];
  int closed;
  int nid;                             /* NID_secp256k1 or NID_X9_62_prime256v1 */
} vn_teekey;

/* secp256k1, made per call (a group cached in a static would outlive the Lua state that unloads
 * this module); NULL when libcrypto cannot make it. Called after the last Lua allocation of the
 * function, and freed before it returns or raises. */
static EC_GROUP *k1_group(void) {
  return EC_GROUP_new_by_curve_name(NID_secp256k1);
}

/* A point from 65 bytes (04 || x || y) or 64 (x || y); NULL when it is not a point of the curve. */
static EC_POINT *point_from(const EC_GROUP *g, const unsigned char *p, size_t len, BN_CTX *bn) {
  unsigned char buf[VN_PUB_LEN];
  EC_POINT *pt;
  if (len == 64) {
    buf[0] = 4;
    memcpy(buf + 1, p, 64);
    p = buf;
    len = 65;
  }
  if (len != 65 || p[0] != 4) return NULL;
  pt = EC_POINT_new(g);
  if (!pt) return NULL;
  if (EC_POINT_oct2point(g, pt, p, len, bn) != 1 || EC_POINT_is_at_infinity(g, pt)) {
    EC_POINT_free(pt);
    return NULL;
  }
  return pt;
}

/* A fresh private scalar in [1, n-1] and its public point, uncompressed. 0 on success. */
static int make_key(const EC_GROUP *g, unsigned char priv[32], unsigned char pub[VN_PUB_LEN], BN_CTX *bn) {
  const BIGNUM *n = EC_GROUP_get0_order(g);
  int tries, rc = -1;
  for (tries = 0; tries < 16 && rc != 0; tries++) {
    BIGNUM *d;
    EC_POINT *q;
    if (RAND_priv_bytes(priv, 32) != 1) return -1;
    d = BN_bin2bn(priv, 32, NULL);
    if (!d) return -1;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    if (BN_is_zero(d) || BN_cmp(d, n) >= 0) {
      BN_clear_free(d);
      continue;
    }
    q = EC_POINT_new(g);
    if (q && EC_POINT_mul(g, q, d, NULL, NULL, bn) == 1 &&
        EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pub, VN_PUB_LEN, bn) == VN_PUB_LEN)
      rc = 0;
    EC_POINT_clear_free(q);
    BN_clear_free(d);
    if (rc != 0) break;
  }
  if (rc != 0) OPENSSL_cleanse(priv, 32);
  return rc;
}

/* The AES key: HKDF-SHA256 (no salt, info "ecdsa_encryption", 32 bytes) of the ECDH x coordinate of
 * priv * peer. 0 on success. */
static int shared_key(const EC_GROUP *g, const unsigned char priv[32], const EC_POINT *peer,
                      unsigned char key[32], BN_CTX *bn) {
  static const unsigned char salt[32] = { 0 };
  static const char info[] = "ecdsa_encryption\x01";
  unsigned char x[32], prk[32];
  unsigned int len = 0;
  BIGNUM *d = BN_bin2bn(priv, 32, NULL), *bx = BN_new();
  EC_POINT *s = EC_POINT_new(g);
  int rc = -1;
  if (d && bx && s) {
    BN_set_flags(d, BN_FLG_CONSTTIME);
    if (EC_POINT_mul(g, s, NULL, peer, d, bn) == 1 && !EC_POINT_is_at_infinity(g, s) &&
        EC_POINT_get_affine_coordinates(g, s, bx, NULL, bn) == 1 && BN_bn2binpad(bx, x, 32) == 32 &&
        HMAC(EVP_sha256(), salt, sizeof salt, x, sizeof x, prk, &len) && len == 32 &&
        HMAC(EVP_sha256(), prk, sizeof prk, (const unsigned char *)info, sizeof info - 1, key, &len) &&
        len == 32)
      rc = 0;
  }
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(prk, sizeof prk);
  BN_clear_free(d);
  BN_clear_free(bx);
  EC_POINT_clear_free(s);
  return rc;
}

/* AES-256-GCM; dec = 0 encrypts in -> out and writes tag, dec = 1 decrypts and checks tag. 0 on success. */
static int gcm(int dec, const unsigned char key[32], const unsigned char *iv, const unsigned char *in,
               size_t len, unsigned char *out, unsigned char *tag) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, rc = -1;
  if (!c || len > 0x7fffffff) goto done;
  if (!dec) {
    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) != 1) goto done;
    if (len && EVP_EncryptUpdate(c, out, &n, in, (int)len) != 1) goto done;
    if (EVP_EncryptFinal_ex(c, out + n, &n) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VN_TAG_LEN, tag) != 1) goto done;
  } else {
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) != 1) goto done;
    if (len && EVP_DecryptUpdate(c, out, &n, in, (int)len) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VN_TAG_LEN, tag) != 1) goto done;
    if (EVP_DecryptFinal_ex(c, out + n, &n) != 1) goto done;
  }
  rc = 0;
done:
  EVP_CIPHER_CTX_free(c);
  return rc;
}

/* {==================== venice.TeeKey ==================== */

static void key_wipe(vn_teekey *k) {
  if (!k->closed) {
    OPENSSL_cleanse(k->priv, sizeof k->priv);
    k->closed = 1;
  }
}

static vn_teekey *check_key(lua_State *L) {
  return (vn_teekey *)luaL_checkudata(L, 1, TEEKEY_MT);
}

static vn_teekey *open_key(lua_State *L) {
  vn_teekey *k = check_key(L);
  if (k->closed) luaL_error(L, "venice: the key is closed");
  return k;
}

/* core.tee_key([curve]) -> venice.TeeKey */
static int l_tee_key(lua_State *L) {
  vn_teekey *k;
  EC_GROUP *g;
  BN_CTX *bn;
  int rc;
  const char *curve = luaL_optstring(L, 1, "secp256k1");
  int nid = strcmp(curve, "P-256") == 0 ? NID_X9_62_prime256v1 : NID_secp256k1;
  if (nid == NID_secp256k1 && strcmp(curve, "secp256k1") != 0)
    return luaL_argerror(L, 1, "\"secp256k1\" or \"P-256\" expected");
  vn_ssl_need(L);
  k = (vn_teekey *)lua_newuserdata(L, sizeof *k);
  memset(k, 0, sizeof *k);
  k->closed = 1;                       /* until it holds a key */
  k->nid = nid;
  luaL_setmetatable(L, TEEKEY_MT);
  g = EC_GROUP_new_by_curve_name(nid);
  bn = BN_CTX_new();
  rc = g && bn ? make_key(g, k->priv, k->pub, bn) : -1;
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  if (rc != 0) return luaL_error(L, "venice: could not make a %s key (libcrypto's random generator failed)", curve);
  k->closed = 0;
  return 1;
}

static int l_key_public(lua_State *L) {
  vn_teekey *k = open_key(L);
  lua_pushlstring(L, (const char *)k->pub, VN_PUB_LEN);
  return 1;
}

/* key:decrypt(blob) -> plaintext | nil, message */
static int l_key_decrypt(lua_State *L) {
  vn_teekey *k = open_key(L);
  size_t len;
  const unsigned char *b = (const unsigned char *)luaL_checklstring(L, 2, &len);
  EC_GROUP *g;
  const char *why = NULL;
  unsigned char key[32];
  unsigned char *out;
  size_t clen;
  BN_CTX *bn;
  EC_POINT *eph = NULL;
  if (len < VN_BLOB_MIN) {
    lua_pushnil(L);
    lua_pushfstring(L, "the ciphertext is %d bytes, shorter than the %d of an ephemeral key, nonce and tag",
                    (int)len, VN_BLOB_MIN);
    return 2;
  }
  clen = len - VN_BLOB_MIN;
  vn_ssl_need(L);
  out = (unsigned char *)lua_newuserdata(L, clen ? clen : 1);
  g = EC_GROUP_new_by_curve_name(k->nid);
  bn = BN_CTX_new();
  if (!bn || !g) why = "out of memory";
  else if (!(eph = point_from(g, b, VN_PUB_LEN, bn)))
    why = k->nid == NID_secp256k1 ? "the ephemeral public key is not a secp256k1 point"
                                  : "the ephemeral public key is not a P-256 point";
  else if (shared_key(g, k->priv, eph, key, bn) != 0) why = "the key agreement failed";
  else if (gcm(1, key, b + VN_PUB_LEN, b + VN_PUB_LEN + VN_NONCE_LEN, clen, out,
               (unsigned char *)(b + len - VN_TAG_LEN)) != 0)
    why = "the ciphertext does not authenticate with this key (AES-GCM tag mismatch)";
  OPENSSL_cleanse(key, sizeof key);
  EC_POINT_free(eph);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  if (why) {
    OPENSSL_cleanse(out, clen);
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  lua_pushlstring(L, (const char *)out, clen);
  OPENSSL_cleanse(out, clen);
  return 1;
}

/* key:sign(digest32) -> r || s || v: ECDSA on the key's curve with a random nonce, s normalised low,
 * v the parity of R's y (0 or 1). */
static int l_key_sign(lua_State *L) {
  vn_teekey *k = open_key(L);
  size_t dlen;
  const unsigned char *dg = (const unsigned char *)luaL_checklstring(L, 2, &dlen);
  EC_GROUP *g;
  unsigned char sig[65], kb[32];
  BN_CTX *bn;
  BIGNUM *d, *e, *kk, *r, *s, *ry, *t;
  EC_POINT *R;
  const BIGNUM *n;
  int ok = 0, tries;
  if (dlen != 32) return luaL_argerror(L, 2, "a 32-byte digest expected");
  vn_ssl_need(L);
  g = EC_GROUP_new_by_curve_name(k->nid);
  n = g ? EC_GROUP_get0_order(g) : NULL;
  bn = BN_CTX_new();
  d = BN_bin2bn(k->priv, 32, NULL);
  e = BN_bin2bn(dg, 32, NULL);
  kk = BN_new(); r = BN_new(); s = BN_new(); ry = BN_new(); t = BN_new();
  R = g ? EC_POINT_new(g) : NULL;
  if (bn && d && e && kk && r && s && ry && t && R) {
    BN_set_flags(d, BN_FLG_CONSTTIME);
    BN_set_flags(kk, BN_FLG_CONSTTIME);
    for (tries = 0; tries < 16 && !ok; tries++) {
      unsigned char rx[32];
      int odd;
      if (RAND_priv_bytes(kb, 32) != 1 || !BN_bin2bn(kb, 32, kk)) break;
      if (BN_is_zero(kk) || BN_cmp(kk, n) >= 0) continue;
      if (EC_POINT_mul(g, R, kk, NULL, NULL, bn) != 1 ||
          EC_POINT_get_affine_coordinates(g, R, r, ry, bn) != 1) break;
      if (BN_cmp(r, n) >= 0) continue;                 /* x >= n: v would need 2 or 3 */
      if (BN_is_zero(r)) continue;
      BN_bn2binpad(ry, rx, 32);
      odd = rx[31] & 1;
      /* s = k^-1 (e + r d) mod n */
      if (!BN_mod_mul(t, r, d, n, bn) || !BN_nnmod(s, e, n, bn) || !BN_mod_sub(s, n, s, n, bn) ||
          !BN_mod_sub(t, t, s, n, bn) || !BN_mod_inverse(s, kk, n, bn) || !BN_mod_mul(s, s, t, n, bn)) break;
      if (BN_is_zero(s)) continue;
      /* low s: s > n/2 becomes n - s, which flips R's parity */
      if (!BN_mod_sub(t, n, s, n, bn)) break;
      if (BN_cmp(s, t) > 0) {
        BIGNUM *swap = s;
        s = t;
        t = swap;
        odd ^= 1;
      }
      BN_bn2binpad(r, sig, 32);
      BN_bn2binpad(s, sig + 32, 32);
      sig[64] = (unsigned char)odd;
      ok = 1;
    }
  }
  OPENSSL_cleanse(kb, sizeof kb);
  /* s and t hold k^-1 and r d mod n on the way, each enough with r to give the private key */
  BN_clear_free(d); BN_free(e); BN_clear_free(kk); BN_free(r); BN_clear_free(s); BN_clear_free(ry);
  BN_clear_free(t);
  EC_POINT_clear_free(R);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  if (!ok) return luaL_error(L, "venice: signing failed in libcrypto");
  lua_pushlstring(L, (const char *)sig, sizeof sig);
  return 1;
}

static int l_key_close(lua_State *L) {
  key_wipe(check_key(L));
  return 0;
}

static int l_key_closed(lua_State *L) {
  lua_pushboolean(L, check_key(L)->closed);
  return 1;
}

static int l_key_tostring(lua_State *L) {
  vn_teekey *k = check_key(L);
  lua_pushstring(L, k->closed ? "venice.TeeKey (closed)"
                  : k->nid == NID_secp256k1 ? "venice.TeeKey (secp256k1)" : "venice.TeeKey (P-256)");
  return 1;
}

/* }==================== */

/* core.tee_encrypt(peer_pub, plaintext) -> blob */
static int l_tee_encrypt(lua_State *L) {
  size_t plen, len;
  const unsigned char *pp = (const unsigned char *)luaL_checklstring(L, 1, &plen);
  const unsigned char *m = (const unsigned char *)luaL_checklstring(L, 2, &len);
  EC_GROUP *g;
  const char *why = NULL, *cls = "Error";
  unsigned char priv[32], key[32];
  unsigned char *out;
  BN_CTX *bn;
  EC_POINT *peer = NULL;
  if (plen != 64 && plen != 65)
    return luaL_argerror(L, 1, "a secp256k1 public key of 65 bytes (04 || x || y) or 64 (x || y) expected");
  vn_ssl_need(L);
  out = (unsigned char *)lua_newuserdata(L, len + VN_BLOB_MIN);
  g = k1_group();
  bn = BN_CTX_new();
  if (!bn || !g) why = "out of memory";
  else if (!(peer = point_from(g, pp, plen, bn))) why = "the public key is not a secp256k1 point", cls = "ValidationError";
  else if (make_key(g, priv, out, bn) != 0) why = "libcrypto's random generator failed";
  else {
    if (shared_key(g, priv, peer, key, bn) != 0) why = "the key agreement failed";
    else if (RAND_bytes(out + VN_PUB_LEN, VN_NONCE_LEN) != 1) why = "libcrypto's random generator failed";
    else if (gcm(0, key, out + VN_PUB_LEN, m, len, out + VN_PUB_LEN + VN_NONCE_LEN,
                 out + VN_PUB_LEN + VN_NONCE_LEN + len) != 0)
      why = "AES-GCM failed";
    OPENSSL_cleanse(priv, sizeof priv);
    OPENSSL_cleanse(key, sizeof key);
  }
  EC_POINT_free(peer);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  if (why) {
    vn_error_push(L, cls, why);
    return lua_error(L);
  }
  lua_pushlstring(L, (const char *)out, len + VN_BLOB_MIN);
  return 1;
}

/* core.sha256(s) -> 32 bytes */
static int l_sha256(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[32];
  unsigned int mdlen = 0;
  vn_ssl_need(L);
  if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
    return luaL_error(L, "venice: SHA-256 failed in libcrypto");
  lua_pushlstring(L, (const char *)md, 32);
  return 1;
}

/* An EVP_PKEY from a raw public key of the named curve, through its SubjectPublicKeyInfo. */
EVP_PKEY *vn_ec_pubkey(const char *curve, const unsigned char *p, size_t len) {
  static const unsigned char p256[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00
  };
  static const unsigned char k1[] = {
    0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00
  };
  unsigned char der[sizeof p256 + 65];
  const unsigned char *pre, *q = der;
  size_t plen;
  if (strcmp(curve, "P-256") == 0) pre = p256, plen = sizeof p256;
  else if (strcmp(curve, "secp256k1") == 0) pre = k1, plen = sizeof k1;
  else return NULL;
  if (len == 65 && p[0] == 4) p++, len--;
  if (len != 64) return NULL;
  memcpy(der, pre, plen);
  der[plen] = 4;
  memcpy(der + plen + 1, p, 64);
  return d2i_PUBKEY(NULL, &q, (long)(plen + 65));
}

/* Appends a DER INTEGER of the 32-byte big-endian x to out; the bytes written. */
static size_t der_int(unsigned char *out, const unsigned char *x) {
  size_t i = 0, n;
  while (i < 31 && x[i] == 0) i++;
  n = 32 - i;
  out[0] = 0x02;
  if (x[i] & 0x80) {
    out[1] = (unsigned char)(n + 1);
    out[2] = 0;
    memcpy(out + 3, x + i, n);
    return n + 3;
  }
  out[1] = (unsigned char)n;
  memcpy(out + 2, x + i, n);
  return n + 2;
}

/* 1 when sig (r || s, 64 bytes) is pkey's ECDSA signature of digest. */
int vn_ecdsa_verify(EVP_PKEY *pkey, const unsigned char *digest, size_t dlen, const unsigned char *sig) {
  unsigned char der[2 + 2 * 35];
  size_t n = 2;
  EVP_PKEY_CTX *c;
  int ok = 0;
  n += der_int(der + n, sig);
  n += der_int(der + n, sig + 32);
  der[0] = 0x30;
  der[1] = (unsigned char)(n - 2);
  c = EVP_PKEY_CTX_new(pkey, NULL);
  if (c && EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_verify(c, der, n, digest, dlen) == 1) ok = 1;
  EVP_PKEY_CTX_free(c);
  ERR_clear_error();
  return ok;
}

/* core.ecdsa_verify(curve, pub, digest32, sig64) -> boolean */
static int l_ecdsa_verify(lua_State *L) {
  const char *curve = luaL_checkstring(L, 1);
  size_t plen, dlen, slen;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 2, &plen);
  const unsigned char *d = (const unsigned char *)luaL_checklstring(L, 3, &dlen);
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 4, &slen);
  EVP_PKEY *k;
  int ok;
  if (strcmp(curve, "P-256") != 0 && strcmp(curve, "secp256k1") != 0)
    return luaL_argerror(L, 1, "\"P-256\" or \"secp256k1\" expected");
  if (plen != 64 && plen != 65) return luaL_argerror(L, 2, "a public key of 65 or 64 bytes expected");
  if (dlen != 32) return luaL_argerror(L, 3, "a 32-byte digest expected");
  if (slen != 64) return luaL_argerror(L, 4, "a 64-byte signature (r || s) expected");
  vn_ssl_need(L);
  k = vn_ec_pubkey(curve, p, plen);
  ok = k ? vn_ecdsa_verify(k, d, dlen, s) : 0;
  EVP_PKEY_free(k);
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* core.secp256k1_recover(digest32, sig65) -> 65-byte public key | nil */
static int l_secp256k1_recover(lua_State *L) {
  size_t dlen, slen;
  const unsigned char *dg = (const unsigned char *)luaL_checklstring(L, 1, &dlen);
  const unsigned char *sig = (const unsigned char *)luaL_checklstring(L, 2, &slen);
  EC_GROUP *g;
  unsigned char out[VN_PUB_LEN], comp[33];
  const BIGNUM *n;
  BN_CTX *bn;
  BIGNUM *r, *s, *e, *ri, *u1, *u2;
  EC_POINT *R, *Q;
  int v, ok = 0;
  if (dlen != 32) return luaL_argerror(L, 1, "a 32-byte digest expected");
  if (slen != 65) return luaL_argerror(L, 2, "a 65-byte signature (r || s || v) expected");
  v = sig[64];
  if (v >= 27) v -= 27;
  if (v != 0 && v != 1) {
    lua_pushnil(L);
    return 1;
  }
  vn_ssl_need(L);
  g = k1_group();
  if (!g) return luaL_error(L, "venice: libcrypto has no secp256k1 curve");
  n = EC_GROUP_get0_order(g);
  bn = BN_CTX_new();
  r = BN_bin2bn(sig, 32, NULL);
  s = BN_bin2bn(sig + 32, 32, NULL);
  e = BN_bin2bn(dg, 32, NULL);
  ri = BN_new(); u1 = BN_new(); u2 = BN_new();
  R = EC_POINT_new(g);
  Q = EC_POINT_new(g);
  comp[0] = (unsigned char)(2 + v);
  memcpy(comp + 1, sig, 32);
  if (bn && r && s && e && ri && u1 && u2 && R && Q && !BN_is_zero(r) && !BN_is_zero(s) &&
      BN_cmp(r, n) < 0 && BN_cmp(s, n) < 0 &&
      EC_POINT_oct2point(g, R, comp, sizeof comp, bn) == 1 &&
      BN_mod_inverse(ri, r, n, bn) &&
      BN_nnmod(e, e, n, bn) && BN_mod_sub(u1, n, e, n, bn) && BN_mod_mul(u1, u1, ri, n, bn) &&
      BN_mod_mul(u2, s, ri, n, bn) &&
      EC_POINT_mul(g, Q, u1, R, u2, bn) == 1 && !EC_POINT_is_at_infinity(g, Q) &&
      EC_POINT_point2oct(g, Q, POINT_CONVERSION_UNCOMPRESSED, out, sizeof out, bn) == sizeof out)
    ok = 1;
  BN_free(r); BN_free(s); BN_free(e); BN_free(ri); BN_free(u1); BN_free(u2);
  EC_POINT_free(R); EC_POINT_free(Q);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  ERR_clear_error();
  if (ok) lua_pushlstring(L, (const char *)out, sizeof out);
  else lua_pushnil(L);
  return 1;
}

static int l_key_gc(lua_State *L) {
  key_wipe(check_key(L));
  return 0;
}

void vn_crypto_open(lua_State *L) {
  static const luaL_Reg key_methods[] = {
    { "public", l_key_public },
    { "decrypt", l_key_decrypt },
    { "sign", l_key_sign },
    { "close", l_key_close },
    { "closed", l_key_closed },
    { NULL, NULL }
  };
  static const luaL_Reg funcs[] = {
    { "sha256", l_sha256 },
    { "tee_key", l_tee_key },
    { "tee_encrypt", l_tee_encrypt },
    { "ecdsa_verify", l_ecdsa_verify },
    { "secp256k1_recover", l_secp256k1_recover },
    { NULL, NULL }
  };
  luaL_newmetatable(L, TEEKEY_MT);
  luaL_newlib(L, key_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_key_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_key_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_key_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, TEEKEY_MT);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
