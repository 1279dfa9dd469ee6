/*
 * tls_trust.c: a listener's trust (its CA certificates and CRLs) as one
 * store that is swapped whole when a new CRL comes, while connections in
 * progress keep the store they started with (issue 15: a CRL is renewed
 * every few weeks, and a daemon must not need a restart for it).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sk.h"
#include "tls.h"

struct tls_trust {
	pthread_mutex_t lock;
	X509_STORE *store;		/* the one new connections get */
	STACK_OF(X509) *cas;		/* what a new CRL is checked against */
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
