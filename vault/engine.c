/*
 * engine.c: the vault's spawner, engine and checker processes, and main's
 * side of asking for them (see engine.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "anon.h"
#include "check.h"
#include "cp932.h"
#include "daemon.h"
#include "engine.h"
#include "envelope.h"
#include "log.h"
#include "policy.h"
#include "proc.h"
#include "sandbox.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define CHAN PROC_CHILD_FD

/* ---- main's side ---- */

int
engine_spawn(int spawner, const char *part, const struct policy *pol,
    int *chan, pid_t *pid, char *why, size_t whycap)
{
	struct proc_msg m;
	uint32_t p = 0;
	int e;

	*chan = -1;
	if (pol->textlen > ENGINE_POLICY_MAX) {
		snprintf(why, whycap, "the policy %s is over %u MiB", pol->file,
		    ENGINE_POLICY_MAX >> 20);
		return SK_ETOOBIG;
	}
	proc_msg_init(&m, VMSG_SPAWN);
	proc_put_str(&m, part);
	proc_put_str(&m, pol->file);
	e = proc_send(spawner, &m, -1);
	proc_msg_free(&m);
	if (e == 0 && (e = proc_recv(spawner, &m)) == 0) {
		if (m.type != VMSG_SPAWNED || proc_get_u32(&m, &p) != 0 ||
		    proc_end(&m) != 0 || (p == 0) != (m.fd == -1))
			e = SK_EFORMAT;
		else
			*chan = proc_take_fd(&m);
		proc_msg_free(&m);
	}
	if (e != 0) {
		/* The spawner is part of the vault: without it nothing is
		 * processed, and the parent restarts the whole. */
		fatalx("the spawner did not answer as expected: %s",
		    sk_strerror(e));
	}
	if (p == 0) {
		snprintf(why, whycap, "the %s process could not be started",
		    part);
		return SK_ESYS;
	}
	*pid = (pid_t)p;
	/* A part that is gone before it reads this ends without an
	 * answer, which the caller says. */
	proc_msg_init(&m, VMSG_POLICY);
	proc_put_bytes(&m, pol->text, pol->textlen);
	(void)proc_send(*chan, &m, -1);
	proc_msg_free(&m);
	return 0;
}

int
engine_reaped(int spawner, pid_t pid, int *status)
{
	struct proc_msg m;
	uint32_t p, st;
	int e;

	if ((e = proc_recv(spawner, &m)) != 0)
		fatalx("the spawner is gone: %s", sk_strerror(e));
	if (m.type != VMSG_EXITED || proc_get_u32(&m, &p) != 0 ||
	    proc_get_u32(&m, &st) != 0 || proc_end(&m) != 0 ||
	    (pid_t)p != pid)
		fatalx("the spawner sent what it should not");
	proc_msg_free(&m);
	*status = (int)st;
	return 0;
}

void
engine_status_text(int status, char *buf, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "killed by signal %d%s", WTERMSIG(status),
		    WTERMSIG(status) == SIGSYS ? " (SIGSYS: a system call "
		    "outside its sandbox)" : "");
	else
		snprintf(buf, cap, "wait status %d", status);
}

/* ---- the spawner ---- */

/* Main may ask only for our two parts, under a policy the site names. */
static int
spawn_allowed(const struct site_config *site, const char *part,
    const char *policy)
{
	size_t i;

	if (strcmp(part, "engine") != 0 && strcmp(part, "checker") != 0)
		return 0;
	for (i = 0; i < site->ndatasets; i++)
		if (site->datasets[i].policy[0] != '\0' &&
		    strcmp(site->datasets[i].policy, policy) == 0)
			return 1;
	return 0;
}

static pid_t
spawn_part(const char *self, const char *conf, const char *part,
    const char *policy, int *mine)
{
	char *argv[] = { "sekisho-vault", "-c", (char *)(uintptr_t)conf,
		"proc", (char *)(uintptr_t)part, (char *)(uintptr_t)policy,
		NULL };
	pid_t pid;
	int sp[2];

	*mine = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warnx("socketpair: %s", strerror(errno));
		return 0;
	}
	if (proc_spawn(self, argv, &sp[1], 1, &pid) != 0) {
		log_warnx("cannot start the %s: %s", part, strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	close(sp[1]);
	*mine = sp[0];
	return pid;
}

int
spawner_main(const char *conf, const struct local_config *local,
    const struct site_config *site)
{
	struct sandbox_layers layers = { 0 };
	char self[4096], part[16], policy[PATH_MAX];
	struct proc_msg m;
	pid_t pid;
	int e, status, fd;

	/* A stop comes as the end of main's channel: a job under way ends
	 * with main, not in the middle of a message. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (proc_self_path(self, sizeof(self)) != 0)
		fatalx("cannot find this program: %s", strerror(errno));
	daemon_drop(local, &layers);
	proc_die_with_parent();
	daemon_sandbox(local, site, SANDBOX_SPAWNER, &layers);
	for (;;) {
		if ((e = proc_recv(CHAN, &m)) == SK_ETRUNCATED)
			return 0;
		if (e != 0 || m.type != VMSG_SPAWN ||
		    proc_get_str(&m, part, sizeof(part)) != 0 ||
		    proc_get_str(&m, policy, sizeof(policy)) != 0 ||
		    proc_end(&m) != 0 || m.fd != -1)
			fatalx("main sent what it should not");
		proc_msg_free(&m);
		if (!spawn_allowed(site, part, policy))
			fatalx("main asked for a process that is not ours");
		pid = spawn_part(self, conf, part, policy, &fd);
		proc_msg_init(&m, VMSG_SPAWNED);
		proc_put_u32(&m, (uint32_t)pid);
		e = proc_send(CHAN, &m, fd);
		proc_msg_free(&m);
		if (fd != -1)
			close(fd);
		if (e != 0)
			fatalx("main is gone: %s", sk_strerror(e));
		if (pid == 0)
			continue;
		while (waitpid(pid, &status, 0) == -1)
			if (errno != EINTR)
				fatalx("waitpid: %s", strerror(errno));
		proc_msg_init(&m, VMSG_EXITED);
		proc_put_u32(&m, (uint32_t)pid);
		proc_put_u32(&m, (uint32_t)status);
		e = proc_send(CHAN, &m, -1);
		proc_msg_free(&m);
		if (e != 0)
			fatalx("main is gone: %s", sk_strerror(e));
	}
}

/* ---- what the engine and the checker share ---- */

/*
 * Before the sandbox closes: the policy, from the text main sent (the
 * tables it names from their files), the CP932 tables (glibc's iconv
 * reads its modules from files), and OpenSSL's configuration and
 * algorithms, which it would otherwise load on first use.
 */
static struct policy *
part_start(const struct local_config *local, const struct site_config *site,
    const char *policy, enum sandbox_kind kind)
{
	struct sandbox_layers layers = { 0 };
	struct config_error err;
	struct policy *p = NULL;
	struct proc_msg m;
	EVP_CIPHER *c;
	EVP_MD *md;
	char *text;
	size_t len;

	signal(SIGTERM, SIG_IGN);	/* it ends with main's channel */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Main's text of the policy, not the file as it may be now. */
	if ((text = malloc(ENGINE_POLICY_MAX + 1)) == NULL)
		fatalx("out of memory");
	if (proc_recv(CHAN, &m) != 0 || m.type != VMSG_POLICY ||
	    proc_get_bytes(&m, text, ENGINE_POLICY_MAX, &len) != 0 ||
	    proc_end(&m) != 0 || m.fd != -1)
		fatalx("main sent no policy");
	proc_msg_free(&m);
	text[len] = '\0';
	memset(&err, 0, sizeof(err));
	if (policy_load_text(policy, text, len, &p, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	free(text);
	if (cp932_init() != 0)
		fatalx("the CP932 tables cannot be built (glibc's iconv)");
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG |
	    OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS,
	    NULL) != 1)
		fatalx("OpenSSL cannot start");
	/* Fetching once loads the providers' algorithms now. */
	if ((c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx("OpenSSL has no AES-256-GCM or SHA-256");
	EVP_CIPHER_free(c);
	EVP_MD_free(md);
	/* The spawner runs as the vault's user: nothing to drop, but the
	 * same call says so, and would drop if it ever were root. */
	daemon_drop(local, &layers);
	daemon_sandbox(local, site, kind, &layers);
	return p;
}

static void
send_done(enum engine_outcome outcome, const char *why, const char *report)
{
	struct proc_msg m;
	int e;

	proc_msg_init(&m, VMSG_DONE);
	proc_put_u32(&m, (uint32_t)outcome);
	proc_put_str(&m, why);
	proc_put_str(&m, report);
	e = proc_send(CHAN, &m, -1);
	proc_msg_free(&m);
	if (e != 0)
		fatalx("main is gone: %s", sk_strerror(e));
}

/* Reads all of fd, at most max bytes (more is an error). */
static int
read_input(int fd, uint64_t max, uint8_t **out, size_t *len)
{
	size_t cap = max + 1, n = 0;
	uint8_t *buf;
	ssize_t r;

	if (max > SIZE_MAX - 1 || (buf = malloc(cap)) == NULL)
		return SK_ENOMEM;
	while ((r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (n += (size_t)r) == cap) {
			sk_wipe(buf, n);
			free(buf);
			return r < 0 ? SK_ESYS : SK_ETOOBIG;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* ---- the engine ---- */

struct engine_job {
	uint32_t flags;
	char identity[TLS_IDENTITY_MAX];
	uint8_t *cert, *key, *ca, *crl;
	size_t certlen, keylen, calen, crllen;
	uint64_t size;
	int in, out;
};

static uint8_t *
get_blob(struct proc_msg *m, size_t *len)
{
	uint8_t *b = malloc(ENGINE_PEM_MAX);

	if (b == NULL)
		fatalx("out of memory");
	if (proc_get_bytes(m, b, ENGINE_PEM_MAX, len) != 0)
		*len = 0;
	return b;
}

static void
engine_receive(struct engine_job *jb)
{
	struct proc_msg m;

	if (proc_recv(CHAN, &m) != 0 || m.type != VMSG_JOB)
		fatalx("main sent no job");
	proc_get_u32(&m, &jb->flags);
	proc_get_str(&m, jb->identity, sizeof(jb->identity));
	jb->cert = get_blob(&m, &jb->certlen);
	jb->key = get_blob(&m, &jb->keylen);
	jb->ca = get_blob(&m, &jb->calen);
	jb->crl = get_blob(&m, &jb->crllen);
	proc_get_u64(&m, &jb->size);
	if (proc_end(&m) != 0 || (jb->in = proc_take_fd(&m)) == -1)
		fatalx("main sent a malformed job");
	proc_msg_free(&m);
	if (proc_recv(CHAN, &m) != 0 || m.type != VMSG_OUTPUT ||
	    proc_end(&m) != 0 || (jb->out = proc_take_fd(&m)) == -1)
		fatalx("main sent no output");
	proc_msg_free(&m);
}

static void
engine_forget(struct engine_job *jb)
{
	sk_wipe(jb->key, ENGINE_PEM_MAX);
	free(jb->key);
	free(jb->cert);
	free(jb->ca);
	free(jb->crl);
	jb->key = jb->cert = jb->ca = jb->crl = NULL;
}

/* Opens the envelope into *plain; on failure why says what. */
static int
engine_open(struct engine_job *jb, uint8_t **plain, size_t *plainlen,
    char *why, size_t whycap)
{
	X509_STORE *store = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *in = NULL;
	size_t inlen = 0;
	int e;

	if ((e = read_input(jb->in, jb->size, &in, &inlen)) != 0) {
		snprintf(why, whycap, "cannot read the upload: %s",
		    sk_strerror(e));
		return e;
	}
	if (envelope_pair_pem(jb->cert, jb->certlen, jb->key, jb->keylen,
	    &cert, &key) != 0) {
		snprintf(why, whycap, "the envelope certificate and key handed "
		    "over do not load or do not match");
		e = SK_ECRYPTO;
	} else if ((jb->flags & ENGINE_SIGNED) && (store =
	    envelope_muni_store_pem(jb->ca, jb->calen, jb->crl, jb->crllen)) ==
	    NULL) {
		snprintf(why, whycap, "the municipalities' CA or CRL handed "
		    "over does not load");
		e = SK_ECRYPTO;
	} else
		e = envelope_open(in, inlen, cert, key, store, jb->identity,
		    plain, plainlen, why, whycap);
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_STORE_free(store);
	sk_wipe(in, inlen);
	free(in);
	return e;
}

int
engine_main(const struct local_config *local, const struct site_config *site,
    const char *policy)
{
	struct engine_job jb = { 0 };
	struct anon_result res;
	struct policy *p;
	struct proc_msg m;
	uint8_t *plain = NULL;
	size_t plainlen = 0;
	char why[256] = "", *report = NULL;
	int e;

	p = part_start(local, site, policy, SANDBOX_ENGINE);
	engine_receive(&jb);
	p->forbid_my_numbers = (jb.flags & ENGINE_NO_MY_NUMBERS) != 0;
	if (jb.flags & ENGINE_ENVELOPE) {
		e = engine_open(&jb, &plain, &plainlen, why, sizeof(why));
		engine_forget(&jb);
		if (e != 0) {
			close(jb.out);
			send_done(ENGINE_REJECTED, why, "");
			policy_free(p);
			return 0;
		}
		proc_msg_init(&m, VMSG_OPENED);
		proc_put_u64(&m, plainlen);
		e = proc_send(CHAN, &m, -1);
		proc_msg_free(&m);
		if (e != 0)
			fatalx("main is gone");
		e = anon_run_mem(p, plain, plainlen, jb.out, &res, &report);
		sk_wipe(plain, plainlen);
		free(plain);
	} else {
		engine_forget(&jb);
		e = anon_run(p, jb.in, jb.out, &res, &report);
	}
	close(jb.in);
	close(jb.out);
	if (e == 0 && strlen(report) >= ENGINE_REPORT_MAX) {
		e = SK_ETOOBIG;
		snprintf(res.error, sizeof(res.error), "the report is too "
		    "large");
	}
	/* A privacy model not met still has its report (issue 20). */
	if (e != 0)
		send_done(ENGINE_FAILED, res.error, report != NULL &&
		    strlen(report) < ENGINE_REPORT_MAX ? report : "");
	else
		send_done(ENGINE_MADE, "", report);
	free(report);
	policy_free(p);
	return 0;
}

/* ---- the checker ---- */

int
checker_main(const struct local_config *local,
    const struct site_config *site, const char *policy)
{
	struct policy *p;
	struct proc_msg m;
	char why[256], *report;
	size_t n;
	int e, fd;

	p = part_start(local, site, policy, SANDBOX_CHECKER);
	if ((report = malloc(ENGINE_REPORT_MAX)) == NULL)
		fatalx("out of memory");
	if (proc_recv(CHAN, &m) != 0 || m.type != VMSG_CHECK ||
	    proc_get_bytes(&m, report, ENGINE_REPORT_MAX - 1, &n) != 0 ||
	    proc_end(&m) != 0 || (fd = proc_take_fd(&m)) == -1)
		fatalx("main sent no release to check");
	proc_msg_free(&m);
	report[n] = '\0';
	e = check_release(p, fd, report, n, why, sizeof(why));
	close(fd);
	proc_msg_init(&m, VMSG_CHECKED);
	proc_put_u32(&m, e == 0 ? 0 : 1);
	proc_put_str(&m, e == 0 ? "" : why);
	e = proc_send(CHAN, &m, -1);
	proc_msg_free(&m);
	free(report);
	policy_free(p);
	return e == 0 ? 0 : 1;
}
