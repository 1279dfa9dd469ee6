/*
 * publish.c: the vault's listener on the internal link. Only the vault's
 * certificate (internal CA), from the vault's address, is served:
 *
 *   PUT    /v1/releases/ID   publish: the body is the release; headers
 *                            say what it is (below); Content-Digest is
 *                            required and checked before anything is kept
 *   PUT    /v1/releases/ID/package  the release's codebook and signed
 *                            manifest (proto.h), after the release
 *   DELETE /v1/releases/ID   withdraw: dispose of it now, with a record
 *   GET    /v1/releases      every release held, with bytes served
 *
 * Publish headers: Sekisho-Dataset, Sekisho-Recipients (ids, comma
 * separated), Sekisho-Expires (RFC 3339 UTC or unix seconds),
 * Sekisho-Max-Downloads (optional; per recipient), Sekisho-Filename
 * (optional). Publishing the same id with the same content again answers
 * 200 (the vault may retry after a crash); other content under a used id
 * is refused (409).
 *
 * In the net process: the store (keeper.c) checks the request again,
 * creates the file and hands over its descriptor and key; the body is
 * hashed and sealed here as it arrives; the store makes the record, checks
 * the sealed file and commits it.
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
#include "proto.h"
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
	struct snet *s = SNET(c);
	char v[1024];
	uint64_t u;
	size_t i;

	memset(r, 0, sizeof(r[0]));
	snprintf(r->id, sizeof(r->id), "%.*s", RELEASE_ID_MAX - 1, id);
	if (http_header(&c->req, PROTO_H_DATASET, r->dataset,
	    sizeof(r->dataset)) != 0 ||
	    site_find_dataset(s->site, r->dataset) == NULL)
		return *why = "Sekisho-Dataset is missing or not a dataset of "
		    "the site", 400;
	if (http_header(&c->req, PROTO_H_RECIPIENTS, v, sizeof(v)) != 0 ||
	    store_meta_parse_recipients(v, r) != 0)
		return *why = "Sekisho-Recipients is missing or malformed", 400;
	for (i = 0; i < r->nrecipients; i++) {
		if (site_find_recipient(s->site, r->recipients[i]) == NULL)
			return *why = "Sekisho-Recipients names a recipient the "
			    "site does not have", 400;
		if (site_find_recipient(s->site, r->recipients[i])->envelope)
			r->envelope = 1;	/* required, checked below */
	}
	if (http_header(&c->req, PROTO_H_EXPIRES, v, sizeof(v)) != 0 ||
	    parse_time(v, &r->expires) != 0)
		return *why = "Sekisho-Expires is missing or malformed", 400;
	r->published = (int64_t)time(NULL);
	if (r->expires <= r->published)
		return *why = "Sekisho-Expires is in the past", 400;
	if (http_header(&c->req, PROTO_H_MAX_DOWNLOADS, v, sizeof(v)) == 0) {
		char *end;

		u = strtoull(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || u > 1000000)
			return *why = "Sekisho-Max-Downloads is malformed", 400;
		r->max_downloads = (unsigned)u;
	}
	if (http_header(&c->req, PROTO_H_PACKAGE, v, sizeof(v)) == 0) {
		if (strcmp(v, "1") != 0)
			return *why = PROTO_H_PACKAGE " is 1 or absent", 400;
		r->package = 1;
	}
	if (http_header(&c->req, PROTO_H_FILENAME, r->filename,
	    sizeof(r->filename)) != 0)
		snprintf(r->filename, sizeof(r->filename), "%.*s", RELEASE_FILENAME_MAX - 1, id);
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

/* A reply's text field, whole (the store's JSON). */
static void
respond_text(struct srv_conn *c, struct proc_reply *rep)
{
	uint32_t status = rep->status;
	char *text;

	if ((text = malloc(rep->msg.len + 1)) == NULL)
		fatalx("out of memory");
	proc_get_str(&rep->msg, text, rep->msg.len + 1);
	net_reply_end(SNET(c), rep);
	srv_respond_json(c, (int)status, text, NULL);
	free(text);
}

/* The store's answer to a step: 0 to go on; otherwise answered here. */
static int
step_answered(struct srv_conn *c, struct proc_reply *rep)
{
	if (rep->status == 0)
		return 0;
	if (rep->status == 200 || rep->status == 201) {
		respond_text(c, rep);
		return 1;
	}
	net_reply_end(SNET(c), rep);
	srv_error(c, (int)rep->status, NULL, rep->reason, NULL);
	return 1;
}

static void
publish_abort(struct srv_conn *c, uint64_t token)
{
	struct proc_msg req;
	struct proc_reply rep;

	proc_msg_init(&req, SMSG_PUBLISH_ABORT);
	proc_put_u64(&req, token);
	net_call(SNET(c), &req, -1, &rep);
	net_reply_end(SNET(c), &rep);
}

/* The store checks the release again and creates its file: the writer. */
static int
publish_begin(struct srv_conn *c, const struct release *r,
    const uint8_t want[32], const char *witness, uint64_t *token,
    struct seal_writer **w)
{
	char list[RELEASE_RECIPIENTS_MAX * (CONFIG_ID_MAX + 1)];
	struct seal_handoff h;
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t envelope = 0;
	size_t i, o = 0;
	int fd, e;

	for (i = 0; i < r->nrecipients; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? "," : "", r->recipients[i]);
	proc_msg_init(&req, SMSG_PUBLISH_BEGIN);
	proc_put_str(&req, r->id);
	proc_put_str(&req, r->dataset);
	proc_put_str(&req, list);
	proc_put_str(&req, r->filename);
	proc_put_u64(&req, (uint64_t)r->expires);
	proc_put_u64(&req, r->size);
	proc_put_u32(&req, r->max_downloads);
	proc_put_u32(&req, (uint32_t)r->package);
	proc_put_fixed(&req, want, 32);
	proc_put_str(&req, witness);
	net_call(SNET(c), &req, -1, &rep);
	if (step_answered(c, &rep))
		return -1;
	proc_get_u64(&rep.msg, token);
	proc_get_u32(&rep.msg, &envelope);
	proc_get_u32(&rep.msg, &h.chunk_size);
	proc_get_fixed(&rep.msg, h.header, sizeof(h.header));
	proc_get_fixed(&rep.msg, h.key, sizeof(h.key));
	fd = proc_take_fd(&rep.msg);
	net_reply_end(SNET(c), &rep);
	if (fd == -1)
		fatalx("the store gave no file for release %s; ending", r->id);
	e = seal_writer_attach(fd, &h, w);
	sk_wipe(&h, sizeof(h));
	if (e != 0) {
		close(fd);
		publish_abort(c, *token);
		srv_error(c, 500, "publish.refused", "cannot start storing the "
		    "release", NULL);
		return -1;
	}
	return 0;
}

static void
publish(struct srv_conn *c, const char *id)
{
	struct release r;
	struct body b = { 0 };
	struct proc_msg req;
	struct proc_reply rep;
	char v[256], meta[SEAL_META_MAX], witness[128];
	uint8_t want[32], got[32];
	const char *why = NULL;
	unsigned mdlen = 0;
	uint64_t token = 0;
	size_t metalen = 0;
	int status, e;

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
	/* R47: the vault's chain head, if it sent one (checked here and
	 * again by the keeper, which records it). */
	if (http_header(&c->req, PROTO_H_WITNESS, witness,
	    sizeof(witness)) != 0)
		witness[0] = '\0';
	else if (!proto_witness_valid(witness)) {
		srv_error(c, 400, "publish.refused", "Sekisho-Witness is "
		    "malformed", NULL);
		return;
	}
	if (publish_begin(c, &r, want, witness, &token, &b.w) != 0)
		return;
	/* The vault waits for this before the body: an answer before it (a
	 * retry of what is here already: 200) costs it no body sent into a
	 * connection that closes. */
	if (c->req.expect_continue &&
	    tls_write_all(c->ssl, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) {
		seal_writer_free(b.w);
		publish_abort(c, token);
		log_warnx("vault: publishing %s ended before its body; nothing "
		    "was kept", id);
		return;
	}
	if ((b.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b.md, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256 cannot start");
	e = read_body(c, &b, r.size, &status);
	if (e == 0 && EVP_DigestFinal_ex(b.md, got, &mdlen) != 1)
		e = SK_ECRYPTO, status = 500;
	EVP_MD_CTX_free(b.md);
	if (e != 0) {
		seal_writer_free(b.w);
		publish_abort(c, token);
		if (status != 0)
			srv_error(c, status, "publish.refused", sk_strerror(e),
			    NULL);
		else
			log_warnx("vault: publishing %s ended early; nothing "
			    "was kept", id);
		return;
	}
	/* The store checks the digest and the envelope, and says what to
	 * seal as the record. */
	proc_msg_init(&req, SMSG_PUBLISH_FINISH);
	proc_put_u64(&req, token);
	proc_put_fixed(&req, got, sizeof(got));
	proc_put_u32(&req, b.is_cms ? 1 : 0);
	net_call(SNET(c), &req, -1, &rep);
	if (step_answered(c, &rep)) {
		seal_writer_free(b.w);	/* the store has let go of it */
		return;
	}
	proc_get_bytes(&rep.msg, meta, sizeof(meta), &metalen);
	net_reply_end(SNET(c), &rep);
	e = seal_writer_finish(b.w, meta, metalen);
	seal_writer_free(b.w);
	if (e != 0) {
		publish_abort(c, token);
		srv_error(c, e == SK_ENOSPACE ? 507 : 500, "publish.refused",
		    sk_strerror(e), NULL);
		return;
	}
	proc_msg_init(&req, SMSG_PUBLISH_COMMIT);
	proc_put_u64(&req, token);
	net_call(SNET(c), &req, -1, &rep);
	step_answered(c, &rep);
}

static void
withdraw(struct srv_conn *c, const char *id)
{
	struct proc_msg req;
	struct proc_reply rep;

	if (!store_id_valid(id)) {
		srv_error(c, 404, "withdraw.refused", "no such release", NULL);
		return;
	}
	proc_msg_init(&req, SMSG_WITHDRAW);
	proc_put_str(&req, id);
	net_call(SNET(c), &req, -1, &rep);
	net_reply_end(SNET(c), &rep);
	if (rep.status != 200) {
		srv_error(c, (int)rep.status, "withdraw.refused", rep.reason,
		    NULL);
		return;
	}
	/* Disposed of: what is being sent of it ends now (R33). The store
	 * counted them in its release.disposed entry. */
	download_cut(id, "withdrawn");
	srv_respond_json(c, 200, "{\"withdrawn\":true}", NULL);
}

/* The researcher's package: read whole (it is small), checked, handed to
 * the store, which checks it again and keeps it sealed beside the release. */
static void
put_package(struct srv_conn *c, const char *id)
{
	size_t early = c->head_len - c->req.head_len, got;
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t len = c->req.content_length, done;
	char *buf;
	int e = 0;

	if (!store_id_valid(id)) {
		srv_error(c, 404, "package.refused", "no such release", NULL);
		return;
	}
	if (!c->req.has_content_length || len == 0 ||
	    len > PROTO_PACKAGE_MAX || early > len) {
		srv_error(c, c->req.has_content_length && len > 0 ? 413 : 411,
		    "package.refused", "a package needs a Content-Length of at "
		    "most 4 MiB", NULL);
		return;
	}
	if ((buf = malloc((size_t)len + 1)) == NULL) {
		srv_error(c, 500, NULL, "out of memory", NULL);
		return;
	}
	memcpy(buf, c->head + c->req.head_len, early);
	for (done = early; done < len && e == 0; done += got)
		if ((e = tls_read(c->ssl, buf + done, (size_t)(len - done),
		    &got)) == 0 && got == 0)
			e = SK_ETRUNCATED;
	if (e != 0) {
		free(buf);
		log_warnx("peer %s: package for %s cut off; nothing kept",
		    c->peer_str, id);
		return;
	}
	buf[len] = '\0';
	if (!proto_package_valid(buf, (size_t)len)) {
		free(buf);
		srv_error(c, 400, "package.refused", "the package is not a "
		    "JSON object holding every file as a string", NULL);
		return;
	}
	proc_msg_init(&req, SMSG_PACKAGE_PUT);
	proc_put_str(&req, id);
	proc_put_bytes(&req, buf, (size_t)len);
	free(buf);
	net_call(SNET(c), &req, -1, &rep);
	net_reply_end(SNET(c), &rep);
	if (rep.status != 201) {
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return;
	}
	srv_respond_json(c, 201, "{\"package\":true}", NULL);
}

static void
list_all(struct srv_conn *c)
{
	struct proc_msg req;
	struct proc_reply rep;

	proc_msg_init(&req, SMSG_LIST_ALL);
	net_call(SNET(c), &req, -1, &rep);
	if (rep.status != 200) {
		net_reply_end(SNET(c), &rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return;
	}
	respond_text(c, &rep);
}

int
publish_authorize(struct srv_conn *c)
{
	struct snet *s = SNET(c);

	return srv_require_host(c, s->site->vault.identity,
	    s->site->vault.sender_address, "vault");
}

static void
route_list(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)segs;
	(void)nsegs;
	list_all(c);
}

static void
route_publish(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	publish(c, segs[2]);
}

static void
route_package(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	put_package(c, segs[2]);
}

static void
route_withdraw(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	withdraw(c, segs[2]);
}

void
publish_serve(struct srv_conn *c)
{
	static const struct srv_route routes[] = {
		{ HTTP_GET, PROTO_RELEASES, route_list },
		{ HTTP_PUT, PROTO_RELEASES "/{id}", route_publish },
		{ HTTP_PUT, PROTO_RELEASES "/{id}/" PROTO_PACKAGE,
		    route_package },
		{ HTTP_DELETE, PROTO_RELEASES "/{id}", route_withdraw },
	};

	if (srv_audit_ok(c) != 0 || srv_read_request(c, 0) != 0)
		return;
	srv_dispatch(c, routes, SK_ARRAY_LEN(routes), "request.refused");
}
