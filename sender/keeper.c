/*
 * keeper.c: the sender's store process (privilege separation, R17).
 *
 * What it does: holds the master key, the audit log and the data folder,
 * the list of releases, the recipients' download accounts (R16) and expiry
 * (R33); answers the net process's requests one at a time (sender.h lists
 * them). A download: the store decides whether it may start and reserves
 * it in the accounts, hands net the object's descriptor and that object's
 * key, and records the download when net says how it ended. A publication
 * by the vault: the store checks it again, creates the temporary file and
 * hands net its descriptor and key, makes the metadata record once the
 * digest is known, checks the sealed file and commits it. Between requests
 * it disposes of what has expired.
 *
 * What it may touch: its channel to net, the data folder and the audit log.
 *
 * What it must never do: open a socket, or trust net: a request that is
 * malformed, or that net's own checks would refuse, ends this process and
 * with it the sender, which the service manager restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "daemon.h"
#include "json.h"
#include "jsonr.h"
#include "log.h"
#include "proto.h"
#include "sender.h"
#include "sk.h"
#include "util.h"

#define SWEEP_INTERVAL_MS 1000	/* expiry is kept to the second (R33) */
#define RECORD_MAX 4096

/* A publication in flight: what the store decided before the bytes came. */
struct keeper_publish {
	uint64_t token;			/* 0: a free slot */
	char tmpname[RELEASE_ID_MAX + 32];
	struct release r;
	uint8_t want[32];		/* the vault's Content-Digest */
	int finished;			/* the record below is being sealed */
	char meta[SEAL_META_MAX];
	size_t metalen;
	char witness[128];		/* R47: the vault's head, or "" */
};

/* The events net may record: what it refuses, and a HEAD. */
static const char *const net_events[] = {
	"tls.refused", "access.refused", "request.refused", "download.refused",
	"download.head", "publish.refused", "withdraw.refused",
};

static void
on_audit(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	daemon_store_on_audit(s->chan, s->audit, req, net_events,
	    SK_ARRAY_LEN(net_events));
}

static void
on_audit_state(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	daemon_store_on_audit_state(s->chan, s->audit, req);
}

/* A recipient of the site, by id: net has authorized it already. */
static const struct config_recipient *
recipient_of(struct sender *s, const struct proc_msg *req, const char *id)
{
	const struct config_recipient *rc = site_find_recipient(s->site, id);

	if (rc == NULL)
		proc_malformed(req, "a recipient net never authorized");
	return rc;
}

/* ---- the recipients' side ---- */

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
on_list(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	const struct config_recipient *rc;
	char id[CONFIG_ID_MAX], actor[CONFIG_ID_MAX + 8], *buf, item[2048];
	struct proc_msg rep;
	struct json j;
	size_t i, o, cap;
	int idx, n = 0;

	proc_get_str(req, id, sizeof(id));
	proc_expect_end(req);
	rc = recipient_of(s, req, id);
	store_sweep(s, (int64_t)time(NULL));
	cap = 64 + s->nreleases * sizeof(item);
	if ((buf = malloc(cap)) == NULL) {
		proc_reply_status(s->chan, SMSG_LIST, 500, "out of memory");
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
	snprintf(buf + o, cap - o, "]}");
	snprintf(actor, sizeof(actor), "recip:%s", rc->id);
	daemon_store_audit(s->audit, "release.listed", actor, NULL, 1,
	    (uint64_t)n, NULL, NULL);
	proc_reply_begin(&rep, SMSG_LIST, 200, "");
	proc_put_str(&rep, buf);
	proc_reply_send(s->chan, &rep, -1);
	free(buf);
}

/* Not addressed to this recipient, or never there: the same 404. Gone for
 * it: 410 with the reason. */
static void
not_here(struct sender *s, uint32_t type, const char *id,
    const char *recipient)
{
	char reason[32], msg[96];

	if (store_tombstone(s, id, recipient, reason, sizeof(reason)) == 0) {
		snprintf(msg, sizeof(msg), "this release is gone (%s)", reason);
		proc_reply_status(s->chan, type, 410, msg);
		return;
	}
	proc_reply_status(s->chan, type, 404, "no such release");
}

/* The release for this recipient, or NULL (answered already). */
static struct release *
addressed(struct sender *s, uint32_t type, const char *id,
    const char *recipient, int *idx)
{
	struct release *r = store_find(s, id);

	if (r == NULL || (*idx = store_recipient_index(r, recipient)) < 0) {
		not_here(s, type, id, recipient);
		return NULL;
	}
	if (r->expires <= (int64_t)time(NULL)) {
		store_dispose(s, r, "expired", "system");
		not_here(s, type, id, recipient);
		return NULL;
	}
	return r;
}

static void
on_open(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX];
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg rep;
	struct release *r;
	int idx, fd;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_expect_end(req);
	recipient_of(s, req, rid);
	if ((r = addressed(s, SMSG_OPEN, id, rid, &idx)) == NULL)
		return;
	if (seal_object_open(&s->master, s->objects_fd, r->id, key, &fd) != 0) {
		log_errorx("release %s: cannot be opened", r->id);
		proc_reply_status(s->chan, SMSG_OPEN, 500, "the stored copy "
		    "cannot be read");
		return;
	}
	proc_reply_begin(&rep, SMSG_OPEN, 0, "");
	proc_put_u64(&rep, r->size);
	proc_put_str(&rep, r->sha256);
	proc_put_str(&rep, r->filename);
	proc_put_u32(&rep, r->envelope ? 1 : 0);
	proc_put_u64(&rep, (uint64_t)r->expires);
	proc_put_fixed(&rep, key, sizeof(key));
	sk_wipe(key, sizeof(key));
	proc_reply_send(s->chan, &rep, fd);
	close(fd);
}

static void
alert_if_crossed(struct sender *s, const char *actor,
    const struct config_downloads *d, uint64_t b0, uint64_t b1, uint64_t f0,
    uint64_t f1)
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
	    "%s", actor, detail);
	daemon_store_audit(s->audit, "download.alert", actor, NULL, 1, b1,
	    NULL, detail);
}

static void
admit_refuse(struct sender *s, uint32_t status, const char *msg,
    uint32_t retry)
{
	struct proc_msg rep;

	proc_reply_begin(&rep, SMSG_ADMIT, status, msg);
	proc_put_u32(&rep, retry);
	proc_reply_send(s->chan, &rep, -1);
}

/* May this download of len bytes start? Reserves it in the accounts. */
static void
on_admit(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX], actor[CONFIG_ID_MAX + 8];
	char msg[160];
	const struct config_recipient *rc;
	const struct config_downloads *d;
	int64_t now = (int64_t)time(NULL), wait;
	struct release *r;
	struct acct *a;
	uint64_t len = 0, b, f;
	int idx;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_get_u64(req, &len);
	proc_expect_end(req);
	rc = recipient_of(s, req, rid);
	d = &rc->downloads;
	if ((r = store_find(s, id)) == NULL ||
	    (idx = store_recipient_index(r, rc->id)) < 0) {
		/* Gone between the open and now. */
		if (store_tombstone(s, id, rc->id, msg, sizeof(msg)) == 0)
			admit_refuse(s, 410, "this release is gone", 0);
		else
			admit_refuse(s, 404, "no such release", 0);
		return;
	}
	if (len > r->size)
		proc_malformed(req, "a range longer than the release");
	if ((a = acct_find(s, rc->id)) == NULL) {
		admit_refuse(s, 500, "no download account", 0);
		return;
	}
	acct_usage(a, now, d->window, &b, &f);
	if ((d->limit_files != 0 && f + 1 > d->limit_files) ||
	    (d->limit_bytes != 0 && b + len > d->limit_bytes)) {
		wait = acct_retry_after(a, now, d, len);
		if (d->limit_bytes != 0 && len > d->limit_bytes)
			snprintf(msg, sizeof(msg), "this download is larger "
			    "than the download limit (%" PRIu64 " bytes)",
			    d->limit_bytes);
		else
			snprintf(msg, sizeof(msg), "download limit reached: %"
			    PRIu64 " bytes in %" PRIu64 " downloads within "
			    "%u s", b, f, d->window);
		admit_refuse(s, 429, msg, (uint32_t)(wait > 0 ? wait :
		    d->window));
		return;
	}
	if (r->max_downloads != 0 && r->served[idx] + len >
	    (uint64_t)r->max_downloads * r->size) {
		admit_refuse(s, 403, "no downloads of this release are left", 0);
		return;
	}
	if (acct_add(a, now, (int64_t)len, 1) != 0) {
		admit_refuse(s, 500, "out of memory", 0);
		return;
	}
	r->served[idx] += len;
	r->busy++;
	snprintf(actor, sizeof(actor), "recip:%s", rc->id);
	alert_if_crossed(s, actor, d, b, b + len, f, f + 1);
	admit_refuse(s, 0, "", 0);
}

/* After the transfer: gives back what was reserved but not sent, and
 * records the download. */
static void
on_settle(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX], actor[CONFIG_ID_MAX + 8];
	char sha[65], detail[160];
	const struct config_recipient *rc;
	uint64_t first = 0, last = 0, size = 0, reserved = 0, sent = 0;
	struct release *r;
	struct acct *a;
	int idx;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_get_str(req, sha, sizeof(sha));
	proc_get_u64(req, &first);
	proc_get_u64(req, &last);
	proc_get_u64(req, &size);
	proc_get_u64(req, &reserved);
	proc_get_u64(req, &sent);
	proc_expect_end(req);
	rc = recipient_of(s, req, rid);
	if (sent > reserved)
		proc_malformed(req, "more sent than was reserved");
	if ((a = acct_find(s, rc->id)) != NULL) {
		if (sent < reserved)
			acct_add(a, (int64_t)time(NULL),
			    -(int64_t)(reserved - sent), 0);
		if (acct_save(s, a) != 0)
			log_warnx("cannot save the download account of %s",
			    rc->id);
	}
	if ((r = store_find(s, id)) != NULL &&
	    (idx = store_recipient_index(r, rc->id)) >= 0) {
		r->served[idx] -= reserved - sent;
		if (r->busy > 0)
			r->busy--;
		if (store_save_state(s, r) != 0)
			log_warnx("release %s: cannot save its state", id);
	}
	snprintf(actor, sizeof(actor), "recip:%s", rc->id);
	snprintf(detail, sizeof(detail), "range=%" PRIu64 "-%" PRIu64 "/%"
	    PRIu64 " sent=%" PRIu64 " complete=%d", first, reserved ? last : 0,
	    size, sent, sent == reserved);
	daemon_store_audit(s->audit, sent == reserved ? "download.completed" :
	    "download.incomplete", actor, id, 1, sent, sha[0] ? sha : NULL,
	    detail);
	proc_reply_status(s->chan, SMSG_SETTLE, 0, "");
}

/* ---- the vault's side ---- */

static void
record_json(const struct release *r, char *out, size_t cap, int served)
{
	char t[32], list[RELEASE_RECIPIENTS_MAX * (CONFIG_ID_MAX + 32)];
	size_t i, o = 0;
	struct json j;

	json_begin(&j, out, cap);
	json_str(&j, "id", r->id);
	json_str(&j, "dataset", r->dataset);
	json_str(&j, "filename", r->filename);
	json_u64(&j, "size", r->size);
	json_str(&j, "sha256", r->sha256);
	sk_time_format(r->published, t, sizeof(t));
	json_str(&j, "published", t);
	sk_time_format(r->expires, t, sizeof(t));
	json_str(&j, "expires", t);
	json_u64(&j, "max_downloads", r->max_downloads);
	json_bool(&j, "envelope", r->envelope);
	o += (size_t)snprintf(list, sizeof(list), "[");
	for (i = 0; i < r->nrecipients; i++) {
		if (served)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s{\"id\":\"%s\",\"bytes_served\":%" PRIu64 "}",
			    i ? "," : "", r->recipients[i], r->served[i]);
		else
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s\"%s\"", i ? "," : "", r->recipients[i]);
	}
	snprintf(list + o, sizeof(list) - o, "]");
	json_raw(&j, "recipients", list);
	if (json_end(&j) < 0)
		snprintf(out, cap, "{\"id\":\"%s\"}", r->id);
}

static void
reply_record(struct sender *s, uint32_t type, uint32_t status,
    const struct release *r)
{
	char rec[RECORD_MAX];
	struct proc_msg rep;

	record_json(r, rec, sizeof(rec), 0);
	proc_reply_begin(&rep, type, status, "");
	proc_put_str(&rep, rec);
	proc_reply_send(s->chan, &rep, -1);
}

/* A publication refused: recorded, then answered. */
static void
publish_refuse(struct sender *s, uint32_t type, uint32_t status,
    const char *id, const char *reason)
{
	char detail[PROC_REASON_MAX + 16];

	snprintf(detail, sizeof(detail), "status=%u %s", status, reason);
	log_warnx("vault: %u: %s", status, reason);
	if (!audit_broken(s->audit))
		daemon_store_audit(s->audit, "publish.refused", "vault", id, 0,
		    0, NULL, detail);
	proc_reply_status(s->chan, type, status, reason);
}

static struct keeper_publish *
pub_find(struct sender *s, const struct proc_msg *req, uint64_t token)
{
	size_t i;

	for (i = 0; token != 0 && i < s->npubs; i++)
		if (s->pubs[i].token == token)
			return &s->pubs[i];
	proc_malformed(req, "a publication token the store never gave");
}

static void
pub_drop(struct sender *s, struct keeper_publish *p, int remove_tmp)
{
	if (remove_tmp && p->tmpname[0] != '\0')
		unlinkat(s->tmp_fd, p->tmpname, 0);
	sk_wipe(p, sizeof(*p));
}

/* Checks what net parsed from the vault's headers, as net should have. */
static int
publish_describe(struct sender *s, struct proc_msg *req, struct release *r,
    const char *recips)
{
	const struct config_recipient *rc;
	size_t i;

	if (!store_id_valid(r->id) ||
	    site_find_dataset(s->site, r->dataset) == NULL ||
	    store_meta_parse_recipients(recips, r) != 0 ||
	    !sk_filename_valid(r->filename) ||
	    strchr(r->filename, '"') != NULL || r->max_downloads > 1000000)
		proc_malformed(req, "a publication net's own checks refuse");
	for (i = 0; i < r->nrecipients; i++) {
		if ((rc = site_find_recipient(s->site, r->recipients[i])) ==
		    NULL)
			proc_malformed(req, "a recipient the site does not have");
		if (rc->envelope)
			r->envelope = 1;	/* required, checked at finish */
	}
	r->published = (int64_t)time(NULL);
	return r->expires <= r->published ? -1 : 0;
}

/* The same id again: the same content is a retry (200), other is 409. */
static int
already(struct sender *s, const struct release *r, const uint8_t want[32])
{
	const struct release *old = store_find(s, r->id);
	char hex[65], reason[32];
	int gone;

	sk_hex(want, 32, hex);
	if (old != NULL && strcmp(old->sha256, hex) == 0) {
		reply_record(s, SMSG_PUBLISH_BEGIN, 200, old);
		return 1;
	}
	gone = old == NULL && store_tombstone(s, r->id, NULL, reason,
	    sizeof(reason)) == 0;
	if (old != NULL || gone) {
		publish_refuse(s, SMSG_PUBLISH_BEGIN, 409, r->id, gone ?
		    "this release id was disposed of; use a new id" :
		    "a different release has this id");
		return 1;
	}
	return 0;
}

static struct keeper_publish *
pub_slot(struct sender *s)
{
	size_t i;

	for (i = 0; i < s->npubs; i++)
		if (s->pubs[i].token == 0)
			return &s->pubs[i];
	return NULL;
}

static void
on_publish_begin(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char recips[RELEASE_RECIPIENTS_MAX * (CONFIG_ID_MAX + 1)], rnd[8];
	char witness[128];
	char hex[17];
	struct keeper_publish *p;
	struct seal_handoff h;
	struct release r;
	struct proc_msg rep;
	uint8_t want[32];
	uint64_t expires = 0, avail;
	uint32_t maxd = 0, pkg = 0;
	int fd, e;

	memset(&r, 0, sizeof(r));
	proc_get_str(req, r.id, sizeof(r.id));
	proc_get_str(req, r.dataset, sizeof(r.dataset));
	proc_get_str(req, recips, sizeof(recips));
	proc_get_str(req, r.filename, sizeof(r.filename));
	proc_get_u64(req, &expires);
	proc_get_u64(req, &r.size);
	proc_get_u32(req, &maxd);
	proc_get_u32(req, &pkg);
	proc_get_fixed(req, want, sizeof(want));
	proc_get_str(req, witness, sizeof(witness));
	proc_expect_end(req);
	if (pkg > 1)
		proc_malformed(req, "a package flag that is not 0 or 1");
	r.package = (int)pkg;
	if (witness[0] != '\0' && !proto_witness_valid(witness))
		proc_malformed(req, "a witness that is not seq=N mac=HEX");
	r.expires = expires > INT64_MAX ? INT64_MAX : (int64_t)expires;
	r.max_downloads = maxd;
	if (publish_describe(s, req, &r, recips) != 0) {
		publish_refuse(s, SMSG_PUBLISH_BEGIN, 400, r.id,
		    "Sekisho-Expires is in the past");
		return;
	}
	if (already(s, &r, want))
		return;
	if (util_disk_free(s->local->data_dir, &avail) == 0 &&
	    avail < r.size + s->local->disk_reserve) {
		publish_refuse(s, SMSG_PUBLISH_BEGIN, 507, r.id,
		    "not enough disk space");
		return;
	}
	if ((p = pub_slot(s)) == NULL) {
		publish_refuse(s, SMSG_PUBLISH_BEGIN, 503, r.id,
		    "too many publications in progress");
		return;
	}
	if (util_random(rnd, sizeof(rnd)) != 0)
		fatalx("no randomness");
	sk_hex((uint8_t *)rnd, sizeof(rnd), hex);
	snprintf(p->tmpname, sizeof(p->tmpname), "pub-%s.tmp", hex);
	if ((e = seal_object_create(&s->master, s->tmp_fd, p->tmpname, 0, &h,
	    &fd)) != 0) {
		log_errorx("cannot create %s: %s", p->tmpname, sk_strerror(e));
		sk_wipe(p, sizeof(*p));
		publish_refuse(s, SMSG_PUBLISH_BEGIN, 500, r.id,
		    "cannot start storing the release");
		return;
	}
	p->token = ++s->next_token;
	p->r = r;
	memcpy(p->want, want, sizeof(want));
	snprintf(p->witness, sizeof(p->witness), "%s", witness);
	proc_reply_begin(&rep, SMSG_PUBLISH_BEGIN, 0, "");
	proc_put_u64(&rep, p->token);
	proc_put_u32(&rep, r.envelope ? 1 : 0);
	proc_put_u32(&rep, h.chunk_size);
	proc_put_fixed(&rep, h.header, sizeof(h.header));
	proc_put_fixed(&rep, h.key, sizeof(h.key));
	sk_wipe(&h, sizeof(h));
	proc_reply_send(s->chan, &rep, fd);
	close(fd);
}

static void
on_publish_finish(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	struct keeper_publish *p;
	struct proc_msg rep;
	uint8_t got[32];
	uint64_t token = 0;
	uint32_t is_cms = 0;
	int n;

	proc_get_u64(req, &token);
	proc_get_fixed(req, got, sizeof(got));
	proc_get_u32(req, &is_cms);
	proc_expect_end(req);
	if ((p = pub_find(s, req, token))->finished)
		proc_malformed(req, "a publication finished twice");
	if (CRYPTO_memcmp(got, p->want, 32) != 0) {
		publish_refuse(s, SMSG_PUBLISH_FINISH, 400, p->r.id, "the body "
		    "does not match its Content-Digest; nothing was kept");
		pub_drop(s, p, 1);
		return;
	}
	if (p->r.envelope && !is_cms) {
		publish_refuse(s, SMSG_PUBLISH_FINISH, 400, p->r.id, "a "
		    "recipient of this release takes only CMS envelopes; "
		    "nothing was kept");
		pub_drop(s, p, 1);
		return;
	}
	p->r.envelope = is_cms != 0;
	sk_hex(got, 32, p->r.sha256);
	if ((n = store_meta_format(&p->r, p->meta, sizeof(p->meta))) < 0) {
		publish_refuse(s, SMSG_PUBLISH_FINISH, 500, p->r.id,
		    "the record does not fit");
		pub_drop(s, p, 1);
		return;
	}
	p->metalen = (size_t)n;
	p->finished = 1;
	proc_reply_begin(&rep, SMSG_PUBLISH_FINISH, 0, "");
	proc_put_bytes(&rep, p->meta, p->metalen);
	proc_reply_send(s->chan, &rep, -1);
}

/* A new release's push recipients: each delivery is due now. */
static void
push_queue(struct sender *s, struct release *r)
{
	const struct config_recipient *rc;
	size_t i;

	for (i = 0; i < r->nrecipients; i++)
		if ((rc = site_find_recipient(s->site, r->recipients[i])) !=
		    NULL && rc->push) {
			r->push[i] = PUSH_PENDING;
			r->push_attempts[i] = 0;
			r->push_next[i] = (int64_t)time(NULL);
		}
}

/* The sealed file is what the store decided: its size and its record. */
static int
pub_verify(struct sender *s, const struct keeper_publish *p)
{
	uint8_t meta[SEAL_META_MAX];
	struct seal_reader *rd;
	size_t len = 0;
	int e;

	if ((e = seal_reader_open(&s->master, s->tmp_fd, p->tmpname, &rd)) != 0)
		return e;
	e = seal_reader_meta(rd, meta, sizeof(meta), &len);
	if (e == 0 && (seal_reader_size(rd) != p->r.size ||
	    len != p->metalen || memcmp(meta, p->meta, len) != 0))
		e = SK_EFORMAT;
	seal_reader_free(rd);
	return e;
}

static void
on_publish_commit(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	struct keeper_publish *p;
	struct release *added;
	char detail[160];
	uint64_t token = 0;
	int e;

	proc_get_u64(req, &token);
	proc_expect_end(req);
	if (!(p = pub_find(s, req, token))->finished)
		proc_malformed(req, "a commit before the finish");
	if (pub_verify(s, p) != 0)
		proc_malformed(req, "the sealed file is not what was agreed");
	if (store_find(s, p->r.id) != NULL) {
		publish_refuse(s, SMSG_PUBLISH_COMMIT, 409, p->r.id, "a release "
		    "with this id was published meanwhile");
		pub_drop(s, p, 1);
		return;
	}
	snprintf(detail, sizeof(detail), "dataset=%s recipient_count=%zu "
	    "expires=%lld envelope=%d", p->r.dataset, p->r.nrecipients,
	    (long long)p->r.expires, p->r.envelope);
	/* The record first (R50): a release nobody knows of is not served. */
	if ((p->witness[0] != '\0' && daemon_store_audit(s->audit,
	    "witness.vault", "vault", NULL, 0, 0, NULL, p->witness) != 0) ||
	    daemon_store_audit(s->audit, "release.published", "vault",
	    p->r.id, 1, p->r.size, p->r.sha256, detail) != 0) {
		proc_reply_status(s->chan, SMSG_PUBLISH_COMMIT, 503,
		    "the audit log cannot be written");
		pub_drop(s, p, 1);
		return;
	}
	if ((e = seal_commit(s->tmp_fd, p->tmpname, s->objects_fd,
	    p->r.id)) != 0 || (e = store_add(s, &p->r)) != 0) {
		publish_refuse(s, SMSG_PUBLISH_COMMIT, 500, p->r.id,
		    sk_strerror(e));
		pub_drop(s, p, 1);
		return;
	}
	if ((added = store_find(s, p->r.id)) != NULL) {
		push_queue(s, added);
		store_save_state(s, added);
	}
	log_info("release %s published: %" PRIu64 " bytes for %zu "
	    "recipient(s)", p->r.id, p->r.size, p->r.nrecipients);
	reply_record(s, SMSG_PUBLISH_COMMIT, 201, &p->r);
	pub_drop(s, p, 0);
}

static void
on_publish_abort(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	uint64_t token = 0;

	proc_get_u64(req, &token);
	proc_expect_end(req);
	pub_drop(s, pub_find(s, req, token), 1);
	proc_reply_status(s->chan, SMSG_PUBLISH_ABORT, 0, "");
}

static void
on_withdraw(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], reason[32];
	struct release *r;
	int e;

	proc_get_str(req, id, sizeof(id));
	proc_expect_end(req);
	if ((r = store_find(s, id)) == NULL) {
		if (store_tombstone(s, id, NULL, reason, sizeof(reason)) == 0)
			proc_reply_status(s->chan, SMSG_WITHDRAW, 410, "this "
			    "release was already disposed of");
		else
			proc_reply_status(s->chan, SMSG_WITHDRAW, 404,
			    "no such release");
		return;
	}
	if ((e = store_dispose(s, r, "withdrawn", "vault")) != 0) {
		proc_reply_status(s->chan, SMSG_WITHDRAW, 500, sk_strerror(e));
		return;
	}
	proc_reply_status(s->chan, SMSG_WITHDRAW, 200, "");
}

/* ---- the researcher's package (proto.h), sealed beside its release ---- */

static void
package_name(const char *id, char *out, size_t cap)
{
	snprintf(out, cap, "%s.pkg", id);
}

static void
on_package_put(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], name[RELEASE_ID_MAX + 8], tmp[RELEASE_ID_MAX + 16];
	char sha[65], detail[96];
	struct seal_writer *w = NULL;
	struct release *r;
	uint8_t *buf, d[32];
	unsigned dl = 0;
	size_t n = 0;
	int e;

	if ((buf = malloc(PROTO_PACKAGE_MAX)) == NULL)
		fatalx("out of memory");
	proc_get_str(req, id, sizeof(id));
	proc_get_bytes(req, buf, PROTO_PACKAGE_MAX, &n);
	proc_expect_end(req);
	/* Net checked it; so does the store, which keeps it. */
	if (!store_id_valid(id) || !proto_package_valid((const char *)buf, n))
		proc_malformed(req, "a package net's checks refuse");
	if ((r = store_find(s, id)) == NULL) {
		free(buf);
		not_here(s, SMSG_PACKAGE_PUT, id, NULL);
		return;
	}
	package_name(id, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), "%s.pkg.tmp", id);
	unlinkat(s->tmp_fd, tmp, 0);
	if ((e = seal_writer_open(&s->master, s->tmp_fd, tmp, 0, &w)) == 0 &&
	    (e = seal_writer_write(w, buf, n)) == 0 &&
	    (e = seal_writer_finish(w, NULL, 0)) == 0) {
		/* A package made again (a retry) replaces the earlier. */
		struct seal_disposal dd;

		if ((e = seal_dispose(s->packages_fd, name, &dd)) ==
		    SK_ENOTFOUND)
			e = 0;
		if (e == 0)
			e = seal_writer_commit(w, s->tmp_fd, s->packages_fd,
			    name);
	}
	seal_writer_free(w);
	EVP_Digest(buf, n, d, &dl, EVP_sha256(), NULL);
	free(buf);
	if (e != 0) {
		proc_reply_status(s->chan, SMSG_PACKAGE_PUT, e == SK_ENOSPACE ?
		    507 : 500, "the package cannot be kept");
		return;
	}
	sk_hex(d, 32, sha);
	snprintf(detail, sizeof(detail), "release=%s", r->id);
	daemon_store_audit(s->audit, "release.package", "vault", r->id, 1, n,
	    sha, detail);
	proc_reply_status(s->chan, SMSG_PACKAGE_PUT, 201, "");
}

/* The release's package as the vault sent it (JSON, NUL-ended, malloc'd)
 * in *out: 0, SK_ENOTFOUND when it has none, or another error. */
static int
package_load(struct sender *s, const char *id, char **out, size_t *len)
{
	char name[RELEASE_ID_MAX + 8];
	struct seal_reader *rd = NULL;
	char *pkg;
	int e;

	package_name(id, name, sizeof(name));
	if ((e = seal_reader_open(&s->master, s->packages_fd, name, &rd)) != 0)
		return faccessat(s->packages_fd, name, F_OK,
		    AT_SYMLINK_NOFOLLOW) != 0 ? SK_ENOTFOUND : e;
	if ((pkg = malloc(PROTO_PACKAGE_MAX + 1)) == NULL)
		fatalx("out of memory");
	e = seal_reader_read(rd, (uint8_t *)pkg, PROTO_PACKAGE_MAX, len);
	seal_reader_free(rd);
	if (e != 0) {
		free(pkg);
		return e;
	}
	pkg[*len] = '\0';
	*out = pkg;
	return 0;
}

/* One file of a loaded package (the signature decoded from base64), in
 * *out (malloc'd): 0, or SK_EFORMAT. */
static int
package_file_of(const char *pkg, size_t len, const char *file, char **out,
    size_t *outlen)
{
	struct jsonr doc = { pkg, len };
	char *val;
	size_t n;

	/* A member is never longer than the package it is in. */
	if ((val = malloc(len + 1)) == NULL)
		fatalx("out of memory");
	if (jsonr_get_string(doc, file, val, len + 1) != 0) {
		free(val);
		return SK_EFORMAT;
	}
	n = strlen(val);
	if (strcmp(file, PROTO_PKG_SIGNATURE) == 0 &&
	    sk_base64_decode(val, n, (uint8_t *)val, n, &n) != 0) {
		free(val);
		return SK_EFORMAT;
	}
	*out = val;
	*outlen = n;
	return 0;
}

static void
on_package_get(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX], file[32];
	char actor[CONFIG_ID_MAX + 8], detail[64], *pkg = NULL, *val = NULL;
	struct proc_msg rep;
	struct release *r;
	size_t got = 0, len = 0;
	int idx, e;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_get_str(req, file, sizeof(file));
	proc_expect_end(req);
	recipient_of(s, req, rid);
	if (!proto_package_file(file))
		proc_malformed(req, "not a package file");
	if ((r = addressed(s, SMSG_PACKAGE_GET, id, rid, &idx)) == NULL)
		return;
	if ((e = package_load(s, r->id, &pkg, &got)) == SK_ENOTFOUND) {
		proc_reply_status(s->chan, SMSG_PACKAGE_GET, 404, "this release "
		    "has no codebook or manifest");
		return;
	}
	if (e != 0 || package_file_of(pkg, got, file, &val, &len) != 0) {
		proc_reply_status(s->chan, SMSG_PACKAGE_GET, 500, "the stored "
		    "package cannot be read");
		free(pkg);
		return;
	}
	snprintf(actor, sizeof(actor), "recip:%s", rid);
	snprintf(detail, sizeof(detail), "file=%s", file);
	daemon_store_audit(s->audit, "release.package_read", actor, r->id, 1,
	    len, NULL, detail);
	proc_reply_begin(&rep, SMSG_PACKAGE_GET, 200, "");
	proc_put_bytes(&rep, val, len);
	proc_reply_send(s->chan, &rep, -1);
	free(val);
	free(pkg);
}

static void
on_list_all(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char *buf, rec[RECORD_MAX];
	struct proc_msg rep;
	size_t i, o, cap;

	proc_expect_end(req);
	cap = 64 + s->nreleases * sizeof(rec);
	if ((buf = malloc(cap)) == NULL) {
		proc_reply_status(s->chan, SMSG_LIST_ALL, 500, "out of memory");
		return;
	}
	o = (size_t)snprintf(buf, cap, "{\"releases\":[");
	for (i = 0; i < s->nreleases; i++) {
		record_json(s->releases[i], rec, sizeof(rec), 1);
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "," : "",
		    rec);
	}
	snprintf(buf + o, cap - o, "]}");
	proc_reply_begin(&rep, SMSG_LIST_ALL, 200, "");
	proc_put_str(&rep, buf);
	proc_reply_send(s->chan, &rep, -1);
	free(buf);
}

/* ---- the loop ---- */

static void
on_crl(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;

	daemon_store_on_crl(s->chan, s->audit, s->crl, 2, req);
	daemon_store_warn_ends(s->crl, 2, &s->cred, s->local->expiry_warn_days);
}

static void
on_cred(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;

	daemon_store_on_cred(s->chan, s->audit, &s->cred, req);
	daemon_store_warn_ends(s->crl, 2, &s->cred, s->local->expiry_warn_days);
}

/* ---- deliveries to push recipients (the push process asks) ---- */

/* The package's files into a SMSG_PUSH_NEXT reply: their count (0 or 4),
 * then each name and its bytes. */
static void
push_package(struct proc_msg *rep, const char *id, const char *pkg,
    size_t len)
{
	static const char *const files[4] = { PROTO_PKG_MANIFEST,
		PROTO_PKG_SIGNATURE, PROTO_PKG_DATAPACKAGE, PROTO_PKG_CODEBOOK };
	char *val[4] = { NULL, NULL, NULL, NULL };
	size_t vlen[4], k, got = 0;

	for (k = 0; pkg != NULL && k < 4; k++)
		if (package_file_of(pkg, len, files[k], &val[k], &vlen[k]) == 0)
			got++;
	if (pkg != NULL && got != 4)
		log_errorx("release %s: its package cannot be read; it is "
		    "pushed without it", id);
	proc_put_u32(rep, got == 4 ? 4 : 0);
	for (k = 0; k < 4; k++) {
		if (got == 4) {
			proc_put_str(rep, files[k]);
			proc_put_bytes(rep, val[k], vlen[k]);
		}
		free(val[k]);
	}
}

static void
on_push_next(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	int64_t now = (int64_t)time(NULL), soonest = now + 60;
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg rep;
	struct release *r;
	size_t i, j, plen = 0;
	char *pkg;
	int fd, e;

	proc_expect_end(req);
	for (i = 0; i < s->nreleases; i++) {
		r = s->releases[i];
		if (r->gone || r->expires <= now)
			continue;
		for (j = 0; j < r->nrecipients; j++) {
			if (r->push[j] != PUSH_PENDING || r->push_busy[j])
				continue;
			if (r->push_next[j] > now) {
				if (r->push_next[j] < soonest)
					soonest = r->push_next[j];
				continue;
			}
			/* The package the vault said would follow comes with
			 * the release, or the release waits for it. */
			pkg = NULL;
			e = r->package ? package_load(s, r->id, &pkg, &plen) :
			    SK_ENOTFOUND;
			if (r->package && e == SK_ENOTFOUND) {
				if (now + 2 < soonest)
					soonest = now + 2;
				continue;
			}
			if (e != 0 && e != SK_ENOTFOUND) {
				log_errorx("release %s: its package cannot be read "
				    "for its delivery", r->id);
				continue;
			}
			if (seal_object_open(&s->master, s->objects_fd, r->id,
			    key, &fd) != 0) {
				log_errorx("release %s: cannot be opened for "
				    "its delivery", r->id);
				free(pkg);
				continue;
			}
			r->push_busy[j] = 1;
			proc_reply_begin(&rep, SMSG_PUSH_NEXT, 0, "");
			proc_put_str(&rep, r->id);
			proc_put_str(&rep, r->recipients[j]);
			proc_put_u64(&rep, r->size);
			proc_put_str(&rep, r->sha256);
			proc_put_str(&rep, r->filename);
			proc_put_u32(&rep, r->envelope ? 1 : 0);
			push_package(&rep, r->id, pkg, plen);
			free(pkg);
			proc_put_fixed(&rep, key, sizeof(key));
			sk_wipe(key, sizeof(key));
			proc_reply_send(s->chan, &rep, fd);
			close(fd);
			return;
		}
	}
	proc_reply_begin(&rep, SMSG_PUSH_NEXT, 204, "nothing due");
	proc_put_u32(&rep, (uint32_t)(soonest - now));
	proc_reply_send(s->chan, &rep, -1);
}

static void
on_push_done(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX], why[PROC_REASON_MAX];
	char actor[CONFIG_ID_MAX + 8], detail[PROC_REASON_MAX + 96];
	const struct config_recipient *rc;
	uint32_t status = 0, shift;
	uint64_t bytes = 0, ms = 0;
	struct release *r;
	struct acct *a;
	int i;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_get_u32(req, &status);
	proc_get_str(req, why, sizeof(why));
	proc_get_u64(req, &bytes);
	proc_get_u64(req, &ms);
	proc_expect_end(req);
	snprintf(actor, sizeof(actor), "recip:%s", rid);
	/* Withdrawn or expired meanwhile: cancelled already. */
	if ((r = store_find(s, id)) == NULL ||
	    (i = store_recipient_index(r, rid)) < 0) {
		proc_reply_status(s->chan, SMSG_PUSH_DONE, 0, "");
		return;
	}
	r->push_busy[i] = 0;
	if (r->push[i] != PUSH_PENDING) {
		proc_reply_status(s->chan, SMSG_PUSH_DONE, 0, "");
		return;
	}
	r->push_attempts[i]++;
	if (status >= 200 && status <= 299) {
		r->push[i] = PUSH_DELIVERED;
		r->served[i] += bytes;
		snprintf(detail, sizeof(detail), "status=%u attempts=%u ms=%llu",
		    status, r->push_attempts[i], (unsigned long long)ms);
		(void)daemon_store_audit(s->audit, "release.delivered", actor,
		    r->id, 1, bytes, r->sha256, detail);
		/* Deliveries count as downloads do (R16). */
		if ((a = acct_find(s, rid)) != NULL &&
		    acct_add(a, (int64_t)time(NULL), (int64_t)bytes, 1) == 0)
			(void)acct_save(s, a);
		log_info("release %s delivered to %s (%" PRIu64 " bytes)",
		    r->id, rid, bytes);
	} else {
		rc = site_find_recipient(s->site, rid);
		shift = r->push_attempts[i] - 1 < 6 ? r->push_attempts[i] - 1 :
		    6;
		r->push_next[i] = (int64_t)time(NULL) +
		    (int64_t)s->local->push_retry * (1 << shift);
		snprintf(detail, sizeof(detail), "status=%u attempts=%u "
		    "next_in=%lld why=%s", status, r->push_attempts[i],
		    (long long)(r->push_next[i] - (int64_t)time(NULL)), why);
		(void)daemon_store_audit(s->audit, "push.failed", actor, r->id,
		    1, bytes, NULL, detail);
		log_warnx("release %s: delivery to %s (%s) failed: %s; next "
		    "try in %lld s", r->id, rid, rc != NULL ? rc->endpoint :
		    "?", why, (long long)(r->push_next[i] -
		    (int64_t)time(NULL)));
	}
	store_save_state(s, r);
	proc_reply_status(s->chan, SMSG_PUSH_DONE, 0, "");
}

static void
on_push_alive(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;
	char id[RELEASE_ID_MAX], rid[CONFIG_ID_MAX];
	struct release *r;
	int i;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, rid, sizeof(rid));
	proc_expect_end(req);
	r = store_find(s, id);
	i = r != NULL ? store_recipient_index(r, rid) : -1;
	if (r == NULL || i < 0 || r->gone || r->push[i] != PUSH_PENDING ||
	    r->expires <= (int64_t)time(NULL))
		proc_reply_status(s->chan, SMSG_PUSH_ALIVE, 410, "withdrawn or "
		    "expired");
	else
		proc_reply_status(s->chan, SMSG_PUSH_ALIVE, 0, "");
}

/* The push process's endpoint CRLs: DAEMON_MSG_CRL by recipient index. */
static void
on_endpoint_crl(void *arg, struct proc_msg *req)
{
	struct sender *s = arg;

	daemon_store_on_crl(s->chan, s->audit, s->ecrl, s->site->nrecipients,
	    req);
}

static const struct daemon_handler push_handlers[] = {
	/* The push process asks for a renewed pair too (its client
	 * certificate is the host's), and for its endpoints' CRLs. */
	{ DAEMON_MSG_CRL, on_endpoint_crl },
	{ DAEMON_MSG_CRED, on_cred },
	{ SMSG_PUSH_NEXT, on_push_next },
	{ SMSG_PUSH_DONE, on_push_done },
	{ SMSG_PUSH_ALIVE, on_push_alive },
};

static const struct daemon_handler handlers[] = {
	{ DAEMON_MSG_CRL, on_crl },
	{ DAEMON_MSG_CRED, on_cred },
	{ SMSG_AUDIT, on_audit },
	{ SMSG_AUDIT_STATE, on_audit_state },
	{ SMSG_LIST, on_list },
	{ SMSG_OPEN, on_open },
	{ SMSG_ADMIT, on_admit },
	{ SMSG_SETTLE, on_settle },
	{ SMSG_PUBLISH_BEGIN, on_publish_begin },
	{ SMSG_PUBLISH_FINISH, on_publish_finish },
	{ SMSG_PUBLISH_COMMIT, on_publish_commit },
	{ SMSG_PUBLISH_ABORT, on_publish_abort },
	{ SMSG_WITHDRAW, on_withdraw },
	{ SMSG_PACKAGE_PUT, on_package_put },
	{ SMSG_PACKAGE_GET, on_package_get },
	{ SMSG_LIST_ALL, on_list_all },
};

/* Between requests: what has expired goes (R33). */
static void
keeper_sweep(void *arg)
{
	struct sender *s = arg;

	/* Daily: a CRL or the host's certificate near its end. */
	daemon_store_warn_ends(s->crl, 2, &s->cred, s->local->expiry_warn_days);
	store_sweep(s, (int64_t)time(NULL));
}

static void
keeper_open(struct sender *s)
{
	unsigned removed = 0, loaded = 0, expired;
	int r;

	daemon_open_storage("sekisho-sender", SENDER_VERSION, s->local,
	    s->site, &s->master, &s->tmp_fd, &removed, &s->audit);
	s->objects_fd = daemon_open_dir(s->local->data_dir, "objects");
	s->packages_fd = daemon_open_dir(s->local->data_dir, "packages");
	s->state_fd = daemon_open_dir(s->local->data_dir, "state");
	s->gone_fd = daemon_open_dir(s->local->data_dir, "gone");
	s->acct_fd = daemon_open_dir(s->local->data_dir, "accounting");
	if ((r = store_load(s, &loaded)) != 0 || (r = acct_load(s)) != 0)
		fatalx("cannot load the releases: %s", sk_strerror(r));
	/* What expired while we were down goes now (R33). */
	expired = store_sweep(s, (int64_t)time(NULL));
	log_info("%u release(s) held, %u expired and disposed of", loaded,
	    expired);
	s->npubs = s->local->max_connections + 8;
	if ((s->pubs = calloc(s->npubs, sizeof(*s->pubs))) == NULL)
		fatalx("out of memory");
}

int
keeper_main(const struct local_config *local, struct site_config *site,
    int chan, int push_chan)
{
	static struct sender s;
	struct sandbox_layers layers = { 0 };
	struct audit_event ev = { .event = "sender.stop", .actor = "system" };
	size_t i;

	s.local = local;
	s.site = site;
	s.chan = s.net_chan = chan;
	s.push_chan = push_chan;
	s.objects_fd = s.packages_fd = s.tmp_fd = s.state_fd = s.gone_fd = s.acct_fd = -1;
	daemon_store_begin(local, &layers);
	keeper_open(&s);
	daemon_crl_watch_init(&s.crl[0], "external",
	    site->sender.external.ca_file, site->sender.external.crl_file);
	daemon_crl_watch_init(&s.crl[1], "internal",
	    site->sender.internal.ca_file, site->sender.internal.crl_file);
	daemon_cred_watch_init(&s.cred, local->certificate, local->key,
	    site->receiver.internal.ca_file);
	if ((s.ecrl = calloc(site->nrecipients + 1, sizeof(*s.ecrl))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < site->nrecipients; i++) {
		const struct config_recipient *rc = &site->recipients[i];

		daemon_crl_watch_init(&s.ecrl[i], rc->id, rc->endpoint_ca,
		    rc->push ? rc->endpoint_crl : "");
	}
	daemon_store_warn_ends(s.crl, 2, &s.cred, local->expiry_warn_days);
	daemon_sandbox(local, site, SANDBOX_STORE, &layers);
	daemon_store_serve2(s.net_chan, handlers, SK_ARRAY_LEN(handlers),
	    s.push_chan, push_handlers, SK_ARRAY_LEN(push_handlers), &s.chan,
	    &s, SWEEP_INTERVAL_MS, keeper_sweep);
	for (i = 0; i < s.npubs; i++)
		if (s.pubs[i].token != 0)
			pub_drop(&s, &s.pubs[i], 1);
	audit_append(s.audit, &ev);
	audit_close(s.audit);
	seal_master_wipe(&s.master);
	daemon_cred_watch_free(&s.cred);
	free(s.ecrl);
	for (i = 0; i < s.nreleases; i++)
		free(s.releases[i]);
	free(s.releases);
	if (s.accts != NULL)
		for (i = 0; i < s.site->nrecipients; i++)
			free(s.accts[i].b);
	free(s.accts);
	free(s.pubs);
	log_info("stopped");
	return 0;
}
