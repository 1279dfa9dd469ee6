/*
 * approve.c: signing and checking operators' approvals (see approve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "approve.h"
#include "sk.h"
#include "util.h"

#define SIG_MAX 160		/* ECDSA P-256 DER is at most 72 bytes */

const struct config_operator *
site_find_operator(const struct site_config *site, const char *id)
{
	size_t i;

	for (i = 0; i < site->noperators; i++)
		if (strcmp(site->operators[i].id, id) == 0)
			return &site->operators[i];
	return NULL;
}

int
approval_message(const struct job *j, const char *action,
    const char *operator_id, int64_t t, const char *reason, char *out,
    size_t cap)
{
	int n = snprintf(out, cap, "sekisho-approval-v3\naction=%s\n"
	    "release=%s\ndataset=%s\noutput_sha256=%s\nreport_sha256=%s\n"
	    "recipients=%s\nsealed=%d\ndatapackage_sha256=%s\n"
	    "codebook_sha256=%s\noperator=%s\ntime=%" PRId64 "\nreason=%s\n",
	    action, j->id, j->dataset, j->out_sha256, j->report_sha256,
	    j->recipients, j->sealed, j->datapackage_sha256,
	    j->codebook_sha256, operator_id, t, reason != NULL ? reason : "");

	return n < 0 || (size_t)n >= cap ? SK_ETOOBIG : 0;
}

/* Ed25519 signs the message itself; ECDSA signs its SHA-256. */
static const EVP_MD *
md_for(EVP_PKEY *k)
{
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 ? NULL :
	    EVP_sha256();
}

static int
key_allowed(EVP_PKEY *k)
{
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 ||
	    (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && EVP_PKEY_get_bits(k) ==
	    256);
}

/*
 * An operator's key may be encrypted (sekisho-pki operator ID
 * --passphrase): its passphrase comes from SEKISHO_KEY_PASSPHRASE when a
 * script sets it, else it is asked for at the terminal (OpenSSL's own
 * prompt, which does not echo).
 */
static int
key_passphrase(char *buf, int size, int rwflag, void *u)
{
	const char *e = getenv("SEKISHO_KEY_PASSPHRASE");
	size_t n;

	(void)u;
	if (e == NULL)		/* not u: the default takes it as the answer */
		return PEM_def_callback(buf, size, rwflag, NULL);
	n = strlen(e);
	if (n == 0 || n >= (size_t)size)
		return -1;
	memcpy(buf, e, n);
	return (int)n;
}

int
approval_load_key(const char *keyfile, EVP_PKEY **out, char *why,
    size_t whycap)
{
	EVP_PKEY *k;
	FILE *fp;
	int fd, r;

	if ((r = util_open_secret(keyfile, &fd)) != 0) {
		snprintf(why, whycap, "key %s: %s", keyfile, r == SK_EPERM ?
		    "readable by group or others, or not ours (chmod 600)" :
		    strerror(errno));
		return r;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(why, whycap, "key %s: %s", keyfile, strerror(errno));
		return SK_ESYS;
	}
	k = PEM_read_PrivateKey(fp, NULL, key_passphrase, NULL);
	fclose(fp);
	ERR_clear_error();
	if (k == NULL || !key_allowed(k)) {
		EVP_PKEY_free(k);
		snprintf(why, whycap, "key %s: not an Ed25519 or ECDSA P-256 "
		    "private key, or its passphrase is wrong or missing "
		    "(SEKISHO_KEY_PASSPHRASE, or a terminal to ask at)",
		    keyfile);
		return SK_ECRYPTO;
	}
	*out = k;
	return 0;
}

int
approval_sign(EVP_PKEY *k, const char *msg, char *sig_b64, size_t cap,
    char *why, size_t whycap)
{
	unsigned char sig[SIG_MAX];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = NULL;
	int r = SK_ECRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md_for(k), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg,
	    strlen(msg)) != 1) {
		snprintf(why, whycap, "signing failed");
		goto out;
	}
	if (cap < (siglen + 2) / 3 * 4 + 1) {
		r = SK_ETOOBIG;
		goto out;
	}
	sk_base64_encode(sig, siglen, sig_b64);
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

int
approval_keys_load(const struct site_config *site, EVP_PKEY ***out,
    char *why, size_t whycap)
{
	EVP_PKEY **keys;
	FILE *fp;
	size_t i;

	if ((keys = calloc(site->noperators + 1, sizeof(*keys))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < site->noperators; i++) {
		const char *path = site->operators[i].public_key;

		if ((fp = fopen(path, "re")) == NULL) {
			snprintf(why, whycap, "operator %s: public key %s: %s",
			    site->operators[i].id, path, strerror(errno));
			approval_keys_free(keys, i);
			return SK_ESYS;
		}
		keys[i] = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
		fclose(fp);
		ERR_clear_error();
		if (keys[i] == NULL || !key_allowed(keys[i])) {
			snprintf(why, whycap, "operator %s: public key %s: not "
			    "an Ed25519 or ECDSA P-256 key",
			    site->operators[i].id, path);
			approval_keys_free(keys, i + 1);
			return SK_ECRYPTO;
		}
	}
	*out = keys;
	return 0;
}

void
approval_keys_free(EVP_PKEY **keys, size_t n)
{
	size_t i;

	for (i = 0; keys != NULL && i < n; i++)
		EVP_PKEY_free(keys[i]);
	free(keys);
}

int
approval_verify(const struct config_operator *op, EVP_PKEY *k,
    const char *msg, const char *sig_b64, int64_t now, char *why,
    size_t whycap)
{
	unsigned char sig[SIG_MAX];
	size_t siglen = 0;
	EVP_MD_CTX *ctx = NULL;
	int r = SK_EAUTH;

	if (now < (int64_t)op->valid_from || now >= (int64_t)op->valid_until) {
		snprintf(why, whycap, "operator %s is not valid today "
		    "(roster dates)", op->id);
		return SK_EAUTH;
	}
	if (sk_base64_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig),
	    &siglen) != 0) {
		snprintf(why, whycap, "the signature is not base64");
		return SK_EAUTH;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md_for(k), NULL, k) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg,
	    strlen(msg)) != 1) {
		snprintf(why, whycap, "the signature of %s does not verify",
		    op->id);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

int
approval_record(int jobs_fd, const char *id, const char *action,
    const char *operator_id, int64_t t, const char *sig_b64,
    const char *reason)
{
	char name[JOB_ID_MAX + 16], line[1024], r64[APPROVAL_REASON_MAX * 2];
	int fd, n, e = 0;

	sk_base64_encode((const uint8_t *)(reason != NULL ? reason : ""),
	    reason != NULL ? strlen(reason) : 0, r64);
	n = snprintf(line, sizeof(line), "%s %s %" PRId64 " %s %s\n", action,
	    operator_id, t, sig_b64, r64[0] ? r64 : "-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return SK_ETOOBIG;
	snprintf(name, sizeof(name), "%s.approvals", id);
	if ((fd = openat(jobs_fd, name, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return SK_ESYS;
	if (util_write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0)
		e = SK_ESYS;
	if (close(fd) != 0)
		e = SK_ESYS;
	return e;
}

int
approval_count(int jobs_fd, const struct site_config *site,
    EVP_PKEY *const *keys, const struct job *j, const char *action, int64_t now, unsigned *count,
    unsigned *bad, char *ops, size_t opscap, char *reason, size_t rcap)
{
	char name[JOB_ID_MAX + 16], *buf, *line, *save = NULL;
	char act[16], op[CONFIG_ID_MAX], sig[256], r64[APPROVAL_REASON_MAX * 2];
	char why[160], msg[APPROVAL_MSG_MAX], seen[16][CONFIG_ID_MAX], text[256];
	const struct config_operator *o;
	size_t nseen = 0, i, len, tlen;
	long long t;
	ssize_t n;
	int fd;

	*count = *bad = 0;
	if (ops != NULL)
		ops[0] = '\0';
	if (reason != NULL)
		reason[0] = '\0';
	snprintf(name, sizeof(name), "%s.approvals", j->id);
	if ((fd = openat(jobs_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return errno == ENOENT ? 0 : SK_ESYS;
	if ((buf = malloc(65536)) == NULL) {
		close(fd);
		return SK_ENOMEM;
	}
	n = read(fd, buf, 65535);
	close(fd);
	if (n < 0) {
		free(buf);
		return SK_ESYS;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%15s %63s %lld %255s %239s", act, op, &t, sig,
		    r64) != 5 || strcmp(act, action) != 0)
			continue;
		text[0] = '\0';
		if (strcmp(r64, "-") != 0) {
			if (sk_base64_decode(r64, strlen(r64), (uint8_t *)text,
			    sizeof(text) - 1, &tlen) != 0) {
				(*bad)++;
				continue;
			}
			text[tlen] = '\0';
		}
		if ((o = site_find_operator(site, op)) == NULL ||
		    approval_message(j, action, op, (int64_t)t, text, msg,
		    sizeof(msg)) != 0 ||
		    approval_verify(o, keys[o - site->operators], msg, sig, now,
		    why, sizeof(why)) != 0) {
			(*bad)++;
			continue;
		}
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], op) == 0)
				break;
		if (i < nseen || nseen == 16)
			continue;	/* the same operator counts once */
		memcpy(seen[nseen++], op, strlen(op) + 1);
		(*count)++;
		if (ops != NULL) {
			len = strlen(ops);
			snprintf(ops + len, opscap - len, "%s%s", len ? "," : "",
			    op);
		}
		if (reason != NULL && reason[0] == '\0')
			snprintf(reason, rcap, "%s", text);
	}
	free(buf);
	return 0;
}
