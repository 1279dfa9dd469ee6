/*
 * envelope.h: CMS (RFC 5652) at the vault. An upload of a dataset with
 * envelope = true is an enveloped message to the vault's envelope
 * certificate (openssl cms -encrypt -aes-256-gcm -recip vault-envelope.crt,
 * DER or S/MIME; a pair apart from the TLS pair), and
 * with signed = true it holds a message signed by the municipality. A
 * release for a recipient with envelope = true is sealed to its
 * certificate. Everything is in memory: uploads of such datasets are
 * bounded by the dataset's max_bytes.
 */
#ifndef VAULT_ENVELOPE_H
#define VAULT_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Decrypts in with the vault's key (and its certificate, which picks the
 * recipient info). With muni_store (from envelope_muni_store) the content
 * must be signed by a certificate that chains to it and names
 * muni_identity. On success *out (malloc'd, the caller wipes and frees)
 * holds the plaintext.
 */
int envelope_open(const uint8_t *in, size_t len, X509 *cert, EVP_PKEY *key,
    X509_STORE *muni_store, const char *muni_identity, uint8_t **out,
    size_t *outlen, char *why, size_t whycap);

/* Seals in to every certificate (AES-256-GCM, DER). */
int envelope_seal(const uint8_t *in, size_t len, X509 *const *certs,
    size_t ncerts, uint8_t **out, size_t *outlen, char *why, size_t whycap);

/* The municipalities' CA, and its CRL when crl_file is not empty, as a
 * store for checking their signatures (any certificate purpose: theirs are
 * TLS client certificates). NULL if either cannot be loaded. */
X509_STORE *envelope_muni_store(const char *ca_file, const char *crl_file);

/* The same from the files' bytes (the engine reads no file): PEM
 * certificates in ca, PEM CRLs in crl (crllen 0: none). */
X509_STORE *envelope_muni_store_pem(const uint8_t *ca, size_t calen,
    const uint8_t *crl, size_t crllen);

/* A PEM certificate and its PEM private key, which must match. */
int envelope_pair_pem(const uint8_t *cert, size_t certlen, const uint8_t *key,
    size_t keylen, X509 **x, EVP_PKEY **k);

/*
 * Signs len bytes of msg with cert and key (CMS SignedData, DER, binary):
 * detached (a manifest: the signature alone) or with the content inside
 * (a report the reader opens with `openssl cms -verify`). *out is
 * malloc'd, the caller's.
 */
int envelope_sign(const void *msg, size_t len, X509 *cert, EVP_PKEY *key,
    int detached, uint8_t **out, size_t *outlen);

/* Reads a PEM certificate; NULL with the reason in why. */
X509 *envelope_read_cert(const char *path, char *why, size_t whycap);

#endif
