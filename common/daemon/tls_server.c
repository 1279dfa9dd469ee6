/*
 * tls_server.c: the server side of TLS 1.3 (the receiver's and the
 * sender's listeners). No program that links this may open connections.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sk.h"
#include "tls.h"
#include "util.h"

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
	tls_verify_peers(*out, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE);
	return 0;
}

int
tls_server_allow_tls12(SSL_CTX *ctx, char *why, size_t whycap)
{
	/* Forward secrecy and AEAD only; no renegotiation (set for all). */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES256-GCM-SHA384:"
	    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
	    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
	    "ECDHE-RSA-CHACHA20-POLY1305") != 1) {
		tls_why_openssl(why, whycap, "cannot allow TLS 1.2");
		return SK_ECRYPTO;
	}
	return 0;
}

/* Waits until fd is ready for what OpenSSL wants, or the deadline. */
static int
wait_for(SSL *ssl, int fd, int ret, uint64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd };
	uint64_t now;
	int e = SSL_get_error(ssl, ret);

	if (e == SSL_ERROR_WANT_READ)
		pfd.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		pfd.events = POLLOUT;
	else
		return -1;
	if ((now = util_now_ms()) >= deadline_ms)
		return -1;
	return poll(&pfd, 1, (int)(deadline_ms - now)) == 1 ? 0 : -1;
}

int
tls_accept(SSL_CTX *ctx, struct tls_trust *trust, int fd,
    uint64_t deadline_ms, SSL **out, char *why, size_t whycap)
{
	SSL *ssl;
	long vr;
	int flags, r;

	if ((ssl = SSL_new(ctx)) == NULL ||
	    (trust != NULL && tls_trust_apply(trust, ssl) != 0)) {
		tls_why_openssl(why, whycap, "SSL_new");
		SSL_free(ssl);
		return SK_ECRYPTO;
	}
	if (SSL_set_fd(ssl, fd) != 1 ||
	    (flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		tls_why_openssl(why, whycap, "SSL_set_fd");
		SSL_free(ssl);
		return SK_ECRYPTO;
	}
	/* Non-blocking, so that one deadline bounds the whole handshake: a
	 * peer that sends a byte now and then must not keep its slot. */
	while ((r = SSL_accept(ssl)) != 1)
		if (wait_for(ssl, fd, r, deadline_ms) != 0)
			break;
	if (fcntl(fd, F_SETFL, flags) == -1)
		r = -1;
	if (r != 1) {
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK)
			snprintf(why, whycap, "certificate refused: %s",
			    X509_verify_cert_error_string(vr));
		else if (util_now_ms() >= deadline_ms)
			snprintf(why, whycap, "handshake not finished in time");
		else
			tls_why_openssl(why, whycap, "handshake failed");
		ERR_clear_error();
		SSL_free(ssl);
		return SK_EAUTH;
	}
	*out = ssl;
	return 0;
}
