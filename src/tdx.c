/* tdx.c: what the offline check of an Intel TDX attestation needs from C.
 *
 *   core.tdx_quote(bytes) -> fields | nil, message
 *     the fields of a TDX v4 quote, as raw byte strings cut at the offsets of Intel's layout
 *     (header, TD report body, signature data, QE report, PCK certificate chain), nothing decided
 *   core.x509_certs(pem) -> { der, ... } | nil, message
 *   core.x509_info(der) -> { subject, issuer, not_before, not_after, public_key, sha256, sgx }
 *     public_key: the raw P-256 point (65 bytes) when the key is one; sgx: the fields of Intel's SGX
 *     extension (1.2.840.113741.1.13.1) of a PCK certificate: fmspc, pceid, pcesvn, cpusvn, tcb
 *     (the 16 SGX TCB component SVNs), ppid, sgx_type
 *   core.x509_verify({ der, ... }, root_der, now [, { crl_der, ... } [, leaf_only]]) -> true | false, reason
 *     the chain from the first certificate (leaf) through the others to the one trusted root, at
 *     the unix time now, checking the CRLs given: each certificate's issuer must then have one
 *     (only the leaf's with leaf_only)
 *   core.x509_verify_signature(der, digest32, sig64) -> boolean
 *     ECDSA verification by the public key of a certificate
 *   core.hex_decode(s) -> bytes | nil
 *   core.hex_encode(bytes) -> lowercase hex digits
 * Every OpenSSL object is freed before anything that can raise a Lua error. */
#include "sslapi.h"
#include <stdint.h>
#include <string.h>
#include <time.h>

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void set_bytes(lua_State *L, const char *k, const unsigned char *p, size_t n) {
  lua_pushlstring(L, (const char *)p, n);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, double v) {
  vn_pushint(L, v);
  lua_setfield(L, -2, k);
}

/* {==================== the quote ==================== */

enum {
  Q_HEADER = 48, Q_BODY = 584, Q_SIGNED = Q_HEADER + Q_BODY,       /* 632 */
  QE_REPORT = 384
};

static int quote_fail(lua_State *L, const char *why) {
  lua_pushnil(L);
  lua_pushstring(L, why);
  return 2;
}

/* core.tdx_quote(bytes) -> fields | nil, message */
static int l_tdx_quote(lua_State *L) {
  size_t len, off, end, sig_len, cert_len, auth_len, inner_len;
  const unsigned char *q = (const unsigned char *)luaL_checklstring(L, 1, &len);
  const unsigned char *b = q + Q_HEADER, *r;
  uint32_t cert_type, inner_type;
  if (len < Q_SIGNED + 4) return quote_fail(L, "the quote is shorter than a TDX header and TD report");
  sig_len = le32(q + Q_SIGNED);
  if (sig_len > len - Q_SIGNED - 4) return quote_fail(L, "the quote's signature data runs past its end");
  end = Q_SIGNED + 4 + sig_len;
  off = Q_SIGNED + 4;
  if (sig_len < 64 + 64 + 6) return quote_fail(L, "the quote's signature data is too short");
  cert_type = le16(q + off + 128);
  cert_len = le32(q + off + 130);
  off += 134;
  if (cert_len > end - off) return quote_fail(L, "the quote's certification data runs past its end");
  if (cert_len != end - off) return quote_fail(L, "the quote's certification data does not fill its signature data");
  if (cert_type != 6)
    return quote_fail(L, "the quote's certification data is not a QE report (type 6), the only type of TDX v4");
  if (cert_len < QE_REPORT + 64 + 2)
    return quote_fail(L, "the quote's QE report certification data is too short");

  lua_createtable(L, 0, 40);
  set_int(L, "version", le16(q));
  set_int(L, "attestation_key_type", le16(q + 2));
  set_int(L, "tee_type", le32(q + 4));
  set_bytes(L, "qe_vendor_id", q + 12, 16);
  set_bytes(L, "user_data", q + 28, 20);
  set_bytes(L, "header", q, Q_HEADER);
  set_bytes(L, "body", b, Q_BODY);
  set_bytes(L, "tee_tcb_svn", b, 16);
  set_bytes(L, "mrseam", b + 16, 48);
  set_bytes(L, "mrsignerseam", b + 64, 48);
  set_bytes(L, "seam_attributes", b + 112, 8);
  set_bytes(L, "td_attributes", b + 120, 8);
  set_bytes(L, "xfam", b + 128, 8);
  set_bytes(L, "mrtd", b + 136, 48);
  set_bytes(L, "mrconfigid", b + 184, 48);
  set_bytes(L, "mrowner", b + 232, 48);
  set_bytes(L, "mrownerconfig", b + 280, 48);
  set_bytes(L, "rtmr0", b + 328, 48);
  set_bytes(L, "rtmr1", b + 376, 48);
  set_bytes(L, "rtmr2", b + 424, 48);
  set_bytes(L, "rtmr3", b + 472, 48);
  set_bytes(L, "report_data", b + 520, 64);
  set_bytes(L, "signed", q, Q_SIGNED);
  set_int(L, "signature_data_length", (double)sig_len);
  set_bytes(L, "signature", q + Q_SIGNED + 4, 64);
  set_bytes(L, "attestation_key", q + Q_SIGNED + 4 + 64, 64);
  set_int(L, "certification_type", cert_type);
  set_int(L, "trailing_bytes", (double)(len - end));
  {   /* bytes after the signature data: accepted as padding only when all zero */
    size_t i;
    int zero = 1;
    for (i = end; i < len; i++) zero &= q[i] == 0;
    lua_pushboolean(L, zero);
    lua_setfield(L, -2, "padding_zero");
  }
  r = q + off;                     /* the QE report certification data */
  set_bytes(L, "qe_report", r, QE_REPORT);
  lua_createtable(L, 0, 10);
  set_bytes(L, "cpusvn", r, 16);
  set_int(L, "miscselect", le32(r + 16));
  set_bytes(L, "miscselect_bytes", r + 16, 4);
  set_bytes(L, "attributes", r + 48, 16);
  set_bytes(L, "mrenclave", r + 64, 32);
  set_bytes(L, "mrsigner", r + 128, 32);
  set_int(L, "isvprodid", le16(r + 256));
  set_int(L, "isvsvn", le16(r + 258));
  set_bytes(L, "report_data", r + 320, 64);
  lua_setfield(L, -2, "qe");
  set_bytes(L, "qe_report_signature", r + QE_REPORT, 64);
  auth_len = le16(r + QE_REPORT + 64);
  if (auth_len > cert_len - (QE_REPORT + 64 + 2)) {
    lua_pop(L, 1);
    return quote_fail(L, "the quote's QE authentication data runs past its end");
  }
  set_bytes(L, "qe_auth_data", r + QE_REPORT + 66, auth_len);
  off = QE_REPORT + 66 + auth_len;   /* within the certification data */
  if (cert_len - off < 6) {
    lua_pop(L, 1);
    return quote_fail(L, "the quote has no PCK certification data");
  }
  inner_type = le16(r + off);
  inner_len = le32(r + off + 2);
  if (inner_len != cert_len - off - 6) {
    lua_pop(L, 1);
    return quote_fail(L, "the quote's PCK certification data does not fill its QE report certification data");
  }
  set_int(L, "pck_certification_type", inner_type);
  set_bytes(L, "pck_chain", r + off + 6, inner_len);
  set_int(L, "pck_chain_offset", (double)(r + off + 6 - q));
  return 1;
}

/* }==================== */

/* {==================== X.509 ==================== */

/* core.x509_certs(pem) -> { der, ... } | nil, message */
static int l_x509_certs(lua_State *L) {
  size_t len, used = 0;
  const char *pem = luaL_checklstring(L, 1, &len);
  unsigned char *buf;
  size_t offs[17];
  int n = 0, i, bad = 0;
  BIO *bio;
  X509 *x;
  vn_ssl_need(L);
  if (len > 0x7fffffff) return quote_fail(L, "the PEM text is too large");
  /* every DER is shorter than its base64 text: one buffer of the PEM's size holds them all */
  buf = (unsigned char *)lua_newuserdata(L, len + 1);
  bio = BIO_new_mem_buf(pem, (int)len);
  offs[0] = 0;
  while (bio && n < 16 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    int dl = i2d_X509(x, NULL);
    unsigned char *p = buf + used;
    if (dl <= 0 || (size_t)dl > len - used) bad = 1;
    else {
      i2d_X509(x, &p);
      used += (size_t)dl;
      offs[++n] = used;
    }
    X509_free(x);
    if (bad) break;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (bad) return quote_fail(L, "a certificate could not be encoded");
  if (n == 0) return quote_fail(L, "no certificate in the PEM text");
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushlstring(L, (const char *)buf + offs[i], offs[i + 1] - offs[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static X509 *x509_from(const char *der, size_t len) {
  const unsigned char *p = (const unsigned char *)der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x && p != (const unsigned char *)der + len) {   /* trailing bytes: not one certificate */
    X509_free(x);
    x = NULL;
  }
  ERR_clear_error();
  return x;
}

/* days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil) */
static long days_from_civil(long y, unsigned m, unsigned d) {
  long era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

static int asn1_unix(const ASN1_TIME *t, double *out) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return -1;
  *out = (double)days_from_civil(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) * 86400.0 +
         tm.tm_hour * 3600.0 + tm.tm_min * 60.0 + tm.tm_sec;
  return 0;
}

/* A DER reader: the next TLV in [*p, end); 0 on success. Definite lengths up to 4 bytes. */
static int der_next(const unsigned char **p, const unsigned char *end, int *tag,
                    const unsigned char **val, size_t *len) {
  const unsigned char *s = *p;
  size_t n;
  if (end - s < 2) return -1;
  *tag = s[0];
  n = s[1];
  s += 2;
  if (n & 0x80) {
    int k = (int)(n & 0x7f);
    if (k < 1 || k > 4 || end - s < k) return -1;
    n = 0;
    while (k--) n = (n << 8) | *s++;
  }
  if ((size_t)(end - s) < n) return -1;
  *val = s;
  *len = n;
  *p = s + n;
  return 0;
}

static int der_uint(const unsigned char *v, size_t n, double *out) {
  double x = 0;
  size_t i;
  if (n < 1 || n > 5 || (v[0] & 0x80)) return -1;
  for (i = 0; i < n; i++) x = x * 256 + v[i];
  *out = x;
  return 0;
}

/* 1.2.840.113741.1.13.1: Intel's SGX extension */
static const unsigned char SGX_OID[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* Pushes the table of the SGX extension's fields, or returns -1 (nothing pushed) when malformed. */
static int push_sgx(lua_State *L, const unsigned char *p, size_t n) {
  const unsigned char *end = p + n, *v, *seq, *seq_end, *oid, *val;
  size_t len, olen, vlen;
  int tag, otag, vtag, top = lua_gettop(L);
  double num;
  if (der_next(&p, end, &tag, &v, &len) != 0 || tag != 0x30) return -1;
  lua_createtable(L, 0, 8);
  p = v;
  end = v + len;
  while (p < end) {
    if (der_next(&p, end, &tag, &seq, &len) != 0 || tag != 0x30) goto bad;
    seq_end = seq + len;
    if (der_next(&seq, seq_end, &otag, &oid, &olen) != 0 || otag != 0x06) goto bad;
    if (der_next(&seq, seq_end, &vtag, &val, &vlen) != 0) goto bad;
    if (olen != sizeof SGX_OID + 1 || memcmp(oid, SGX_OID, sizeof SGX_OID) != 0) continue;
    switch (oid[sizeof SGX_OID]) {
    case 1: if (vtag == 0x04) set_bytes(L, "ppid", val, vlen); break;
    case 3: if (vtag == 0x04) set_bytes(L, "pceid", val, vlen); break;
    case 4: if (vtag == 0x04) set_bytes(L, "fmspc", val, vlen); break;
    case 5:
      if (vtag == 0x0a && der_uint(val, vlen, &num) == 0) set_int(L, "sgx_type", num);
      break;
    case 2: {   /* TCB: SEQUENCE of { OID ...2.k, INTEGER | OCTET STRING } */
      const unsigned char *t = val, *t_end = val + vlen, *c, *c_end, *co, *cv;
      size_t clen, colen, cvlen;
      int ctag, cotag, cvtag;
      if (vtag != 0x30) goto bad;
      lua_createtable(L, 16, 0);
      while (t < t_end) {
        unsigned k;
        if (der_next(&t, t_end, &ctag, &c, &clen) != 0 || ctag != 0x30) goto bad;
        c_end = c + clen;
        if (der_next(&c, c_end, &cotag, &co, &colen) != 0 || cotag != 0x06) goto bad;
        if (der_next(&c, c_end, &cvtag, &cv, &cvlen) != 0) goto bad;
        if (colen != sizeof SGX_OID + 2 || memcmp(co, SGX_OID, sizeof SGX_OID) != 0 ||
            co[sizeof SGX_OID] != 2)
          continue;
        k = co[sizeof SGX_OID + 1];
        if (k >= 1 && k <= 16 && cvtag == 0x02 && der_uint(cv, cvlen, &num) == 0) {
          vn_pushint(L, num);
          lua_rawseti(L, -2, (int)k);
        } else if (k == 17 && cvtag == 0x02 && der_uint(cv, cvlen, &num) == 0) {
          vn_pushint(L, num);
          lua_setfield(L, -3, "pcesvn");
        } else if (k == 18 && cvtag == 0x04) {
          lua_pushlstring(L, (const char *)cv, cvlen);
          lua_setfield(L, -3, "cpusvn");
        }
      }
      lua_setfield(L, -2, "tcb");
      break;
    }
    default: break;
    }
  }
  return 0;
bad:
  lua_settop(L, top);
  return -1;
}

/* core.x509_info(der) -> table | nil, message */
static int l_x509_info(lua_State *L) {
  size_t len;
  const char *der = luaL_checklstring(L, 1, &len);
  char subject[512], issuer[512];
  unsigned char pub[65], md[32], ext[4096];
  size_t publen = 0, extlen = 0;
  unsigned int mdlen = 0;
  double nb = 0, na = 0;
  int has_ext = 0, times_ok;
  X509 *x;
  EVP_PKEY *k;
  ASN1_OBJECT *obj;
  vn_ssl_need(L);
  x = x509_from(der, len);
  if (!x) return quote_fail(L, "not a DER certificate");
  subject[0] = issuer[0] = 0;
  X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
  X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof issuer);
  times_ok = asn1_unix(X509_get0_notBefore(x), &nb) == 0 && asn1_unix(X509_get0_notAfter(x), &na) == 0;
  k = X509_get0_pubkey(x);
  if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && EVP_PKEY_get_bits(k) == 256 &&
      EVP_PKEY_get_octet_string_param(k, "pub", pub, sizeof pub, &publen) != 1)
    publen = 0;
  obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
  if (obj) {
    int at = X509_get_ext_by_OBJ(x, obj, -1);
    if (at >= 0) {
      ASN1_OCTET_STRING *s = X509_EXTENSION_get_data(X509_get_ext(x, at));
      int n = s ? ASN1_STRING_length(s) : -1;
      if (n >= 0 && (size_t)n <= sizeof ext) {
        memcpy(ext, ASN1_STRING_get0_data(s), (size_t)n);
        extlen = (size_t)n;
        has_ext = 1;
      }
    }
    ASN1_OBJECT_free(obj);
  }
  X509_free(x);
  ERR_clear_error();
  if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1) mdlen = 0;
  if (!times_ok) return quote_fail(L, "the certificate's validity dates cannot be read");

  lua_createtable(L, 0, 8);
  vn_setstr(L, "subject", subject);
  vn_setstr(L, "issuer", issuer);
  set_int(L, "not_before", nb);
  set_int(L, "not_after", na);
  if (publen == 65) set_bytes(L, "public_key", pub, publen);
  if (mdlen == 32) set_bytes(L, "sha256", md, 32);
  if (has_ext) {
    if (push_sgx(L, ext, extlen) == 0) lua_setfield(L, -2, "sgx");
    else {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "sgx_malformed");
    }
  }
  return 1;
}

/* core.x509_verify({ der, ... }, root_der, now [, { crl_der, ... }]) -> true | false, reason */
static int l_x509_verify(lua_State *L) {
  X509 *certs[16], *root = NULL;
  X509_CRL *crls[8];
  const char *ders[16], *cders[8], *rder;
  size_t lens[16], clens[8], rlen;
  int n, nc = 0, i, ok = 0, leaf_only = lua_toboolean(L, 5);
  const char *why = NULL;
  char reason[256];
  lua_Number tnow;
  time_t now;
  X509_STORE *store = NULL;
  X509_STORE_CTX *ctx = NULL;
  OPENSSL_STACK *untrusted = NULL;
  luaL_checktype(L, 1, LUA_TTABLE);
  rder = luaL_checklstring(L, 2, &rlen);
  tnow = luaL_checknumber(L, 3);
  luaL_argcheck(L, tnow > -1e15 && tnow < 1e15, 3, "a unix time expected");   /* NaN too */
  now = (time_t)tnow;
  n = (int)lua_rawlen(L, 1);
  if (n < 1 || n > 16) return luaL_argerror(L, 1, "a list of 1 to 16 DER certificates expected");
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    nc = (int)lua_rawlen(L, 4);
    if (nc > 8) return luaL_argerror(L, 4, "at most 8 CRLs");
  }
  /* the strings stay on the stack until the function returns: a number in a list is converted on
   * the stack only, and its string would be collectable once popped */
  luaL_checkstack(L, n + nc, "too many certificates");
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    ders[i] = luaL_checklstring(L, -1, &lens[i]);
  }
  for (i = 0; i < nc; i++) {
    lua_rawgeti(L, 4, i + 1);
    cders[i] = luaL_checklstring(L, -1, &clens[i]);
  }
  vn_ssl_need(L);
  memset(certs, 0, sizeof certs);
  memset(crls, 0, sizeof crls);
  reason[0] = 0;
  for (i = 0; i < n && !why; i++)
    if (!(certs[i] = x509_from(ders[i], lens[i]))) why = "a certificate of the chain is not valid DER";
  if (!why && !(root = x509_from(rder, rlen))) why = "the root certificate is not valid DER";
  for (i = 0; i < nc && !why; i++) {
    const unsigned char *p = (const unsigned char *)cders[i];
    if (!(crls[i] = d2i_X509_CRL(NULL, &p, (long)clens[i]))) why = "a CRL is not valid DER";
  }
  if (!why) {
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    untrusted = OPENSSL_sk_new_null();
    if (!store || !ctx || !untrusted || X509_STORE_add_cert(store, root) != 1) why = "out of memory";
  }
  for (i = 0; i < nc && !why; i++)
    if (X509_STORE_add_crl(store, crls[i]) != 1) why = "out of memory";
  if (!why && nc > 0)
    X509_STORE_set_flags(store, leaf_only ? X509_V_FLAG_CRL_CHECK : X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  for (i = 1; i < n && !why; i++)
    if (!OPENSSL_sk_push(untrusted, certs[i])) why = "out of memory";
  if (!why && X509_STORE_CTX_init(ctx, store, certs[0], (STACK_OF(X509) *)untrusted) != 1) why = "out of memory";
  if (!why) {
    X509_STORE_CTX_set_time(ctx, 0, now);
    if (X509_verify_cert(ctx) == 1) ok = 1;
    else {
      int e = X509_STORE_CTX_get_error(ctx);
      const char *s = X509_verify_cert_error_string(e);
      snprintf(reason, sizeof reason, "%s", s ? s : "verification failed");
      why = reason;
    }
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  OPENSSL_sk_free(untrusted);
  for (i = 0; i < n; i++) X509_free(certs[i]);
  for (i = 0; i < nc; i++) X509_CRL_free(crls[i]);
  X509_free(root);
  ERR_clear_error();
  if (ok) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  lua_pushstring(L, why);
  return 2;
}

/* core.x509_verify_signature(der, digest32, sig64) -> boolean: ECDSA by the certificate's key */
static int l_x509_verify_signature(lua_State *L) {
  size_t len, dlen, slen;
  const char *der = luaL_checklstring(L, 1, &len);
  const unsigned char *d = (const unsigned char *)luaL_checklstring(L, 2, &dlen);
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 3, &slen);
  X509 *x;
  int ok = 0;
  if (dlen != 32) return luaL_argerror(L, 2, "a 32-byte digest expected");
  if (slen != 64) return luaL_argerror(L, 3, "a 64-byte signature (r || s) expected");
  vn_ssl_need(L);
  x = x509_from(der, len);
  if (x) {
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) ok = vn_ecdsa_verify(k, d, dlen, s);
    X509_free(x);
  }
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* core.hex_decode(s) -> bytes | nil: hex digits (either case, even count, nothing else) as bytes */
static int l_hex_decode(lua_State *L) {
  size_t len, i;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char *out;
  if (len % 2) {
    lua_pushnil(L);
    return 1;
  }
  out = (unsigned char *)lua_newuserdata(L, len / 2 + 1);
  for (i = 0; i < len; i++) {
    int c = (unsigned char)s[i], v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else {
      lua_pushnil(L);
      return 1;
    }
    if (i % 2) out[i / 2] = (unsigned char)(out[i / 2] | v);
    else out[i / 2] = (unsigned char)(v << 4);
  }
  lua_pushlstring(L, (const char *)out, len / 2);
  return 1;
}

/* core.hex_encode(bytes) -> lowercase hex digits, two per byte */
static int l_hex_encode(lua_State *L) {
  static const char digits[] = "0123456789abcdef";
  size_t len, i;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 0; i < len; i++) {
    luaL_addchar(&b, digits[s[i] >> 4]);
    luaL_addchar(&b, digits[s[i] & 15]);
  }
  luaL_pushresult(&b);
  return 1;
}

/* }==================== */

void vn_tdx_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "tdx_quote", l_tdx_quote },
    { "x509_certs", l_x509_certs },
    { "x509_info", l_x509_info },
    { "x509_verify", l_x509_verify },
    { "x509_verify_signature", l_x509_verify_signature },
    { "hex_decode", l_hex_decode },
    { "hex_encode", l_hex_encode },
    { NULL, NULL }
  };
  luaL_setfuncs(L, funcs, 0);
}
