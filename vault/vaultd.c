/*
 * vaultd.c: `sekisho-vault run`, the vault's pipeline (R05, R11, R20, R30,
 * R41).
 *
 * The vault opens every connection itself and listens on nothing. Each
 * round it (1) moves every job one step: processes what was received,
 * counts the operators' signatures on what awaits approval, publishes what
 * was approved, withdraws what operators withdrew; (2) polls the receiver
 * for new uploads at the configured interval, with backoff while it cannot
 * be reached; (3) disposes of what may no longer be kept.
 *
 * Taking an upload: fetch it into a sealed object while hashing, check its
 * size and SHA-256 against the receipt, write the job record (received),
 * and only then acknowledge it, so the receiver disposes of its copy. A
 * crash before the record leaves the upload pending at the receiver (taken
 * again); after it, the next round acknowledges it again (the receiver
 * answers the same) and nothing is fetched twice. Processing runs again
 * from the sealed source after a crash; publishing is idempotent at the
 * sender by release id. Every step is an audit entry; a job's state is
 * written before the step that follows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anon.h"
#include "cp932.h"
#include "approve.h"
#include "daemon.h"
#include "tls.h"
#include "vaultd.h"
#include "envelope.h"
#include "hclient.h"
#include "jsonr.h"
#include "log.h"
#include "policy.h"
#include "sk.h"
#include "util.h"

#define VAULT_VERSION "0.1.0"
#define LIST_MAX (16u << 20)		/* a listing from the receiver */
#define IO_BUF (64u << 10)
#define BACKOFF_MAX 300			/* seconds */
#define NET_TIMEOUT 30			/* seconds without a byte */

static int
vaudit(struct vault *v, const char *event, const char *object, int has_size,
    uint64_t size, const char *sha256, const char *detail)
{
	struct audit_event ev = { .event = event, .actor = "vault",
		.object = object, .has_size = has_size, .size = size,
		.sha256 = sha256, .detail = detail };
	int r;

	if ((r = audit_append(v->audit, &ev)) != 0)
		log_errorx("audit log write failed: %s", sk_strerror(r));
	return r;
}

static int
connect_to(struct vault *v, const struct config_host *h, struct hc_conn *c,
    char *why, size_t whycap)
{
	return hc_open(v->tls, h->internal.address, h->internal.port,
	    h->identity, NET_TIMEOUT, c, why, whycap);
}

/* Saves a job under the lock. */
static int
save(struct vault *v, struct job *j)
{
	int lk = job_lock(v->jobs_fd), e;

	if (lk < 0)
		return SK_ESYS;
	e = job_save(v->jobs_fd, j);
	job_unlock(lk);
	if (e != 0)
		log_errorx("job %s: cannot save its state: %s", j->id,
		    sk_strerror(e));
	return e;
}

static void
set_state(struct vault *v, struct job *j, enum job_state s, const char *why)
{
	char detail[200];

	j->state = s;
	if (why != NULL)
		snprintf(j->reason, sizeof(j->reason), "%s", why);
	if (save(v, j) != 0)
		return;
	snprintf(detail, sizeof(detail), "state=%s%s%s dataset=%s",
	    job_state_name(s), why ? " reason=" : "", why ? why : "",
	    j->dataset);
	vaudit(v, "job.state", j->id, 0, 0, NULL, detail);
	log_info("job %s: %s%s%s", j->id, job_state_name(s), why ? ": " : "",
	    why ? why : "");
}

/* ---- taking uploads from the receiver ---- */

/* Fetches one upload into sources/ID, checking it against its receipt. */
static int
fetch(struct vault *v, const char *id, uint64_t size, const char *sha,
    const char *receipt, char *why, size_t whycap)
{
	struct seal_writer *w = NULL;
	struct seal_disposal dd;
	struct hc_conn c;
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL, d[32];
	char target[128], tmp[JOB_ID_MAX + 8], hex[65];
	uint64_t done = 0;
	unsigned dl = 0;
	size_t got;
	int e;

	log_info("upload %s: fetching %" PRIu64 " bytes", id, size);
	if ((e = connect_to(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	snprintf(target, sizeof(target), "/v1/pending/%s", id);
	snprintf(tmp, sizeof(tmp), "src.%s", id);
	if ((e = hc_request(&c, "GET", target, NULL, -1)) != 0 ||
	    (e = hc_response(&c)) != 0) {
		snprintf(why, whycap, "receiver: no answer (%s)", sk_strerror(e));
		goto out;
	}
	if (c.status != 200 || c.length != size) {
		snprintf(why, whycap, "receiver answered %d with %" PRIu64
		    " bytes for a %" PRIu64 "-byte upload", c.status, c.length,
		    size);
		e = SK_EFORMAT;
		goto out;
	}
	if ((buf = malloc(IO_BUF)) == NULL || (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    (e = seal_writer_open(&v->master, v->tmp_fd, tmp, 0, &w)) != 0) {
		snprintf(why, whycap, "cannot start storing");
		e = e ? e : SK_ENOMEM;
		goto out;
	}
	while (done < size) {
		if ((e = hc_read(&c, buf, IO_BUF, &got)) != 0 || got == 0) {
			snprintf(why, whycap, "the transfer broke at byte %"
			    PRIu64, done);
			e = e ? e : SK_ETRUNCATED;
			goto out;
		}
		if (EVP_DigestUpdate(md, buf, got) != 1 ||
		    (e = seal_writer_write(w, buf, got)) != 0) {
			snprintf(why, whycap, "cannot store: %s",
			    sk_strerror(e ? e : SK_ECRYPTO));
			e = e ? e : SK_ECRYPTO;
			goto out;
		}
		done += got;
	}
	EVP_DigestFinal_ex(md, d, &dl);
	sk_hex(d, 32, hex);
	if (strcmp(hex, sha) != 0) {
		snprintf(why, whycap, "the SHA-256 differs from the receipt's");
		e = SK_EAUTH;
		goto out;
	}
	if ((e = seal_writer_finish(w, receipt, strlen(receipt))) != 0)
		goto out;
	/* A copy left by a crash before the job was recorded goes first. */
	if (faccessat(v->sources_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		seal_dispose(v->sources_fd, id, &dd);
	e = seal_writer_commit(w, v->tmp_fd, v->sources_fd, id);
	if (e != 0)
		snprintf(why, whycap, "cannot commit: %s", sk_strerror(e));
out:
	if (buf != NULL)
		sk_wipe(buf, IO_BUF);
	free(buf);
	EVP_MD_CTX_free(md);
	seal_writer_free(w);
	hc_close(&c);
	return e;
}

static int
acknowledge(struct vault *v, const char *id, const char *sha, char *why,
    size_t whycap)
{
	char target[128], extra[128];
	struct hc_conn c;
	int e;

	if ((e = connect_to(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	snprintf(target, sizeof(target), "/v1/pending/%s", id);
	snprintf(extra, sizeof(extra), "Sekisho-Sha256: %s\r\n", sha);
	if ((e = hc_request(&c, "DELETE", target, extra, -1)) == 0 &&
	    (e = hc_response(&c)) == 0 && c.status != 200) {
		snprintf(why, whycap, "receiver answered %d", c.status);
		e = SK_EFORMAT;
	} else if (e != 0)
		snprintf(why, whycap, "receiver: no answer (%s)", sk_strerror(e));
	hc_close(&c);
	return e;
}

/* One receipt of the listing: take it (or acknowledge it again). */
static void
take(struct vault *v, struct jsonr item)
{
	char id[JOB_ID_MAX], muni[CONFIG_ID_MAX], ds[CONFIG_ID_MAX];
	char sha[65], why[256], receipt[SEAL_META_MAX];
	struct job j;
	uint64_t size;

	if (jsonr_get_string(item, "id", id, sizeof(id)) != 0 ||
	    !job_id_valid(id) ||
	    jsonr_get_string(item, "municipality", muni, sizeof(muni)) != 0 ||
	    jsonr_get_string(item, "dataset", ds, sizeof(ds)) != 0 ||
	    jsonr_get_string(item, "sha256", sha, sizeof(sha)) != 0 ||
	    strlen(sha) != 64 || jsonr_get_u64(item, "size", &size) != 0 ||
	    item.n >= sizeof(receipt)) {
		log_warnx("receiver: a malformed receipt in the listing; "
		    "skipped");
		return;
	}
	if (!job_exists(v->jobs_fd, id)) {
		if (fetch(v, id, size, sha, (memcpy(receipt, item.p, item.n),
		    receipt[item.n] = '\0', receipt), why, sizeof(why)) != 0) {
			log_warnx("upload %s: not taken: %s; trying again later",
			    id, why);
			vaudit(v, "fetch.failed", id, 1, size, sha, why);
			return;
		}
		memset(&j, 0, sizeof(j));
		snprintf(j.id, sizeof(j.id), "%s", id);
		snprintf(j.municipality, sizeof(j.municipality), "%s", muni);
		snprintf(j.dataset, sizeof(j.dataset), "%s", ds);
		snprintf(j.sha256, sizeof(j.sha256), "%s", sha);
		j.size = size;
		j.received = (int64_t)time(NULL);
		j.state = JOB_RECEIVED;
		if (save(v, &j) != 0)
			return;		/* not acknowledged: taken again */
		vaudit(v, "job.received", id, 1, size, sha, ds);
		log_info("upload %s (%s, %s, %" PRIu64 " bytes): taken", id,
		    muni, ds, size);
	}
	if (acknowledge(v, id, sha, why, sizeof(why)) != 0) {
		log_warnx("upload %s: not acknowledged yet: %s", id, why);
		return;
	}
	vaudit(v, "upload.acknowledged", id, 1, size, sha, NULL);
}

static int
poll_receiver(struct vault *v, char *why, size_t whycap)
{
	struct jsonr doc, list, item;
	struct hc_conn c;
	char *body = NULL;
	size_t len, pos = 0;
	int e;

	if ((e = connect_to(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	if ((e = hc_request(&c, "GET", "/v1/pending", NULL, -1)) != 0 ||
	    (e = hc_response(&c)) != 0 || c.status != 200 ||
	    (e = hc_read_all(&c, LIST_MAX, &body, &len)) != 0) {
		snprintf(why, whycap, "listing failed (%s, status %d)",
		    sk_strerror(e ? e : SK_EFORMAT), c.status);
		hc_close(&c);
		return e ? e : SK_EFORMAT;
	}
	hc_close(&c);
	doc.p = body;
	doc.n = len;
	if (jsonr_valid(body, len) != 0 ||
	    jsonr_member(doc, "pending", &list) != 0) {
		snprintf(why, whycap, "the listing is not the expected JSON");
		free(body);
		return SK_EFORMAT;
	}
	while (!v->stop && jsonr_next(list, &pos, &item) == 0)
		take(v, item);
	free(body);
	return 0;
}

/* ---- processing ---- */

struct feed {
	int fd;
	const uint8_t *mem;		/* the plaintext in memory, or */
	struct seal_reader *rd;		/* the sealed source */
	size_t len;
};

static void *
feeder(void *arg)
{
	struct feed *f = arg;
	const uint8_t *p;
	size_t off = 0, n;

	if (f->mem != NULL) {
		util_write_all(f->fd, f->mem, f->len);
	} else {
		while (seal_reader_peek(f->rd, &p, IO_BUF, &n) == 0 && n > 0)
			if (util_write_all(f->fd, p, n) != 0)
				break;
	}
	(void)off;
	close(f->fd);
	return NULL;
}

struct collect {
	int fd;
	struct seal_writer *w;
	EVP_MD_CTX *md;
	uint64_t n;
	int err;
};

static void *
collector(void *arg)
{
	struct collect *c = arg;
	uint8_t *buf = malloc(IO_BUF);
	ssize_t n;

	if (buf == NULL) {
		c->err = SK_ENOMEM;
		close(c->fd);
		return NULL;
	}
	while ((n = read(c->fd, buf, IO_BUF)) > 0) {
		if (c->err == 0 && (EVP_DigestUpdate(c->md, buf, (size_t)n) !=
		    1 || (c->err = seal_writer_write(c->w, buf, (size_t)n)) !=
		    0))
			c->err = c->err ? c->err : SK_ECRYPTO;
		c->n += (uint64_t)n;
	}
	if (n < 0 && c->err == 0)
		c->err = SK_ESYS;
	sk_wipe(buf, IO_BUF);
	free(buf);
	close(c->fd);
	return NULL;
}

static int
write_report(struct vault *v, const char *id, const char *report, char *hex)
{
	char name[JOB_ID_MAX + 8], tmp[JOB_ID_MAX + 16];
	uint8_t d[32];
	unsigned dl = 0;
	int fd, e = 0;

	snprintf(name, sizeof(name), "%s.json", id);
	snprintf(tmp, sizeof(tmp), ".%s.json.t", id);
	if ((fd = openat(v->reports_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return SK_ESYS;
	if (util_write_all(fd, report, strlen(report)) != 0 ||
	    util_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0)
		e = SK_ESYS;
	if (close(fd) != 0)
		e = SK_ESYS;
	if (e == 0 && (renameat(v->reports_fd, tmp, v->reports_fd, name) != 0 ||
	    fsync(v->reports_fd) != 0))
		e = SK_ESYS;
	if (e != 0) {
		unlinkat(v->reports_fd, tmp, 0);
		return e;
	}
	EVP_Digest(report, strlen(report), d, &dl, EVP_sha256(), NULL);
	sk_hex(d, 32, hex);
	return 0;
}

/* Runs the engine from the source (or its opened envelope) into a sealed
 * release; the plaintext only ever passes through pipes and memory. */
static int
run_engine(struct vault *v, struct job *j, const struct policy *p,
    struct seal_reader *rd, const uint8_t *mem, size_t memlen,
    char *why, size_t whycap)
{
	struct feed f = { .mem = mem, .rd = rd, .len = memlen };
	struct collect c = { 0 };
	struct anon_result res;
	struct seal_disposal dd;
	pthread_t ft, ct;
	char tmp[JOB_ID_MAX + 8], *report = NULL, meta[128];
	int in[2], out[2], e;
	uint8_t d[32];
	unsigned dl = 0;

	snprintf(tmp, sizeof(tmp), "rel.%s", j->id);
	if (pipe2(in, O_CLOEXEC) != 0)
		return SK_ESYS;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return SK_ESYS;
	}
	if ((c.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) != 1 ||
	    (e = seal_writer_open(&v->master, v->tmp_fd, tmp, 0, &c.w)) != 0) {
		EVP_MD_CTX_free(c.md);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		snprintf(why, whycap, "cannot start the release");
		return SK_ESYS;
	}
	f.fd = in[1];
	c.fd = out[0];
	pthread_create(&ft, NULL, feeder, &f);
	pthread_create(&ct, NULL, collector, &c);
	e = anon_run(p, in[0], out[1], &res, &report);
	close(in[0]);
	close(out[1]);
	pthread_join(ft, NULL);
	pthread_join(ct, NULL);
	if (e != 0)
		snprintf(why, whycap, "%s", res.error);
	else if (c.err != 0) {
		snprintf(why, whycap, "cannot store the release: %s",
		    sk_strerror(c.err));
		e = c.err;
	}
	if (e == 0) {
		EVP_DigestFinal_ex(c.md, d, &dl);
		sk_hex(d, 32, j->out_sha256);
		j->out_size = c.n;
		snprintf(meta, sizeof(meta), "{\"job\":\"%s\"}", j->id);
		if ((e = write_report(v, j->id, report, j->report_sha256)) != 0 ||
		    (e = seal_writer_finish(c.w, meta, strlen(meta))) != 0)
			snprintf(why, whycap, "cannot store the release or its "
			    "report");
	}
	if (e == 0) {
		if (faccessat(v->releases_fd, j->id, F_OK, AT_SYMLINK_NOFOLLOW)
		    == 0)
			seal_dispose(v->releases_fd, j->id, &dd);
		if ((e = seal_writer_commit(c.w, v->tmp_fd, v->releases_fd,
		    j->id)) != 0)
			snprintf(why, whycap, "cannot commit the release");
	}
	EVP_MD_CTX_free(c.md);
	seal_writer_free(c.w);
	free(report);
	return e;
}

static void
process(struct vault *v, struct job *j)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	const struct config_municipality *m = NULL;
	struct seal_reader *rd = NULL;
	const struct policy *p;
	uint8_t *in = NULL, *plain = NULL;
	size_t plainlen = 0, got, i;
	char why[256];
	int e;

	if (j->state == JOB_RECEIVED)
		set_state(v, j, JOB_PROCESSING, NULL);
	for (i = 0; i < v->site->nmunicipalities; i++)
		if (strcmp(v->site->municipalities[i].id, j->municipality) == 0)
			m = &v->site->municipalities[i];
	if (ds == NULL || m == NULL) {
		set_state(v, j, JOB_FAILED, "the dataset or municipality is no "
		    "longer in the site configuration");
		return;
	}
	if ((p = v->policies[ds - v->site->datasets]) == NULL) {
		set_state(v, j, JOB_FAILED, "the dataset has no policy");
		return;
	}
	if ((e = seal_reader_open(&v->master, v->sources_fd, j->id, &rd)) != 0) {
		snprintf(why, sizeof(why), "the sealed source cannot be read: "
		    "%s", sk_strerror(e));
		set_state(v, j, JOB_FAILED, why);
		return;
	}
	if (ds->envelope) {
		/* An upload that cannot be opened is rejected, unprocessed. */
		if ((in = malloc(j->size + 1)) == NULL ||
		    seal_reader_read(rd, in, j->size, &got) != 0 ||
		    got != j->size) {
			snprintf(why, sizeof(why), "cannot read the source");
			e = SK_ESYS;
		} else
			e = envelope_open(in, got,
			    SSL_CTX_get0_certificate(v->tls),
			    SSL_CTX_get0_privatekey(v->tls),
			    ds->signed_by_muni ? v->muni_store : NULL, m->identity,
			    &plain, &plainlen, why, sizeof(why));
		if (in != NULL)
			sk_wipe(in, j->size);
		free(in);
		if (e != 0) {
			seal_reader_free(rd);
			set_state(v, j, JOB_REJECTED, why);
			return;
		}
		vaudit(v, "upload.opened", j->id, 1, plainlen, NULL,
		    ds->signed_by_muni ? "envelope decrypted, municipality's "
		    "signature verified" : "envelope decrypted");
	}
	e = run_engine(v, j, p, rd, plain, plainlen, why, sizeof(why));
	if (plain != NULL) {
		sk_wipe(plain, plainlen);
		free(plain);
	}
	seal_reader_free(rd);
	if (e != 0) {
		set_state(v, j, JOB_FAILED, why);
		return;
	}
	vaudit(v, "release.made", j->id, 1, j->out_size, j->out_sha256,
	    j->report_sha256);
	set_state(v, j, JOB_AWAITING, NULL);
}

/* ---- approvals, publishing, withdrawal ---- */

static void
decide(struct vault *v, struct job *j)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	char ops[256], reason[APPROVAL_REASON_MAX + 8], detail[320];
	int64_t now = (int64_t)time(NULL);
	unsigned n, bad;

	if (ds == NULL)
		return;
	if (approval_count(v->jobs_fd, v->site, v->op_keys, j, "reject", now, &n, &bad,
	    ops, sizeof(ops), reason, sizeof(reason)) == 0 && n > 0) {
		j->decided = now;
		snprintf(detail, sizeof(detail), "operator=%s", ops);
		vaudit(v, "release.rejected", j->id, 0, 0, j->out_sha256, detail);
		snprintf(detail, sizeof(detail), "rejected by %.60s: %.90s", ops,
		    reason);
		set_state(v, j, JOB_REJECTED, detail);
		return;
	}
	if (approval_count(v->jobs_fd, v->site, v->op_keys, j, "approve", now, &n, &bad,
	    ops, sizeof(ops), NULL, 0) != 0 || n < ds->approvals)
		return;
	j->decided = now;
	j->expires = now + (int64_t)ds->release_days * 86400;
	snprintf(detail, sizeof(detail), "operators=%s approvals=%u of %u",
	    ops, n, ds->approvals);
	vaudit(v, "release.approved", j->id, 1, j->out_size, j->out_sha256,
	    detail);
	set_state(v, j, JOB_APPROVED, NULL);
}

/* The release as it goes to the sender: sealed to the recipients who ask
 * for it, else as it is. */
static int
outgoing(struct vault *v, const struct config_dataset *ds, struct job *j,
    uint8_t **out, size_t *len, int *cms, char *why, size_t whycap)
{
	X509 *certs[CONFIG_DATASETS_MAX];
	const struct config_recipient *rc;
	struct seal_reader *rd;
	uint8_t *plain;
	size_t i, got, nc = 0;
	int e, need = 0;

	*cms = 0;
	for (i = 0; i < ds->nrecipients; i++)
		if ((rc = site_find_recipient(v->site, ds->recipients[i])) !=
		    NULL) {
			need |= rc->envelope;
			certs[nc++] = v->recip_certs[rc - v->site->recipients];
		}
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
	if (!need) {
		*out = plain;
		*len = got;
		return 0;
	}
	for (i = 0; i < nc; i++)
		if (certs[i] == NULL) {
			snprintf(why, whycap, "a recipient takes only envelopes, "
			    "so every recipient of the dataset needs a "
			    "certificate");
			sk_wipe(plain, got);
			free(plain);
			return SK_ECONFIG;
		}
	e = envelope_seal(plain, got, certs, nc, out, len, why, whycap);
	sk_wipe(plain, got);
	free(plain);
	*cms = e == 0;
	return e;
}

static int
publish(struct vault *v, struct job *j, char *why, size_t whycap)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	char target[128], extra[6144], recips[CONFIG_DATASETS_MAX * 66];
	char digest64[48], sha[65];
	uint8_t *body = NULL, d[32];
	unsigned dl = 0;
	struct hc_conn c;
	size_t len, i, o = 0;
	int e, cms;

	if (ds == NULL || ds->nrecipients == 0) {
		snprintf(why, whycap, "the dataset names no recipients");
		return SK_ECONFIG;
	}
	if ((e = outgoing(v, ds, j, &body, &len, &cms, why, whycap)) != 0)
		return e;
	EVP_Digest(body, len, d, &dl, EVP_sha256(), NULL);
	sk_base64_encode(d, 32, digest64);
	sk_hex(d, 32, sha);
	for (i = 0; i < ds->nrecipients; i++)
		o += (size_t)snprintf(recips + o, sizeof(recips) - o, "%s%s",
		    i ? "," : "", ds->recipients[i]);
	snprintf(extra, sizeof(extra), "Content-Digest: sha-256=:%s:\r\n"
	    "Sekisho-Dataset: %s\r\nSekisho-Recipients: %s\r\n"
	    "Sekisho-Expires: %" PRId64 "\r\nSekisho-Max-Downloads: %u\r\n"
	    "Sekisho-Filename: %s-%.16s.csv%s\r\n", digest64, ds->id, recips,
	    j->expires, ds->max_downloads, ds->id, j->id, cms ? ".cms" : "");
	snprintf(target, sizeof(target), "/v1/releases/%s", j->id);
	log_info("release %s: publishing %zu bytes", j->id, len);
	if ((e = connect_to(v, &v->site->sender, &c, why, whycap)) != 0)
		goto out;
	if ((e = hc_request(&c, "PUT", target, extra, (int64_t)len)) != 0 ||
	    (e = hc_send(&c, body, len)) != 0 || (e = hc_response(&c)) != 0)
		snprintf(why, whycap, "sender: no answer (%s)", sk_strerror(e));
	else if (c.status != 201 && c.status != 200) {
		snprintf(why, whycap, "sender answered %d", c.status);
		e = c.status == 409 ? SK_EEXIST : SK_EFORMAT;
	}
	hc_close(&c);
	if (e == 0) {
		j->published = (int64_t)time(NULL);
		vaudit(v, "release.published", j->id, 1, len, sha, cms ?
		    "sealed to the recipients' certificates" : NULL);
	}
out:
	if (body != NULL) {
		sk_wipe(body, len);
		free(body);
	}
	return e;
}

static int
withdraw_at_sender(struct vault *v, struct job *j, char *why, size_t whycap)
{
	char target[128];
	struct hc_conn c;
	int e;

	snprintf(target, sizeof(target), "/v1/releases/%s", j->id);
	if ((e = connect_to(v, &v->site->sender, &c, why, whycap)) != 0)
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
static void
sender_trouble(struct vault *v, const char *id, const char *why)
{
	int64_t now = (int64_t)time(NULL);

	v->send_backoff = v->send_backoff == 0 ? 2 :
	    v->send_backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    v->send_backoff * 2;
	v->next_send = now + v->send_backoff;
	log_warnx("release %s: %s; retrying in %u s", id, why,
	    v->send_backoff);
}

static void
dispose_object(struct vault *v, int dirfd, const char *id, const char *what,
    const char *why)
{
	struct seal_disposal dd = { 0 };
	char detail[128];

	if (seal_dispose(dirfd, id, &dd) != 0)
		return;
	snprintf(detail, sizeof(detail), "%s reason=%s key_destroyed=%d "
	    "file_bytes=%" PRIu64, what, why, dd.key_destroyed, dd.file_bytes);
	vaudit(v, "object.disposed", id, 0, 0, NULL, detail);
}

/* R20: the source goes once the release is decided and the dataset's
 * retention is over; a release that will never be published goes too. */
static void
retention(struct vault *v, struct job *j, int64_t now)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	int decided = j->state == JOB_APPROVED || j->state == JOB_PUBLISHED ||
	    j->state == JOB_REJECTED || j->state == JOB_FAILED ||
	    j->state == JOB_WITHDRAWN || j->state == JOB_WITHDRAWING;
	unsigned days = ds != NULL ? ds->retention_days : 0;

	if (!j->source_disposed && decided &&
	    now >= j->received + (int64_t)days * 86400) {
		dispose_object(v, v->sources_fd, j->id, "source", "decided");
		j->source_disposed = 1;
		save(v, j);
	}
	if ((j->state == JOB_REJECTED || j->state == JOB_FAILED ||
	    j->state == JOB_WITHDRAWN || (j->state == JOB_PUBLISHED &&
	    j->expires != 0 && now >= j->expires)) &&
	    faccessat(v->releases_fd, j->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		dispose_object(v, v->releases_fd, j->id, "release",
		    job_state_name(j->state));
}

static void
advance(struct vault *v, const char *id)
{
	const struct config_dataset *ds;
	int64_t now = (int64_t)time(NULL);
	char why[256], ops[256];
	unsigned n, bad;
	struct job j;
	int e;

	if (job_load(v->jobs_fd, id, &j) != 0)
		return;
	switch (j.state) {
	case JOB_RECEIVED:
	case JOB_PROCESSING:		/* again, after a crash */
		process(v, &j);
		break;
	case JOB_AWAITING:
		decide(v, &j);
		if (j.state != JOB_APPROVED)
			break;
		/* Approved: publish in this same round. */
		/* FALLTHROUGH */
	case JOB_APPROVED:
		if (now < v->next_send)
			break;
		if ((e = publish(v, &j, why, sizeof(why))) == 0) {
			v->send_backoff = 0;
			set_state(v, &j, JOB_PUBLISHED, NULL);
		} else if (e == SK_EEXIST || e == SK_ECONFIG)
			set_state(v, &j, JOB_FAILED, why);
		else
			sender_trouble(v, j.id, why);
		break;
	case JOB_PUBLISHED:
		ds = site_find_dataset(v->site, j.dataset);
		if (ds != NULL && approval_count(v->jobs_fd, v->site, v->op_keys, &j,
		    "withdraw", now, &n, &bad, ops, sizeof(ops), NULL, 0) == 0 &&
		    n >= ds->approvals) {
			snprintf(why, sizeof(why), "operators=%.200s", ops);
			vaudit(v, "release.withdrawal_approved", j.id, 0, 0,
			    j.out_sha256, why);
			set_state(v, &j, JOB_WITHDRAWING, NULL);
		}
		break;
	case JOB_WITHDRAWING:
		if (now < v->next_send)
			break;
		if (withdraw_at_sender(v, &j, why, sizeof(why)) == 0) {
			v->send_backoff = 0;
			vaudit(v, "release.withdrawn", j.id, 0, 0, j.out_sha256,
			    NULL);
			set_state(v, &j, JOB_WITHDRAWN, NULL);
		} else
			sender_trouble(v, j.id, why);
		break;
	default:
		break;
	}
	if (job_load(v->jobs_fd, id, &j) == 0)
		retention(v, &j, now);
}

static void
round_of_jobs(struct vault *v)
{
	char **ids = NULL;
	size_t n = 0, i;

	if (job_list(v->jobs_fd, &ids, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (!v->stop)
			advance(v, ids[i]);
		free(ids[i]);
	}
	free(ids);
}

void
vault_load_trust(struct vault *v)
{
	const struct config_listener *muni = &v->site->receiver.external;
	char why[512];
	size_t i;

	if (approval_keys_load(v->site, &v->op_keys, why, sizeof(why)) != 0)
		fatalx("%s", why);
	if ((v->recip_certs = calloc(v->site->nrecipients + 1,
	    sizeof(*v->recip_certs))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < v->site->nrecipients; i++)
		if (v->site->recipients[i].certificate[0] != '\0' &&
		    (v->recip_certs[i] = envelope_read_cert(
		    v->site->recipients[i].certificate, why, sizeof(why))) ==
		    NULL)
			fatalx("recipient %s: %s", v->site->recipients[i].id, why);
	if ((v->muni_store = envelope_muni_store(muni->ca_file,
	    muni->crl_file)) == NULL)
		fatalx("cannot load the municipalities' CA %s or its CRL",
		    muni->ca_file);
}

void
vault_free_trust(struct vault *v)
{
	size_t i;

	approval_keys_free(v->op_keys, v->site->noperators);
	for (i = 0; v->recip_certs != NULL && i < v->site->nrecipients; i++)
		X509_free(v->recip_certs[i]);
	free(v->recip_certs);
	X509_STORE_free(v->muni_store);
	v->op_keys = NULL;
	v->recip_certs = NULL;
	v->muni_store = NULL;
}

void
vault_load_policies(struct vault *v)
{
	struct config_error err;
	size_t i;

	if ((v->policies = calloc(v->site->ndatasets + 1,
	    sizeof(*v->policies))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < v->site->ndatasets; i++) {
		if (v->site->datasets[i].policy[0] == '\0')
			continue;
		memset(&err, 0, sizeof(err));
		if (policy_load(v->site->datasets[i].policy, &v->policies[i],
		    &err) != 0)
			fatalx("%s:%d: %s", err.file, err.line, err.message);
		log_info("dataset %s: policy %s, digest %s",
		    v->site->datasets[i].id, v->site->datasets[i].policy,
		    v->policies[i]->digest);
	}
}

void
vault_free_policies(struct vault *v)
{
	size_t i;

	for (i = 0; v->policies != NULL && i < v->site->ndatasets; i++)
		policy_free(v->policies[i]);
	free(v->policies);
	v->policies = NULL;
}

void
vault_open(struct vault *v, int for_daemon)
{
	unsigned removed = 0;

	if (for_daemon)
		daemon_open_storage("sekisho-vault", VAULT_VERSION, &v->local,
		    v->site, &v->master, &v->tmp_fd, &removed, &v->audit);
	v->jobs_fd = daemon_open_dir(v->local.data_dir, "jobs");
	v->sources_fd = daemon_open_dir(v->local.data_dir, "sources");
	v->releases_fd = daemon_open_dir(v->local.data_dir, "releases");
	v->reports_fd = daemon_open_dir(v->local.data_dir, "reports");
}

/*
 * Operators sign at the console by appending to jobs/ID.approvals: watch
 * for that, so that a release goes out the moment its last approval is
 * written, not at the next round. The watch is made before the sandbox.
 */
static void
watch_approvals(struct vault *v)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/jobs", v->local.data_dir) >=
	    (int)sizeof(path) ||
	    (v->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(v->watch_fd, path, IN_CLOSE_WRITE) == -1) {
		log_warnx("no watch on %s (%s): approvals are seen at the next "
		    "round", path, strerror(errno));
		if (v->watch_fd != -1)
			close(v->watch_fd);
		v->watch_fd = -1;
	}
}

/* Sleeps a round (1 s) unless an approvals file is written first. */
static void
wait_for_work(struct vault *v)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	struct pollfd pfd = { .fd = v->watch_fd, .events = POLLIN };
	const struct inotify_event *ev;
	int64_t until = (int64_t)util_now_ms() + 1000, left;
	ssize_t n, off;

	/* Without a watch (fd -1), poll only sleeps; TERM interrupts it. */
	while (!v->stop && (left = until - (int64_t)util_now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((n = read(v->watch_fd, u.buf, sizeof(u.buf))) <= 0)
			continue;
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		    off += (ssize_t)(sizeof(*ev) + ev->len)) {
			ev = (const struct inotify_event *)(u.buf + off);
			if (ev->len > 0 && strstr(ev->name, ".approvals") != NULL)
				return;
		}
	}
}

/*
 * Start-up, in the order sandbox.h gives: as root the firewall check, the
 * TLS key, the policies (with the tables they name), the operators' public
 * keys, the recipients' certificates, the municipalities' CA and CRL and
 * the CP932 tables; then the vault's user opens its data, and the sandbox closes
 * everything else, for good.
 */
static void
vault_start(struct vault *v)
{
	struct sandbox_layers layers = { 0 };
	char why[512];

	if (v->local.require_firewall)
		daemon_require_firewall(&v->local);
	if (tls_client_new(v->local.certificate, v->local.key,
	    v->site->receiver.internal.ca_file, &v->tls, why,
	    sizeof(why)) != 0)
		fatalx("TLS: %s", why);
	vault_load_policies(v);
	vault_load_trust(v);
	if (cp932_init() != 0)
		fatalx("the CP932 tables cannot be built (glibc's iconv)");
	daemon_drop(&v->local, &layers);
	vault_open(v, 1);
	watch_approvals(v);
	daemon_sandbox(&v->local, v->site, SANDBOX_ALONE, &layers);
}

int
vault_run(struct vault *v)
{
	struct audit_event ev = { .event = "vault.stop", .actor = "system" };
	int64_t now;
	char why[256];

	vault_start(v);
	log_info("polling the receiver at %s port %u every %u s; publishing "
	    "to the sender at %s port %u", v->site->receiver.internal.address,
	    v->site->receiver.internal.port, v->local.poll_interval,
	    v->site->sender.internal.address, v->site->sender.internal.port);
	while (!v->stop) {
		round_of_jobs(v);
		now = (int64_t)time(NULL);
		if (!v->stop && now >= v->next_poll) {
			if (poll_receiver(v, why, sizeof(why)) == 0) {
				v->recv_backoff = 0;
				v->next_poll = now + v->local.poll_interval;
			} else {
				v->recv_backoff = v->recv_backoff == 0 ?
				    v->local.poll_interval :
				    v->recv_backoff * 2 > BACKOFF_MAX ?
				    BACKOFF_MAX : v->recv_backoff * 2;
				v->next_poll = now + v->recv_backoff;
				log_warnx("receiver: %s; retrying in %u s", why,
				    v->recv_backoff);
			}
			round_of_jobs(v);
		}
		wait_for_work(v);
	}
	audit_append(v->audit, &ev);
	log_info("stopped");
	return 0;
}
