/* sslapi.h: OpenSSL's libcrypto, loaded when the first cryptographic function needs it.
 *
 * Linking libcrypto would add about 0.7 ms to every `require "venice"`, most of it for scripts that
 * never touch private inference. So, as with libcurl (curlapi.h), venice.core opens it with dlopen
 * on first use: vn_ssl_load() fills a table of its functions, and the macros below make the files
 * that include this header call through that table under the usual names. Only the headers of
 * OpenSSL 3 are needed to build. */
#ifndef VENICE_SSLAPI_H
#define VENICE_SSLAPI_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "venice.h"

#define VN_SSL_FUNCS(X) \
  X(OPENSSL_cleanse) X(OPENSSL_sk_new_null) X(OPENSSL_sk_push) X(OPENSSL_sk_free) \
  X(ERR_clear_error) X(RAND_priv_bytes) X(RAND_bytes) \
  X(BN_new) X(BN_free) X(BN_clear_free) X(BN_bin2bn) X(BN_bn2binpad) X(BN_cmp) X(BN_is_zero) \
  X(BN_CTX_new) X(BN_CTX_free) X(BN_mod_inverse) X(BN_mod_mul) X(BN_mod_sub) X(BN_nnmod) \
  X(BN_set_flags) \
  X(EC_GROUP_new_by_curve_name) X(EC_GROUP_free) X(EC_GROUP_get0_order) \
  X(EC_POINT_new) X(EC_POINT_free) X(EC_POINT_clear_free) X(EC_POINT_mul) X(EC_POINT_oct2point) \
  X(EC_POINT_point2oct) X(EC_POINT_set_compressed_coordinates) X(EC_POINT_is_at_infinity) \
  X(EC_POINT_get_affine_coordinates) \
  X(EVP_sha256) X(EVP_Digest) X(HMAC) X(EVP_aes_256_gcm) \
  X(EVP_CIPHER_CTX_new) X(EVP_CIPHER_CTX_free) X(EVP_CIPHER_CTX_ctrl) \
  X(EVP_EncryptInit_ex) X(EVP_EncryptUpdate) X(EVP_EncryptFinal_ex) \
  X(EVP_DecryptInit_ex) X(EVP_DecryptUpdate) X(EVP_DecryptFinal_ex) \
  X(d2i_PUBKEY) X(EVP_PKEY_free) X(EVP_PKEY_CTX_new) X(EVP_PKEY_CTX_free) \
  X(EVP_PKEY_verify_init) X(EVP_PKEY_verify) X(EVP_PKEY_get_octet_string_param) \
  X(EVP_PKEY_get_base_id) X(EVP_PKEY_get_bits) \
  X(BIO_new_mem_buf) X(BIO_free) X(PEM_read_bio_X509) X(PEM_read_bio_X509_CRL) \
  X(d2i_X509) X(i2d_X509) X(X509_free) X(X509_get0_pubkey) \
  X(X509_get_subject_name) X(X509_get_issuer_name) X(X509_NAME_oneline) \
  X(X509_get0_notBefore) X(X509_get0_notAfter) X(ASN1_TIME_to_tm) \
  X(X509_get_ext_by_OBJ) X(X509_get_ext) X(X509_EXTENSION_get_data) \
  X(ASN1_STRING_get0_data) X(ASN1_STRING_length) X(OBJ_txt2obj) X(ASN1_OBJECT_free) \
  X(X509_STORE_new) X(X509_STORE_free) X(X509_STORE_add_cert) X(X509_STORE_add_crl) \
  X(X509_STORE_set_flags) X(d2i_X509_CRL) X(X509_CRL_free) \
  X(X509_STORE_CTX_new) X(X509_STORE_CTX_free) X(X509_STORE_CTX_init) X(X509_STORE_CTX_set_time) \
  X(X509_STORE_CTX_get_error) X(X509_verify_cert) X(X509_verify_cert_error_string)

typedef struct vn_ssl_api {
#define VN_SSL_FIELD(name) __typeof__(&name) name;
  VN_SSL_FUNCS(VN_SSL_FIELD)
#undef VN_SSL_FIELD
} vn_ssl_api;

VN_HIDDEN extern vn_ssl_api vn_ssl;

/* Loads libcrypto once (the file named by $VENICE_LIBCRYPTO, else libcrypto.so.3); NULL when it is
 * ready, else a message saying what failed. */
VN_HIDDEN const char *vn_ssl_load(void);

/* vn_ssl_load, or a venice.Error saying why libcrypto cannot be used. */
VN_HIDDEN void vn_ssl_need(lua_State *L);

#ifndef VN_SSLAPI_IMPL
#  define OPENSSL_cleanse (vn_ssl.OPENSSL_cleanse)
#  define OPENSSL_sk_new_null (vn_ssl.OPENSSL_sk_new_null)
#  define OPENSSL_sk_push (vn_ssl.OPENSSL_sk_push)
#  define OPENSSL_sk_free (vn_ssl.OPENSSL_sk_free)
#  define ERR_clear_error (vn_ssl.ERR_clear_error)
#  define RAND_priv_bytes (vn_ssl.RAND_priv_bytes)
#  define RAND_bytes (vn_ssl.RAND_bytes)
#  define BN_new (vn_ssl.BN_new)
#  define BN_free (vn_ssl.BN_free)
#  define BN_clear_free (vn_ssl.BN_clear_free)
#  define BN_bin2bn (vn_ssl.BN_bin2bn)
#  define BN_bn2binpad (vn_ssl.BN_bn2binpad)
#  define BN_cmp (vn_ssl.BN_cmp)
#  define BN_is_zero (vn_ssl.BN_is_zero)
#  define BN_CTX_new (vn_ssl.BN_CTX_new)
#  define BN_CTX_free (vn_ssl.BN_CTX_free)
#  define BN_mod_inverse (vn_ssl.BN_mod_inverse)
#  define BN_mod_mul (vn_ssl.BN_mod_mul)
#  define BN_mod_sub (vn_ssl.BN_mod_sub)
#  define BN_nnmod (vn_ssl.BN_nnmod)
#  define BN_set_flags (vn_ssl.BN_set_flags)
#  define EC_GROUP_new_by_curve_name (vn_ssl.EC_GROUP_new_by_curve_name)
#  define EC_GROUP_free (vn_ssl.EC_GROUP_free)
#  define EC_GROUP_get0_order (vn_ssl.EC_GROUP_get0_order)
#  define EC_POINT_new (vn_ssl.EC_POINT_new)
#  define EC_POINT_free (vn_ssl.EC_POINT_free)
#  define EC_POINT_clear_free (vn_ssl.EC_POINT_clear_free)
#  define EC_POINT_mul (vn_ssl.EC_POINT_mul)
#  define EC_POINT_oct2point (vn_ssl.EC_POINT_oct2point)
#  define EC_POINT_point2oct (vn_ssl.EC_POINT_point2oct)
#  define EC_POINT_set_compressed_coordinates (vn_ssl.EC_POINT_set_compressed_coordinates)
#  define EC_POINT_is_at_infinity (vn_ssl.EC_POINT_is_at_infinity)
#  define EC_POINT_get_affine_coordinates (vn_ssl.EC_POINT_get_affine_coordinates)
#  define EVP_sha256 (vn_ssl.EVP_sha256)
#  define EVP_Digest (vn_ssl.EVP_Digest)
#  define HMAC (vn_ssl.HMAC)
#  define EVP_aes_256_gcm (vn_ssl.EVP_aes_256_gcm)
#  define EVP_CIPHER_CTX_new (vn_ssl.EVP_CIPHER_CTX_new)
#  define EVP_CIPHER_CTX_free (vn_ssl.EVP_CIPHER_CTX_free)
#  define EVP_CIPHER_CTX_ctrl (vn_ssl.EVP_CIPHER_CTX_ctrl)
#  define EVP_EncryptInit_ex (vn_ssl.EVP_EncryptInit_ex)
#  define EVP_EncryptUpdate (vn_ssl.EVP_EncryptUpdate)
#  define EVP_EncryptFinal_ex (vn_ssl.EVP_EncryptFinal_ex)
#  define EVP_DecryptInit_ex (vn_ssl.EVP_DecryptInit_ex)
#  define EVP_DecryptUpdate (vn_ssl.EVP_DecryptUpdate)
#  define EVP_DecryptFinal_ex (vn_ssl.EVP_DecryptFinal_ex)
#  define d2i_PUBKEY (vn_ssl.d2i_PUBKEY)
#  define EVP_PKEY_free (vn_ssl.EVP_PKEY_free)
#  define EVP_PKEY_CTX_new (vn_ssl.EVP_PKEY_CTX_new)
#  define EVP_PKEY_CTX_free (vn_ssl.EVP_PKEY_CTX_free)
#  define EVP_PKEY_verify_init (vn_ssl.EVP_PKEY_verify_init)
#  define EVP_PKEY_verify (vn_ssl.EVP_PKEY_verify)
#  define EVP_PKEY_get_octet_string_param (vn_ssl.EVP_PKEY_get_octet_string_param)
#  define EVP_PKEY_get_base_id (vn_ssl.EVP_PKEY_get_base_id)
#  define EVP_PKEY_get_bits (vn_ssl.EVP_PKEY_get_bits)
#  define BIO_new_mem_buf (vn_ssl.BIO_new_mem_buf)
#  define BIO_free (vn_ssl.BIO_free)
#  define PEM_read_bio_X509 (vn_ssl.PEM_read_bio_X509)
#  define PEM_read_bio_X509_CRL (vn_ssl.PEM_read_bio_X509_CRL)
#  define d2i_X509 (vn_ssl.d2i_X509)
#  define i2d_X509 (vn_ssl.i2d_X509)
#  define X509_free (vn_ssl.X509_free)
#  define X509_get0_pubkey (vn_ssl.X509_get0_pubkey)
#  define X509_get_subject_name (vn_ssl.X509_get_subject_name)
#  define X509_get_issuer_name (vn_ssl.X509_get_issuer_name)
#  define X509_NAME_oneline (vn_ssl.X509_NAME_oneline)
#  define X509_get0_notBefore (vn_ssl.X509_get0_notBefore)
#  define X509_get0_notAfter (vn_ssl.X509_get0_notAfter)
#  define ASN1_TIME_to_tm (vn_ssl.ASN1_TIME_to_tm)
#  define X509_get_ext_by_OBJ (vn_ssl.X509_get_ext_by_OBJ)
#  define X509_get_ext (vn_ssl.X509_get_ext)
#  define X509_EXTENSION_get_data (vn_ssl.X509_EXTENSION_get_data)
#  define ASN1_STRING_get0_data (vn_ssl.ASN1_STRING_get0_data)
#  define ASN1_STRING_length (vn_ssl.ASN1_STRING_length)
#  define OBJ_txt2obj (vn_ssl.OBJ_txt2obj)
#  define ASN1_OBJECT_free (vn_ssl.ASN1_OBJECT_free)
#  define X509_STORE_new (vn_ssl.X509_STORE_new)
#  define X509_STORE_free (vn_ssl.X509_STORE_free)
#  define X509_STORE_add_cert (vn_ssl.X509_STORE_add_cert)
#  define X509_STORE_add_crl (vn_ssl.X509_STORE_add_crl)
#  define X509_STORE_set_flags (vn_ssl.X509_STORE_set_flags)
#  define d2i_X509_CRL (vn_ssl.d2i_X509_CRL)
#  define X509_CRL_free (vn_ssl.X509_CRL_free)
#  define X509_STORE_CTX_new (vn_ssl.X509_STORE_CTX_new)
#  define X509_STORE_CTX_free (vn_ssl.X509_STORE_CTX_free)
#  define X509_STORE_CTX_init (vn_ssl.X509_STORE_CTX_init)
#  define X509_STORE_CTX_set_time (vn_ssl.X509_STORE_CTX_set_time)
#  define X509_STORE_CTX_get_error (vn_ssl.X509_STORE_CTX_get_error)
#  define X509_verify_cert (vn_ssl.X509_verify_cert)
#  define X509_verify_cert_error_string (vn_ssl.X509_verify_cert_error_string)
#endif

/* crypto.c, for tdx.c: an EVP_PKEY of a raw EC public key ("P-256" or "secp256k1"; 65 bytes with
 * 04 or 64 without), NULL when it is not a point of the curve; and 1 when sig (r || s) is that
 * key's ECDSA signature of digest. */
VN_HIDDEN EVP_PKEY *vn_ec_pubkey(const char *curve, const unsigned char *p, size_t len);
VN_HIDDEN int vn_ecdsa_verify(EVP_PKEY *pkey, const unsigned char *digest, size_t dlen, const unsigned char *sig);

#endif
