/*
 * publish.c: the vault's listener on the internal link. Only the vault's
 * certificate (internal CA), from the vault's address, is served:
 *
 *   PUT    /v1/releases/ID   publish: the body is the release; headers
 *                            say what it is (below); Content-Digest is
 *                            required and checked before anything is kept
 *   DELETE /v1/releases/ID   withdraw: dispose of it now, with a record
 *   GET    /v1/releases      every release held, with bytes served
 *
 * Publish headers: Sekisho-Dataset, Sekisho-Recipients (ids, comma
 * separated), Sekisho-Expires (RFC 3339 UTC or unix seconds),
 * Sekisho-Max-Downloads (optional; per recipient), Sekisho-Filename
 * (optional). Publishing the same id with the same content again answers
 * 200 (the vault may retry after a crash); other content under a used id
 * is refused (409).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "json.h"
#include "log.h"
#include "sender.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define PUBLISH_BUF (64u << 10)
#define PUBLISH_MAX (UINT64_C(64) << 30)	/* the largest release */

/* "2026-12-31T00:00:00Z" or unix seconds. */
static int
parse_time(const char *v, int64_t *out)
{
	struct tm tm;
	char *end;
	uint64_t u;

	if (strlen(v) == 20 && v[10] == 'T' && v[19] == 'Z') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end == NULL || *end != '\0')
			return -1;
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	if (*v < '0' || *v > '9' || strlen(v) > 12)
		return -1;
	u = strtoull(v, &end, 10);
	if (*end != '\0')
		return -1;
	*out = (int64_t)u;
	return 0;
}

/* Does this look like a CMS (enveloped or auth-enveloped) message? A DER
 * SEQUENCE whose first member is the content type OID. */
static int
looks_like_cms(const uint8_t *p, size_t n)
{
	static const uint8_t enveloped[] = { 0x06, 0x09, 0x2a, 0x86, 0x48,
		0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03 };
	static const uint8_t auth_enveloped[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48,
		0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17 };
	size_t off;

	if (n < 2 || p[0] != 0x30)
		return 0;
	off = p[1] < 0x80 ? 2 : 2 + (p[1] & 0x7f);
	if (p[1] == 0x80)	/* BER indefinite length */
		off = 2;
	if (off + sizeof(auth_enveloped) > n)
		return 0;
	return memcmp(p + off, enveloped, sizeof(enveloped)) == 0 ||
	    memcmp(p + off, auth_enveloped, sizeof(auth_enveloped)) == 0;
}

/* The release described by the request's headers; 0 or an HTTP status. */
static int
describe(struct srv_conn *c, const char *id, struct release *r,
    const char **why)
{
	struct sender *s = c->l->arg;
	char v[1024];
	uint64_t u;
	size_t i;

	memset(r, 0, sizeof(r[0]));
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (http_header(&c->req, "Sekisho-Dataset", r->dataset,
	    sizeof(r->dataset)) != 0 ||
	    site_find_dataset(s->site, r->dataset) == NULL)
		return *why = "Sekisho-Dataset is missing or not a dataset of "
		    "the site", 400;
	if (http_header(&c->req, "Sekisho-Recipients", v, sizeof(v)) != 0 ||
	    store_meta_parse_recipients(v, r) != 0)
		return *why = "Sekisho-Recipients is missing or malformed", 400;
	for (i = 0; i < r->nrecipients; i++) {
		if (site_find_recipient(s->site, r->recipients[i]) == NULL)
			return *why = "Sekisho-Recipients names a recipient the "
			    "site does not have", 400;
		if (site_find_recipient(s->site, r->recipients[i])->envelope)
			r->envelope = 1;	/* required, checked below */
	}
	if (http_header(&c->req, "Sekisho-Expires", v, sizeof(v)) != 0 ||
	    parse_time(v, &r->expires) != 0)
		return *why = "Sekisho-Expires is missing or malformed", 400;
	r->published = (int64_t)time(NULL);
	if (r->expires <= r->published)
		return *why = "Sekisho-Expires is in the past", 400;
	if (http_header(&c->req, "Sekisho-Max-Downloads", v, sizeof(v)) == 0) {
		char *end;

		u = strtoull(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || u > 1000000)
			return *why = "Sekisho-Max-Downloads is malformed", 400;
		r->max_downloads = (unsigned)u;
	}
	if (http_header(&c->req, "Sekisho-Filename", r->filename,
	    sizeof(r->filename)) != 0)
		snprintf(r->filename, sizeof(r->filename), "%s", id);
	if (!sk_filename_valid(r->filename) || strchr(r->filename, '"') != NULL)
		return *why = "Sekisho-Filename is not a valid file name", 400;
	if (c->req.has_transfer_encoding)
		return *why = "send the release with a Content-Length", 400;
	if (!c->req.has_content_length)
		return *why = "Content-Length is required", 411;
	if (c->req.content_length > PUBLISH_MAX)
		return *why = "the release is too large", 413;
	r->size = c->req.content_length;
	return 0;
}

struct body {
	struct seal_writer *w;
	EVP_MD_CTX *md;
	uint64_t done;
	int checked_cms, is_cms;
};

static int
take(struct body *b, const uint8_t *p, size_t n)
{
	if (!b->checked_cms) {
		b->checked_cms = 1;
		b->is_cms = looks_like_cms(p, n);
	}
	if (EVP_DigestUpdate(b->md, p, n) != 1)
		return SK_ECRYPTO;
	b->done += n;
	return seal_writer_write(b->w, p, n);
}

/* Reads the body into the sealed writer while hashing it. */
static int
read_body(struct srv_conn *c, struct body *b, uint64_t length, int *status)
{
	size_t early = c->head_len - c->req.head_len, got, want;
	uint8_t *buf;
	int e = 0;

	*status = 500;
	if (early > length) {
		*status = 400;
		return SK_EFORMAT;
	}
	if (early > 0 && (e = take(b, c->head + c->req.head_len, early)) != 0)
		return *status = e == SK_ENOSPACE ? 507 : 500, e;
	if ((buf = malloc(PUBLISH_BUF)) == NULL)
		return SK_ENOMEM;
	while (b->done < length) {
		want = length - b->done < PUBLISH_BUF ?
		    (size_t)(length - b->done) : PUBLISH_BUF;
		e = tls_read(c->ssl, buf, want, &got);
		if (e != 0 || got == 0) {
			*status = e == SK_ESYS ? 408 : 0;
			e = e != 0 ? e : SK_ETRUNCATED;
			break;
		}
		if ((e = take(b, buf, got)) != 0) {
			*status = e == SK_ENOSPACE ? 507 : 500;
			break;
		}
	}
	free(buf);
	return e;
}

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

/* The same id again: the same content is a retry (200), other is 409. */
static int
already(struct srv_conn *c, const char *id, const uint8_t digest[32])
{
	struct sender *s = c->l->arg;
	struct release *old;
	char hex[65], reason[32], rec[4096];
	int gone;

	sk_hex(digest, 32, hex);
	pthread_mutex_lock(&s->lock);
	old = store_find(s, id);
	if (old != NULL && strcmp(old->sha256, hex) == 0) {
		record_json(old, rec, sizeof(rec), 0);
		pthread_mutex_unlock(&s->lock);
		srv_respond_json(c, 200, rec, NULL);
		return 1;
	}
	gone = old == NULL && store_tombstone(s, id, NULL, reason,
	    sizeof(reason)) == 0;
	pthread_mutex_unlock(&s->lock);
	if (old != NULL || gone) {
		srv_error(c, 409, "publish.refused", gone ? "this release id "
		    "was disposed of; use a new id" : "a different release "
		    "has this id", NULL);
		return 1;
	}
	return 0;
}

static void
publish(struct srv_conn *c, const char *id)
{
	struct sender *s = c->l->arg;
	struct release r;
	struct body b = { 0 };
	char v[256], tmp[RELEASE_ID_MAX + 32], meta[SEAL_META_MAX];
	char rec[4096], detail[160];
	uint8_t want[32], got[32];
	const char *why = NULL;
	unsigned mdlen = 0;
	uint64_t avail;
	int status, e, n;

	if (!store_id_valid(id)) {
		srv_error(c, 400, "publish.refused", "a release id is 1 to 63 "
		    "letters, digits, '.', '_' or '-'", NULL);
		return;
	}
	if (http_header(&c->req, "Content-Digest", v, sizeof(v)) != 0 ||
	    http_content_digest_sha256(v, want) != 0) {
		srv_error(c, 400, "publish.refused", "Content-Digest with "
		    "sha-256 is required", NULL);
		return;
	}
	if ((status = describe(c, id, &r, &why)) != 0) {
		srv_error(c, status, "publish.refused", why, NULL);
		return;
	}
	if (already(c, id, want))
		return;
	if (util_disk_free(s->local.data_dir, &avail) == 0 &&
	    avail < r.size + s->local.disk_reserve) {
		srv_error(c, 507, "publish.refused", "not enough disk space",
		    NULL);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d.%llu", id, (int)getpid(),
	    (unsigned long long)util_now_ms());
	if ((b.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b.md, EVP_sha256(), NULL) != 1 ||
	    seal_writer_open(&s->master, s->tmp_fd, tmp, 0, &b.w) != 0) {
		EVP_MD_CTX_free(b.md);
		srv_error(c, 500, "publish.refused", "cannot start storing the "
		    "release", NULL);
		return;
	}
	e = read_body(c, &b, r.size, &status);
	if (e == 0 && EVP_DigestFinal_ex(b.md, got, &mdlen) != 1)
		e = SK_ECRYPTO, status = 500;
	if (e == 0 && memcmp(got, want, 32) != 0)
		e = SK_EAUTH, status = 400, why = "the body does not match its "
		    "Content-Digest; nothing was kept";
	if (e == 0 && r.envelope && !b.is_cms)
		e = SK_EFORMAT, status = 400, why = "a recipient of this "
		    "release takes only CMS envelopes; nothing was kept";
	if (e == 0) {
		r.envelope = b.is_cms;
		sk_hex(got, 32, r.sha256);
		if ((n = store_meta_format(&r, meta, sizeof(meta))) < 0 ||
		    (e = seal_writer_finish(b.w, meta, (size_t)n)) != 0)
			e = e ? e : SK_ETOOBIG, status = e == SK_ENOSPACE ? 507 :
			    500;
	}
	EVP_MD_CTX_free(b.md);
	if (e == 0) {
		pthread_mutex_lock(&s->lock);
		if (store_find(s, id) != NULL)
			e = SK_EEXIST;		/* a racing twin won */
		else if ((e = seal_writer_commit(b.w, s->tmp_fd, s->objects_fd,
		    id)) == 0 && (e = store_add(s, &r)) == 0)
			store_save_state(s, &r);
		pthread_mutex_unlock(&s->lock);
		status = e == SK_EEXIST ? 409 : 500;
		why = e == SK_EEXIST ? "a release with this id was published "
		    "meanwhile" : NULL;
	}
	seal_writer_free(b.w);
	if (e != 0) {
		if (status != 0)
			srv_error(c, status, "publish.refused", why != NULL ?
			    why : sk_strerror(e), NULL);
		else
			log_warnx("vault: publishing %s ended early; nothing "
			    "was kept", id);
		return;
	}
	snprintf(detail, sizeof(detail), "dataset=%s recipients=%zu "
	    "expires=%lld envelope=%d", r.dataset, r.nrecipients,
	    (long long)r.expires, r.envelope);
	srv_audit(c, "release.published", id, 1, r.size, r.sha256, detail);
	log_info("release %s published: %" PRIu64 " bytes for %zu "
	    "recipient(s)", id, r.size, r.nrecipients);
	record_json(&r, rec, sizeof(rec), 0);
	srv_respond_json(c, 201, rec, NULL);
}

static void
withdraw(struct srv_conn *c, const char *id)
{
	struct sender *s = c->l->arg;
	struct release *r;
	char reason[32];
	int e;

	pthread_mutex_lock(&s->lock);
	if ((r = store_find(s, id)) == NULL) {
		e = store_tombstone(s, id, NULL, reason, sizeof(reason));
		pthread_mutex_unlock(&s->lock);
		if (e == 0)
			srv_error(c, 410, "withdraw.refused", "this release "
			    "was already disposed of", NULL);
		else
			srv_error(c, 404, "withdraw.refused", "no such release",
			    NULL);
		return;
	}
	e = store_dispose(s, r, "withdrawn", "vault");
	pthread_mutex_unlock(&s->lock);
	if (e != 0) {
		srv_error(c, 500, "withdraw.refused", sk_strerror(e), NULL);
		return;
	}
	srv_respond_json(c, 200, "{\"withdrawn\":true}", NULL);
}

static void
list_all(struct srv_conn *c)
{
	struct sender *s = c->l->arg;
	char *buf, rec[4096];
	size_t i, o, cap;

	pthread_mutex_lock(&s->lock);
	cap = 64 + s->nreleases * sizeof(rec);
	if ((buf = malloc(cap)) == NULL) {
		pthread_mutex_unlock(&s->lock);
		srv_error(c, 500, NULL, "out of memory", NULL);
		return;
	}
	o = (size_t)snprintf(buf, cap, "{\"releases\":[");
	for (i = 0; i < s->nreleases; i++) {
		record_json(s->releases[i], rec, sizeof(rec), 1);
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "," : "",
		    rec);
	}
	pthread_mutex_unlock(&s->lock);
	snprintf(buf + o, cap - o, "]}");
	srv_respond_json(c, 200, buf, NULL);
	free(buf);
}

int
publish_authorize(struct srv_conn *c)
{
	struct sender *s = c->l->arg;

	return srv_require_host(c, s->site->vault.identity,
	    s->site->vault.sender_address, "vault");
}

void
publish_serve(struct srv_conn *c)
{
	char segs[4][256];
	size_t nsegs;

	if (srv_audit_ok(c) != 0 || srv_read_request(c, 0) != 0)
		return;
	if (http_split_path(c->req.target, segs, SK_ARRAY_LEN(segs),
	    &nsegs) != 0 || nsegs < 2 || nsegs > 3 ||
	    strcmp(segs[0], "v1") != 0 || strcmp(segs[1], "releases") != 0) {
		srv_error(c, 404, "request.refused", "the endpoints are "
		    "/v1/releases and /v1/releases/{id}", NULL);
		return;
	}
	if (nsegs == 2 && c->req.method == HTTP_GET)
		list_all(c);
	else if (nsegs == 3 && c->req.method == HTTP_PUT)
		publish(c, segs[2]);
	else if (nsegs == 3 && c->req.method == HTTP_DELETE)
		withdraw(c, segs[2]);
	else
		srv_error(c, 405, "request.refused", "GET /v1/releases, PUT or "
		    "DELETE /v1/releases/{id}", NULL);
}
