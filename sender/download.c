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
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "sender.h"
#include "sk.h"
#include "tls.h"

/* A known recipient's certificate from its own networks: until then the
 * connection holds no slot (srv authorize). */
int
download_authorize(struct srv_conn *c)
{
	struct sender *s = c->l->arg;
	const struct config_recipient *rc;
	char identity[TLS_IDENTITY_MAX];

	if (tls_peer_identity(c->ssl, identity, sizeof(identity)) != 0) {
		srv_error(c, 403, "access.refused",
		    "the certificate names no identity", NULL);
		return -1;
	}
	if ((rc = site_find_recipient_by_identity(s->site, identity)) == NULL) {
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
	return 0;
}

static uint64_t
downloads_left(const struct release *r, int i)
{
	uint64_t allowed;

	if (r->max_downloads == 0)
		return UINT64_MAX;
	if (r->size == 0)
		return r->max_downloads;
	allowed = (uint64_t)r->max_downloads * r->size;
	return r->served[i] >= allowed ? 0 : (allowed - r->served[i]) / r->size;
}

static void
release_json(struct json *j, const struct release *r, int i)
{
	char t[32];
	uint64_t left = downloads_left(r, i);

	json_str(j, "id", r->id);
	json_str(j, "dataset", r->dataset);
	json_str(j, "filename", r->filename);
	json_u64(j, "size", r->size);
	json_str(j, "sha256", r->sha256);
	sk_time_format(r->published, t, sizeof(t));
	json_str(j, "published", t);
	sk_time_format(r->expires, t, sizeof(t));
	json_str(j, "expires", t);
	if (left == UINT64_MAX)
		json_raw(j, "downloads_left", "null");
	else
		json_u64(j, "downloads_left", left);
	json_bool(j, "envelope", r->envelope);
}

static void
list_releases(struct srv_conn *c, const struct config_recipient *rc)
{
	struct sender *s = c->l->arg;
	struct json j;
	char *buf, item[2048];
	size_t i, o, cap;
	int idx, n = 0;

	pthread_mutex_lock(&s->lock);
	store_sweep(s, (int64_t)time(NULL));
	cap = 64 + s->nreleases * sizeof(item);
	if ((buf = malloc(cap)) == NULL) {
		pthread_mutex_unlock(&s->lock);
		srv_error(c, 500, NULL, "out of memory", NULL);
		return;
	}
	o = (size_t)snprintf(buf, cap, "{\"recipient\":\"%s\",\"releases\":[",
	    rc->id);
	for (i = 0; i < s->nreleases; i++) {
		if ((idx = store_recipient_index(s->releases[i], rc->id)) < 0)
			continue;
		json_begin(&j, item, sizeof(item));
		release_json(&j, s->releases[i], idx);
		if (json_end(&j) < 0)
			continue;
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", n++ ? "," : "",
		    item);
	}
	pthread_mutex_unlock(&s->lock);
	snprintf(buf + o, cap - o, "]}");
	srv_respond_json(c, 200, buf, NULL);
	srv_audit(c, "release.listed", NULL, 1, (uint64_t)n, NULL, NULL);
	free(buf);
}

/* Not addressed to this recipient, or never there: the same 404. Gone for
 * it: 410 with the reason. */
static void
not_here(struct srv_conn *c, const char *id, const char *recipient)
{
	struct sender *s = c->l->arg;
	char reason[32], msg[96];

	if (store_tombstone(s, id, recipient, reason, sizeof(reason)) == 0) {
		snprintf(msg, sizeof(msg), "this release is gone (%s)", reason);
		srv_error(c, 410, "download.refused", msg, NULL);
		return;
	}
	srv_error(c, 404, "download.refused", "no such release", NULL);
}

static void
alert_if_crossed(struct srv_conn *c, const struct config_downloads *d,
    uint64_t b0, uint64_t b1, uint64_t f0, uint64_t f1)
{
	char detail[200];

	if (!((d->warn_bytes != 0 && b0 < d->warn_bytes &&
	    b1 >= d->warn_bytes) || (d->warn_files != 0 &&
	    f0 < d->warn_files && f1 >= d->warn_files)))
		return;
	snprintf(detail, sizeof(detail), "window=%us bytes=%" PRIu64
	    " files=%" PRIu64 " warn_bytes=%" PRIu64 " warn_files=%" PRIu64,
	    d->window, b1, f1, d->warn_bytes, d->warn_files);
	log_warnx("ALERT (R16): %s crossed its download warning threshold: "
	    "%s", c->actor, detail);
	srv_audit(c, "download.alert", NULL, 1, b1, NULL, detail);
}

/* Why a download may not start; answered after the lock is released. */
struct refusal {
	int status;
	char msg[160];
	char extra[64];
};

/* Under the lock: may this download of len bytes start? Reserves it. */
static int
admit(struct srv_conn *c, const struct config_recipient *rc,
    struct release *r, int idx, uint64_t len, struct refusal *no)
{
	struct sender *s = c->l->arg;
	const struct config_downloads *d = &rc->downloads;
	struct acct *a = acct_find(s, rc->id);
	int64_t now = (int64_t)time(NULL), wait;
	uint64_t b, f;

	memset(no, 0, sizeof(*no));
	no->status = 500;
	snprintf(no->msg, sizeof(no->msg), "no download account");
	if (a == NULL)
		return -1;
	acct_usage(a, now, d->window, &b, &f);
	if ((d->limit_files != 0 && f + 1 > d->limit_files) ||
	    (d->limit_bytes != 0 && b + len > d->limit_bytes)) {
		wait = acct_retry_after(a, now, d, len);
		no->status = 429;
		if (d->limit_bytes != 0 && len > d->limit_bytes)
			snprintf(no->msg, sizeof(no->msg), "this download is "
			    "larger than the download limit (%" PRIu64
			    " bytes)", d->limit_bytes);
		else
			snprintf(no->msg, sizeof(no->msg), "download limit "
			    "reached: %" PRIu64 " bytes in %" PRIu64
			    " downloads within %u s", b, f, d->window);
		snprintf(no->extra, sizeof(no->extra), "Retry-After: %lld\r\n",
		    (long long)(wait > 0 ? wait : d->window));
		return -1;
	}
	if (r->max_downloads != 0 && r->served[idx] + len >
	    (uint64_t)r->max_downloads * r->size) {
		no->status = 403;
		snprintf(no->msg, sizeof(no->msg),
		    "no downloads of this release are left");
		return -1;
	}
	if (acct_add(a, now, (int64_t)len, 1) != 0) {
		snprintf(no->msg, sizeof(no->msg), "out of memory");
		return -1;
	}
	r->served[idx] += len;
	r->busy++;
	alert_if_crossed(c, d, b, b + len, f, f + 1);
	return 0;
}

/* After the transfer: gives back what was reserved but not sent. */
static void
settle(struct srv_conn *c, const struct config_recipient *rc,
    const char *id, int idx, uint64_t reserved, uint64_t sent)
{
	struct sender *s = c->l->arg;
	struct acct *a = acct_find(s, rc->id);
	struct release *r;

	pthread_mutex_lock(&s->lock);
	if (a != NULL) {
		if (sent < reserved)
			acct_add(a, (int64_t)time(NULL),
			    -(int64_t)(reserved - sent), 0);
		if (acct_save(s, a) != 0)
			log_warnx("cannot save the download account of %s",
			    rc->id);
	}
	if ((r = store_find(s, id)) != NULL) {
		r->served[idx] -= reserved - sent;
		r->busy--;
		if (store_save_state(s, r) != 0)
			log_warnx("release %s: cannot save its state", id);
	}
	pthread_mutex_unlock(&s->lock);
}

static void
get_release(struct srv_conn *c, const struct config_recipient *rc,
    const char *id)
{
	struct sender *s = c->l->arg;
	struct release *r, copy;
	struct srv_object o;
	struct srv_range rg;
	struct refusal refusal;
	char detail[160];
	uint64_t sent;
	int idx;

	pthread_mutex_lock(&s->lock);
	r = store_find(s, id);
	if (r == NULL || (idx = store_recipient_index(r, rc->id)) < 0) {
		pthread_mutex_unlock(&s->lock);
		not_here(c, id, rc->id);
		return;
	}
	if (r->expires <= (int64_t)time(NULL)) {
		store_dispose(s, r, "expired", "system");
		pthread_mutex_unlock(&s->lock);
		not_here(c, id, rc->id);
		return;
	}
	copy = *r;
	o = (struct srv_object){ .master = &s->master, .dirfd = s->objects_fd,
		.name = copy.id, .size = copy.size, .sha256 = copy.sha256,
		.filename = copy.filename, .content_type = copy.envelope ?
		"application/pkcs7-mime" : "application/octet-stream" };
	pthread_mutex_unlock(&s->lock);
	/* Replies are sent outside the lock: a slow peer must not hold it. */
	if (srv_plan_range(c, &o, &rg, "download.refused") != 0)
		return;
	if (c->req.method == HTTP_GET) {
		pthread_mutex_lock(&s->lock);
		if ((r = store_find(s, id)) == NULL) {	/* gone meanwhile */
			pthread_mutex_unlock(&s->lock);
			not_here(c, id, rc->id);
			return;
		}
		if (admit(c, rc, r, idx, rg.len, &refusal) != 0) {
			pthread_mutex_unlock(&s->lock);
			srv_error(c, refusal.status, "download.refused",
			    refusal.msg, refusal.extra[0] ? refusal.extra : NULL);
			return;
		}
		pthread_mutex_unlock(&s->lock);
	}

	sent = srv_send_object(c, &o, &rg);
	if (c->req.method != HTTP_GET) {
		srv_audit(c, "download.head", id, 1, copy.size, copy.sha256,
		    NULL);
		return;
	}
	settle(c, rc, id, idx, rg.len, sent);
	snprintf(detail, sizeof(detail), "range=%" PRIu64 "-%" PRIu64 "/%"
	    PRIu64 " sent=%" PRIu64 " complete=%d", rg.first,
	    rg.len ? rg.last : 0, copy.size, sent, sent == rg.len);
	srv_audit(c, sent == rg.len ? "download.completed" :
	    "download.incomplete", id, 1, sent, copy.sha256, detail);
}

void
download_serve(struct srv_conn *c)
{
	const struct config_recipient *rc;
	char segs[4][256];
	size_t nsegs;
	int r;

	/* R03: nothing comes in here, not even a request body. */
	rc = c->peer_cfg;	/* download_authorize found it */
	if (srv_audit_ok(c) != 0 || srv_read_request(c, 1) != 0)
		return;
	r = http_split_path(c->req.target, segs, SK_ARRAY_LEN(segs), &nsegs);
	if (r != 0) {
		srv_error(c, 400, "request.refused", "malformed path", NULL);
		return;
	}
	if (nsegs < 2 || nsegs > 3 || strcmp(segs[0], "v1") != 0 ||
	    strcmp(segs[1], "releases") != 0) {
		srv_error(c, 404, "request.refused", "the endpoints are "
		    "/v1/releases and /v1/releases/{id}", NULL);
		return;
	}
	if (c->req.method != HTTP_GET && c->req.method != HTTP_HEAD) {
		srv_error(c, 405, "request.refused", "only GET and HEAD are "
		    "allowed here", "Allow: GET, HEAD\r\n");
		return;
	}
	if (nsegs == 2)
		list_releases(c, rc);
	else
		get_release(c, rc, segs[2]);
}
