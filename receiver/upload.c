/*
 * upload.c: PUT /v1/uploads/{dataset}/{filename}.
 *
 * The body is hashed and sealed as it streams in; nothing is acknowledged
 * until the sealed object is durable and the audit entry is written. The
 * object id is a keyed hash of municipality, dataset, file name and content
 * digest, so re-sending the same file finds the same object (idempotent),
 * and the stored name is never anything the client chose.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "receiver.h"
#include "seal.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define UPLOAD_ID_BYTES 16
#define UPLOAD_ID_HEX (2 * UPLOAD_ID_BYTES + 1)
#define UPLOAD_ASYNC_BUF (256u << 10)	/* x3 per upload in flight */

struct upload {
	struct srv_conn *c;
	const struct config_dataset *dataset;
	const char *filename;
	uint64_t length;		/* Content-Length */
	int has_digest;
	uint8_t want_digest[32];
	struct seal_writer *writer;
	EVP_MD_CTX *md;
	uint8_t sha256[32];
	char sha256_hex[65];
	char id[UPLOAD_ID_HEX];
	uint64_t rows;			/* CSV records, header included */
	int in_quotes;
	uint8_t last_byte;
	char receipt[SEAL_META_MAX];
	int receipt_len;
	uint64_t body_ms;		/* receiving the body */
	uint64_t sync_ms;		/* sealing the tail and fsync */
};

/*
 * Counts CSV records as bytes pass: a record ends at a LF outside quotes.
 * Byte-wise is correct for UTF-8 and CP932 alike, since neither '"' nor LF
 * occurs inside a multibyte character of either.
 */
static void
upload_count_rows(struct upload *u, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *q, *nl;

	if (n > 0)
		u->last_byte = p[n - 1];
	/* memchr jumps instead of a byte loop: this runs on every byte. */
	while (p < end) {
		q = memchr(p, '"', (size_t)(end - p));
		if (u->in_quotes) {
			if (q == NULL)
				return;
			u->in_quotes = 0;
			p = q + 1;
			continue;
		}
		if (q == NULL)
			q = end;
		while ((nl = memchr(p, '\n', (size_t)(q - p))) != NULL) {
			u->rows++;
			p = nl + 1;
		}
		if (q == end)
			return;
		u->in_quotes = 1;
		p = q + 1;
	}
}

static int
upload_checks(struct upload *u, char segs[][256])
{
	struct srv_conn *c = u->c;
	char value[256];
	uint64_t avail;
	int r;

	if ((u->dataset = site_find_dataset(RCV(c)->site, segs[2])) == NULL) {
		srv_error(c, 404, "upload.refused", "unknown dataset", NULL);
		return -1;
	}
	if (!site_municipality_allows(MUNI(c), u->dataset->id)) {
		srv_error(c, 403, "upload.refused",
		    "this municipality may not upload to this dataset", NULL);
		return -1;
	}
	if (!sk_filename_valid(segs[3])) {
		srv_error(c, 400, "upload.refused", "invalid file name: 1 to "
		    "255 bytes of UTF-8, no control characters, '/', '\\' or "
		    "'..'", NULL);
		return -1;
	}
	u->filename = segs[3];
	if (c->req.has_transfer_encoding) {
		srv_error(c, 501, "upload.refused", "Transfer-Encoding "
		    "(chunked upload) is not supported; send Content-Length", NULL);
		return -1;
	}
	if (!c->req.has_content_length) {
		srv_error(c, 411, "upload.refused", "Content-Length required", NULL);
		return -1;
	}
	u->length = c->req.content_length;
	if (u->length > u->dataset->max_bytes) {
		srv_error(c, 413, "upload.refused",
		    "larger than this dataset's size limit", NULL);
		return -1;
	}
	r = http_header(&c->req, "content-digest", value, sizeof(value));
	if (r == 0) {
		r = http_content_digest_sha256(value, u->want_digest);
		if (r == SK_EFORMAT) {
			srv_error(c, 400, "upload.refused",
			    "malformed Content-Digest", NULL);
			return -1;
		}
		u->has_digest = r == 0;
	} else if (r == SK_ETOOBIG) {
		srv_error(c, 400, "upload.refused", "Content-Digest too long", NULL);
		return -1;
	}
	if (util_disk_free(RCV(c)->local.data_dir, &avail) != 0 ||
	    avail < RCV(c)->local.disk_reserve ||
	    avail - RCV(c)->local.disk_reserve < u->length) {
		srv_error(c, 507, "upload.refused",
		    "not enough free disk space above the configured reserve", NULL);
		return -1;
	}
	return 0;
}

static int
upload_consume(struct upload *u, const uint8_t *p, size_t n)
{
	int r;

	if (EVP_DigestUpdate(u->md, p, n) != 1)
		return SK_ECRYPTO;
	if (!u->dataset->envelope)
		upload_count_rows(u, p, n);
	if ((r = seal_writer_write(u->writer, p, n)) != 0)
		return r;
	return 0;
}

static int
upload_start(struct upload *u)
{
	char tmpname[64], rnd[16], hex[33];
	int r;

	if ((r = util_random(rnd, sizeof(rnd))) != 0)
		return r;
	sk_hex((uint8_t *)rnd, sizeof(rnd), hex);
	snprintf(tmpname, sizeof(tmpname), "up-%s.tmp", hex);
	if ((u->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
		return SK_ECRYPTO;
	if ((r = seal_writer_open(&RCV(u->c)->master, RCV(u->c)->tmp_fd,
	    tmpname, 0, &u->writer)) != 0)
		return r;
	/* Hash here, seal and write on the writer's thread: two cores. */
	return seal_writer_async(u->writer, UPLOAD_ASYNC_BUF);
}

/* Streams the body; returns 0 or the HTTP status to answer (0 = none). */
static int
upload_body(struct upload *u, int *status)
{
	struct srv_conn *c = u->c;
	const struct local_config *lc = &RCV(c)->local;
	uint64_t done = 0, start = util_now_ms(), elapsed;
	size_t got, want, early = c->head_len - c->req.head_len;
	uint8_t *buf;
	int r = 0;

	*status = 500;
	/* Bytes that arrived with the head belong to the body. */
	if (early > u->length) {
		*status = 400;
		return SK_EFORMAT;
	}
	if (early > 0 && (r = upload_consume(u, c->head + c->req.head_len,
	    early)) != 0)
		return r == SK_ENOSPACE ? (*status = 507, r) : r;
	done = early;
	if ((buf = malloc(RECEIVER_BODY_BUF)) == NULL)
		return SK_ENOMEM;
	while (done < u->length) {
		want = u->length - done < RECEIVER_BODY_BUF ?
		    (size_t)(u->length - done) : RECEIVER_BODY_BUF;
		r = tls_read(c->ssl, buf, want, &got);
		if (r != 0 || got == 0) {
			*status = r == SK_ESYS ? 408 : 0;
			r = r != 0 ? r : SK_ETRUNCATED;
			break;
		}
		if ((r = upload_consume(u, buf, got)) != 0) {
			*status = r == SK_ENOSPACE ? 507 : 500;
			break;
		}
		done += got;
		/* A client trickling bytes must not pin a slot forever. */
		elapsed = util_now_ms() - start;
		if (lc->min_rate > 0 && elapsed > lc->min_rate_grace * 1000ull &&
		    done * 1000 / elapsed < lc->min_rate) {
			*status = 408;
			r = SK_ETRUNCATED;
			break;
		}
	}
	sk_wipe(buf, RECEIVER_BODY_BUF);
	free(buf);
	return r;
}

static void
upload_make_id(struct upload *u)
{
	const char *muni = MUNI(u->c)->id, *ds = u->dataset->id;
	uint8_t mac[32];
	/* Each name with its terminating NUL, so boundaries are unambiguous. */
	struct iovec parts[4] = {
		{ .iov_base = (void *)(uintptr_t)muni, .iov_len = strlen(muni) + 1 },
		{ .iov_base = (void *)(uintptr_t)ds, .iov_len = strlen(ds) + 1 },
		{ .iov_base = (void *)(uintptr_t)u->filename,
		  .iov_len = strlen(u->filename) + 1 },
		{ .iov_base = u->sha256, .iov_len = sizeof(u->sha256) },
	};

	if (util_hmac_sha256(RCV(u->c)->id_key, sizeof(RCV(u->c)->id_key),
	    parts, 4, mac) != 0)
		fatalx("HMAC-SHA-256 failed");
	sk_hex(mac, UPLOAD_ID_BYTES, u->id);
}

static int
upload_make_receipt(struct upload *u)
{
	char stamp[32];
	struct json j;

	if (sk_time_format((int64_t)time(NULL), stamp, sizeof(stamp)) != 0)
		return SK_EINTERNAL;
	json_begin(&j, u->receipt, sizeof(u->receipt));
	json_str(&j, "id", u->id);
	json_str(&j, "municipality", MUNI(u->c)->id);
	json_str(&j, "dataset", u->dataset->id);
	json_str(&j, "filename", u->filename);
	json_u64(&j, "size", u->length);
	json_str(&j, "sha256", u->sha256_hex);
	if (!u->dataset->envelope)
		json_u64(&j, "rows", u->rows +
		    (u->length > 0 && u->last_byte != '\n'));
	json_str(&j, "received", stamp);
	u->receipt_len = json_end(&j);
	return u->receipt_len < 0 ? SK_ETOOBIG : 0;
}

/* The object exists already: answer 200 with its original receipt. */
static void
upload_repeat(struct upload *u)
{
	struct srv_conn *c = u->c;
	struct seal_reader *rd;
	size_t len = 0;
	int r;

	/* Pending, or handed over to the vault already (its receipt kept). */
	r = seal_reader_open(&RCV(c)->master, RCV(c)->objects_fd, u->id, &rd);
	if (r == SK_ENOTFOUND || r == SK_ESYS)
		r = seal_reader_open(&RCV(c)->master, RCV(c)->handed_fd, u->id,
		    &rd);
	if (r == 0) {
		r = seal_reader_meta(rd, (uint8_t *)u->receipt,
		    sizeof(u->receipt) - 1, &len);
		seal_reader_free(rd);
	}
	if (r != 0) {
		log_errorx("object %s: stored copy unreadable: %s", u->id,
		    sk_strerror(r));
		srv_error(c, 500, "upload.failed", "stored copy unreadable",
		    NULL);
		return;
	}
	u->receipt[len] = '\0';
	if (srv_audit(c, "upload.repeat", u->id, 1, u->length, u->sha256_hex,
	    NULL) != 0) {
		srv_error(c, 503, NULL, "the audit log cannot be written", NULL);
		return;
	}
	log_info("object %s: repeated upload (%s, %llu bytes), same receipt",
	    u->id, c->actor, (unsigned long long)u->length);
	srv_respond_json(c, 200, u->receipt, NULL);
}

static int
upload_object_exists(struct upload *u)
{
	return faccessat(RCV(u->c)->objects_fd, u->id, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0 || faccessat(RCV(u->c)->handed_fd, u->id,
	    F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
upload_store(struct upload *u)
{
	struct srv_conn *c = u->c;
	int r;

	uint64_t t0 = util_now_ms();

	if ((r = upload_make_receipt(u)) != 0 ||
	    (r = seal_writer_finish(u->writer, u->receipt,
	    (size_t)u->receipt_len)) != 0) {
		srv_error(c, r == SK_ENOSPACE ? 507 : 500, "upload.failed",
		    r == SK_ENOSPACE ? "disk full" : "could not store", NULL);
		return;
	}
	u->sync_ms = util_now_ms() - t0;
	/* Audit first: a stored object that the log does not know is worse
	 * than a refused upload the client will retry (R50). */
	if (srv_audit(c, "upload.stored", u->id, 1, u->length, u->sha256_hex,
	    u->dataset->id) != 0) {
		srv_error(c, 503, NULL, "the audit log cannot be written", NULL);
		return;
	}
	/* Not while the same id is being handed over: it would come back
	 * to the vault as new. */
	pthread_mutex_lock(&RCV(c)->handover_lock);
	if (faccessat(RCV(c)->handed_fd, u->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		r = SK_EEXIST;
	else
		r = seal_writer_commit(u->writer, RCV(c)->tmp_fd,
		    RCV(c)->objects_fd, u->id);
	pthread_mutex_unlock(&RCV(c)->handover_lock);
	if (r == SK_EEXIST) {
		upload_repeat(u);	/* an identical upload won the race */
		return;
	}
	if (r != 0) {
		log_errorx("object %s: commit failed: %s", u->id,
		    strerror(errno));
		srv_audit(c, "upload.failed", u->id, 0, 0, NULL, "commit");
		srv_error(c, 500, NULL, "could not store", NULL);
		return;
	}
	log_info("object %s: stored (%s, dataset %s, %llu bytes, sha256 %s, "
	    "body %llu ms, seal and sync %llu ms)", u->id, c->actor,
	    u->dataset->id, (unsigned long long)u->length, u->sha256_hex,
	    (unsigned long long)u->body_ms, (unsigned long long)u->sync_ms);
	srv_respond_json(c, 201, u->receipt, NULL);
}

static void
upload_run(struct upload *u)
{
	struct srv_conn *c = u->c;
	unsigned mdlen = 0;
	int r, status;

	if ((r = upload_start(u)) != 0) {
		srv_error(c, 500, "upload.failed", "could not start storing", NULL);
		return;
	}
	if (c->req.expect_continue &&
	    tls_write_all(c->ssl, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
		return;
	u->body_ms = util_now_ms();
	r = upload_body(u, &status);
	u->body_ms = util_now_ms() - u->body_ms;
	if (r != 0) {
		if (status == 0) {
			log_warnx("peer %s (%s): upload cut off after part of "
			    "the body; nothing kept", c->peer_str, c->actor);
			srv_audit(c, "upload.truncated", NULL, 1, u->length,
			    NULL, NULL);
		} else
			srv_error(c, status, "upload.failed", status == 408 ?
			    "body too slow or stalled" : "could not store", NULL);
		return;
	}
	if (EVP_DigestFinal_ex(u->md, u->sha256, &mdlen) != 1)
		fatalx("SHA-256 failed");
	sk_hex(u->sha256, 32, u->sha256_hex);
	if (u->has_digest && CRYPTO_memcmp(u->sha256, u->want_digest, 32) != 0) {
		srv_error(c, 400, "upload.refused", "Content-Digest does not "
		    "match the body; nothing was kept", NULL);
		return;
	}
	upload_make_id(u);
	if (upload_object_exists(u)) {
		upload_repeat(u);
		return;
	}
	upload_store(u);
}

void
upload_handle(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	struct upload u;

	(void)nsegs;
	memset(&u, 0, sizeof(u));
	u.c = c;
	if (upload_checks(&u, segs) == 0)
		upload_run(&u);
	seal_writer_free(u.writer);
	EVP_MD_CTX_free(u.md);
}
