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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
#include "engine.h"
#include "envelope.h"
#include "hclient.h"
#include "jsonr.h"
#include "log.h"
#include "policy.h"
#include "proc.h"
#include "sk.h"
#include "util.h"

#define VAULT_VERSION "0.1.0"
#define LIST_MAX (16u << 20)		/* a listing from the receiver */
#define IO_BUF (64u << 10)
#define BACKOFF_MAX 300			/* seconds */
#define NET_TIMEOUT 30			/* seconds without a byte */
#define LONGPOLL_S 20			/* under NET_TIMEOUT */
#define VAULT_STOP_GRACE_S 25		/* under the unit's TimeoutStopSec */

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

/* Sleeps s seconds, or less if the vault stops. */
static void
pause_for(struct vault *v, unsigned s)
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

	snprintf(target, sizeof(target), "/v1/pending?wait=%d", LONGPOLL_S);
	while (!v->stop) {
		body = NULL;
		if ((e = connect_to(v, &v->site->receiver, &c, why,
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
			pause_for(v, backoff);
			backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
		} else if (strstr(body, "\"pending\":[]") == NULL) {
			backoff = 1;
			if (write(v->wake[1], "u", 1) < 0 && errno != EAGAIN)
				log_warnx("cannot wake the loop: %s",
				    strerror(errno));
			pause_for(v, 1);	/* the loop takes them */
		} else
			backoff = 1;
		free(body);
	}
	return NULL;
}

static void
waiter_start(struct vault *v)
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

static void
waiter_stop(struct vault *v)
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

/* ---- processing ---- */

/* Feeds a sealed object's bytes to a pipe (the engine's or the
 * checker's input), and closes it at the end or when the reader left. */
struct feed {
	int fd;
	struct seal_reader *rd;
};

static void *
feeder(void *arg)
{
	struct feed *f = arg;
	const uint8_t *p;
	size_t n;

	while (seal_reader_peek(f->rd, &p, IO_BUF, &n) == 0 && n > 0)
		if (util_write_all(f->fd, p, n) != 0)
			break;
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

/* What the engine's and the checker's conversations end with. */
struct part_end {
	pid_t pid;
	int chan;
	char status[96];	/* how the process ended */
};

static void
part_finish(struct vault *v, struct part_end *pe)
{
	int st;

	if (pe->chan != -1)
		close(pe->chan);
	pe->chan = -1;
	engine_reaped(v->spawner, pe->pid, &st);
	engine_status_text(st, pe->status, sizeof(pe->status));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_warnx("pid %ld ended abnormally: %s", (long)pe->pid,
		    pe->status);
}

/* Hands the engine its job: the envelope pair only if it needs it. */
static int
engine_send_job(struct vault *v, int chan, const struct config_dataset *ds,
    const struct config_municipality *m, const struct job *j, int in,
    int out)
{
	struct proc_msg msg;
	uint32_t flags = (ds->envelope ? ENGINE_ENVELOPE : 0) |
	    (ds->envelope && ds->signed_by_muni ? ENGINE_SIGNED : 0);
	int e;

	proc_msg_init(&msg, VMSG_JOB);
	proc_put_u32(&msg, flags);
	proc_put_str(&msg, m->identity);
	proc_put_bytes(&msg, v->env_cert, ds->envelope ? v->env_certlen : 0);
	proc_put_bytes(&msg, v->env_key, ds->envelope ? v->env_keylen : 0);
	proc_put_bytes(&msg, v->muni_ca, (flags & ENGINE_SIGNED) ?
	    v->muni_calen : 0);
	proc_put_bytes(&msg, v->muni_crl, (flags & ENGINE_SIGNED) ?
	    v->muni_crllen : 0);
	proc_put_u64(&msg, j->size);
	e = proc_send(chan, &msg, in);
	proc_msg_free(&msg);
	if (e == 0) {
		proc_msg_init(&msg, VMSG_OUTPUT);
		e = proc_send(chan, &msg, out);
		proc_msg_free(&msg);
	}
	return e;
}

/*
 * The engine's answers: OPENED (envelopes), then DONE. Returns the
 * outcome, with why and the report (malloc'd) filled; a channel that ends
 * first, or a message out of place, is ENGINE_FAILED.
 */
static enum engine_outcome
engine_answer(struct vault *v, int chan, struct job *j,
    const struct config_dataset *ds, char **report, char *why, size_t whycap)
{
	int envelope = ds->envelope;
	struct proc_msg m;
	uint64_t plainlen;
	uint32_t outcome;
	int opened = 0;

	*report = NULL;
	for (;;) {
		if (proc_recv(chan, &m) != 0) {
			snprintf(why, whycap, "the engine ended without an "
			    "answer");
			return ENGINE_FAILED;
		}
		if (m.type == VMSG_OPENED && envelope && !opened &&
		    proc_get_u64(&m, &plainlen) == 0 && proc_end(&m) == 0 &&
		    m.fd == -1) {
			opened = 1;
			proc_msg_free(&m);
			vaudit(v, "upload.opened", j->id, 1, plainlen, NULL,
			    ds->signed_by_muni ? "envelope decrypted, "
			    "municipality's signature verified" :
			    "envelope decrypted");
			continue;
		}
		break;
	}
	if (m.type != VMSG_DONE || m.fd != -1 ||
	    (*report = malloc(ENGINE_REPORT_MAX)) == NULL ||
	    proc_get_u32(&m, &outcome) != 0 ||
	    proc_get_str(&m, why, whycap) != 0 ||
	    proc_get_str(&m, *report, ENGINE_REPORT_MAX) != 0 ||
	    proc_end(&m) != 0 || outcome > ENGINE_FAILED ||
	    (outcome == ENGINE_MADE && (*report)[0] == '\0') ||
	    (outcome == ENGINE_REJECTED && !envelope) ||
	    (outcome == ENGINE_MADE && envelope && !opened)) {
		proc_msg_free(&m);
		free(*report);
		*report = NULL;
		snprintf(why, whycap, "the engine answered out of turn");
		return ENGINE_FAILED;
	}
	proc_msg_free(&m);
	return (enum engine_outcome)outcome;
}

static int
pipes(int in[2], int out[2])
{
	if (pipe2(in, O_CLOEXEC) != 0)
		return SK_ESYS;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return SK_ESYS;
	}
	return 0;
}

/*
 * Runs the engine, a process of its own, from the sealed source into a
 * sealed release: main feeds the source's bytes to one pipe and seals what
 * comes back on the other; the plaintext of an envelope exists only inside
 * the engine. Returns the outcome; why says what went wrong.
 */
static enum engine_outcome
run_engine(struct vault *v, struct job *j, const struct config_dataset *ds,
    const struct config_municipality *m, struct seal_reader *rd,
    char **report, char *why, size_t whycap)
{
	struct feed f = { .rd = rd };
	struct collect c = { 0 };
	struct part_end pe = { .chan = -1 };
	struct seal_disposal dd;
	enum engine_outcome oc;
	pthread_t ft, ct;
	char tmp[JOB_ID_MAX + 8], meta[128];
	int in[2], out[2], e;
	uint8_t d[32];
	unsigned dl = 0;

	*report = NULL;
	snprintf(tmp, sizeof(tmp), "rel.%s", j->id);
	if (pipes(in, out) != 0) {
		snprintf(why, whycap, "cannot make the engine's pipes");
		return ENGINE_FAILED;
	}
	if ((c.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) != 1 ||
	    seal_writer_open(&v->master, v->tmp_fd, tmp, 0, &c.w) != 0 ||
	    engine_spawn(v->spawner, "engine", ds->policy, &pe.chan, &pe.pid,
	    why, whycap) != 0) {
		EVP_MD_CTX_free(c.md);
		seal_writer_free(c.w);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		snprintf(why, whycap, "cannot start the engine");
		return ENGINE_FAILED;
	}
	e = engine_send_job(v, pe.chan, ds, m, j, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	f.fd = in[1];
	c.fd = out[0];
	pthread_create(&ft, NULL, feeder, &f);
	pthread_create(&ct, NULL, collector, &c);
	if (e != 0) {
		snprintf(why, whycap, "cannot hand the job to the engine");
		oc = ENGINE_FAILED;
	} else
		oc = engine_answer(v, pe.chan, j, ds, report, why, whycap);
	/* The engine has closed its ends, or is gone: both threads end. */
	part_finish(v, &pe);
	pthread_join(ft, NULL);
	pthread_join(ct, NULL);
	if (oc == ENGINE_FAILED && strcmp(why, "the engine ended without an "
	    "answer") == 0)
		snprintf(why, whycap, "the engine ended without an answer (%s)",
		    pe.status);
	if (oc == ENGINE_MADE && c.err != 0) {
		snprintf(why, whycap, "cannot store the release: %s",
		    sk_strerror(c.err));
		oc = ENGINE_FAILED;
	}
	if (oc == ENGINE_MADE) {
		EVP_DigestFinal_ex(c.md, d, &dl);
		sk_hex(d, 32, j->out_sha256);
		j->out_size = c.n;
		snprintf(meta, sizeof(meta), "{\"job\":\"%s\"}", j->id);
		if (seal_writer_finish(c.w, meta, strlen(meta)) != 0 ||
		    (faccessat(v->releases_fd, j->id, F_OK,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    seal_dispose(v->releases_fd, j->id, &dd) != 0) ||
		    seal_writer_commit(c.w, v->tmp_fd, v->releases_fd,
		    j->id) != 0) {
			snprintf(why, whycap, "cannot store the release");
			oc = ENGINE_FAILED;
		}
	}
	EVP_MD_CTX_free(c.md);
	seal_writer_free(c.w);
	if (oc != ENGINE_MADE) {
		free(*report);
		*report = NULL;
	}
	return oc;
}

/*
 * The checker, another process, re-reads the stored release with the
 * policy and the report (check.h). Returns 0 when it holds; else why says
 * what the checker refused, or why it could not answer.
 */
static int
run_checker(struct vault *v, struct job *j, const struct config_dataset *ds,
    const char *report, char *why, size_t whycap)
{
	struct part_end pe = { .chan = -1 };
	struct seal_reader *rd = NULL;
	struct feed f = { 0 };
	struct proc_msg m;
	pthread_t ft;
	uint32_t verdict = 1;
	char said[192];
	int p[2], e;

	if (seal_reader_open(&v->master, v->releases_fd, j->id, &rd) != 0 ||
	    pipe2(p, O_CLOEXEC) != 0) {
		seal_reader_free(rd);
		snprintf(why, whycap, "cannot read the release back");
		return SK_ESYS;
	}
	if (engine_spawn(v->spawner, "checker", ds->policy, &pe.chan, &pe.pid,
	    why, whycap) != 0) {
		close(p[0]);
		close(p[1]);
		seal_reader_free(rd);
		return SK_ESYS;
	}
	proc_msg_init(&m, VMSG_CHECK);
	proc_put_str(&m, report);
	e = proc_send(pe.chan, &m, p[0]);
	proc_msg_free(&m);
	close(p[0]);
	f.fd = p[1];
	f.rd = rd;
	pthread_create(&ft, NULL, feeder, &f);
	said[0] = '\0';
	if (e == 0 && (e = proc_recv(pe.chan, &m)) == 0) {
		if (m.type != VMSG_CHECKED || m.fd != -1 ||
		    proc_get_u32(&m, &verdict) != 0 ||
		    proc_get_str(&m, said, sizeof(said)) != 0 ||
		    proc_end(&m) != 0 || verdict > 1)
			e = SK_EFORMAT;
		proc_msg_free(&m);
	}
	part_finish(v, &pe);
	pthread_join(ft, NULL);
	seal_reader_free(rd);
	if (e != 0) {
		snprintf(why, whycap, "the checker gave no verdict (%s)",
		    pe.status);
		return SK_EFORMAT;
	}
	if (verdict != 0) {
		snprintf(why, whycap, "the checker refused the release: %s",
		    said);
		return SK_EAUTH;
	}
	return 0;
}

static void
process(struct vault *v, struct job *j)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	const struct config_municipality *m = NULL;
	struct seal_reader *rd = NULL;
	struct seal_disposal dd;
	enum engine_outcome oc;
	char why[256], *report = NULL;
	uint64_t t0, t1;
	size_t i;
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
	if (v->policies[ds - v->site->datasets] == NULL) {
		set_state(v, j, JOB_FAILED, "the dataset has no policy");
		return;
	}
	if ((e = seal_reader_open(&v->master, v->sources_fd, j->id, &rd)) != 0) {
		snprintf(why, sizeof(why), "the sealed source cannot be read: "
		    "%s", sk_strerror(e));
		set_state(v, j, JOB_FAILED, why);
		return;
	}
	why[0] = '\0';
	t0 = util_now_ms();
	oc = run_engine(v, j, ds, m, rd, &report, why, sizeof(why));
	t1 = util_now_ms();
	seal_reader_free(rd);
	/* Stopped in the middle: the job stays in processing, and runs
	 * again from the sealed source at the next start. */
	if (oc != ENGINE_MADE && v->stop) {
		free(report);
		return;
	}
	if (oc == ENGINE_REJECTED) {
		set_state(v, j, JOB_REJECTED, why);
		return;
	}
	if (oc == ENGINE_MADE && (e = run_checker(v, j, ds, report, why,
	    sizeof(why))) == 0)
		log_info("job %s: engine %llu ms, checker %llu ms", j->id,
		    (unsigned long long)(t1 - t0),
		    (unsigned long long)(util_now_ms() - t1));
	else if (oc == ENGINE_MADE) {
		seal_dispose(v->releases_fd, j->id, &dd);
		vaudit(v, "release.refused", j->id, 1, j->out_size,
		    j->out_sha256, why);
		oc = ENGINE_FAILED;
	}
	if (oc == ENGINE_MADE)
		vaudit(v, "release.checked", j->id, 1, j->out_size,
		    j->out_sha256, "checker: columns, k, l, scan and counts "
		    "hold");
	if (oc == ENGINE_MADE && write_report(v, j->id, report,
	    j->report_sha256) != 0) {
		snprintf(why, sizeof(why), "cannot store the report");
		oc = ENGINE_FAILED;
	}
	free(report);
	if (oc != ENGINE_MADE) {
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

/* A whole file into memory (at most ENGINE_PEM_MAX); secret: a key. */
static int
read_file(const char *path, int secret, uint8_t **out, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd, e = 0;

	*out = NULL;
	*len = 0;
	if (secret ? util_open_secret(path, &fd) != 0 :
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return SK_ESYS;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size > ENGINE_PEM_MAX ||
	    (*out = malloc((size_t)st.st_size)) == NULL)
		e = SK_ETOOBIG;
	else if ((n = read(fd, *out, (size_t)st.st_size)) != st.st_size)
		e = SK_ESYS;
	close(fd);
	if (e != 0) {
		if (*out != NULL)
			sk_wipe(*out, (size_t)st.st_size);
		free(*out);
		*out = NULL;
		return e;
	}
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * The envelope pair: what municipalities encrypt to, kept apart from the
 * TLS pair (a TLS key can then be renewed, or lost, on its own). Needed
 * when a dataset takes envelopes; checked here to match, so that a wrong
 * key is a start-up error, not a rejected upload.
 */
static void
load_envelope_pair(struct vault *v)
{
	X509 *x;
	EVP_PKEY *k;
	size_t i;

	for (i = 0; i < v->site->ndatasets; i++)
		if (v->site->datasets[i].envelope)
			break;
	if (i == v->site->ndatasets)
		return;
	if (v->local.envelope_key[0] == '\0')
		fatalx("%s: dataset %s takes envelopes (envelope = true), so "
		    "this file needs envelope: { certificate = ...; key = ...; "
		    "}, a pair of its own apart from the TLS key (sekisho-pki "
		    "host vault makes it)", v->local.file,
		    v->site->datasets[i].id);
	if (read_file(v->local.envelope_certificate, 0, &v->env_cert,
	    &v->env_certlen) != 0)
		fatalx("%s: cannot read the envelope certificate %s",
		    v->local.file, v->local.envelope_certificate);
	if (read_file(v->local.envelope_key, 1, &v->env_key,
	    &v->env_keylen) != 0)
		fatalx("%s: cannot read the envelope key %s (it must be a "
		    "file of its owner alone)", v->local.file,
		    v->local.envelope_key);
	if (envelope_pair_pem(v->env_cert, v->env_certlen, v->env_key,
	    v->env_keylen, &x, &k) != 0)
		fatalx("%s: the envelope key %s does not load or does not "
		    "match its certificate %s", v->local.file,
		    v->local.envelope_key, v->local.envelope_certificate);
	X509_free(x);
	EVP_PKEY_free(k);
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
	if (read_file(muni->ca_file, 0, &v->muni_ca, &v->muni_calen) != 0 ||
	    (muni->crl_file[0] != '\0' && read_file(muni->crl_file, 0,
	    &v->muni_crl, &v->muni_crllen) != 0))
		fatalx("cannot read the municipalities' CA %s or its CRL",
		    muni->ca_file);
	load_envelope_pair(v);
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
	if (v->env_key != NULL)
		sk_wipe(v->env_key, v->env_keylen);
	free(v->env_key);
	free(v->env_cert);
	free(v->muni_ca);
	free(v->muni_crl);
	v->env_key = v->env_cert = v->muni_ca = v->muni_crl = NULL;
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

/* Sleeps a round (1 s) unless an approvals file is written first, or the
 * long-poll says an upload is waiting (then the next poll is now). */
static void
wait_for_work(struct vault *v)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	struct pollfd pfd[2] = { { .fd = v->watch_fd, .events = POLLIN },
		{ .fd = v->waiting ? v->wake[0] : -1, .events = POLLIN } };
	const struct inotify_event *ev;
	int64_t until = (int64_t)util_now_ms() + 1000, left;
	ssize_t n, off;
	char drain[16];

	/* A descriptor of -1 is left out by poll; without either, poll
	 * only sleeps, and TERM interrupts it. */
	while (!v->stop && (left = until - (int64_t)util_now_ms()) > 0) {
		if (poll(pfd, 2, (int)left) <= 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			while (read(v->wake[0], drain, sizeof(drain)) > 0)
				;
			v->next_poll = 0;
			return;
		}
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
 * Start-up of main, which the parent started as root: the TLS key, the
 * policies (with the tables they name), the operators' public keys, the
 * recipients' certificates, the envelope pair and the municipalities' CA
 * and CRL for the engines; then the vault's user opens its data, and the
 * sandbox closes everything else, for good. (The firewall was checked by
 * the parent.)
 */
static void
vault_start(struct vault *v)
{
	struct sandbox_layers layers = { 0 };
	char why[512];

	v->spawner = PROC_CHILD_FD;
	if (tls_client_new(v->local.certificate, v->local.key,
	    v->site->receiver.internal.ca_file, &v->tls, why,
	    sizeof(why)) != 0)
		fatalx("TLS: %s", why);
	vault_load_policies(v);
	vault_load_trust(v);
	daemon_drop(&v->local, &layers);
	proc_die_with_parent();
	vault_open(v, 1);
	watch_approvals(v);
	daemon_sandbox(&v->local, v->site, SANDBOX_ALONE, &layers);
}

int
vault_parent(const char *conf, struct vault *v)
{
	struct proc_child kids[2] = { { .name = "main" },
		{ .name = "spawner" } };
	char self[4096];
	int sp[2];

	/* Nothing that whoever started us left open comes along. */
	if (close_range(3, ~0u, 0) != 0)
		fatalx("close_range: %s", strerror(errno));
	log_init("sekisho-vault", v->local.use_syslog,
	    (enum log_level)v->local.log_level);
	if (v->local.require_firewall)
		daemon_require_firewall(&v->local);
	if (proc_self_path(self, sizeof(self)) != 0)
		fatalx("cannot find this program: %s", strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fatalx("socketpair: %s", strerror(errno));
	daemon_parent_signals();
	kids[0].pid = daemon_spawn("sekisho-vault", self, conf, "main",
	    &sp[0], 1);
	kids[1].pid = daemon_spawn("sekisho-vault", self, conf, "spawner",
	    &sp[1], 1);
	close(sp[0]);
	close(sp[1]);
	return daemon_parent_wait(&v->local, v->site, kids, 2,
	    VAULT_STOP_GRACE_S);
}

int
vault_run(struct vault *v)
{
	struct audit_event ev = { .event = "vault.stop", .actor = "system" };
	int64_t now;
	char why[256];

	vault_start(v);
	waiter_start(v);
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
	waiter_stop(v);
	audit_append(v->audit, &ev);
	log_info("stopped");
	return 0;
}
