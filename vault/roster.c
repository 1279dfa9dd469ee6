/*
 * roster.c: the roster's versions (see roster.h).
 *
 * A version is text, one operator a line, tab-separated: id, name, scope,
 * valid_from and valid_until (unix seconds, as the site file's dates are
 * read), and the SHA-256 of the operator's public key (DER). Its file in
 * data_dir/roster/ is named by the text's SHA-256; data_dir/roster/current
 * names the version the daemon last recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "daemon.h"
#include "log.h"
#include "roster.h"
#include "sk.h"
#include "text.h"
#include "util.h"
#include "vaultd.h"

#define ROSTER_MAX (1u << 20)
#define CURRENT "current"

/* A field of a line: a tab or a line break in it becomes a space. */
static void
add_field(struct text *t, const char *s)
{
	for (; *s != '\0'; s++)
		text_add(t, "%c", *s == '\t' || *s == '\n' || *s == '\r' ?
		    ' ' : *s);
}

static int
key_digest(EVP_PKEY *k, char hex[65])
{
	unsigned char *der = NULL;
	int n;

	if (k == NULL || (n = i2d_PUBKEY(k, &der)) <= 0)
		return SK_ECRYPTO;
	util_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	return 0;
}

/* The roster in force as a version's text (to free), or NULL. */
static char *
roster_text(struct vault *v)
{
	struct text t = { .max = ROSTER_MAX };
	const struct config_operator *o;
	char hex[65];
	size_t i;

	for (i = 0; i < v->site->noperators; i++) {
		o = &v->site->operators[i];
		if (key_digest(v->op_keys[i], hex) != 0) {
			free(text_take(&t));
			return NULL;
		}
		add_field(&t, o->id);
		text_add(&t, "\t");
		add_field(&t, o->name);
		text_add(&t, "\t");
		add_field(&t, o->scope);
		text_add(&t, "\t%" PRId64 "\t%" PRId64 "\t%s\n",
		    (int64_t)o->valid_from, (int64_t)o->valid_until, hex);
	}
	return text_take(&t);
}


int
roster_record(struct vault *v)
{
	char sha[65], prev[65] = "none", detail[1024], *text, *cur;
	char path[PATH_MAX];
	size_t len, clen, i, o = 0;
	int dfd, e;

	if ((text = roster_text(v)) == NULL) {
		log_warnx("the roster's version cannot be made: not recorded");
		return SK_ENOMEM;
	}
	len = strlen(text);
	util_sha256_hex(text, len, sha);
	/* Made at the first start; later (a roster taken in place, in the
	 * sandbox, which has no mkdir) it is there. */
	if (snprintf(path, sizeof(path), "%s/%s", v->local.data_dir,
	    ROSTER_DIR) >= (int)sizeof(path) || (dfd = open(path, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		dfd = daemon_open_dir(v->local.data_dir, ROSTER_DIR);
	if ((cur = util_read_at(dfd, CURRENT, 64, &clen)) != NULL) {
		if (clen == 64 && sk_hexid_valid(cur, 64))
			memcpy(prev, cur, 65);
		free(cur);
	}
	if (strcmp(prev, sha) == 0) {
		free(text);
		close(dfd);
		return 0;
	}
	if ((e = util_write_at(dfd, sha, text, len)) != 0) {
		log_warnx("%s/%s/%s: cannot be written: the roster's change is "
		    "not recorded", v->local.data_dir, ROSTER_DIR, sha);
		goto out;
	}
	o = (size_t)snprintf(detail, sizeof(detail), "operators=");
	for (i = 0; i < v->site->noperators && o < sizeof(detail); i++)
		o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%s%s",
		    i ? "," : "", v->site->operators[i].id);
	if (o < sizeof(detail))
		snprintf(detail + o, sizeof(detail) - o, " previous=%s", prev);
	/* The version is kept first; "current" moves once it is recorded,
	 * so that a change the log missed is recorded at the next start. */
	if ((e = vault_audit(v, "roster.changed", sha, 1, len, sha,
	    detail)) != 0)
		goto out;
	if ((e = util_write_at(dfd, CURRENT, sha, 64)) != 0)
		log_warnx("%s/%s/%s: cannot be written", v->local.data_dir,
		    ROSTER_DIR, CURRENT);
	log_info("roster: version %.16s recorded (%zu operators)", sha,
	    v->site->noperators);
out:
	free(text);
	close(dfd);
	return e;
}

int
roster_read(struct vault *v, const char *sha256, struct roster_entry **out,
    size_t *n)
{
	char path[PATH_MAX], hex[65], *text, *line, *save = NULL, *f[6], *p;
	struct roster_entry *r = NULL, *nr;
	size_t len, k, cap = 0;
	int dfd, e = 0;

	*out = NULL;
	*n = 0;
	if (!sk_hexid_valid(sha256, 64) || strlen(sha256) != 64)
		return SK_EFORMAT;
	if (snprintf(path, sizeof(path), "%s/%s", v->local.data_dir,
	    ROSTER_DIR) >= (int)sizeof(path) || (dfd = open(path, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return SK_ENOTFOUND;
	text = util_read_at(dfd, sha256, ROSTER_MAX, &len);
	close(dfd);
	if (text == NULL)
		return SK_ENOTFOUND;
	util_sha256_hex(text, len, hex);
	if (strcmp(hex, sha256) != 0 || strlen(text) != len) {
		free(text);
		return SK_EAUTH;	/* not the version recorded */
	}
	for (line = strtok_r(text, "\n", &save); line != NULL && e == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		for (k = 0, p = line; k < 6; k++) {
			f[k] = p;
			if (k < 5 && (p = strchr(p, '\t')) == NULL)
				break;
			if (k < 5)
				*p++ = '\0';
		}
		if (k < 5) {
			e = SK_EFORMAT;
			break;
		}
		if (*n == cap) {
			if ((nr = reallocarray(r, cap ? cap * 2 : 16,
			    sizeof(*r))) == NULL) {
				e = SK_ENOMEM;
				break;
			}
			r = nr;
			cap = cap ? cap * 2 : 16;
		}
		memset(&r[*n], 0, sizeof(r[*n]));
		snprintf(r[*n].id, sizeof(r[*n].id), "%s", f[0]);
		snprintf(r[*n].name, sizeof(r[*n].name), "%s", f[1]);
		snprintf(r[*n].scope, sizeof(r[*n].scope), "%s", f[2]);
		r[*n].valid_from = strtoll(f[3], NULL, 10);
		r[*n].valid_until = strtoll(f[4], NULL, 10);
		snprintf(r[*n].key_sha256, sizeof(r[*n].key_sha256), "%s", f[5]);
		(*n)++;
	}
	free(text);
	if (e != 0) {
		free(r);
		*n = 0;
		return e;
	}
	*out = r;
	return 0;
}
