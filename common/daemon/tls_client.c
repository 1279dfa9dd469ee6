/*
 * tls_client.c: the client side of TLS 1.3 (the vault's connections to the
 * receiver and the sender). No program that links this may listen.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sk.h"
#include "tls.h"

int
tls_client_new(const char *cert_file, const char *key_file,
    const char *ca_file, SSL_CTX **out, char *why, size_t whycap)
{
	int r;

	if ((r = tls_ctx_new(TLS_client_method(), cert_file, key_file, ca_file,
	    NULL, out, why, whycap)) != 0)
		return r;
	tls_verify_peers(*out, SSL_VERIFY_PEER);
	return 0;
}

int
tls_connect(SSL_CTX *ctx, int fd, const char *identity, SSL **out,
    char *why, size_t whycap)
{
	char peer[TLS_IDENTITY_MAX];
	SSL *ssl;
	long vr;

	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		tls_why_openssl(why, whycap, "SSL_new");
		SSL_free(ssl);
		return SK_ECRYPTO;
	}
	if (SSL_connect(ssl) != 1) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK)
			snprintf(why, whycap, "server certificate refused: %s",
			    X509_verify_cert_error_string(vr));
		else
			tls_why_openssl(why, whycap, "handshake failed");
		ERR_clear_error();
		SSL_free(ssl);
		return SK_EAUTH;
	}
	/* Trusted is not enough: it must be the host we meant. */
	if (tls_peer_identity(ssl, peer, sizeof(peer)) != 0 ||
	    strcmp(peer, identity) != 0) {
		snprintf(why, whycap, "the server is not %s", identity);
		tls_close(ssl);
		return SK_EAUTH;
	}
	*out = ssl;
	return 0;
}
