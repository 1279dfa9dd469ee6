/*
 * pull.c: taking uploads from the receiver (R05, R11). The vault opens
 * every connection: it lists what is pending, fetches each upload into a
 * sealed source while hashing, checks it against its receipt, records the
 * job and only then acknowledges it. A thread keeps a long-poll open
 * (GET /v1/pending?wait=N) and wakes the loop the moment an upload is
 * stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "jsonr.h"
#include "log.h"
#include "proto.h"
#include "sk.h"
#include "vaultd.h"

/* ---- taking uploads from the receiver ---- */

/* Fetches one upload into sources/ID, checking it against its receipt. */
static int
fetch(struct vault *v, const char *id, uint64_t size, const char *sha,
    const char *receipt, char *why, size_t whycap)
{
	struct seal_writer *w = NULL;
	struct hc_conn c;
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL, d[32];
	char target[128], tmp[JOB_ID_MAX + 8], hex[65];
	uint64_t done = 0;
	unsigned dl = 0;
	size_t got;
	int e;

	log_info("upload %s: fetching %" PRIu64 " bytes", id, size);
	if ((e = vault_connect(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	snprintf(target, sizeof(target), PROTO_PENDING "/%s", id);
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
	/* A copy left by a crash before the job was recorded goes first,
	 * with a record like every disposal. */
	if (faccessat(v->sources_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (e = vault_dispose(v, v->sources_fd, id, "source",
	    "left_by_an_interrupted_fetch")) != 0) {
		snprintf(why, whycap, "cannot replace an earlier copy: %s",
		    sk_strerror(e));
		goto out;
	}
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

	if ((e = vault_connect(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	snprintf(target, sizeof(target), PROTO_PENDING "/%s", id);
	snprintf(extra, sizeof(extra), PROTO_H_SHA256 ": %s\r\n", sha);
	if ((e = hc_request(&c, "DELETE", target, extra, -1)) == 0 &&
	    (e = hc_response(&c)) == 0 && c.status != 200) {
		snprintf(why, whycap, "receiver answered %d", c.status);
		e = SK_EFORMAT;
	} else if (e != 0)
		snprintf(why, whycap, "receiver: no answer (%s)", sk_strerror(e));
	hc_close(&c);
	return e;
}

/*
 * R12: a correction was taken. The job it replaces stops if it is not
 * decided yet, or, if its release is out, is marked for withdrawal, which
 * two operators then sign as any withdrawal; the link is kept on both
 * jobs and recorded. (One that the vault never took was disposed of at the
 * receiver when the correction came.)
 */
static void
correct(struct vault *v, const struct job *nj)
{
	char detail[160];
	struct job old;

	if (job_load(v->jobs_fd, nj->replaces, &old) != 0) {
		snprintf(detail, sizeof(detail), "replaces=%s (never taken: "
		    "disposed of at the receiver)", nj->replaces);
		vault_audit(v, "job.corrects", nj->id, 0, 0, NULL, detail);
		return;
	}
	/* The receiver checked this; the vault does not take its word. */
	if (strcmp(old.municipality, nj->municipality) != 0 ||
	    strcmp(old.dataset, nj->dataset) != 0) {
		log_warnx("upload %s names %s as the upload it corrects, which "
		    "is another municipality's or dataset's; the link is "
		    "ignored", nj->id, old.id);
		vault_audit(v, "correction.refused", nj->id, 0, 0, NULL,
		    "replaces an upload of another municipality or dataset");
		return;
	}
	snprintf(old.replaced_by, sizeof(old.replaced_by), "%s", nj->id);
	snprintf(detail, sizeof(detail), "by=%s state_was=%s%s", nj->id,
	    job_state_name(old.state), old.state == JOB_PUBLISHED ?
	    " withdrawal=requested" : "");
	if (vault_audit(v, "job.replaced", old.id, 0, 0, NULL, detail) != 0)
		return;
	if (old.state == JOB_RECEIVED || old.state == JOB_PROCESSING ||
	    old.state == JOB_AWAITING) {
		old.decided = (int64_t)time(NULL);
		snprintf(detail, sizeof(detail), "replaced by the correction %s",
		    nj->id);
		vault_set_state(v, &old, JOB_REPLACED, detail);
	} else {
		vault_save(v, &old);
		if (old.state == JOB_PUBLISHED)
			log_warnx("release %s: replaced by the correction %s: "
			    "two operators should withdraw it (release "
			    "withdraw %s)", old.id, nj->id, old.id);
	}
}

/*
 * The receipt, with the file name the municipality chose, sealed beside
 * the job's record (jobs/ID.receipt) for the ledgers the vault prints
 * (form 8's file name column): the source, which carries it too, is
 * disposed of once the job is decided. A copy that cannot be written is
 * said in the log; the ledger then says the name was not kept.
 */
static void
keep_receipt(struct vault *v, const char *id, const char *receipt)
{
	char tmp[JOB_ID_MAX + 16], name[JOB_ID_MAX + 16];
	struct seal_writer *w = NULL;
	int e;

	snprintf(tmp, sizeof(tmp), "%s.receipt", id);
	snprintf(name, sizeof(name), "%s.receipt", id);
	if ((e = seal_writer_open(&v->master, v->tmp_fd, tmp, 0, &w)) != 0 ||
	    (e = seal_writer_write(w, receipt, strlen(receipt))) != 0 ||
	    (e = seal_writer_finish(w, "", 0)) != 0 ||
	    (e = seal_writer_commit(w, v->tmp_fd, v->jobs_fd, name)) != 0)
		log_warnx("upload %s: its receipt is not kept for the "
		    "ledgers: %s", id, sk_strerror(e));
	seal_writer_free(w);
}

/*
 * R47: the receiver's chain head, as its listing gives it, recorded in the
 * vault's log whenever it moved: a receiver log rewritten or replaced
 * later no longer matches (audit verify --witness).
 */
static void
witness_receiver(struct vault *v, struct jsonr doc)
{
	struct jsonr head;
	char mac[65], detail[128];
	uint64_t seq;
	size_t i;

	if (jsonr_member(doc, "head", &head) != 0 ||
	    jsonr_get_u64(head, "seq", &seq) != 0 ||
	    jsonr_get_string(head, "mac", mac, sizeof(mac)) != 0 ||
	    strlen(mac) != 64)
		return;
	for (i = 0; i < 64; i++)
		if (!((mac[i] >= '0' && mac[i] <= '9') ||
		    (mac[i] >= 'a' && mac[i] <= 'f')))
			return;
	if (seq == v->witnessed_receiver)
		return;
	snprintf(detail, sizeof(detail), "seq=%" PRIu64 " mac=%s", seq, mac);
	if (vault_audit(v, "witness.receiver", NULL, 0, 0, NULL, detail) == 0)
		v->witnessed_receiver = seq;
}

/* One receipt of the listing: take it (or acknowledge it again). */
static void
take(struct vault *v, struct jsonr item)
{
	char why[256], receipt[SEAL_META_MAX];
	const char *id, *muni, *ds, *sha;
	struct seal_disposal dd;
	struct proto_receipt rc;
	struct job j;
	uint64_t size;

	if (proto_receipt_parse(item.p, item.n, &rc) != 0 ||
	    !job_id_valid(rc.id) || item.n >= sizeof(receipt)) {
		log_warnx("receiver: a malformed receipt in the listing; "
		    "skipped");
		return;
	}
	id = rc.id;
	muni = rc.municipality;
	ds = rc.dataset;
	sha = rc.sha256;
	size = rc.size;
	if (vault_audit_paused(v))
		return;
	if (!job_exists(v->jobs_fd, id)) {
		if (fetch(v, id, size, sha, (memcpy(receipt, item.p, item.n),
		    receipt[item.n] = '\0', receipt), why, sizeof(why)) != 0) {
			log_warnx("upload %s: not taken: %s; trying again later",
			    id, why);
			vault_audit(v, "fetch.failed", id, 1, size, sha, why);
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
		/* R50: recorded before it is kept and acknowledged; else the
		 * receiver keeps it and it is taken again. */
		if (vault_audit(v, "job.received", id, 1, size, sha, ds) != 0) {
			/* Nothing is kept that is not recorded. */
			seal_dispose(v->sources_fd, id, &dd);
			return;		/* not acknowledged: taken again */
		}
		snprintf(j.replaces, sizeof(j.replaces), "%s", rc.replaces);
		if (vault_save(v, &j) != 0)
			return;		/* not acknowledged: taken again */
		keep_receipt(v, id, receipt);
		if (j.replaces[0] != '\0')
			correct(v, &j);
		log_info("upload %s (%s, %s, %" PRIu64 " bytes): taken", id,
		    muni, ds, size);
	}
	if (acknowledge(v, id, sha, why, sizeof(why)) != 0) {
		log_warnx("upload %s: not acknowledged yet: %s", id, why);
		return;
	}
	vault_audit(v, "upload.acknowledged", id, 1, size, sha, NULL);
}

int
vault_poll_receiver(struct vault *v, char *why, size_t whycap)
{
	struct jsonr doc, list, item;
	struct hc_conn c;
	char *body = NULL;
	size_t len, pos = 0;
	int e;

	if ((e = vault_connect(v, &v->site->receiver, &c, why, whycap)) != 0)
		return e;
	if ((e = hc_request(&c, "GET", PROTO_PENDING, NULL, -1)) != 0 ||
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
	witness_receiver(v, doc);
	free(body);
	return 0;
}

/* Sleeps s seconds, or less if the vault stops. */
void
vault_pause(struct vault *v, unsigned s)
{
	unsigned i;

	for (i = 0; i < s * 10 && !v->stop; i++)
		usleep(100000);
}

/*
 * The long-poll (GET /v1/pending?wait=N): the receiver answers the moment
 * an upload is durable, and this thread wakes the loop, which takes it at
 * once instead of at its next poll. The periodic poll stays: it is what
 * takes uploads when this cannot (an older receiver answers 404 here).
 */
static void *
waiter(void *arg)
{
	struct vault *v = arg;
	char why[256], target[40], *body;
	unsigned backoff = 1;
	struct hc_conn c;
	size_t len;
	int e;

	snprintf(target, sizeof(target), PROTO_PENDING "?wait=%d", LONGPOLL_S);
	while (!v->stop) {
		body = NULL;
		if ((e = vault_connect(v, &v->site->receiver, &c, why,
		    sizeof(why))) == 0) {
			atomic_store(&v->waiter_fd, c.fd);
			if (v->stop)
				shutdown(c.fd, SHUT_RDWR);
			if ((e = hc_request(&c, "GET", target, NULL, -1)) == 0 &&
			    (e = hc_response(&c)) == 0)
				e = c.status == 200 ? hc_read_all(&c, LIST_MAX,
				    &body, &len) : SK_EFORMAT;
			atomic_store(&v->waiter_fd, -1);
			hc_close(&c);
		}
		if (e != 0) {
			vault_pause(v, backoff);
			backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
		} else if (strstr(body, "\"pending\":[]") == NULL) {
			backoff = 1;
			if (write(v->wake[1], "u", 1) < 0 && errno != EAGAIN)
				log_warnx("cannot wake the loop: %s",
				    strerror(errno));
			vault_pause(v, 1);	/* the loop takes them */
		} else
			backoff = 1;
		free(body);
	}
	return NULL;
}

void
vault_waiter_start(struct vault *v)
{
	v->waiter_fd = -1;
	if (pipe2(v->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    pthread_create(&v->waiter, NULL, waiter, v) != 0) {
		log_warnx("no long-poll (%s): uploads are taken at the next "
		    "poll", strerror(errno));
		return;
	}
	v->waiting = 1;
}

void
vault_waiter_stop(struct vault *v)
{
	int fd;

	if (!v->waiting)
		return;
	if ((fd = atomic_load(&v->waiter_fd)) != -1)
		shutdown(fd, SHUT_RDWR);
	pthread_join(v->waiter, NULL);
	close(v->wake[0]);
	close(v->wake[1]);
	v->waiting = 0;
}

/* ---- what became of each upload, told to the receiver (issue 18) ---- */

/*
 * The reason code of a job that was rejected or failed, from the vault's
 * own reason (never from the data), and the line it names, if any.
 */
static const char *
reason_code(const struct job *j, uint64_t *line)
{
	const char *r = j->reason, *l;

	*line = 0;
	if ((l = strstr(r, "line ")) != NULL)
		*line = strtoull(l + 5, NULL, 10);
	if (*line > UINT32_MAX)
		*line = 0;
	if (j->state == JOB_REJECTED && strncmp(r, "rejected by", 11) == 0)
		return "operators_rejected";
	if (strstr(r, "My Number") != NULL)
		return "my_number_found";
	if (strstr(r, "k-anonymity") != NULL)
		return "k_not_reachable";
	if (strstr(r, "signature") != NULL)
		return "signature_invalid";
	if (strstr(r, "envelope") != NULL || strstr(r, "CMS") != NULL ||
	    strstr(r, "decrypt") != NULL)
		return "envelope_invalid";
	if (strstr(r, "column") != NULL || strstr(r, "header") != NULL)
		return "columns_mismatch";
	if (strstr(r, "not valid") != NULL || strstr(r, "NUL byte") != NULL)
		return "encoding";
	if (strstr(r, "no rows") != NULL || strstr(r, "empty") != NULL)
		return "empty";
	if (strstr(r, "quote") != NULL || strstr(r, "carriage return") !=
	    NULL || strstr(r, "fields") != NULL || strstr(r, "record") != NULL)
		return "csv_format";
	if (strstr(r, "cannot be written") != NULL)
		return "value_refused";
	return "other";
}

/*
 * Every copy of the upload is gone (R45): the receiver's at the hand-over,
 * the vault's source and release, and the sender's, which ends with the
 * release's withdrawal or expiry.
 */
static int
all_disposed(const struct vault *v, const struct job *j)
{
	int final = j->state == JOB_REJECTED || j->state == JOB_FAILED ||
	    j->state == JOB_WITHDRAWN || j->state == JOB_EXPIRED ||
	    j->state == JOB_REPLACED || (j->state == JOB_PUBLISHED &&
	    j->expires != 0 && (int64_t)time(NULL) >= j->expires);

	return final && j->source_disposed &&
	    faccessat(v->releases_fd, j->id, F_OK, AT_SYMLINK_NOFOLLOW) != 0;
}

static const char *outcome(const struct job *j);

/* The state the city is to be told next, or NULL while there is nothing
 * new to say: the outcome first, then, once every copy is gone,
 * "disposed". */
static const char *
city_state(const struct vault *v, const struct job *j)
{
	const char *o = outcome(j);

	if (strcmp(j->reported, "disposed") == 0)
		return NULL;
	if (o != NULL && strcmp(o, j->reported) != 0)
		return o;
	return o != NULL && all_disposed(v, j) ? "disposed" : NULL;
}

/* The state of the job's outcome as the city sees it, or NULL. */
static const char *
outcome(const struct job *j)
{
	switch (j->state) {
	case JOB_AWAITING:
	case JOB_APPROVED:
		return "accepted";
	case JOB_PUBLISHED:
		return "released";
	case JOB_REJECTED:
		return "rejected";
	case JOB_FAILED:
		return "failed";
	case JOB_WITHDRAWING:
	case JOB_WITHDRAWN:
		return "withdrawn";
	case JOB_EXPIRED:
		return "expired";
	case JOB_REPLACED:
		return "replaced";
	default:
		return NULL;
	}
}

#define REPORTS_PER_ROUND 32

/* The disposal notice's days (R45), as headers: the vault's last copy,
 * and the sender's where the release was out. */
static void
gone_days(const struct job *j, char *out, size_t cap)
{
	const int64_t when[2] = { j->vault_gone, j->sender_gone };
	static const char *const name[2] = { PROTO_H_GONE_VAULT,
		PROTO_H_GONE_SENDER };
	char day[16];
	struct tm tm;
	time_t t;
	size_t o = 0;
	int k;

	out[0] = '\0';
	for (k = 0; k < 2; k++) {
		t = (time_t)when[k];
		if (when[k] <= 0 || gmtime_r(&t, &tm) == NULL ||
		    strftime(day, sizeof(day), "%Y-%m-%d", &tm) != 10)
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%s: %s\r\n", name[k],
		    day);
		if (o >= cap) {
			out[0] = '\0';
			return;
		}
	}
}

void
vault_report_status(struct vault *v)
{
	char **ids = NULL, target[128], extra[256], why[256];
	const char *state, *reason;
	unsigned sent = 0;
	uint64_t line;
	struct hc_conn c;
	struct job j;
	size_t n = 0, i;
	int e;

	if (!v->site->status_reports || job_list(v->jobs_fd, &ids, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (sent < REPORTS_PER_ROUND && !v->stop &&
		    job_load(v->jobs_fd, ids[i], &j) == 0 &&
		    (state = city_state(v, &j)) != NULL) {
			sent++;
			reason = NULL;
			line = 0;
			if (proto_status_needs_reason(state))
				reason = reason_code(&j, &line);
			snprintf(extra, sizeof(extra), PROTO_H_STATE ": %s\r\n"
			    "%s%s%s", state, reason ? PROTO_H_REASON ": " : "",
			    reason ? reason : "", reason ? "\r\n" : "");
			if (line > 0)
				snprintf(extra + strlen(extra), sizeof(extra) -
				    strlen(extra), PROTO_H_LINE ": %" PRIu64
				    "\r\n", line);
			if (strcmp(state, "disposed") == 0)
				gone_days(&j, extra + strlen(extra),
				    sizeof(extra) - strlen(extra));
			snprintf(target, sizeof(target), PROTO_STATUS "/%s",
			    j.id);
			if ((e = vault_connect(v, &v->site->receiver, &c, why,
			    sizeof(why))) != 0)
				break;
			if ((e = hc_request(&c, "PUT", target, extra, 0)) == 0)
				e = hc_response(&c);
			/* Told, or told it is not wanted: not again. A 404
			 * (not handed over yet) is tried again. */
			if (e == 0 && (c.status == 200 || c.status == 400 ||
			    c.status == 409)) {
				if (c.status != 200)
					log_warnx("upload %s: the receiver refused "
					    "the status %s (%d)", j.id, state,
					    c.status);
				snprintf(j.reported, sizeof(j.reported), "%s",
				    state);
				vault_save(v, &j);
			}
			hc_close(&c);
		}
		free(ids[i]);
	}
	for (; i < n; i++)
		free(ids[i]);
	free(ids);
}
