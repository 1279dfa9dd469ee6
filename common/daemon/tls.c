/*
 * tls.c: OpenSSL set-up for Sekisho's TLS 1.3 mutual authentication: what
 * both ends share. The server's handshake is in tls_server.c, the client's
 * in tls_client.c, so that a program links only the side it plays (the
 * receiver and the sender have no SSL_connect, the vault no SSL_accept).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sk.h"
#include "tls.h"
#include "util.h"

void
tls_why_openssl(char *why, size_t whycap, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, whycap, "%s: %s", what, e != 0 ? buf : "unknown error");
	ERR_clear_error();
}

static int
load_private_key(SSL_CTX *ctx, const char *key_file, char *why, size_t whycap)
{
	EVP_PKEY *pkey = NULL;
	FILE *fp;
	int fd, r;

	if ((r = util_open_secret(key_file, &fd)) != 0) {
		snprintf(why, whycap, "key %s: %s", key_file, r == SK_EPERM ?
		    "readable by group or others, or not ours (chmod 600)" :
		    strerror(errno));
		return r;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(why, whycap, "key %s: %s", key_file, strerror(errno));
		return SK_ESYS;
	}
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pkey == NULL) {
		tls_why_openssl(why, whycap, "cannot read private key");
		return SK_ECRYPTO;
	}
	r = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1 ? 0 : SK_ECRYPTO;
	EVP_PKEY_free(pkey);
	if (r != 0)
		tls_why_openssl(why, whycap, "key does not match the certificate");
	return r;
}

static int
load_crl(SSL_CTX *ctx, const char *crl_file, char *why, size_t whycap)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup;

	lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
	if (lookup == NULL ||
	    X509_load_crl_file(lookup, crl_file, X509_FILETYPE_PEM) < 1) {
		tls_why_openssl(why, whycap, "cannot load CRL");
		return SK_ECRYPTO;
	}
	/* Every certificate in the chain must be checked: fail closed. */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

int
tls_ctx_new(const SSL_METHOD *method, const char *cert_file,
    const char *key_file, const char *ca_file, const char *crl_file,
    SSL_CTX **out, char *why, size_t whycap)
{
	SSL_CTX *ctx;
	int r = SK_ECRYPTO;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_why_openssl(why, whycap, "SSL_CTX_new");
		return SK_ECRYPTO;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		tls_why_openssl(why, whycap, "cannot restrict to TLS 1.3");
		goto out;
	}
	/* Elliptic curves only: a finite-field group (ffdhe8192) would let a
	 * replayed ClientHello cost the server hundreds of times the
	 * client's CPU. */
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		tls_why_openssl(why, whycap, "cannot restrict the key exchange "
		    "groups");
		goto out;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* A connection between records holds no record buffers: with every
	 * city's upload open at once, that is 1,741 x 2 x 17 KiB less. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		tls_why_openssl(why, whycap, "cannot load certificate");
		goto out;
	}
	if ((r = load_private_key(ctx, key_file, why, whycap)) != 0)
		goto out;
	r = SK_ECRYPTO;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		tls_why_openssl(why, whycap, "cannot load CA");
		goto out;
	}
	if (crl_file != NULL && crl_file[0] != '\0' &&
	    (r = load_crl(ctx, crl_file, why, whycap)) != 0)
		goto out;
	SSL_CTX_set_verify_depth(ctx, 4);
	*out = ctx;
	return 0;
out:
	SSL_CTX_free(ctx);
	return r;
}

static int
identity_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return len > 0;
}

int
tls_cert_identity(X509 *cert, char *out, size_t outcap)
{
	GENERAL_NAMES *names;
	int i, len, found = 0, bad = 0;

	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const char *uri;

		if (gn->type != GEN_URI)
			continue;
		uri = (const char *)ASN1_STRING_get0_data(
		    gn->d.uniformResourceIdentifier);
		len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		if (len <= 0 || strncmp(uri, TLS_IDENTITY_PREFIX,
		    strlen(TLS_IDENTITY_PREFIX)) != 0)
			continue;
		/* Two of ours in one certificate: which would it be? */
		if (found++ > 0)
			break;
		if ((size_t)len >= outcap || !identity_ok(uri, (size_t)len)) {
			bad = 1;
			break;
		}
		memcpy(out, uri, (size_t)len);
		out[len] = '\0';
	}
	GENERAL_NAMES_free(names);
	return found == 1 && !bad ? 0 : SK_ENOTFOUND;
}

/* The handshake's own check of the peer's certificate (depth 0): it must
 * name exactly one identity of ours, else the handshake fails. */
static int
verify_identity(int preverify_ok, X509_STORE_CTX *x)
{
	char identity[TLS_IDENTITY_MAX];

	if (!preverify_ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return preverify_ok;
	if (tls_cert_identity(X509_STORE_CTX_get_current_cert(x), identity,
	    sizeof(identity)) == 0)
		return 1;
	X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

void
tls_verify_peers(SSL_CTX *ctx, int mode)
{
	SSL_CTX_set_verify(ctx, mode, verify_identity);
}

int
tls_peer_identity(SSL *ssl, char *out, size_t outcap)
{
	X509 *cert;

	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return SK_ENOTFOUND;
	return tls_cert_identity(cert, out, outcap);
}

int
tls_read(SSL *ssl, void *buf, size_t cap, size_t *got)
{
	size_t n = 0;
	int e, eof;

	if (cap == 0) {
		*got = 0;
		return 0;
	}
	errno = 0;
	if (SSL_read_ex(ssl, buf, cap, &n) == 1) {
		*got = n;
		return 0;
	}
	e = SSL_get_error(ssl, 0);
	eof = (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
	    (e == SSL_ERROR_SYSCALL && errno == 0);
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN) {
		*got = 0;
		return 0;
	}
	return eof ? SK_ETRUNCATED : SK_ESYS;
}

int
tls_write_all(SSL *ssl, const void *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		if (SSL_write_ex(ssl, buf, len, &n) != 1) {
			ERR_clear_error();
			return SK_ESYS;
		}
		buf = (const uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

void
tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	SSL_shutdown(ssl);
	ERR_clear_error();
	SSL_free(ssl);
}
