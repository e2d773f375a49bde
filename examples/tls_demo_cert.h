/*
 * examples/tls_demo_cert.h - a throwaway certificate for the TLS examples'
 * demo mode, made in memory with OpenSSL (no files, no network): an EC
 * P-256 key and a self-signed certificate for "localhost" valid for a day,
 * installed in a server context, and trusted by a client context.  Real
 * programs load theirs with aio_tls_ctx_load_cert and aio_tls_ctx_trust.
 */
#ifndef TLS_DEMO_CERT_H
#define TLS_DEMO_CERT_H

#include "aio_tls.h"
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

/* Returns 0, or -1 when OpenSSL failed. */
static int demo_cert(aio_tls_ctx *server, aio_tls_ctx *client)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    X509 *x = X509_new();
    X509_EXTENSION *san;
    X509V3_CTX v3;
    int ok = kc && x && EVP_PKEY_keygen_init(kc) > 0 &&
             EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) > 0 && EVP_PKEY_keygen(kc, &key) > 0;
    if (ok) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                   -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_set_pubkey(x, key);
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
        ok = san && X509_add_ext(x, san, -1) && X509_sign(x, key, EVP_sha256()) > 0 &&
             SSL_CTX_use_certificate(server->ctx, x) == 1 && SSL_CTX_use_PrivateKey(server->ctx, key) == 1 &&
             X509_STORE_add_cert(SSL_CTX_get_cert_store(client->ctx), x) == 1;
        X509_EXTENSION_free(san);
    }
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(kc);
    return ok ? 0 : -1;
}

#endif
