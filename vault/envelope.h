/*
 * envelope.h: CMS (RFC 5652) at the vault. An upload of a dataset with
 * envelope = true is an enveloped message to the vault's certificate
 * (openssl cms -encrypt -aes-256-gcm -recip vault.crt, DER or S/MIME), and
 * with signed = true it holds a message signed by the municipality. A
 * release for a recipient with envelope = true is sealed to its
 * certificate. Everything is in memory: uploads of such datasets are
 * bounded by the dataset's max_bytes.
 */
#ifndef VAULT_ENVELOPE_H
#define VAULT_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decrypts in with the vault's key; with want_signed, the content must be
 * signed by a certificate of muni_ca_file (not revoked in muni_crl_file,
 * when that is not empty) that names muni_identity. On
 * success *out (malloc'd, the caller wipes and frees) holds the plaintext.
 */
int envelope_open(const uint8_t *in, size_t len, const char *cert_file,
    const char *key_file, int want_signed, const char *muni_ca_file,
    const char *muni_crl_file, const char *muni_identity, uint8_t **out, size_t *outlen, char *why,
    size_t whycap);

/* Seals in to every certificate file (AES-256-GCM, DER). */
int envelope_seal(const uint8_t *in, size_t len, const char *const *certs,
    size_t ncerts, uint8_t **out, size_t *outlen, char *why, size_t whycap);

#endif
