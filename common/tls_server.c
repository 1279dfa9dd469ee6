/*
 * tls_server.c: the server side of TLS 1.3 (the receiver's and the
 * sender's listeners). No program that links this may open connections.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sk.h"
#include "tls.h"

int
tls_server_new(const char *cert_file, const char *key_file,
    const char *ca_file, const char *crl_file, SSL_CTX **out, char *why,
    size_t whycap)
{
	STACK_OF(X509_NAME) *names;
	int r;

	if ((r = tls_ctx_new(TLS_server_method(), cert_file, key_file, ca_file,
	    crl_file, out, why, whycap)) != 0)
		return r;
	/* Tell clients which CA we accept, so they pick the right cert. */
	if ((names = SSL_load_client_CA_file(ca_file)) != NULL)
		SSL_CTX_set_client_CA_list(*out, names);
	SSL_CTX_set_verify(*out, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE, NULL);
	return 0;
}

int
tls_accept(SSL_CTX *ctx, int fd, SSL **out, char *why, size_t whycap)
{
	SSL *ssl;
	long vr;

	if ((ssl = SSL_new(ctx)) == NULL) {
		tls_why_openssl(why, whycap, "SSL_new");
		return SK_ECRYPTO;
	}
	if (SSL_set_fd(ssl, fd) != 1) {
		tls_why_openssl(why, whycap, "SSL_set_fd");
		SSL_free(ssl);
		return SK_ECRYPTO;
	}
	if (SSL_accept(ssl) != 1) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK)
			snprintf(why, whycap, "certificate refused: %s",
			    X509_verify_cert_error_string(vr));
		else
			tls_why_openssl(why, whycap, "handshake failed");
		ERR_clear_error();
		SSL_free(ssl);
		return SK_EAUTH;
	}
	*out = ssl;
	return 0;
}
