/*
 * reload.c: what a separated daemon takes without a restart (issue 15).
 *
 * The store, which may read files, watches its listeners' CRLs and the
 * host's own certificate and key; when one changes on disk it reads and
 * checks it, records what it found (crl.loaded / crl.refused,
 * certificate.loaded / certificate.refused, with the digests), and keeps
 * the last good one. The net process, which can open no file, asks every
 * few seconds (at once after SIGHUP) and swaps what it is given in for
 * new connections; connections in progress keep what they started with.
 * A bad new file leaves the one in use as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "proc.h"
#include "server.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define CRED_PEM_MAX (64u << 10)	/* a certificate chain, or a key */

/* Has the file changed since *l (which then becomes what it is now)?
 * A file that cannot be looked at has not changed. */
static int
look_changed(const char *path, struct daemon_file_look *l)
{
	struct stat st;

	if (path[0] == '\0' || stat(path, &st) != 0)
		return 0;
	if (st.st_dev == l->dev && st.st_ino == l->ino &&
	    st.st_size == l->size && st.st_mtim.tv_sec == l->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == l->mtime.tv_nsec)
		return 0;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->size = st.st_size;
	l->mtime = st.st_mtim;
	return 1;
}

static int
look_same(const struct daemon_file_look *a, const struct daemon_file_look *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Reads what fd holds, at most max bytes, from its start. */
static int
read_whole(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;

	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (uint64_t)st.st_size > max)
		return SK_ETOOBIG;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return SK_ENOMEM;
	while (got < (size_t)st.st_size) {
		n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0) {
			sk_wipe(buf, (size_t)st.st_size);
			free(buf);
			return SK_ESYS;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* ---- CRLs ---- */

/* The next update of the CRL file as net loaded it at its start (0: none,
 * or it does not verify: net would not have started with it). */
static int64_t
crl_file_end(const char *ca_file, const char *crl_file)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas;
	char why[160], *pem = NULL;
	size_t len = 0;
	int64_t end = 0;
	int fd, r;

	if (crl_file[0] == '\0' ||
	    (fd = open(crl_file, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	r = read_whole(fd, PROC_MSG_MAX, &pem, &len);
	close(fd);
	if (r != 0)
		return 0;
	if ((cas = tls_read_certs(ca_file, &r)) != NULL &&
	    tls_crl_validate(cas, pem, len, &crls, why, sizeof(why)) == 0) {
		end = tls_crls_next_update(crls);
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
	}
	sk_X509_pop_free(cas, X509_free);
	free(pem);
	return end;
}

void
daemon_crl_watch_init(struct daemon_crl_watch *w, const char *name,
    const char *ca_file, const char *crl_file)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->ca_file = ca_file;
	w->crl_file = crl_file;
	w->fd = -1;
	/* What net loaded at its start is generation 0. */
	(void)look_changed(crl_file, &w->look);
	w->end = crl_file_end(ca_file, crl_file);
}

int
daemon_crl_watch_refresh(struct daemon_crl_watch *w, struct audit_log *log)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas;
	char why[160], detail[300], sha[65];
	size_t len = 0;
	char *pem = NULL;
	int fd, r;

	if (!look_changed(w->crl_file, &w->look))
		return 0;
	if ((fd = open(w->crl_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_errorx("CRL %s: %s; the CRL in use stays", w->crl_file,
		    strerror(errno));
		return 0;
	}
	/* Without the CA no CRL verifies: the check below refuses it. */
	if ((cas = tls_read_certs(w->ca_file, &r)) == NULL)
		cas = sk_X509_new_null();
	r = read_whole(fd, PROC_MSG_MAX, &pem, &len);
	if (r == 0)
		r = tls_crl_validate(cas, pem, len, &crls, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "cannot be read: %s", sk_strerror(r));
	sk_X509_pop_free(cas, X509_free);
	if (r != 0) {
		snprintf(detail, sizeof(detail), "%s=%s reason=%s",
		    w->key != NULL ? w->key : "listener", w->name, why);
		log_errorx("CRL %s: %s; the CRL in use stays", w->crl_file, why);
		daemon_store_audit(log, "crl.refused", "system", NULL, 1, len,
		    NULL, detail);
		free(pem);
		close(fd);
		return 0;
	}
	w->end = tls_crls_next_update(crls);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	util_sha256_hex(pem, len, sha);
	free(pem);
	if (w->fd != -1)
		close(w->fd);
	w->fd = fd;
	w->gen++;
	snprintf(detail, sizeof(detail), "%s=%s generation=%llu",
	    w->key != NULL ? w->key : "listener", w->name,
	    (unsigned long long)w->gen);
	if (w->offered_to != NULL)
		log_info("CRL %s changed on disk: checked (sha256 %s); %s",
		    w->crl_file, sha, w->offered_to);
	else
		log_info("CRL %s changed on disk: checked (sha256 %s); offered "
		    "to the %s listener", w->crl_file, sha, w->name);
	daemon_store_audit(log, "crl.loaded", "system", NULL, 1, len, sha,
	    detail);
	return 1;
}

int
daemon_crl_watch_pem(const struct daemon_crl_watch *w, char **pem,
    size_t *len)
{
	*pem = NULL;
	*len = 0;
	return w->fd == -1 ? SK_ENOTFOUND : read_whole(w->fd, PROC_MSG_MAX,
	    pem, len);
}

void
daemon_store_on_crl(int chan, struct audit_log *log,
    struct daemon_crl_watch *ws, size_t n, struct proc_msg *req)
{
	struct daemon_crl_watch *w;
	struct proc_msg rep;
	uint32_t idx = 0;
	uint64_t have = 0;

	proc_get_u32(req, &idx);
	proc_get_u64(req, &have);
	proc_expect_end(req);
	if (idx >= n)
		proc_malformed(req, "a listener that does not exist");
	w = &ws[idx];
	daemon_crl_watch_refresh(w, log);
	if (w->fd == -1 || w->gen <= have) {
		proc_reply_status(chan, DAEMON_MSG_CRL, 304, "");
		return;
	}
	proc_reply_begin(&rep, DAEMON_MSG_CRL, 0, "");
	proc_put_u64(&rep, w->gen);
	proc_reply_send(chan, &rep, w->fd);
}

/*
 * Asks the store for watch i's CRL newer than *gen: its PEM (the caller
 * frees it) and 1, with *gen moved on; 0 when there is none newer; -1
 * when the new one cannot be read.
 */
static int
crl_fetch(struct proc_chan *ch, size_t i, uint64_t *gen, char **pem,
    size_t *len)
{
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t g = 0;
	int fd = -1, r;

	proc_msg_init(&req, DAEMON_MSG_CRL);
	proc_put_u32(&req, (uint32_t)i);
	proc_put_u64(&req, *gen);
	proc_call(ch, &req, -1, &rep);
	if (rep.status == 0) {
		proc_get_u64(&rep.msg, &g);
		fd = proc_take_fd(&rep.msg);
	}
	proc_reply_end(ch, &rep);
	if (fd == -1)
		return 0;
	*gen = g;
	r = read_whole(fd, PROC_MSG_MAX, pem, len) == 0 ? 1 : -1;
	close(fd);
	return r;
}

static void
net_crl_poll(struct proc_chan *ch, struct srv_listener *ls, size_t n,
    uint64_t *gens)
{
	char why[160], *pem = NULL;
	size_t i, len;
	int r;

	for (i = 0; i < n; i++) {
		if (ls[i].trust == NULL ||
		    (r = crl_fetch(ch, i, &gens[i], &pem, &len)) == 0)
			continue;
		if (r < 0)
			log_errorx("%s listener: the new CRL cannot be read; the "
			    "CRL in use stays", ls[i].name);
		else {
			if (tls_trust_set_crl(ls[i].trust, pem, len, why,
			    sizeof(why)) != 0)
				log_errorx("%s listener: the new CRL is refused "
				    "(%s); the CRL in use stays", ls[i].name,
				    why);
			else
				log_info("%s listener: the new CRL is in use "
				    "for new connections", ls[i].name);
			free(pem);
		}
	}
}

/* ---- the host's own certificate and key ---- */

void
daemon_cred_watch_init(struct daemon_cred_watch *w, const char *cert_file,
    const char *key_file, const char *ca_file)
{
	STACK_OF(X509) *v;
	int fd, r;

	memset(w, 0, sizeof(*w));
	w->cert_file = cert_file;
	w->key_file = key_file;
	w->ca_file = ca_file;
	(void)look_changed(cert_file, &w->seen[0]);
	(void)look_changed(key_file, &w->seen[1]);
	w->used[0] = w->seen[0];
	w->used[1] = w->seen[1];
	/* A renewal keeps the name of the pair net loaded at its start. */
	if ((v = tls_read_certs(cert_file, &r)) != NULL)
		w->end = tls_time_epoch(X509_get0_notAfter(sk_X509_value(v, 0)));
	if (v == NULL)
		log_warnx("certificate %s: the service user cannot read it (%s): "
		    "a renewed certificate is taken only at a restart",
		    cert_file, r == SK_ESYS ? strerror(errno) : sk_strerror(r));
	else if (tls_cert_identity(sk_X509_value(v, 0), w->identity,
	    sizeof(w->identity)) != 0) {
		w->identity[0] = '\0';
		log_warnx("certificate %s: no identity of ours in it: a renewed "
		    "certificate is taken only at a restart", cert_file);
	}
	sk_X509_pop_free(v, X509_free);
	if (util_open_secret(key_file, &fd) != 0)
		log_warnx("key %s: the service user cannot read it (%s): a "
		    "renewed certificate and key are taken only at a restart "
		    "(make the key the service user's, mode 0600, to renew in "
		    "place)", key_file, strerror(errno));
	else
		close(fd);
}

static void
cred_drop(struct daemon_cred_watch *w)
{
	if (w->key != NULL) {
		sk_wipe(w->key, w->key_len);
		free(w->key);
	}
	free(w->cert);
	w->key = w->cert = NULL;
	w->key_len = w->cert_len = 0;
}

void
daemon_cred_watch_free(struct daemon_cred_watch *w)
{
	cred_drop(w);
}

/* Reads both files and checks the pair; why says why not. */
static int
cred_read(struct daemon_cred_watch *w, char **cert, size_t *cert_len,
    char **key, size_t *key_len, int64_t *end, char *sha, char *desc,
    size_t desccap, char *why, size_t whycap)
{
	STACK_OF(X509) *cas;
	struct tls_cred *c = NULL;
	int fd, r;

	*cert = *key = NULL;
	*cert_len = *key_len = 0;
	if ((fd = open(w->cert_file, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whycap, "%s: %s", w->cert_file, strerror(errno));
		return SK_ESYS;
	}
	r = read_whole(fd, CRED_PEM_MAX, cert, cert_len);
	close(fd);
	if (r != 0) {
		snprintf(why, whycap, "%s: %s", w->cert_file, sk_strerror(r));
		return r;
	}
	if ((r = util_open_secret(w->key_file, &fd)) != 0) {
		snprintf(why, whycap, "%s: %s", w->key_file, r == SK_EPERM ?
		    "not the service user's or readable by others (chown to "
		    "the service user, chmod 600)" : strerror(errno));
		return r;
	}
	r = read_whole(fd, CRED_PEM_MAX, key, key_len);
	close(fd);
	if (r != 0) {
		snprintf(why, whycap, "%s: %s", w->key_file, sk_strerror(r));
		return r;
	}
	if ((cas = tls_read_certs(w->ca_file, &r)) == NULL) {
		snprintf(why, whycap, "the internal CA %s cannot be read",
		    w->ca_file);
		return r;
	}
	r = tls_cred_parse(*cert, *cert_len, *key, *key_len, cas,
	    w->identity, &c, why, whycap);
	sk_X509_pop_free(cas, X509_free);
	if (r == 0) {
		tls_cred_describe(c, desc, desccap, sha);
		*end = tls_cred_not_after(c);
		tls_cred_free(c);
	}
	return r;
}

/*
 * A change is read once both files have held still for one look (a
 * certificate copied a few seconds before its key is not refused as a
 * mismatch), or at once when now is set (SIGHUP: the administrator says
 * the pair is in place).
 */
int
daemon_cred_watch_refresh(struct daemon_cred_watch *w, struct audit_log *log,
    int now)
{
	char why[256], desc[160], detail[512], sha[65] = "";
	char *cert, *key;
	size_t cert_len, key_len;
	int64_t end = 0;
	int moved;

	if (w->identity[0] == '\0')
		return 0;
	moved = look_changed(w->cert_file, &w->seen[0]);
	moved |= look_changed(w->key_file, &w->seen[1]);
	if ((moved && !now) || (look_same(&w->seen[0], &w->used[0]) &&
	    look_same(&w->seen[1], &w->used[1])))
		return 0;
	w->used[0] = w->seen[0];
	w->used[1] = w->seen[1];
	if (cred_read(w, &cert, &cert_len, &key, &key_len, &end, sha, desc,
	    sizeof(desc), why, sizeof(why)) != 0) {
		if (key != NULL)
			sk_wipe(key, key_len);
		free(key);
		free(cert);
		snprintf(detail, sizeof(detail), "reason=%s", why);
		log_errorx("the host's certificate or key changed on disk and "
		    "is refused: %s; the pair in use stays", why);
		daemon_store_audit(log, "certificate.refused", "system",
		    w->identity, 0, 0, NULL, detail);
		return 0;
	}
	cred_drop(w);
	w->cert = cert;
	w->cert_len = cert_len;
	w->key = key;
	w->key_len = key_len;
	w->end = end;
	w->gen++;
	snprintf(detail, sizeof(detail), "%s generation=%llu", desc,
	    (unsigned long long)w->gen);
	log_info("the host's certificate changed on disk: checked (%s, "
	    "sha256 %s); %s", desc, sha, w->offered_to != NULL ?
	    w->offered_to : "offered to the listeners");
	daemon_store_audit(log, "certificate.loaded", "system", w->identity,
	    0, 0, sha, detail);
	return 1;
}

void
daemon_store_on_cred(int chan, struct audit_log *log,
    struct daemon_cred_watch *w, struct proc_msg *req)
{
	struct proc_msg rep;
	uint64_t have = 0;
	uint32_t now = 0;

	proc_get_u64(req, &have);
	proc_get_u32(req, &now);
	proc_expect_end(req);
	if (now > 1)
		proc_malformed(req, "a flag that is neither 0 nor 1");
	daemon_cred_watch_refresh(w, log, (int)now);
	if (w->cert == NULL || w->gen <= have) {
		proc_reply_status(chan, DAEMON_MSG_CRED, 304, "");
		return;
	}
	proc_reply_begin(&rep, DAEMON_MSG_CRED, 0, "");
	proc_put_u64(&rep, w->gen);
	proc_put_bytes(&rep, w->cert, w->cert_len);
	proc_put_bytes(&rep, w->key, w->key_len);
	proc_reply_send(chan, &rep, -1);	/* its buffer is wiped */
}

/* ---- ends: warnings before a CRL or the host's certificate runs out ---- */

#define ENDS_INTERVAL 86400	/* a warning that holds is repeated daily */

/* Is a look due: never made, a day since the last, or a new version? */
static int
ends_due(int64_t now, int64_t *due, uint64_t *seen, uint64_t gen)
{
	if (now < *due && *seen == gen)
		return 0;
	*due = now + ENDS_INTERVAL;
	*seen = gen;
	return 1;
}

static void
ends_when(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "?");
}

void
daemon_store_warn_ends(struct daemon_crl_watch *ws, size_t n,
    struct daemon_cred_watch *cw, unsigned warn_days)
{
	int64_t now = (int64_t)time(NULL), left;
	char when[32];
	size_t i;

	for (i = 0; i < n; i++) {
		if (ws[i].end == 0 ||
		    !ends_due(now, &ws[i].ends_due, &ws[i].ends_gen, ws[i].gen))
			continue;
		left = ws[i].end - now;
		ends_when(ws[i].end, when, sizeof(when));
		if (left <= 0)
			log_errorx("%s listener: the CRL in use (%s) passed its "
			    "next update at %s: every certificate of its CA is "
			    "refused until a new CRL is installed (sekisho-pki "
			    "PKI crl CA, then copy it here)", ws[i].name,
			    ws[i].crl_file, when);
		else if (left < (int64_t)warn_days * 86400)
			log_warnx("%s listener: the CRL in use (%s) reaches its "
			    "next update in %lld day(s), at %s: after that every "
			    "certificate of its CA is refused; write a new one "
			    "(sekisho-pki PKI crl CA) and copy it here before",
			    ws[i].name, ws[i].crl_file,
			    (long long)(left / 86400), when);
	}
	if (cw == NULL || cw->end == 0 ||
	    !ends_due(now, &cw->ends_due, &cw->ends_gen, cw->gen))
		return;
	left = cw->end - now;
	ends_when(cw->end, when, sizeof(when));
	if (left <= 0)
		log_errorx("the host's certificate in use (%s) expired at %s: "
		    "peers refuse it; renew it (sekisho-pki PKI renew "
		    "internal-ca HOST) and install the new pair",
		    cw->cert_file, when);
	else if (left < (int64_t)warn_days * 86400)
		log_warnx("the host's certificate in use (%s) expires in %lld "
		    "day(s), at %s: renew it (sekisho-pki PKI renew internal-ca "
		    "HOST) and install the new pair; %s", cw->cert_file,
		    (long long)(left / 86400), when, cw->identity[0] != '\0' ?
		    "it is taken without a restart" : "then restart the daemon");
}

/* The identity of the certificate a listener's context was made with. */
static int
ctx_identity(SSL_CTX *ctx, char *out, size_t cap)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);

	return x != NULL ? tls_cert_identity(x, out, cap) : SK_ENOTFOUND;
}

/*
 * Asks the store for a pair newer than *have (at once: now). 1 with *out,
 * checked to match and to name identity; 0 when there is none; -1 with
 * why when the one offered is refused (it is not asked for again).
 */
static int
cred_fetch(struct proc_chan *ch, uint64_t *have, int now,
    const char *identity, struct tls_cred **out, char *why, size_t whycap)
{
	struct proc_msg req;
	struct proc_reply rep;
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	uint64_t gen = 0;
	int r = SK_ENOMEM;

	*out = NULL;
	proc_msg_init(&req, DAEMON_MSG_CRED);
	proc_put_u64(&req, *have);
	proc_put_u32(&req, now ? 1 : 0);
	proc_call(ch, &req, -1, &rep);
	if (rep.status != 0) {
		proc_reply_end(ch, &rep);
		return 0;
	}
	if ((cert = malloc(CRED_PEM_MAX)) != NULL &&
	    (key = malloc(CRED_PEM_MAX)) != NULL) {
		proc_get_u64(&rep.msg, &gen);
		proc_get_bytes(&rep.msg, cert, CRED_PEM_MAX, &cert_len);
		proc_get_bytes(&rep.msg, key, CRED_PEM_MAX, &key_len);
		r = 0;
	}
	proc_reply_end(ch, &rep);	/* a malformed reply ends us here */
	if (r == 0 && identity[0] == '\0') {
		snprintf(why, whycap, "the certificate in use names no "
		    "identity");
		r = SK_EAUTH;
	} else if (r == 0)
		r = tls_cred_parse(cert, cert_len, key, key_len, NULL, identity,
		    out, why, whycap);
	else
		snprintf(why, whycap, "out of memory");
	if (key != NULL)
		sk_wipe(key, CRED_PEM_MAX);
	free(key);
	free(cert);
	*have = gen;	/* a pair refused here is not asked for again */
	return r == 0 ? 1 : -1;
}

/* Says what became of a fetched pair (r: cred_fetch's, or -1 if it could
 * not be set), and frees it. */
static void
cred_taken(int r, const char *why, struct tls_cred *c, const char *for_what)
{
	char desc[160], sha[65];

	if (r != 1)
		log_errorx("the renewed certificate is refused (%s); the pair "
		    "in use stays", why);
	else {
		tls_cred_describe(c, desc, sizeof(desc), sha);
		log_info("the renewed certificate (%s) is in use for %s", desc,
		    for_what);
	}
	tls_cred_free(c);
}

static void
net_cred_poll(struct proc_chan *ch, struct srv_listener *ls, size_t n,
    uint64_t *have, int now)
{
	char id[TLS_IDENTITY_MAX] = "", why[256];
	struct tls_cred *c = NULL;
	size_t i;
	int r;

	if (n == 0 || ls[0].trust == NULL)
		return;
	if (ctx_identity(ls[0].tls, id, sizeof(id)) != 0)
		id[0] = '\0';
	if ((r = cred_fetch(ch, have, now, id, &c, why, sizeof(why))) == 0)
		return;
	for (i = 0; r == 1 && i < n; i++)
		if (ls[i].trust != NULL &&
		    tls_trust_set_cred(ls[i].trust, c) != 0) {
			snprintf(why, sizeof(why), "out of memory");
			r = -1;
		}
	cred_taken(r, why, c, "new connections on every listener");
}

void
daemon_client_reload_tick(struct proc_chan *ch, SSL_CTX **ctx, size_t n,
    struct daemon_reload_state *rs)
{
	char id[TLS_IDENTITY_MAX] = "", why[256];
	struct tls_cred *c = NULL;
	size_t i, first = n;
	int r;

	if (util_now_ms() < rs->next_ms)
		return;
	rs->next_ms = util_now_ms() + DAEMON_RELOAD_POLL_MS;
	for (i = 0; i < n && first == n; i++)
		if (ctx[i] != NULL)
			first = i;
	if (first == n)
		return;
	/* The endpoints' CRLs, for the contexts whose recipient has one
	 * (the store watches them by recipient index). */
	for (i = 0; rs->client_crl_gens != NULL && i < n; i++) {
		char *pem = NULL, ewhy[160];
		size_t len;

		if (ctx[i] == NULL || (r = crl_fetch(ch, i,
		    &rs->client_crl_gens[i], &pem, &len)) == 0)
			continue;
		if (r < 0)
			log_errorx("endpoint %zu: the new CRL cannot be read; the "
			    "CRL in use stays", i);
		else if (tls_ctx_set_crl(ctx[i], pem, len, ewhy,
		    sizeof(ewhy)) != 0)
			log_errorx("endpoint %zu: the new CRL is refused (%s); "
			    "the CRL in use stays", i, ewhy);
		else
			log_info("endpoint %zu: the new CRL is in use for the "
			    "next deliveries", i);
		free(pem);
	}
	if (ctx_identity(ctx[first], id, sizeof(id)) != 0)
		id[0] = '\0';
	if ((r = cred_fetch(ch, &rs->cred_gen, 0, id, &c, why,
	    sizeof(why))) == 0)
		return;
	for (i = 0; r == 1 && i < n; i++)
		if (ctx[i] != NULL && tls_ctx_set_cred(ctx[i], c) != 0) {
			snprintf(why, sizeof(why), "it cannot be set on the "
			    "connection to the endpoints");
			r = -1;
		}
	cred_taken(r, why, c, "the next deliveries");
}

void
daemon_net_reload_tick(struct proc_chan *ch, struct srv_listener *ls,
    size_t n, struct daemon_reload_state *rs)
{
	int now = daemon_reload != 0;

	if (!now && util_now_ms() < rs->next_ms)
		return;
	if (now)
		log_info("SIGHUP: looking for new CRLs and a renewed "
		    "certificate now");
	daemon_reload = 0;
	rs->next_ms = util_now_ms() + DAEMON_RELOAD_POLL_MS;
	net_crl_poll(ch, ls, n, rs->crl_gens);
	net_cred_poll(ch, ls, n, &rs->cred_gen, now);
}
