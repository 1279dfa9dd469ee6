/*
 * download.c: the recipients' listener (R03, R10, R16, R33).
 *
 *   GET  /v1/releases        the releases addressed to me (JSON)
 *   GET  /v1/releases/ID     the release; Range for resuming
 *   HEAD /v1/releases/ID     its headers
 *
 * No request body is ever accepted: a Content-Length above 0 or any
 * Transfer-Encoding is refused before a byte of it is read. A release that
 * is not addressed to the caller is answered exactly like one that does not
 * exist. Every download is accounted in the recipient's window and
 * audited: who, which release, the range, the bytes sent, complete or not.
 *
 * In the net process: the releases, the accounts and the audit log are the
 * store's (keeper.c); a download's bytes are decrypted here from the
 * descriptor and key the store hands over. Since this process holds the
 * key while it sends, it also ends what it sends: every download in
 * progress is registered here, and a withdrawal (which comes through this
 * process) or the release's expiry cuts its connection at once, even in
 * the middle of a blocked write (R33).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "sender.h"
#include "sk.h"
#include "tls.h"

/* A known recipient's certificate from its own networks: until then the
 * connection holds no slot (srv authorize). */
int
download_authorize(struct srv_conn *c)
{
	const struct config_recipient *rc;
	char identity[TLS_IDENTITY_MAX];

	if (tls_peer_identity(c->ssl, identity, sizeof(identity)) != 0) {
		srv_error(c, 403, "access.refused",
		    "the certificate names no identity", NULL);
		return -1;
	}
	if ((rc = site_find_recipient_by_identity(SNET(c)->site, identity)) ==
	    NULL) {
		srv_error(c, 403, "access.refused",
		    "this certificate is not a known recipient", NULL);
		return -1;
	}
	snprintf(c->actor, sizeof(c->actor), "recip:%s", rc->id);
	c->peer_cfg = rc;
	if (!srv_peer_in(c, rc->networks, rc->nnetworks)) {
		srv_error(c, 403, "access.refused",
		    "source address is outside this recipient's networks", NULL);
		return -1;
	}
	if (!site_recipient_in_force(rc, time(NULL))) {
		srv_error(c, 403, "access.refused",
		    "this recipient's contract is not in force today (R28)",
		    NULL);
		return -1;
	}
	return 0;
}

/* A reply's text field, whole: shorter than the payload it came in. */
static char *
reply_text(struct proc_reply *rep)
{
	char *text;

	if ((text = malloc(rep->msg.len + 1)) == NULL)
		fatalx("out of memory");
	proc_get_str(&rep->msg, text, rep->msg.len + 1);
	return text;
}

static void
list_releases(struct srv_conn *c, const struct config_recipient *rc)
{
	struct proc_msg req;
	struct proc_reply rep;
	char *json;

	proc_msg_init(&req, SMSG_LIST);
	proc_put_str(&req, rc->id);
	net_call(SNET(c), &req, -1, &rep);
	if (rep.status != 200) {
		net_reply_end(SNET(c), &rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return;
	}
	json = reply_text(&rep);
	net_reply_end(SNET(c), &rep);
	srv_respond_json(c, 200, json, NULL);
	free(json);
}

/* What the store said of a release, and a reader on its descriptor. */
struct held {
	uint64_t size;
	char sha256[65];
	char filename[RELEASE_FILENAME_MAX];
	uint32_t envelope;
	int64_t expires;		/* unix seconds, 0: none */
	struct seal_reader *rd;
};

/* ---- the downloads in progress, so that they can be cut ---- */

struct sending {
	struct sending *next, *prev;
	struct srv_conn *c;
	const char *id;
	const char *recipient;
	int64_t expires;
	const char *cut;		/* why it was cut, or NULL */
};

static struct {
	pthread_mutex_t lock;
	struct sending *head;
} sendings = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
sending_add(struct sending *d)
{
	pthread_mutex_lock(&sendings.lock);
	d->prev = NULL;
	d->next = sendings.head;
	if (d->next != NULL)
		d->next->prev = d;
	sendings.head = d;
	pthread_mutex_unlock(&sendings.lock);
}

static void
sending_remove(struct sending *d)
{
	pthread_mutex_lock(&sendings.lock);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		sendings.head = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&sendings.lock);
}

/* Cuts the downloads of release id (every release's that has expired, for
 * NULL): shutdown() ends a write that blocks, and the thread that sends
 * finds the connection gone. Returns how many were cut. */
static unsigned
sendings_cut(const char *id, const char *why)
{
	int64_t now = (int64_t)time(NULL);
	struct sending *d;
	unsigned n = 0;

	pthread_mutex_lock(&sendings.lock);
	for (d = sendings.head; d != NULL; d = d->next) {
		if (d->cut != NULL || (id != NULL ? strcmp(d->id, id) != 0 :
		    d->expires == 0 || now < d->expires))
			continue;
		d->cut = why;
		shutdown(d->c->fd, SHUT_RDWR);
		n++;
	}
	pthread_mutex_unlock(&sendings.lock);
	return n;
}

unsigned
download_cut(const char *id, const char *why)
{
	unsigned n = sendings_cut(id, why);

	if (n > 0)
		log_info("release %s: %s: %u download(s) in progress cut", id,
		    why, n);
	return n;
}

void
download_tick(void *arg)
{
	unsigned n;

	(void)arg;
	if ((n = sendings_cut(NULL, "expired")) > 0)
		log_info("%u download(s) of expired releases cut", n);
}

static int
open_release(struct srv_conn *c, const struct config_recipient *rc,
    const char *id, struct held *h)
{
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t expires = 0;
	int fd, r;

	proc_msg_init(&req, SMSG_OPEN);
	proc_put_str(&req, id);
	proc_put_str(&req, rc->id);
	net_call(SNET(c), &req, -1, &rep);
	if (rep.status != 0) {
		net_reply_end(SNET(c), &rep);
		srv_error(c, (int)rep.status, "download.refused", rep.reason,
		    NULL);
		return -1;
	}
	proc_get_u64(&rep.msg, &h->size);
	proc_get_str(&rep.msg, h->sha256, sizeof(h->sha256));
	proc_get_str(&rep.msg, h->filename, sizeof(h->filename));
	proc_get_u32(&rep.msg, &h->envelope);
	proc_get_u64(&rep.msg, &expires);
	h->expires = (int64_t)expires;
	proc_get_fixed(&rep.msg, key, sizeof(key));
	fd = proc_take_fd(&rep.msg);
	net_reply_end(SNET(c), &rep);
	if (fd == -1)
		fatalx("the store gave no file for release %s; ending", id);
	r = seal_reader_attach(fd, key, &h->rd);
	sk_wipe(key, sizeof(key));
	if (r != 0) {
		close(fd);
		log_errorx("release %s: cannot be read: %s", id,
		    sk_strerror(r));
		srv_error(c, 500, "download.refused", "the stored copy cannot "
		    "be read", NULL);
		return -1;
	}
	return 0;
}

/* The store's go-ahead for len bytes, reserved in the recipient's window
 * (R16); refused: answered here. */
static int
admit(struct srv_conn *c, const struct config_recipient *rc, const char *id,
    uint64_t len)
{
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t retry = 0;
	char extra[64];

	proc_msg_init(&req, SMSG_ADMIT);
	proc_put_str(&req, id);
	proc_put_str(&req, rc->id);
	proc_put_u64(&req, len);
	net_call(SNET(c), &req, -1, &rep);
	proc_get_u32(&rep.msg, &retry);
	net_reply_end(SNET(c), &rep);
	if (rep.status == 0)
		return 0;
	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry);
	srv_error(c, (int)rep.status, "download.refused", rep.reason,
	    retry > 0 ? extra : NULL);
	return -1;
}

/* After the transfer: the store gives back what was not sent and records
 * the download. */
static void
settle(struct srv_conn *c, const struct config_recipient *rc, const char *id,
    const struct held *h, const struct srv_range *rg, uint64_t sent)
{
	struct proc_msg req;
	struct proc_reply rep;

	proc_msg_init(&req, SMSG_SETTLE);
	proc_put_str(&req, id);
	proc_put_str(&req, rc->id);
	proc_put_str(&req, h->sha256);
	proc_put_u64(&req, rg->first);
	proc_put_u64(&req, rg->last);
	proc_put_u64(&req, h->size);
	proc_put_u64(&req, rg->len);
	proc_put_u64(&req, sent);
	net_call(SNET(c), &req, -1, &rep);
	net_reply_end(SNET(c), &rep);
}

static void
get_release(struct srv_conn *c, const struct config_recipient *rc,
    const char *id)
{
	struct held h = { 0 };
	struct sending d;
	struct srv_object o;
	struct srv_range rg;
	uint64_t sent;

	if (!store_id_valid(id)) {
		srv_error(c, 404, "download.refused", "no such release", NULL);
		return;
	}
	if (open_release(c, rc, id, &h) != 0)
		return;
	o = (struct srv_object){ .reader = h.rd, .name = id, .size = h.size,
		.sha256 = h.sha256, .filename = h.filename,
		.content_type = h.envelope ? "application/pkcs7-mime" :
		"application/octet-stream" };
	if (srv_plan_range(c, &o, &rg, "download.refused") != 0)
		goto out;
	if (c->req.method == HTTP_GET && admit(c, rc, id, rg.len) != 0)
		goto out;
	d = (struct sending){ .c = c, .id = id, .recipient = rc->id,
		.expires = h.expires };
	sending_add(&d);
	sent = srv_send_object(c, &o, &rg);
	sending_remove(&d);
	if (d.cut != NULL)
		log_info("release %s: the download by %s was cut (%s) after "
		    "%" PRIu64 " of %" PRIu64 " bytes", id, rc->id, d.cut,
		    sent, rg.len);
	if (c->req.method != HTTP_GET) {
		srv_audit(c, "download.head", id, 1, h.size, h.sha256, NULL);
		goto out;
	}
	settle(c, rc, id, &h, &rg, sent);
out:
	seal_reader_free(h.rd);
}

/* One file of a release's package (codebook, manifest, its signature):
 * for the release's own recipients, as long as the release is held. */
static void
get_package_file(struct srv_conn *c, const struct config_recipient *rc,
    const char *id, const char *file)
{
	struct proc_msg req;
	struct proc_reply rep;
	const char *type;
	uint8_t *buf;
	size_t n = 0;

	/* .../codebook: the codebook for people, as the README names it. */
	if (strcmp(file, "codebook") == 0)
		file = PROTO_PKG_CODEBOOK;
	if (!store_id_valid(id) || !proto_package_file(file)) {
		srv_error(c, 404, "download.refused", "no such release file",
		    NULL);
		return;
	}
	proc_msg_init(&req, SMSG_PACKAGE_GET);
	proc_put_str(&req, id);
	proc_put_str(&req, rc->id);
	proc_put_str(&req, file);
	net_call(SNET(c), &req, -1, &rep);
	if (rep.status != 200) {
		net_reply_end(SNET(c), &rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return;
	}
	if ((buf = malloc(PROTO_PACKAGE_MAX)) == NULL)
		fatalx("out of memory");
	proc_get_bytes(&rep.msg, buf, PROTO_PACKAGE_MAX, &n);
	net_reply_end(SNET(c), &rep);
	type = strcmp(file, PROTO_PKG_DATAPACKAGE) == 0 ? "application/json" :
	    strcmp(file, PROTO_PKG_CODEBOOK) == 0 ?
	    "text/markdown; charset=utf-8" :
	    strcmp(file, PROTO_PKG_SIGNATURE) == 0 ?
	    "application/pkcs7-signature" : "text/plain; charset=utf-8";
	srv_respond(c, 200, type, (const char *)buf, n, NULL);
	free(buf);
}

static void
route_list(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)segs;
	(void)nsegs;
	list_releases(c, c->peer_cfg);	/* download_authorize found it */
}

static void
route_package_file(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	get_package_file(c, c->peer_cfg, segs[2], segs[3]);
}

static void
route_get(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	get_release(c, c->peer_cfg, segs[2]);
}

void
download_serve(struct srv_conn *c)
{
	static const struct srv_route routes[] = {
		{ HTTP_GET, PROTO_RELEASES, route_list },
		{ HTTP_HEAD, PROTO_RELEASES, route_list },
		{ HTTP_GET, PROTO_RELEASES "/{id}", route_get },
		{ HTTP_HEAD, PROTO_RELEASES "/{id}", route_get },
		{ HTTP_GET, PROTO_RELEASES "/{id}/{file}", route_package_file },
	};

	/* R03: nothing comes in here, not even a request body. */
	if (srv_audit_ok(c) != 0 || srv_read_request(c, 1) != 0)
		return;
	srv_dispatch(c, routes, SK_ARRAY_LEN(routes), "request.refused");
}
