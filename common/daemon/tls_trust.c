/*
 * tls_trust.c: a listener's trust (its CA certificates and CRLs) as one
 * store that is swapped whole when a new CRL comes, while connections in
 * progress keep the store they started with (issue 15: a CRL is renewed
 * every few weeks, and a daemon must not need a restart for it).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include "sk.h"
#include "tls.h"
#include "util.h"

struct tls_cred {
	X509 *cert;
	STACK_OF(X509) *chain;		/* the certificates after ours */
	EVP_PKEY *key;
};

struct tls_trust {
	pthread_mutex_t lock;
	X509_STORE *store;		/* the one new connections get */
	STACK_OF(X509) *cas;		/* what a new CRL is checked against */
	struct tls_cred *cred;		/* a renewed pair, or NULL: the ctx's */
};

STACK_OF(X509) *
tls_read_certs(const char *file, int *err)
{
	STACK_OF(X509) *v;
	X509 *x;
	FILE *fp;

	*err = 0;
	if ((fp = fopen(file, "re")) == NULL) {
		*err = SK_ESYS;
		return NULL;
	}
	if ((v = sk_X509_new_null()) == NULL) {
		fclose(fp);
		*err = SK_ENOMEM;
		return NULL;
	}
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(v, x))
			X509_free(x);
	fclose(fp);
	ERR_clear_error();
	if (sk_X509_num(v) == 0) {
		sk_X509_free(v);
		*err = SK_EFORMAT;
		return NULL;
	}
	return v;
}

int
tls_crl_validate(STACK_OF(X509) *cas, const char *pem, size_t len,
    STACK_OF(X509_CRL) **out, char *why, size_t whycap)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	const ASN1_TIME *next;
	EVP_PKEY *pub;
	X509_CRL *crl;
	BIO *bio;
	int i, ok;

	if (crls == NULL || len > INT32_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		sk_X509_CRL_free(crls);
		snprintf(why, whycap, "out of memory");
		return SK_ENOMEM;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		for (ok = 0, i = 0; !ok && i < sk_X509_num(cas); i++) {
			X509 *ca = sk_X509_value(cas, i);

			ok = X509_NAME_cmp(X509_get_subject_name(ca),
			    X509_CRL_get_issuer(crl)) == 0 &&
			    (pub = X509_get0_pubkey(ca)) != NULL &&
			    X509_CRL_verify(crl, pub) == 1;
		}
		next = X509_CRL_get0_nextUpdate(crl);
		if (!ok || next == NULL || X509_cmp_current_time(next) < 0 ||
		    !sk_X509_CRL_push(crls, crl)) {
			snprintf(why, whycap, !ok ? "a CRL not signed by the "
			    "configured CA" : "a CRL past its next update");
			X509_CRL_free(crl);
			sk_X509_CRL_pop_free(crls, X509_CRL_free);
			BIO_free(bio);
			ERR_clear_error();
			return SK_EAUTH;
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (sk_X509_CRL_num(crls) == 0) {
		sk_X509_CRL_free(crls);
		snprintf(why, whycap, "no PEM CRL in it");
		return SK_EFORMAT;
	}
	*out = crls;
	return 0;
}

int
tls_trust_new(SSL_CTX *ctx, struct tls_trust **out)
{
	STACK_OF(X509_OBJECT) *objs;
	struct tls_trust *t;
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509 *x;
	int i;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->cas = sk_X509_new_null()) == NULL) {
		free(t);
		return SK_ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	objs = X509_STORE_get0_objects(st);
	for (i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if ((x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs,
		    i))) != NULL && X509_up_ref(x) == 1 &&
		    !sk_X509_push(t->cas, x))
			X509_free(x);
	X509_STORE_up_ref(st);
	t->store = st;
	*out = t;
	return 0;
}

int
tls_trust_set_crl(struct tls_trust *t, const char *pem, size_t len,
    char *why, size_t whycap)
{
	STACK_OF(X509_CRL) *crls = NULL;
	X509_STORE *st, *old;
	int i, r;

	if ((r = tls_crl_validate(t->cas, pem, len, &crls, why, whycap)) != 0)
		return r;
	if ((st = X509_STORE_new()) == NULL) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		snprintf(why, whycap, "out of memory");
		return SK_ENOMEM;
	}
	for (i = 0; i < sk_X509_num(t->cas); i++)
		X509_STORE_add_cert(st, sk_X509_value(t->cas, i));
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		X509_STORE_add_crl(st, sk_X509_CRL_value(crls, i));
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	/* Every certificate in the chain is checked: fail closed. */
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	X509_STORE_set_depth(st, 4);
	pthread_mutex_lock(&t->lock);
	old = t->store;
	t->store = st;
	pthread_mutex_unlock(&t->lock);
	X509_STORE_free(old);
	return 0;
}

X509_STORE *
tls_trust_get(struct tls_trust *t)
{
	X509_STORE *st;

	pthread_mutex_lock(&t->lock);
	st = t->store;
	X509_STORE_up_ref(st);
	pthread_mutex_unlock(&t->lock);
	return st;
}

/* ---- a renewed certificate and key ---- */

void
tls_cred_free(struct tls_cred *c)
{
	if (c == NULL)
		return;
	X509_free(c->cert);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);	/* OpenSSL clears a private key it frees */
	free(c);
}

/* Does cert chain to one of cas, through chain? */
static int
cred_chains(X509 *cert, STACK_OF(X509) *chain, STACK_OF(X509) *cas)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE *st = X509_STORE_new();
	int i, ok = 0;

	if (ctx != NULL && st != NULL) {
		for (i = 0; i < sk_X509_num(cas); i++)
			X509_STORE_add_cert(st, sk_X509_value(cas, i));
		ok = X509_STORE_CTX_init(ctx, st, cert, chain) == 1 &&
		    X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

static const char *
cred_check(struct tls_cred *c, STACK_OF(X509) *cas, const char *identity)
{
	char id[TLS_IDENTITY_MAX];

	if (X509_check_private_key(c->cert, c->key) != 1)
		return "the key does not match the certificate";
	if (X509_cmp_current_time(X509_get0_notBefore(c->cert)) > 0)
		return "the certificate is not valid yet";
	if (X509_cmp_current_time(X509_get0_notAfter(c->cert)) < 0)
		return "the certificate has expired";
	if (cas != NULL && !cred_chains(c->cert, c->chain, cas))
		return "the certificate is not issued by the internal CA";
	if (identity != NULL && (tls_cert_identity(c->cert, id,
	    sizeof(id)) != 0 || strcmp(id, identity) != 0))
		return "the certificate names another host than the one in use";
	return NULL;
}

int
tls_cred_parse(const char *cert_pem, size_t cert_len, const char *key_pem,
    size_t key_len, STACK_OF(X509) *cas, const char *identity,
    struct tls_cred **out, char *why, size_t whycap)
{
	struct tls_cred *c;
	const char *bad;
	BIO *bio;
	X509 *x;

	if (cert_len > INT32_MAX || key_len > INT32_MAX) {
		snprintf(why, whycap, "too big");
		return SK_ETOOBIG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->chain = sk_X509_new_null()) == NULL) {
		free(c);
		snprintf(why, whycap, "out of memory");
		return SK_ENOMEM;
	}
	if ((bio = BIO_new_mem_buf(cert_pem, (int)cert_len)) != NULL) {
		c->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		while (c->cert != NULL &&
		    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(c->chain, x))
				X509_free(x);
		BIO_free(bio);
	}
	if ((bio = BIO_new_mem_buf(key_pem, (int)key_len)) != NULL) {
		c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	bad = c->cert == NULL ? "no PEM certificate in the certificate file" :
	    c->key == NULL ? "no PEM private key (without a passphrase) in the "
	    "key file" : cred_check(c, cas, identity);
	ERR_clear_error();
	if (bad != NULL) {
		snprintf(why, whycap, "%s", bad);
		tls_cred_free(c);
		return SK_EAUTH;
	}
	*out = c;
	return 0;
}

void
tls_cred_describe(const struct tls_cred *c, char *desc, size_t desccap,
    char sha[65])
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(c->cert);
	struct tm tm = { 0 };
	uint8_t md[32];
	unsigned mdlen = sizeof(md);
	char serial[80] = "?", when[32] = "?";
	BIGNUM *bn;
	char *hex;

	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(serial, sizeof(serial), "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(c->cert), &tm) == 1)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(desc, desccap, "serial=%s not_after=%s", serial, when);
	if (X509_digest(c->cert, EVP_sha256(), md, &mdlen) == 1 &&
	    mdlen == sizeof(md))
		sk_hex(md, sizeof(md), sha);
	else
		snprintf(sha, 65, "%s", "");
	ERR_clear_error();
}

int64_t
tls_time_epoch(const ASN1_TIME *t)
{
	int days = 0, secs = 0;

	if (t == NULL || ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
		return 0;
	return (int64_t)time(NULL) + (int64_t)days * 86400 + secs;
}

int64_t
tls_crls_next_update(STACK_OF(X509_CRL) *crls)
{
	int64_t end = 0, t;
	int i;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		t = tls_time_epoch(X509_CRL_get0_nextUpdate(
		    sk_X509_CRL_value(crls, i)));
		if (t != 0 && (end == 0 || t < end))
			end = t;
	}
	return end;
}

int64_t
tls_cred_not_after(const struct tls_cred *c)
{
	return tls_time_epoch(X509_get0_notAfter(c->cert));
}

int
tls_trust_set_cred(struct tls_trust *t, const struct tls_cred *c)
{
	struct tls_cred *mine, *old;

	if ((mine = calloc(1, sizeof(*mine))) == NULL)
		return SK_ENOMEM;
	if ((mine->chain = X509_chain_up_ref(c->chain)) == NULL) {
		free(mine);
		return SK_ENOMEM;
	}
	X509_up_ref(c->cert);
	mine->cert = c->cert;
	EVP_PKEY_up_ref(c->key);
	mine->key = c->key;
	pthread_mutex_lock(&t->lock);
	old = t->cred;
	t->cred = mine;
	pthread_mutex_unlock(&t->lock);
	tls_cred_free(old);
	return 0;
}

int
tls_ctx_set_cred(SSL_CTX *ctx, const struct tls_cred *c)
{
	return SSL_CTX_use_cert_and_key(ctx, c->cert, c->key, c->chain, 1) ==
	    1 ? 0 : SK_ECRYPTO;
}

int
tls_ctx_set_crl(SSL_CTX *ctx, const char *pem, size_t len, char *why,
    size_t whycap)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas;
	X509_STORE *st;
	int i, r;

	if ((cas = X509_STORE_get1_all_certs(SSL_CTX_get_cert_store(ctx))) ==
	    NULL) {
		snprintf(why, whycap, "out of memory");
		return SK_ENOMEM;
	}
	if ((r = tls_crl_validate(cas, pem, len, &crls, why, whycap)) != 0) {
		sk_X509_pop_free(cas, X509_free);
		return r;
	}
	if ((st = X509_STORE_new()) == NULL) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		sk_X509_pop_free(cas, X509_free);
		snprintf(why, whycap, "out of memory");
		return SK_ENOMEM;
	}
	for (i = 0; i < sk_X509_num(cas); i++)
		X509_STORE_add_cert(st, sk_X509_value(cas, i));
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		X509_STORE_add_crl(st, sk_X509_CRL_value(crls, i));
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(cas, X509_free);
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	SSL_CTX_set_cert_store(ctx, st);	/* frees the one in use */
	return 0;
}

int
tls_trust_apply(struct tls_trust *t, SSL *ssl)
{
	X509_STORE *vs = tls_trust_get(t);
	int ok;

	ok = SSL_set1_verify_cert_store(ssl, vs) == 1;
	X509_STORE_free(vs);
	pthread_mutex_lock(&t->lock);
	if (ok && t->cred != NULL)
		ok = SSL_use_cert_and_key(ssl, t->cred->cert, t->cred->key,
		    t->cred->chain, 1) == 1;
	pthread_mutex_unlock(&t->lock);
	return ok ? 0 : SK_ECRYPTO;
}
