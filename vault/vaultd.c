/*
 * vaultd.c: `sekisho-vault run`, the vault's pipeline (R05, R11, R20, R30,
 * R41): the parent, main's start-up and loop, the job's state machine and
 * retention. Taking uploads is pull.c; processing, process.c; approvals,
 * publishing and withdrawal, publish.c; the keys and trust loaded at
 * start-up, trust.c.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "approve.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "sk.h"
#include "tls.h"
#include "util.h"
#include "backup.h"
#include "roster.h"
#include "vaultd.h"

#define VAULT_STOP_GRACE_S 25		/* under the unit's TimeoutStopSec */

int
vault_audit(struct vault *v, const char *event, const char *object, int has_size,
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

/* data/status: the vault's own state for `sekisho-vault status`, written
 * whole (tmp, rename) when it changes. */
static void
status_write(struct vault *v, const struct audit_health *h)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], body[512], since[32], now[32];
	struct json j;
	int fd, n, ok;

	if (snprintf(path, sizeof(path), "%s/status", v->local.data_dir) >=
	    (int)sizeof(path))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (sk_time_format((int64_t)time(NULL), now, sizeof(now)) != 0 ||
	    sk_time_format(h->since, since, sizeof(since)) != 0)
		return;
	json_begin(&j, body, sizeof(body));
	json_str(&j, "updated", now);
	json_str(&j, "audit", h->broken ? "unwritable" : "writable");
	if (h->broken) {
		json_str(&j, "since", since);
		json_str(&j, "error", strerror(h->error));
		json_u64(&j, "entries_not_written", h->lost);
	}
	json_u64(&j, "audit_reserve", h->reserve);
	json_bool(&j, "audit_reserve_short", h->reserve_short);
	if ((n = json_end(&j)) < 0)
		return;
	body[n++] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	ok = fd != -1 && util_write_all(fd, body, (size_t)n) == 0 &&
	    fsync(fd) == 0;
	if (fd != -1 && close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		log_warnx("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

int
vault_audit_paused(struct vault *v)
{
	struct audit_health h;

	audit_health(v->audit, &h);
	if (h.broken && !v->audit_paused)
		log_errorx("the audit log %s cannot be written (%s): taking, "
		    "processing, approving and publishing stop until it can "
		    "(R50)", v->local.audit_log, strerror(h.error));
	else if (!h.broken && v->audit_paused)
		log_info("the audit log can be written again: work resumes");
	if (h.broken != v->audit_paused) {
		v->audit_paused = h.broken;
		status_write(v, &h);
	}
	return h.broken;
}

/* v->tls is swapped for a renewed pair by main while the long-poll
 * thread may be connecting: each connection takes its own reference. */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

int
vault_connect(struct vault *v, const struct config_host *h, struct hc_conn *c,
    char *why, size_t whycap)
{
	SSL_CTX *ctx;
	int r;

	pthread_mutex_lock(&tls_lock);
	ctx = v->tls;
	if (ctx != NULL && SSL_CTX_up_ref(ctx) != 1)
		ctx = NULL;
	pthread_mutex_unlock(&tls_lock);
	if (ctx == NULL) {
		snprintf(why, whycap, "no TLS context");
		return SK_ECRYPTO;
	}
	r = hc_open(ctx, h->internal.address, h->internal.port,
	    h->identity, NET_TIMEOUT, c, why, whycap);
	SSL_CTX_free(ctx);	/* a connection holds its own */
	return r;
}

/*
 * A renewed pair that the watch has checked (it matches, is in date,
 * chains to the internal CA and names this vault): a new context with it
 * for the connections that start after; those in progress keep the old.
 */
static void
take_pair(struct vault *v)
{
	char why[512], desc[160], sha[65];
	struct tls_cred *c = NULL;
	SSL_CTX *ctx = NULL, *old;

	if (tls_cred_parse(v->cred.cert, v->cred.cert_len, v->cred.key,
	    v->cred.key_len, NULL, v->cred.identity, &c, why,
	    sizeof(why)) != 0 ||
	    tls_client_new(v->local.certificate, v->local.key,
	    v->site->receiver.internal.ca_file, &ctx, why, sizeof(why)) != 0 ||
	    tls_ctx_set_cred(ctx, c) != 0) {
		if (ctx != NULL)
			snprintf(why, sizeof(why), "it cannot be set on a new "
			    "TLS context");
		log_errorx("the renewed certificate is refused (%s); the pair "
		    "in use stays", why);
		SSL_CTX_free(ctx);
		tls_cred_free(c);
		return;
	}
	tls_cred_describe(c, desc, sizeof(desc), sha);
	tls_cred_free(c);
	pthread_mutex_lock(&tls_lock);
	old = v->tls;
	v->tls = ctx;
	pthread_mutex_unlock(&tls_lock);
	SSL_CTX_free(old);
	log_info("the renewed certificate (%s) is in use for the next "
	    "connections to the receiver and the sender", desc);
}

/* A new municipalities' CRL that the watch has checked: the engines that
 * start after check signed uploads against it. */
static void
take_muni_crl(struct vault *v)
{
	char *pem = NULL;
	size_t len = 0;
	int e;

	if ((e = daemon_crl_watch_pem(&v->muni_crl_watch, &pem, &len)) != 0 ||
	    len == 0) {
		log_errorx("the municipalities' new CRL cannot be read (%s); "
		    "the CRL in use stays", sk_strerror(e != 0 ? e : SK_EINVAL));
		free(pem);
		return;
	}
	free(v->muni_crl);
	v->muni_crl = (uint8_t *)pem;
	v->muni_crllen = len;
}

/*
 * Every DAEMON_RELOAD_POLL_MS, at once after SIGHUP: the host's pair, the
 * municipalities' CRL, the policies and the roster, if changed on disk,
 * are checked, recorded and taken. The rest of the site is taken at a
 * restart.
 */
static void
reload_tick(struct vault *v)
{
	int now = daemon_reload != 0;

	if (!now && util_now_ms() < v->reload_next_ms)
		return;
	if (now) {
		log_info("SIGHUP: looking for a renewed certificate, a new "
		    "municipalities' CRL, changed policies and a changed "
		    "roster now; the rest of the site is taken at a restart");
		daemon_reload = 0;
	}
	v->reload_next_ms = util_now_ms() + DAEMON_RELOAD_POLL_MS;
	/* A site without a municipalities' CRL: nothing is ever new. */
	if (daemon_crl_watch_refresh(&v->muni_crl_watch, v->audit) == 1)
		take_muni_crl(v);
	if (daemon_cred_watch_refresh(&v->cred, v->audit, now) == 1)
		take_pair(v);
	vault_policies_refresh(v, -1);
	vault_roster_refresh(v);
	daemon_store_warn_ends(NULL, 0, &v->cred, v->local.expiry_warn_days);
}

/* Saves a job under the lock. */
int
vault_save(struct vault *v, struct job *j)
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

void
vault_set_state(struct vault *v, struct job *j, enum job_state s, const char *why)
{
	char detail[200];

	j->state = s;
	if (why != NULL)
		snprintf(j->reason, sizeof(j->reason), "%s", why);
	if (vault_save(v, j) != 0)
		return;
	snprintf(detail, sizeof(detail), "state=%s%s%s dataset=%s",
	    job_state_name(s), why ? " reason=" : "", why ? why : "",
	    j->dataset);
	vault_audit(v, "job.state", j->id, 0, 0, NULL, detail);
	/* A failed job is an error for journald (journalctl -p err). */
	if (s == JOB_FAILED)
		log_errorx("job %s: %s%s%s", j->id, job_state_name(s),
		    why ? ": " : "", why ? why : "");
	else
		log_info("job %s: %s%s%s", j->id, job_state_name(s),
		    why ? ": " : "", why ? why : "");
}

/*
 * A failed disposal is not recorded as done: the caller marks nothing, it
 * is tried again next round, and the failure is recorded (at most once an
 * hour per object, in the log at most once a minute).
 */
static struct {
	char id[JOB_ID_MAX];
	const char *what;
	int64_t audited, logged;
} dispose_failures[32];

static void
dispose_failed(struct vault *v, const char *id, const char *what, int e)
{
	int64_t now = (int64_t)time(NULL);
	char detail[160];
	size_t i, k = 0;

	for (i = 0; i < SK_ARRAY_LEN(dispose_failures); i++) {
		if (strcmp(dispose_failures[i].id, id) == 0 &&
		    dispose_failures[i].what == what)
			break;
		if (dispose_failures[i].audited < dispose_failures[k].audited)
			k = i;
	}
	if (i == SK_ARRAY_LEN(dispose_failures)) {
		i = k;
		snprintf(dispose_failures[i].id, sizeof(dispose_failures[i].id),
		    "%s", id);
		dispose_failures[i].what = what;
		dispose_failures[i].audited = dispose_failures[i].logged = 0;
	}
	if (now - dispose_failures[i].logged >= 60) {
		log_errorx("%s %s: cannot be disposed of: %s%s%s; trying again",
		    what, id, sk_strerror(e), e == SK_ESYS ? ": " : "",
		    e == SK_ESYS ? strerror(errno) : "");
		dispose_failures[i].logged = now;
	}
	if (now - dispose_failures[i].audited >= 3600) {
		snprintf(detail, sizeof(detail), "%s error=%s", what,
		    e == SK_ESYS ? strerror(errno) : sk_strerror(e));
		vault_audit(v, "object.dispose_failed", id, 0, 0, NULL, detail);
		dispose_failures[i].audited = now;
	}
}

/* Disposes of one sealed object and records it after it is done (R13,
 * R20, R33): 0, or the error (recorded; nothing is marked disposed). */
int
vault_dispose(struct vault *v, int dirfd, const char *id, const char *what,
    const char *why)
{
	struct seal_disposal dd = { 0 };
	char detail[128];
	int e;

	if ((e = seal_dispose(dirfd, id, &dd)) == SK_ENOTFOUND)
		return 0;	/* gone already: it does not open */
	if (e != 0) {
		dispose_failed(v, id, what, e);
		return e;
	}
	snprintf(detail, sizeof(detail), "%s reason=%s key_destroyed=%d "
	    "file_bytes=%" PRIu64, what, why, dd.key_destroyed, dd.file_bytes);
	vault_audit(v, "object.disposed", id, 0, 0, NULL, detail);
	return 0;
}

static int
decided(enum job_state s)
{
	return s == JOB_APPROVED || s == JOB_PUBLISHED || s == JOB_REJECTED ||
	    s == JOB_FAILED || s == JOB_WITHDRAWN || s == JOB_WITHDRAWING ||
	    s == JOB_EXPIRED || s == JOB_REPLACED;
}

/*
 * R20: a job not decided within the dataset's retention_days of its
 * receipt expires; the source goes once the job is decided (after
 * keep_source_days, if the dataset keeps it for corrections); a release
 * that will never be published, or no longer is, goes too.
 */
static void
retention(struct vault *v, struct job *j, int64_t now)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	unsigned keep = ds != NULL ? ds->keep_source_days : 0;
	int64_t at;
	char why[96];

	if (!decided(j->state) && ds != NULL && ds->retention_days > 0 &&
	    now >= j->received + (int64_t)ds->retention_days * 86400) {
		snprintf(why, sizeof(why), "not decided within %u days of "
		    "its receipt", ds->retention_days);
		if (vault_audit(v, "job.expired", j->id, 0, 0, NULL, why) != 0)
			return;
		j->decided = now;
		vault_set_state(v, j, JOB_EXPIRED, why);
	}
	at = j->decided != 0 ? j->decided : j->updated;
	if (!j->source_disposed && decided(j->state) &&
	    now >= at + (int64_t)keep * 86400 &&
	    vault_dispose(v, v->sources_fd, j->id, "source", keep ?
	    "kept_days_after_decision" : "decided") == 0) {
		j->source_disposed = 1;
		vault_save(v, j);
	}
	if ((j->state == JOB_REJECTED || j->state == JOB_FAILED ||
	    j->state == JOB_WITHDRAWN || j->state == JOB_EXPIRED ||
	    j->state == JOB_REPLACED ||
	    (j->state == JOB_PUBLISHED && j->expires != 0 &&
	    now >= j->expires)) &&
	    faccessat(v->releases_fd, j->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		vault_dispose(v, v->releases_fd, j->id, "release",
		    job_state_name(j->state));
	/* The days the city's disposal notice gives (R45): the vault's last
	 * copy, and the sender's (it disposes at the expiry on its own). */
	if (j->vault_gone == 0 && j->source_disposed && decided(j->state) &&
	    faccessat(v->releases_fd, j->id, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		j->vault_gone = now;
		if (j->sender_gone == 0 && j->state == JOB_PUBLISHED &&
		    j->expires != 0 && now >= j->expires)
			j->sender_gone = j->expires;
		vault_save(v, j);
	}
}

/* ---- the job's state machine: one step per state ---- */

static void
step_process(struct vault *v, struct job *j, int64_t now)
{
	(void)now;
	vault_process(v, j);
}

static void
step_publish(struct vault *v, struct job *j, int64_t now)
{
	char why[256];
	int e;

	if (now < v->next_send)
		return;
	if ((e = vault_publish(v, j, why, sizeof(why))) == 0) {
		v->send_backoff = 0;
		vault_set_state(v, j, JOB_PUBLISHED, NULL);
	} else if (e == SK_EAUDIT)
		log_warnx("release %s: %s; published again (the same id) once "
		    "it can be recorded", j->id, why);
	else if (e == SK_EEXIST || e == SK_ECONFIG || e == SK_EAUTH)
		vault_set_state(v, j, JOB_FAILED, why);
	else
		vault_sender_trouble(v, j->id, why);
}

/* Awaiting: the signatures are counted; approved, it is published in this
 * same round. */
static void
step_awaiting(struct vault *v, struct job *j, int64_t now)
{
	vault_decide(v, j);
	if (j->state == JOB_APPROVED)
		step_publish(v, j, now);
}

/* Published: withdrawn once enough operators have signed its withdrawal. */
static void
step_published(struct vault *v, struct job *j, int64_t now)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	char why[256], ops[256];
	unsigned n, bad;

	if (ds != NULL && approval_count(v->jobs_fd, v->site, v->op_keys, j,
	    "withdraw", now, &n, &bad, ops, sizeof(ops), NULL, 0) == 0 &&
	    n >= ds->approvals) {
		snprintf(why, sizeof(why), "operators=%.200s", ops);
		if (vault_audit(v, "release.withdrawal_approved", j->id, 0, 0,
		    j->out_sha256, why) != 0)
			return;		/* R50: decided once it is recorded */
		vault_set_state(v, j, JOB_WITHDRAWING, NULL);
	}
}

static void
step_withdrawing(struct vault *v, struct job *j, int64_t now)
{
	char why[256];

	if (now < v->next_send)
		return;
	if (vault_withdraw_at_sender(v, j, why, sizeof(why)) == 0) {
		v->send_backoff = 0;
		vault_audit(v, "release.withdrawn", j->id, 0, 0, j->out_sha256,
		    NULL);
		j->sender_gone = now;
		vault_set_state(v, j, JOB_WITHDRAWN, NULL);
	} else
		vault_sender_trouble(v, j->id, why);
}

/* The states with work to do; the others (rejected, failed, withdrawn)
 * only wait for retention. */
static const struct {
	enum job_state state;
	void (*step)(struct vault *, struct job *, int64_t);
} steps[] = {
	{ JOB_RECEIVED, step_process },
	{ JOB_PROCESSING, step_process },	/* again, after a crash */
	{ JOB_AWAITING, step_awaiting },
	{ JOB_APPROVED, step_publish },
	{ JOB_PUBLISHED, step_published },
	{ JOB_WITHDRAWING, step_withdrawing },
};

static void
advance(struct vault *v, const char *id)
{
	int64_t now = (int64_t)time(NULL);
	struct job j;
	size_t i;

	if (job_load(v->jobs_fd, id, &j) != 0)
		return;
	for (i = 0; i < SK_ARRAY_LEN(steps); i++)
		if (steps[i].state == j.state) {
			steps[i].step(v, &j, now);
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
		if (!v->stop && !vault_audit_paused(v))
			advance(v, ids[i]);
		free(ids[i]);
	}
	free(ids);
}

void
vault_open(struct vault *v, int for_daemon)
{
	unsigned removed = 0;

	if (for_daemon) {
		vault_backup_open(v);
		daemon_open_storage("sekisho-vault", VAULT_VERSION, &v->local,
		    v->site, &v->master, &v->tmp_fd, &removed, &v->audit);
	}
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
	vault_roster_watch(v);
	daemon_drop(&v->local, &layers);
	proc_die_with_parent();
	/* As the vault's user, who must be able to read them to renew in
	 * place (the sandbox lets main read their folders). */
	daemon_cred_watch_init(&v->cred, v->local.certificate, v->local.key,
	    v->site->receiver.internal.ca_file);
	v->cred.offered_to = "taken for the next connections to the "
	    "receiver and the sender";
	daemon_crl_watch_init(&v->muni_crl_watch, "municipalities",
	    v->site->receiver.external.ca_file,
	    v->site->receiver.external.crl_file);
	v->muni_crl_watch.key = "crl";
	v->muni_crl_watch.offered_to = "taken for the signed uploads that "
	    "the next engines check";
	vault_open(v, 1);
	roster_record(v);
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
	struct audit_health h;
	int64_t now;
	char why[256];

	vault_start(v);
	audit_health(v->audit, &h);
	status_write(v, &h);
	vault_waiter_start(v);
	log_info("polling the receiver at %s port %u every %u s; publishing "
	    "to the sender at %s port %u", v->site->receiver.internal.address,
	    v->site->receiver.internal.port, v->local.poll_interval,
	    v->site->sender.internal.address, v->site->sender.internal.port);
	while (!v->stop) {
		reload_tick(v);
		if (vault_audit_paused(v)) {
			wait_for_work(v);
			continue;
		}
		/* A backup takes the store between two rounds. */
		vault_store_hold(v);
		vault_backup_audit(v);
		round_of_jobs(v);
		now = (int64_t)time(NULL);
		if (!v->stop && now >= v->next_poll && !vault_audit_paused(v)) {
			if (vault_poll_receiver(v, why, sizeof(why)) == 0) {
				vault_report_status(v);
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
		vault_store_release(v);
		wait_for_work(v);
	}
	vault_waiter_stop(v);
	daemon_cred_watch_free(&v->cred);
	if (v->muni_crl_watch.fd != -1)
		close(v->muni_crl_watch.fd);
	audit_append(v->audit, &ev);
	log_info("stopped");
	return 0;
}
