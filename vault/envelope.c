/*
 * envelope.c: CMS open and seal for the vault (see envelope.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "envelope.h"
#include "sk.h"
#include "tls.h"

static void
why_ssl(char *why, size_t whycap, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[200];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, whycap, "%s%s%s", what, e ? ": " : "", e ? buf : "");
	ERR_clear_error();
}

/* DER first, then S/MIME (what openssl cms writes by default). */
static CMS_ContentInfo *
read_cms(const uint8_t *in, size_t len)
{
	BIO *b = BIO_new_mem_buf(in, (int)len);
	CMS_ContentInfo *cms;

	if (b == NULL)
		return NULL;
	cms = d2i_CMS_bio(b, NULL);
	if (cms == NULL) {
		ERR_clear_error();
		BIO_free(b);
		if ((b = BIO_new_mem_buf(in, (int)len)) == NULL)
			return NULL;
		cms = SMIME_read_CMS(b, NULL);
	}
	BIO_free(b);
	return cms;
}

/* Copies a memory BIO's bytes out (malloc'd). */
static int
take(BIO *b, uint8_t **out, size_t *outlen)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0 || (*out = malloc((size_t)n + 1)) == NULL)
		return SK_ENOMEM;
	memcpy(*out, p, (size_t)n);
	*outlen = (size_t)n;
	return 0;
}

/* The municipalities' CA, and its CRL when the site names one. Their
 * certificates are TLS client certificates, so any purpose is accepted:
 * what matters is the chain and the identity. */
X509_STORE *
envelope_muni_store(const char *ca_file, const char *crl_file)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_load_file(store, ca_file) != 1 ||
	    X509_STORE_set_purpose(store, X509_PURPOSE_ANY) != 1)
		goto fail;
	if (crl_file != NULL && crl_file[0] != '\0' &&
	    (X509_STORE_load_file(store, crl_file) != 1 ||
	    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1))
		goto fail;
	return store;
fail:
	X509_STORE_free(store);
	return NULL;
}

X509_STORE *
envelope_muni_store_pem(const uint8_t *ca, size_t calen, const uint8_t *crl,
    size_t crllen)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *b = NULL;
	X509_INFO *xi;
	int i, certs = 0, crls = 0, pass;

	if (store == NULL || calen > INT32_MAX || crllen > INT32_MAX ||
	    X509_STORE_set_purpose(store, X509_PURPOSE_ANY) != 1)
		goto fail;
	/* Pass 0: the CA file (certificates); pass 1: the CRL, if any. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && crllen == 0)
			break;
		if ((b = BIO_new_mem_buf(pass ? crl : ca, (int)(pass ? crllen :
		    calen))) == NULL ||
		    (infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL)) == NULL)
			goto fail;
		for (i = 0; i < sk_X509_INFO_num(infos); i++) {
			xi = sk_X509_INFO_value(infos, i);
			if (pass == 0 && xi->x509 != NULL) {
				if (X509_STORE_add_cert(store, xi->x509) != 1)
					goto fail;
				certs++;
			}
			if (pass == 1 && xi->crl != NULL) {
				if (X509_STORE_add_crl(store, xi->crl) != 1)
					goto fail;
				crls++;
			}
		}
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		infos = NULL;
		BIO_free(b);
		b = NULL;
	}
	if (certs == 0 || (crllen > 0 && (crls == 0 ||
	    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1)))
		goto fail;
	return store;
fail:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	X509_STORE_free(store);
	ERR_clear_error();
	return NULL;
}

int
envelope_pair_pem(const uint8_t *cert, size_t certlen, const uint8_t *key,
    size_t keylen, X509 **x, EVP_PKEY **k)
{
	BIO *b;

	*x = NULL;
	*k = NULL;
	if (certlen > INT32_MAX || keylen > INT32_MAX)
		return SK_ETOOBIG;
	if ((b = BIO_new_mem_buf(cert, (int)certlen)) != NULL)
		*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if ((b = BIO_new_mem_buf(key, (int)keylen)) != NULL)
		*k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (*x == NULL || *k == NULL || X509_check_private_key(*x, *k) != 1) {
		X509_free(*x);
		EVP_PKEY_free(*k);
		*x = NULL;
		*k = NULL;
		ERR_clear_error();
		return SK_ECRYPTO;
	}
	return 0;
}

/* The first reason the signer's chain failed, for the job's message (an
 * engine checks one upload, on one thread). */
static int chain_error;

static int
note_chain_error(int ok, X509_STORE_CTX *ctx)
{
	if (!ok && chain_error == 0)
		chain_error = X509_STORE_CTX_get_error(ctx);
	return ok;
}

static int
verify_signed(const uint8_t *in, size_t len, X509_STORE *store,
    const char *identity, uint8_t **out, size_t *outlen, char *why,
    size_t whycap)
{
	CMS_ContentInfo *cms = read_cms(in, len);
	STACK_OF(X509) *signers = NULL;
	BIO *content = BIO_new(BIO_s_mem());
	char who[TLS_IDENTITY_MAX];
	int r = SK_EAUTH, i;

	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		snprintf(why, whycap, "the content is not signed (CMS "
		    "SignedData) as the dataset requires");
		goto out;
	}
	if (content == NULL) {
		r = SK_ENOMEM;
		goto out;
	}
	chain_error = 0;
	X509_STORE_set_verify_cb(store, note_chain_error);
	if (CMS_verify(cms, NULL, store, NULL, content, CMS_BINARY) != 1) {
		if (chain_error != 0) {
			/* "certificate revoked", "certificate has expired" */
			snprintf(why, whycap, "the municipality's signature does "
			    "not verify: the signer's certificate is refused: "
			    "%s", X509_verify_cert_error_string(chain_error));
			ERR_clear_error();
		} else
			why_ssl(why, whycap, "the municipality's signature does "
			    "not verify");
		goto out;
	}
	signers = CMS_get0_signers(cms);
	for (i = 0; signers != NULL && i < sk_X509_num(signers); i++)
		if (tls_cert_identity(sk_X509_value(signers, i), who,
		    sizeof(who)) != 0 || strcmp(who, identity) != 0) {
			snprintf(why, whycap, "signed by another party than the "
			    "municipality that uploaded it");
			goto out;
		}
	if (signers == NULL || sk_X509_num(signers) == 0) {
		snprintf(why, whycap, "no signer");
		goto out;
	}
	r = take(content, out, outlen);
out:
	sk_X509_free(signers);
	if (content != NULL) {
		char *p;
		long n = BIO_get_mem_data(content, &p);

		if (n > 0)
			sk_wipe(p, (size_t)n);
		BIO_free(content);
	}
	CMS_ContentInfo_free(cms);
	return r;
}

int
envelope_open(const uint8_t *in, size_t len, X509 *cert, EVP_PKEY *key,
    X509_STORE *muni_store, const char *muni_identity, uint8_t **out,
    size_t *outlen, char *why, size_t whycap)
{
	CMS_ContentInfo *cms = NULL;
	BIO *plain = NULL;
	uint8_t *inner = NULL;
	size_t innerlen = 0;
	int r = SK_EAUTH, nid;

	if (len > INT32_MAX) {
		snprintf(why, whycap, "too large for an envelope");
		return SK_ETOOBIG;
	}
	if ((cms = read_cms(in, len)) == NULL) {
		snprintf(why, whycap, "not a CMS message (DER or S/MIME)");
		goto out;
	}
	nid = OBJ_obj2nid(CMS_get0_type(cms));
	if (nid != NID_pkcs7_enveloped && nid != NID_id_smime_ct_authEnvelopedData) {
		snprintf(why, whycap, "not a CMS enveloped message");
		goto out;
	}
	if ((plain = BIO_new(BIO_s_mem())) == NULL ||
	    CMS_decrypt(cms, key, cert, NULL, plain, CMS_BINARY) != 1) {
		why_ssl(why, whycap, "cannot be decrypted with the vault's key "
		    "(corrupted, or sealed to another certificate)");
		goto out;
	}
	if ((r = take(plain, &inner, &innerlen)) != 0)
		goto out;
	if (muni_store != NULL) {
		r = verify_signed(inner, innerlen, muni_store, muni_identity,
		    out, outlen, why, whycap);
		sk_wipe(inner, innerlen);
		free(inner);
	} else {
		*out = inner;
		*outlen = innerlen;
	}
out:
	if (plain != NULL) {
		char *p;
		long n = BIO_get_mem_data(plain, &p);

		if (n > 0)
			sk_wipe(p, (size_t)n);
		BIO_free(plain);
	}
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	return r;
}

int
envelope_sign(const void *msg, size_t len, X509 *cert, EVP_PKEY *key,
    int detached, uint8_t **out, size_t *outlen)
{
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	BIO *in = NULL;
	int n = -1;

	if (len > INT32_MAX || cert == NULL || key == NULL)
		return SK_EINVAL;
	if ((in = BIO_new_mem_buf(msg, (int)len)) != NULL)
		cms = CMS_sign(cert, key, NULL, in, CMS_BINARY |
		    (detached ? CMS_DETACHED : 0));
	if (cms != NULL)
		n = i2d_CMS_ContentInfo(cms, &der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	if (n <= 0) {
		ERR_clear_error();
		return SK_ECRYPTO;
	}
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return SK_ENOMEM;
	}
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

int
envelope_seal(const uint8_t *in, size_t len, X509 *const *certs,
    size_t ncerts, uint8_t **out, size_t *outlen, char *why, size_t whycap)
{
	STACK_OF(X509) *stack = sk_X509_new_null();
	CMS_ContentInfo *cms = NULL;
	BIO *src = NULL, *dst = NULL;
	size_t i;
	int r = SK_ECRYPTO;

	if (stack == NULL || len > INT32_MAX)
		goto out;
	for (i = 0; i < ncerts; i++) {
		if (!X509_up_ref(certs[i]))
			goto out;
		if (!sk_X509_push(stack, certs[i])) {
			X509_free(certs[i]);
			goto out;
		}
	}
	if ((src = BIO_new_mem_buf(in, (int)len)) == NULL ||
	    (dst = BIO_new(BIO_s_mem())) == NULL ||
	    (cms = CMS_encrypt(stack, src, EVP_aes_256_gcm(), CMS_BINARY)) ==
	    NULL || i2d_CMS_bio(dst, cms) != 1) {
		why_ssl(why, whycap, "CMS encryption failed");
		goto out;
	}
	r = take(dst, out, outlen);
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	BIO_free(src);
	BIO_free(dst);
	sk_X509_pop_free(stack, X509_free);
	return r;
}

X509 *
envelope_read_cert(const char *path, char *why, size_t whycap)
{
	X509 *c = NULL;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, whycap, "certificate %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	c = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (c == NULL)
		why_ssl(why, whycap, "certificate is not PEM");
	ERR_clear_error();
	return c;
}
