/*
 * process.c: a job's processing (R06, R07, R17). The engine, a process of
 * its own per job (engine.c), runs from the sealed source into a sealed
 * release, fed and collected through two pipes; the checker, another
 * process, re-reads the release before it may await approval. The
 * plaintext of an envelope exists only inside the engine.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anon.h"
#include "codebook.h"
#include "daemon.h"
#include "engine.h"
#include "jsonr.h"
#include "log.h"
#include "report_html.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

/* ---- processing ---- */

/* Feeds a sealed object's bytes to a pipe (the engine's or the
 * checker's input), and closes it at the end or when the reader left. */
struct feed {
	int fd;
	struct seal_reader *rd;
	const char *job;	/* the engine's: log progress of a long job */
	uint64_t total;		/* the upload's size */
};

#define PROGRESS_MS 5000	/* a long job's progress, this often */

static void *
feeder(void *arg)
{
	struct feed *f = arg;
	uint64_t sent = 0, t0 = util_now_ms(), last = t0, now;
	const uint8_t *p;
	size_t n;

	while (seal_reader_peek(f->rd, &p, IO_BUF, &n) == 0 && n > 0) {
		if (util_write_all(f->fd, p, n) != 0)
			break;
		sent += n;
		/* The engine reads as fast as it works: what it has taken
		 * is how far the job is (issue 20). */
		if (f->job != NULL && (now = util_now_ms()) - last >=
		    PROGRESS_MS) {
			double mbs = (double)sent / 1e6 / ((double)(now - t0) /
			    1e3);

			last = now;
			if (f->total > sent && mbs > 0)
				log_info("job %s: %" PRIu64 " of %" PRIu64 " MB "
				    "read by the engine (%d%%), %.1f MB/s, about "
				    "%.0f s to go", f->job, sent / 1000000,
				    f->total / 1000000, (int)(sent * 100 /
				    f->total), mbs, (double)(f->total - sent) /
				    1e6 / mbs);
			else
				log_info("job %s: %" PRIu64 " MB read by the "
				    "engine, %.1f MB/s", f->job, sent / 1000000,
				    mbs);
		}
	}
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


/*
 * The report (ID.json) and, beside it, the page an operator would rather
 * read (ID.html, report_html.h): the same figures, no personal data.
 */
static int
write_report(struct vault *v, const char *id, const char *report, char *hex)
{
	char name[JOB_ID_MAX + 8], *text, *html = NULL;
	size_t len = strlen(report);
	uint8_t d[32];
	unsigned dl = 0;
	int e;

	if ((text = malloc(len + 2)) == NULL)
		return SK_ENOMEM;
	memcpy(text, report, len);
	memcpy(text + len, "\n", 2);
	snprintf(name, sizeof(name), "%s.json", id);
	e = util_write_at(v->reports_fd, name, text, len + 1);
	free(text);
	if (e != 0)
		return e;
	snprintf(name, sizeof(name), "%s.html", id);
	if (report_html(report, len, id, &html) != 0 ||
	    util_write_at(v->reports_fd, name, html, strlen(html)) != 0)
		log_warnx("job %s: the report's HTML page was not written "
		    "(release show --html makes it again)", id);
	free(html);
	EVP_Digest(report, len, d, &dl, EVP_sha256(), NULL);
	sk_hex(d, 32, hex);
	return 0;
}

/*
 * The codebook of a release the vault accepts (codebook.h), made now from
 * the report the checker saw, so that the operators sign its digests
 * beside the release's and the report's, and publication sends these very
 * files: the release's id, the recipients it is for (R28: a contract in
 * force, or one still to come) and whether it goes sealed are settled
 * here, and recorded in the job. 0, or an error with why.
 */
static int
write_codebook(struct vault *v, struct job *j,
    const struct config_dataset *ds, const char *report, char *why,
    size_t whycap)
{
	const struct config_recipient *to[CONFIG_DATASETS_MAX], *rc;
	struct codebook_release cr;
	struct codebook cb;
	char name[JOB_ID_MAX + 24], ended[CONFIG_DATASETS_MAX * 66] = "";
	int64_t now = (int64_t)time(NULL);
	size_t i, nto = 0, o = 0, x = 0;
	uint8_t d[16];
	int e, sealed = 0;

	j->recipients[0] = '\0';
	for (i = 0; i < ds->nrecipients; i++) {
		if ((rc = site_find_recipient(v->site, ds->recipients[i])) ==
		    NULL)
			continue;
		if (rc->valid_until != 0 && now >= rc->valid_until) {
			x += (size_t)snprintf(ended + x, sizeof(ended) - x,
			    "%s%s", x ? "," : "", rc->id);
			continue;
		}
		to[nto++] = rc;
		sealed |= rc->envelope;
		o += (size_t)snprintf(j->recipients + o, sizeof(j->recipients) -
		    o, "%s%s", o ? "," : "", rc->id);
	}
	if (nto == 0) {
		snprintf(why, whycap, "no recipient of the dataset has a "
		    "contract in force today or to come (R28)%s%.120s",
		    x ? ": ended " : "", ended);
		return SK_ECONFIG;
	}
	for (i = 0; sealed && i < nto; i++)
		if (v->recip_certs[to[i] - v->site->recipients] == NULL) {
			snprintf(why, whycap, "a recipient takes only envelopes, "
			    "so every recipient of the dataset needs a "
			    "certificate: %s has none", to[i]->id);
			return SK_ECONFIG;
		}
	if (j->release_id[0] == '\0') {
		if (util_random(d, 16) != 0)
			fatalx("no randomness");
		sk_hex(d, 16, j->release_id);
	}
	j->sealed = sealed;
	cr = (struct codebook_release){ .job = j, .dataset = ds, .to = to,
		.nto = nto, .size = j->out_size, .cms = sealed,
		.created = now };
	if ((e = codebook_make(v->policies[ds - v->site->datasets], report,
	    &cr, &cb, why, whycap)) != 0)
		return e;
	snprintf(name, sizeof(name), "%s.%s", j->id, CODEBOOK_JSON);
	if ((e = util_write_at(v->reports_fd, name, cb.json, strlen(cb.json))) == 0) {
		snprintf(name, sizeof(name), "%s.%s", j->id, CODEBOOK_MD);
		e = util_write_at(v->reports_fd, name, cb.md, strlen(cb.md));
	}
	if (e != 0)
		snprintf(why, whycap, "cannot store the codebook");
	else {
		util_sha256_hex(cb.json, strlen(cb.json), j->datapackage_sha256);
		util_sha256_hex(cb.md, strlen(cb.md), j->codebook_sha256);
	}
	codebook_free(&cb);
	return e;
}

/*
 * The report says what becomes of the vault's copy of the source (R20):
 * disposed of when the job is decided, or kept keep_source_days after that
 * for corrections. Added by main, which decides it, to the engine's report.
 */
static int
report_add_source(char **report, const struct config_dataset *ds)
{
	char head[160], *out;
	size_t hl, rl;

	if (*report == NULL || (*report)[0] != '{')
		return SK_EFORMAT;
	if (ds->keep_source_days > 0)
		snprintf(head, sizeof(head), "{\"source_copy\":{\"disposal\":"
		    "\"kept_after_decision\",\"days\":%u},",
		    ds->keep_source_days);
	else
		snprintf(head, sizeof(head), "{\"source_copy\":{\"disposal\":"
		    "\"when_decided\",\"days\":0},");
	hl = strlen(head);
	if ((*report)[1] == '}')
		head[--hl] = '\0';	/* an empty report: no comma */
	rl = strlen(*report);
	if ((out = malloc(hl + rl)) == NULL)
		return SK_ENOMEM;
	memcpy(out, head, hl);
	memcpy(out + hl, *report + 1, rl);	/* with its NUL */
	free(*report);
	*report = out;
	return 0;
}

/*
 * A job whose privacy model could not be met: its report still goes to
 * reports/ID.json (and the page beside it), naming the quasi-identifier
 * that drives the failure, so that the operators see which column to
 * generalize (issue 20). Nothing was released; nobody signs it.
 */
static void
failed_report(struct vault *v, struct job *j, const struct config_dataset *ds,
    char **report)
{
	if (*report == NULL || report_add_source(report, ds) != 0)
		return;
	if (write_report(v, j->id, *report, j->report_sha256) != 0) {
		log_warnx("job %s: the report of the failure was not written",
		    j->id);
		j->report_sha256[0] = '\0';
	} else
		vault_audit(v, "release.failed_report", j->id, 0, 0,
		    j->report_sha256, "the privacy model was not met; the "
		    "report names the column that drives it");
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
	    (ds->envelope && ds->signed_by_muni ? ENGINE_SIGNED : 0) |
	    (!ds->my_numbers ? ENGINE_NO_MY_NUMBERS : 0);
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
 * first (*gone set: why is then the caller's to say, with how the engine
 * ended), or a message out of place, is ENGINE_FAILED.
 */
static enum engine_outcome
engine_answer(struct vault *v, int chan, struct job *j,
    const struct config_dataset *ds, char **report, int *gone, char *why,
    size_t whycap)
{
	int envelope = ds->envelope;
	struct proc_msg m;
	uint64_t plainlen;
	uint32_t outcome;
	int opened = 0;

	*report = NULL;
	for (;;) {
		if (proc_recv(chan, &m) != 0) {
			*gone = 1;
			return ENGINE_FAILED;
		}
		if (m.type == VMSG_OPENED && envelope && !opened &&
		    proc_get_u64(&m, &plainlen) == 0 && proc_end(&m) == 0 &&
		    m.fd == -1) {
			opened = 1;
			proc_msg_free(&m);
			vault_audit(v, "upload.opened", j->id, 1, plainlen, NULL,
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
	struct feed f = { .rd = rd, .job = j->id, .total = j->size };
	struct collect c = { 0 };
	struct part_end pe = { .chan = -1 };
	enum engine_outcome oc;
	pthread_t ft, ct;
	char tmp[JOB_ID_MAX + 8], meta[128];
	int in[2], out[2], e, gone = 0;
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
	    engine_spawn(v->spawner, "engine",
	    v->policies[ds - v->site->datasets], &pe.chan, &pe.pid,
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
		oc = engine_answer(v, pe.chan, j, ds, report, &gone, why,
		    whycap);
	/* The engine has closed its ends, or is gone: both threads end. */
	part_finish(v, &pe);
	pthread_join(ft, NULL);
	pthread_join(ct, NULL);
	if (gone)
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
		/* A release made before a crash is replaced, on record. */
		if (seal_writer_finish(c.w, meta, strlen(meta)) != 0 ||
		    (faccessat(v->releases_fd, j->id, F_OK,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    vault_dispose(v, v->releases_fd, j->id, "release",
		    "made_again_after_an_interruption") != 0) ||
		    seal_writer_commit(c.w, v->tmp_fd, v->releases_fd,
		    j->id) != 0) {
			snprintf(why, whycap, "cannot store the release");
			oc = ENGINE_FAILED;
		}
	}
	EVP_MD_CTX_free(c.md);
	seal_writer_free(c.w);
	/* A failure keeps its report when the engine made one (the privacy
	 * model not met: which column drives it). */
	if (oc != ENGINE_MADE && (oc != ENGINE_FAILED || *report == NULL ||
	    (*report)[0] != '{' || jsonr_valid(*report,
	    strlen(*report)) != 0)) {
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
	if (engine_spawn(v->spawner, "checker",
	    v->policies[ds - v->site->datasets], &pe.chan, &pe.pid,
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

void
vault_process(struct vault *v, struct job *j)
{
	const struct config_dataset *ds = site_find_dataset(v->site,
	    j->dataset);
	const struct config_municipality *m = NULL;
	struct seal_reader *rd = NULL;
	enum engine_outcome oc;
	char why[256], made[512], *report = NULL;
	uint64_t t0, t1;
	size_t i;
	int e, model_failed;

	if (j->state == JOB_RECEIVED)
		vault_set_state(v, j, JOB_PROCESSING, NULL);
	for (i = 0; i < v->site->nmunicipalities; i++)
		if (strcmp(v->site->municipalities[i].id, j->municipality) == 0)
			m = &v->site->municipalities[i];
	if (ds == NULL || m == NULL) {
		vault_set_state(v, j, JOB_FAILED, "the dataset or municipality is no "
		    "longer in the site configuration");
		return;
	}
	if (v->policies[ds - v->site->datasets] == NULL) {
		vault_set_state(v, j, JOB_FAILED, "the dataset has no policy");
		return;
	}
	/* A policy changed on disk is checked and taken now, not after
	 * this job: the engine and the checker get main's text. */
	vault_policies_refresh(v, (int)(ds - v->site->datasets));
	if ((e = seal_reader_open(&v->master, v->sources_fd, j->id, &rd)) != 0) {
		snprintf(why, sizeof(why), "the sealed source cannot be read: "
		    "%s", sk_strerror(e));
		vault_set_state(v, j, JOB_FAILED, why);
		return;
	}
	why[0] = '\0';
	t0 = util_now_ms();
	oc = run_engine(v, j, ds, m, rd, &report, why, sizeof(why));
	t1 = util_now_ms();
	model_failed = oc == ENGINE_FAILED && report != NULL;
	seal_reader_free(rd);
	/* Stopped in the middle: the job stays in processing, and runs
	 * again from the sealed source at the next start. */
	if (oc != ENGINE_MADE && v->stop) {
		free(report);
		return;
	}
	if (oc == ENGINE_REJECTED) {
		vault_set_state(v, j, JOB_REJECTED, why);
		return;
	}
	if (oc == ENGINE_MADE && (e = run_checker(v, j, ds, report, why,
	    sizeof(why))) == 0)
		log_info("job %s: engine %llu ms, checker %llu ms", j->id,
		    (unsigned long long)(t1 - t0),
		    (unsigned long long)(util_now_ms() - t1));
	else if (oc == ENGINE_MADE) {
		vault_audit(v, "release.refused", j->id, 1, j->out_size,
		    j->out_sha256, why);
		vault_dispose(v, v->releases_fd, j->id, "release",
		    "refused_by_the_checker");
		oc = ENGINE_FAILED;
	}
	if (oc == ENGINE_MADE)
		vault_audit(v, "release.checked", j->id, 1, j->out_size,
		    j->out_sha256, "checker: columns, k, l, scan and counts "
		    "hold");
	if (oc == ENGINE_MADE && (e = report_add_source(&report, ds)) != 0) {
		snprintf(why, sizeof(why), "cannot complete the report");
		oc = ENGINE_FAILED;
	}
	if (oc == ENGINE_MADE && write_report(v, j->id, report,
	    j->report_sha256) != 0) {
		snprintf(why, sizeof(why), "cannot store the report");
		oc = ENGINE_FAILED;
	}
	if (oc == ENGINE_MADE) {
		struct jsonr doc = { report, strlen(report) };

		if (jsonr_get_u64(doc, "rows_out", &j->rows_out) != 0)
			j->rows_out = 0;
	}
	if (oc == ENGINE_MADE && write_codebook(v, j, ds, report, why,
	    sizeof(why)) != 0) {
		vault_dispose(v, v->releases_fd, j->id, "release",
		    "no_codebook");
		oc = ENGINE_FAILED;
	}
	/* Only the engine's report of a model it could not meet is kept
	 * for a failure (not a release the checker refused). */
	if (oc == ENGINE_MADE || !model_failed) {
		free(report);
		report = NULL;
	}
	if (oc != ENGINE_MADE && strstr(why, ANON_MY_NUMBER_FORBIDDEN) != NULL) {
		/* R29: refused, and the copy goes at once, on record. */
		vault_audit(v, "upload.refused_my_number", j->id, 1, j->size,
		    j->sha256, why);
		vault_set_state(v, j, JOB_REJECTED, why);
		if (vault_dispose(v, v->sources_fd, j->id, "source",
		    "my_number_forbidden") == 0) {
			j->source_disposed = 1;
			vault_save(v, j);
		}
		return;
	}
	if (oc != ENGINE_MADE) {
		failed_report(v, j, ds, &report);
		free(report);
		vault_set_state(v, j, JOB_FAILED, why);
		return;
	}
	/* R50: a release nobody recorded is not offered: the job stays in
	 * processing and is made again once the log can be written. */
	snprintf(made, sizeof(made), "report_sha256=%s rows=%" PRIu64
	    " recipients=%.120s%s datapackage_sha256=%s codebook_sha256=%s",
	    j->report_sha256, j->rows_out, j->recipients, j->sealed ?
	    " sealed" : "", j->datapackage_sha256, j->codebook_sha256);
	if (vault_audit(v, "release.made", j->id, 1, j->out_size,
	    j->out_sha256, made) != 0)
		return;
	vault_set_state(v, j, JOB_AWAITING, NULL);
}
