/*
 * tls.h: mutually authenticated TLS 1.3 for every Sekisho link.
 *
 * A server context accepts TLS 1.3 only, demands a client certificate and
 * refuses a missing or untrusted one in the handshake, checks the CRL when
 * one is configured (and refuses to start when it cannot be read), and
 * never issues session tickets or resumes a session.
 *
 * tls.c has what both ends share; tls_server.c the server side (listeners),
 * tls_client.c the client side (the vault): each program links only the
 * side it plays, which `nm` shows (make test checks it).
 */
#ifndef SK_TLS_H
#define SK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define TLS_IDENTITY_MAX 256
#define TLS_IDENTITY_PREFIX "urn:sekisho:"

/*
 * Builds a server context from the host's certificate chain and key, the CA
 * whose certificates are accepted from peers, and an optional CRL (NULL or
 * ""). The key file must be owned by us and unreadable to group and others.
 * On failure why says what went wrong.
 */
/* The municipalities' listener with tls12 = true: TLS 1.2 too, with
 * ECDHE and AEAD ciphers only (issue 18). */
int tls_server_allow_tls12(SSL_CTX *ctx, char *why, size_t whycap);

int tls_server_new(const char *cert_file, const char *key_file,
    const char *ca_file, const char *crl_file, SSL_CTX **out, char *why,
    size_t whycap);

/*
 * A server context's trust (its CA certificates, and the CRLs, which are
 * replaced whole): new connections get the current store, those in
 * progress keep theirs. tls_trust_set_crl swaps in the CRLs in pem only if
 * every one is signed by one of the CAs and not past its next update; else
 * the old ones stay and why says why.
 */
struct tls_trust;
int tls_trust_new(SSL_CTX *ctx, struct tls_trust **out);
int tls_trust_set_crl(struct tls_trust *t, const char *pem, size_t len,
    char *why, size_t whycap);
X509_STORE *tls_trust_get(struct tls_trust *t);	/* the caller frees */

/*
 * A host's own certificate and key, renewed in place (issue 15): read from
 * PEM, the first certificate ours and the rest its chain. tls_cred_parse
 * refuses a key that does not match, a certificate not in date now, one
 * that does not chain to one of cas (when cas is not NULL), and one that
 * does not name identity (when identity is not NULL): a renewal keeps the
 * host's name. tls_trust_set_cred makes new handshakes use it (it takes
 * its own references); those in progress keep theirs.
 */
struct tls_cred;
int tls_cred_parse(const char *cert_pem, size_t cert_len, const char *key_pem,
    size_t key_len, STACK_OF(X509) *cas, const char *identity,
    struct tls_cred **out, char *why, size_t whycap);
void tls_cred_free(struct tls_cred *c);
/* "serial=HEX not_after=ISO-8601" and the SHA-256 of the certificate's DER
 * (its fingerprint) in hex, for the log and the audit entry. */
void tls_cred_describe(const struct tls_cred *c, char *desc, size_t desccap,
    char sha[65]);
int tls_trust_set_cred(struct tls_trust *t, const struct tls_cred *c);
/* A client context (the push process's) uses the pair from now on. */
int tls_ctx_set_cred(SSL_CTX *ctx, const struct tls_cred *c);
/* A client context's CRLs from PEM, checked against the CAs it trusts
 * (signed by one, not past its next update), for the connections made
 * after; the CRLs in use stay on an error (why says it). */
int tls_ctx_set_crl(SSL_CTX *ctx, const char *pem, size_t len, char *why,
    size_t whycap);
/* When the pair's certificate ends, in seconds since the epoch. */
int64_t tls_cred_not_after(const struct tls_cred *c);
/* For tls_accept: a new session gets the trust's store and pair. */
int tls_trust_apply(struct tls_trust *t, SSL *ssl);

/* The PEM certificates of a file; NULL with *err SK_ESYS (errno: it cannot
 * be opened), SK_EFORMAT (none in it) or SK_ENOMEM. */
STACK_OF(X509) *tls_read_certs(const char *file, int *err);

/* An ASN.1 time in seconds since the epoch; 0 if it cannot be read. */
int64_t tls_time_epoch(const ASN1_TIME *t);
/* The earliest next update of the CRLs (0: none says one). */
int64_t tls_crls_next_update(STACK_OF(X509_CRL) *crls);

/* The check tls_trust_set_crl makes, for whoever reads a CRL first. */
int tls_crl_validate(STACK_OF(X509) *cas, const char *pem, size_t len,
    STACK_OF(X509_CRL) **out, char *why, size_t whycap);

/* A client context: our certificate and key; servers must chain to ca_file. */
int tls_client_new(const char *cert_file, const char *key_file,
    const char *ca_file, SSL_CTX **out, char *why, size_t whycap);

/* Runs the client handshake on a connected socket and checks that the
 * server's certificate names identity. */
int tls_connect(SSL_CTX *ctx, int fd, const char *identity, SSL **out,
    char *why, size_t whycap);

/*
 * Runs the server handshake on a connected socket, all of it before
 * deadline_ms (util_now_ms() time; a peer that drips bytes does not extend
 * it). Returns 0 with the session, or SK_EAUTH with a short reason in why
 * (untrusted, missing certificate, wrong version, not in time, ...). With
 * a trust, the peer is verified against its current store and the
 * handshake uses its current certificate and key, if one was set.
 */
int tls_accept(SSL_CTX *ctx, struct tls_trust *trust, int fd,
    uint64_t deadline_ms, SSL **out, char *why, size_t whycap);

/*
 * The peer's identity from its verified certificate: its one SAN URI that
 * starts with "urn:sekisho:" (what our CAs issue). No such URI, two of them,
 * or one with a control character or a space: SK_ENOTFOUND. The subject CN
 * is never an identity.
 */
int tls_peer_identity(SSL *ssl, char *out, size_t outcap);

/* The same rule for any certificate (a CMS signer's, say). */
int tls_cert_identity(X509 *cert, char *out, size_t outcap);

/* SSL_CTX_set_verify with the identity rule in the handshake: a peer whose
 * certificate names no identity of ours fails it. */
void tls_verify_peers(SSL_CTX *ctx, int mode);

/*
 * Reads up to cap bytes. Returns 0 with *got > 0, or *got == 0 at a clean
 * end of stream; SK_ETRUNCATED when the peer vanished without close_notify;
 * SK_ESYS on a timeout or socket error.
 */
int tls_read(SSL *ssl, void *buf, size_t cap, size_t *got);

/* Writes all of buf. Returns 0 or SK_ESYS. */
int tls_write_all(SSL *ssl, const void *buf, size_t len);

/* Sends close_notify (best effort) and frees the session. */
void tls_close(SSL *ssl);

/* For tls_server.c and tls_client.c: a TLS 1.3-only context of method with
 * our certificate and key, trusting ca_file (and checking crl_file if not
 * NULL or "") for the peer's certificate; and OpenSSL's last error as why. */
int tls_ctx_new(const SSL_METHOD *method, const char *cert_file,
    const char *key_file, const char *ca_file, const char *crl_file,
    SSL_CTX **out, char *why, size_t whycap);
void tls_why_openssl(char *why, size_t whycap, const char *what);

#endif
