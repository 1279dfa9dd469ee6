/*
 * publish.c: approvals, publishing and withdrawal (R30, R41): counting the
 * operators' signatures, sealing a release to the recipients who ask for
 * it, publishing it to the sender (idempotent by release id) and
 * withdrawing it there.
 */


#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "approve.h"
#include "codebook.h"
#include "engine.h"
#include "envelope.h"
#include "log.h"
#include "proto.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

/* How long the sender may take to say 100 Continue (or its answer). */
#define PUBLISH_CONTINUE_MS 10000

/* ---- approvals, publishing, withdrawal ---- */

void
vault_decide(struct vault *v, struct job *j)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	char ops[256], reason[APPROVAL_REASON_MAX + 8], detail[320];
	int64_t now = (int64_t)time(NULL);
	unsigned n, bad;

	if (ds == NULL)
		return;
	/* Rejecting is a decision like approving: as many distinct
	 * operators (R41's two-person rule covers both). */
	if (approval_count(v->jobs_fd, v->site, v->op_keys, j, "reject", now,
	    &n, &bad, ops, sizeof(ops), reason, sizeof(reason)) == 0 &&
	    n >= ds->approvals) {
		j->decided = now;
		snprintf(detail, sizeof(detail), "operators=%s", ops);
		if (vault_audit(v, "release.rejected", j->id, 0, 0,
		    j->out_sha256, detail) != 0)
			return;		/* R50: decided once it is recorded */
		snprintf(detail, sizeof(detail), "rejected by %.60s: %.90s", ops,
		    reason);
		vault_set_state(v, j, JOB_REJECTED, detail);
		return;
	}
	if (approval_count(v->jobs_fd, v->site, v->op_keys, j, "approve", now, &n, &bad,
	    ops, sizeof(ops), NULL, 0) != 0 || n < ds->approvals)
		return;
	j->decided = now;
	j->expires = now + (int64_t)ds->release_days * 86400;
	snprintf(detail, sizeof(detail), "operators=%s approvals=%u of %u",
	    ops, n, ds->approvals);
	if (vault_audit(v, "release.approved", j->id, 1, j->out_size,
	    j->out_sha256, detail) != 0)
		return;			/* R50: decided once it is recorded */
	vault_set_state(v, j, JOB_APPROVED, NULL);
}

/* The release as it goes to the sender: sealed to its recipients'
 * certificates when it was accepted so, else as it is. */
static int
outgoing(struct vault *v, const struct config_recipient *const *to, size_t nto,
    struct job *j, uint8_t **out, size_t *len, char *why, size_t whycap)
{
	X509 *certs[CONFIG_DATASETS_MAX];
	struct seal_reader *rd;
	uint8_t *plain;
	size_t i, got;
	int e;

	for (i = 0; i < nto; i++)
		certs[i] = v->recip_certs[to[i] - v->site->recipients];
	if ((e = seal_reader_open(&v->master, v->releases_fd, j->id, &rd)) != 0)
		return e;
	if ((plain = malloc(j->out_size + 1)) == NULL) {
		seal_reader_free(rd);
		return SK_ENOMEM;
	}
	e = seal_reader_read(rd, plain, j->out_size, &got);
	seal_reader_free(rd);
	if (e != 0 || got != j->out_size) {
		free(plain);
		return e ? e : SK_ETRUNCATED;
	}
	if (!j->sealed) {
		*out = plain;
		*len = got;
		return 0;
	}
	for (i = 0; i < nto; i++)
		if (certs[i] == NULL) {
			snprintf(why, whycap, "the release goes only as an "
			    "envelope, and recipient %s has no certificate",
			    to[i]->id);
			sk_wipe(plain, got);
			free(plain);
			return SK_ECONFIG;
		}
	e = envelope_seal(plain, got, certs, nto, out, len, why, whycap);
	sk_wipe(plain, got);
	free(plain);
	return e;
}

/*
 * The codebook as the vault wrote it at acceptance, whose digests the
 * operators signed (job.h): read back and held to those digests, so that
 * a file changed since is never sent under their signatures. 0, or
 * SK_EAUTH (changed) or another error, with why.
 */
static int
codebook_as_approved(struct vault *v, const struct job *j,
    struct codebook *cb, char *why, size_t whycap)
{
	const char *file[2] = { CODEBOOK_JSON, CODEBOOK_MD };
	const char *want[2] = { j->datapackage_sha256, j->codebook_sha256 };
	char name[JOB_ID_MAX + 24], hex[65], *text[2] = { NULL, NULL };
	size_t len = 0;
	int i;

	memset(cb, 0, sizeof(*cb));
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s.%s", j->id, file[i]);
		if ((text[i] = util_read_at(v->reports_fd, name, CODEBOOK_MAX,
		    &len)) == NULL) {
			snprintf(why, whycap, "reports/%s cannot be read", name);
			free(text[0]);
			return SK_ESYS;
		}
		util_sha256_hex(text[i], len, hex);
		if (strlen(text[i]) != len || strcmp(hex, want[i]) != 0) {
			snprintf(why, whycap, "reports/%s is not the codebook "
			    "the operators approved (SHA-256 %.16s..., they "
			    "signed %.16s...): not published", name, hex,
			    want[i]);
			free(text[0]);
			free(text[1]);
			return SK_EAUTH;
		}
	}
	cb->json = text[0];
	cb->md = text[1];
	return 0;
}

/*
 * The researcher's package (codebook.h) to the sender, after the release:
 * PUT /v1/releases/ID/package. The manifest is signed anew on a retry
 * (the signature then differs; the sender keeps the last); the codebook
 * files are the approved ones. 0, or an error with why.
 */
static int
send_package(struct vault *v, struct job *j, struct codebook *cb,
    const char *filename, const char *sha, char *manifest_sha, char *why,
    size_t whycap)
{
	struct hc_conn c;
	char target[128], *bundle;
	int e;

	if ((e = codebook_sign(cb, filename, sha, v->sign_cert, v->sign_key,
	    why, whycap)) != 0)
		return e;
	util_sha256_hex(cb->manifest, strlen(cb->manifest), manifest_sha);
	if ((bundle = codebook_bundle(cb)) == NULL) {
		snprintf(why, whycap, "the package is too large");
		return SK_ETOOBIG;
	}
	snprintf(target, sizeof(target), PROTO_RELEASES "/%s/package",
	    j->release_id);
	if ((e = vault_connect(v, &v->site->sender, &c, why, whycap)) == 0) {
		if ((e = hc_request(&c, "PUT", target, "Content-Type: "
		    "application/json\r\n", (int64_t)strlen(bundle))) != 0 ||
		    (e = hc_send(&c, bundle, strlen(bundle))) != 0 ||
		    (e = hc_response(&c)) != 0)
			snprintf(why, whycap, "sender: no answer to the package "
			    "(%s)", sk_strerror(e));
		else if (c.status != 201 && c.status != 200) {
			snprintf(why, whycap, "sender answered %d to the "
			    "package", c.status);
			e = SK_EFORMAT;
		}
		hc_close(&c);
	}
	free(bundle);
	return e;
}

/*
 * R28: of the recipients the release was accepted for (and the operators
 * signed), those whose contract is in force today go to to[]; the others
 * to excluded. The number in to[].
 */
static size_t
recipients_today(struct vault *v, const struct job *j,
    const struct config_recipient **to, char *excluded, size_t excap)
{
	char list[sizeof(j->recipients)], *id, *save = NULL;
	const struct config_recipient *rc;
	size_t nto = 0, x = 0;

	snprintf(list, sizeof(list), "%s", j->recipients);
	excluded[0] = '\0';
	for (id = strtok_r(list, ",", &save); id != NULL && nto <
	    CONFIG_DATASETS_MAX; id = strtok_r(NULL, ",", &save)) {
		if ((rc = site_find_recipient(v->site, id)) != NULL &&
		    site_recipient_in_force(rc, time(NULL)))
			to[nto++] = rc;
		else if (x < excap)
			x += (size_t)snprintf(excluded + x, excap - x, "%s%s",
			    x ? "," : "", id);
	}
	return nto;
}

int
vault_publish(struct vault *v, struct job *j, char *why, size_t whycap)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	char target[128], extra[6144], recips[CONFIG_DATASETS_MAX * 66];
	char digest64[48], sha[65], excluded[CONFIG_DATASETS_MAX * 66];
	const struct config_recipient *to[CONFIG_DATASETS_MAX];
	struct codebook cb = { 0 };
	uint8_t *body = NULL, d[32];
	unsigned dl = 0;
	struct hc_conn c;
	size_t len = 0, i, o = 0, nto;
	uint64_t head_seq;
	char head_mac[65], filename[96], manifest_sha[65] = "";
	int e;

	if (ds == NULL || j->release_id[0] == '\0' ||
	    j->datapackage_sha256[0] == '\0') {
		snprintf(why, whycap, "the job has no release id or codebook "
		    "from its acceptance");
		return SK_ECONFIG;
	}
	if ((nto = recipients_today(v, j, to, excluded, sizeof(excluded))) ==
	    0) {
		snprintf(why, whycap, "no recipient the release was approved "
		    "for has a contract in force today (R28): %s", excluded);
		return SK_ECONFIG;
	}
	/* Before anything goes out: the codebook is the one approved. */
	if (v->sign_key != NULL &&
	    (e = codebook_as_approved(v, j, &cb, why, whycap)) != 0) {
		if (e == SK_EAUTH)
			vault_audit(v, "release.refused", j->id, 1, j->out_size,
			    j->out_sha256, why);
		return e;
	}
	if ((e = outgoing(v, to, nto, j, &body, &len, why, whycap)) != 0)
		goto out;
	EVP_Digest(body, len, d, &dl, EVP_sha256(), NULL);
	sk_base64_encode(d, 32, digest64);
	sk_hex(d, 32, sha);
	for (i = 0; i < nto; i++)
		o += (size_t)snprintf(recips + o, sizeof(recips) - o, "%s%s",
		    i ? "," : "", to[i]->id);
	/* R47: the vault's own chain head, for the sender to witness. */
	audit_head(v->audit, &head_seq, head_mac);
	codebook_filename(ds->id, j->release_id, j->sealed, filename,
	    sizeof(filename));
	snprintf(extra, sizeof(extra), "Content-Digest: sha-256=:%s:\r\n"
	    PROTO_H_DATASET ": %s\r\n" PROTO_H_RECIPIENTS ": %s\r\n"
	    PROTO_H_EXPIRES ": %" PRId64 "\r\n" PROTO_H_MAX_DOWNLOADS ": %u\r\n"
	    PROTO_H_FILENAME ": %s\r\n" "Expect: 100-continue\r\n"
	    PROTO_H_WITNESS ": seq=%" PRIu64 " mac=%s\r\n%s", digest64, ds->id,
	    recips, j->expires, ds->max_downloads, filename, head_seq,
	    head_mac, v->sign_key != NULL ? PROTO_H_PACKAGE ": 1\r\n" : "");
	/* The id was made at acceptance: a retry after a crash publishes
	 * the same id (idempotent). */
	snprintf(target, sizeof(target), PROTO_RELEASES "/%s", j->release_id);
	log_info("release %s: publishing %zu bytes as %s", j->id, len,
	    j->release_id);
	if ((e = vault_connect(v, &v->site->sender, &c, why, whycap)) != 0)
		goto out;
	/* The sender answers 100 before the body, or at once: a retry
	 * after a crash of what it holds already gets its 200 without the
	 * body, which it would not read. */
	if ((e = hc_request(&c, "PUT", target, extra, (int64_t)len)) == 0 &&
	    (e = hc_continue(&c, PUBLISH_CONTINUE_MS)) == 0 &&
	    (e = hc_send(&c, body, len)) == 0)
		e = hc_response(&c);
	if (e == 1)
		e = 0;		/* its final answer came before the body */
	if (e != 0)
		snprintf(why, whycap, "sender: no answer (%s)", sk_strerror(e));
	else if (c.status != 201 && c.status != 200) {
		snprintf(why, whycap, "sender answered %d", c.status);
		e = c.status == 409 ? SK_EEXIST : SK_EFORMAT;
	}
	hc_close(&c);
	if (e == 0 && v->sign_key != NULL)
		e = send_package(v, j, &cb, filename, sha, manifest_sha, why,
		    whycap);
	if (e == 0) {
		j->published = (int64_t)time(NULL);
		snprintf(extra, sizeof(extra), "release=%s rows=%" PRIu64
		    " recipients=%.700s%s%.400s%s%s%s",
		    j->release_id, j->rows_out, recips, excluded[0] ? " not_in_force=" : "",
		    excluded, j->sealed ? " sealed to the recipients' "
		    "certificates" : "", manifest_sha[0] != '\0' ?
		    " manifest_sha256=" : "", manifest_sha);
		if (vault_audit(v, "release.published", j->id, 1, len, sha,
		    extra) != 0) {
			snprintf(why, whycap, "sent, but the audit log cannot "
			    "record it");
			e = SK_EAUDIT;
		}
	}
out:
	codebook_free(&cb);
	if (body != NULL) {
		sk_wipe(body, len);
		free(body);
	}
	return e;
}

int
vault_withdraw_at_sender(struct vault *v, struct job *j, char *why, size_t whycap)
{
	char target[128];
	struct hc_conn c;
	int e;

	if (j->release_id[0] == '\0')	/* never reached the sender */
		return 0;
	snprintf(target, sizeof(target), PROTO_RELEASES "/%s", j->release_id);
	if ((e = vault_connect(v, &v->site->sender, &c, why, whycap)) != 0)
		return e;
	if ((e = hc_request(&c, "DELETE", target, NULL, -1)) == 0 &&
	    (e = hc_response(&c)) == 0 && c.status != 200 && c.status != 410 &&
	    c.status != 404) {
		snprintf(why, whycap, "sender answered %d", c.status);
		e = SK_EFORMAT;
	} else if (e != 0)
		snprintf(why, whycap, "sender: no answer (%s)", sk_strerror(e));
	hc_close(&c);
	return e;
}

/* The sender is down or refuses: try later, with backoff, and say so. */
void
vault_sender_trouble(struct vault *v, const char *id, const char *why)
{
	int64_t now = (int64_t)time(NULL);

	v->send_backoff = v->send_backoff == 0 ? 2 :
	    v->send_backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    v->send_backoff * 2;
	v->next_send = now + v->send_backoff;
	log_warnx("release %s: %s; retrying in %u s", id, why,
	    v->send_backoff);
}
