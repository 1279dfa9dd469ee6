/*
 * upload.c: PUT /v1/uploads/{dataset}/{filename}, in the net process.
 *
 * The store creates the temporary file and hands over its descriptor and
 * that one object's key (RMSG_UPLOAD_BEGIN); the body is hashed and sealed
 * here as it streams in. With the digest the store makes the object id (a
 * keyed hash of municipality, dataset, file name and content: re-sending the
 * same file finds the same object, and nothing the client chose names a
 * file) and the receipt (RMSG_UPLOAD_FINISH), which is sealed as the
 * object's metadata; the store then checks the file against it, records it
 * and commits it (RMSG_UPLOAD_COMMIT). Nothing is acknowledged before that.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "nfc.h"
#include "proto.h"
#include "receiver.h"
#include "seal.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

/*
 * A fast upload gets a sealing thread of its own and 3 x 256 KiB of
 * buffers: TLS and hashing on the connection's thread, AES-GCM and the disk
 * on the other, two cores. A slow one (a city on a busy IP-VPN line) is
 * sealed on its connection's thread with one chunk's buffer, so that every
 * city of the country sending slowly at the same time fits in memory. The
 * rate is judged from the first MiB on; the threads are capped, since more
 * of them than cores only adds memory.
 */
#define UPLOAD_ASYNC_BUF (256u << 10)
#define UPLOAD_FAST_AFTER (1u << 20)	/* bytes before the rate is judged */
#define UPLOAD_FAST_RATE (8u << 20)	/* bytes a second: a thread */
#define UPLOAD_ASYNC_MAX 16u		/* uploads with one at a time */

static atomic_uint upload_async_n;

struct upload {
	struct srv_conn *c;
	const struct config_dataset *dataset;
	const char *filename;		/* NFC */
	char nfc_name[512];
	uint64_t length;		/* Content-Length */
	char replaces[65];		/* Sekisho-Replaces, or "" */
	int has_digest;
	uint8_t want_digest[32];
	uint64_t token;			/* the store's; 0 when it has none */
	struct seal_writer *writer;
	EVP_MD_CTX *md;
	uint8_t sha256[32];
	uint64_t rows;			/* CSV records, header included */
	int in_quotes;
	uint8_t last_byte;
	char receipt[SEAL_META_MAX];
	int async;			/* has a sealing thread (and counts in
					 * upload_async_n) */
	int checked;			/* the dataset's encoding and header are
					 * checked as the body passes */
	struct plausible plaus;
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

void
upload_prepare(struct receiver *rcv)
{
	const struct site_config *site = rcv->site;
	iconv_t cd = (iconv_t)-1;
	size_t i, k, inleft, outleft;
	char *in, *out, name[CONFIG_NAME_MAX];
	uint8_t *buf;

	if ((rcv->headers = calloc(site->ndatasets + 1,
	    sizeof(*rcv->headers))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < site->ndatasets; i++) {
		const struct config_dataset *d = &site->datasets[i];
		struct plausible_header *h = &rcv->headers[i];

		for (k = 0; k < d->ncolumns; k++) {
			h->name[k] = d->columns[k];
			if (!d->cp932) {
				h->field[k] = (const uint8_t *)d->columns[k];
				h->len[k] = strlen(d->columns[k]);
				continue;
			}
			if (cd == (iconv_t)-1 && (cd = iconv_open("CP932",
			    "UTF-8")) == (iconv_t)-1)
				fatalx("no CP932 converter (iconv): %s",
				    strerror(errno));
			/* A CP932 character is never longer than its UTF-8. */
			inleft = strlen(d->columns[k]);
			if ((buf = malloc(inleft + 1)) == NULL)
				fatalx("out of memory");
			memcpy(name, d->columns[k], inleft + 1);
			in = name;
			out = (char *)buf;
			outleft = inleft + 1;
			iconv(cd, NULL, NULL, NULL, NULL);
			if (iconv(cd, &in, &inleft, &out, &outleft) ==
			    (size_t)-1)
				fatalx("dataset %s: column \"%s\" cannot be "
				    "written in CP932", d->id, d->columns[k]);
			h->field[k] = buf;
			h->len[k] = (size_t)(out - (char *)buf);
		}
		h->n = d->ncolumns;
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

static int
upload_checks(struct upload *u, char segs[][256])
{
	struct srv_conn *c = u->c;
	char value[256];
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
		    "255 bytes of UTF-8, no control, invisible or bidi "
		    "characters, no '/', '\\', '..' or look-alikes of them",
		    NULL);
		return -1;
	}
	/* One name is one upload: "が" typed as か + U+3099 (macOS) is the
	 * same name as U+304C, and is kept as that (NFC). */
	if (sk_nfc(segs[3], u->nfc_name, sizeof(u->nfc_name)) != 0 ||
	    strlen(u->nfc_name) > 255 || !sk_filename_valid(u->nfc_name)) {
		srv_error(c, 400, "upload.refused", "invalid file name: its "
		    "normalized form (NFC) is too long or not allowed", NULL);
		return -1;
	}
	u->filename = u->nfc_name;
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
	if (u->dataset->check_encoding) {
		u->checked = 1;
		plausible_init(&u->plaus, u->dataset->cp932 ? PLAUSIBLE_CP932 :
		    PLAUSIBLE_UTF8, &RCV(c)->headers[u->dataset -
		    RCV(c)->site->datasets]);
	}
	if (u->length > u->dataset->max_bytes) {
		srv_error(c, 413, "upload.refused",
		    "larger than this dataset's size limit", NULL);
		return -1;
	}
	/* R12: a correction names the receipt it replaces. */
	r = http_header(&c->req, PROTO_H_REPLACES, value, sizeof(value));
	if (r == 0 && (strlen(value) >= sizeof(u->replaces) ||
	    !sk_hexid_valid(value, sizeof(u->replaces) - 1))) {
		srv_error(c, 400, "upload.refused", PROTO_H_REPLACES " must be "
		    "the id of an earlier receipt", NULL);
		return -1;
	} else if (r == 0)
		memcpy(u->replaces, value, strlen(value) + 1);
	else if (r == SK_ETOOBIG) {
		srv_error(c, 400, "upload.refused", PROTO_H_REPLACES " too "
		    "long", NULL);
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
	return 0;
}

static int
upload_consume(struct upload *u, uint8_t *p, size_t n)
{
	int r;

	if (EVP_DigestUpdate(u->md, p, n) != 1)
		return SK_ECRYPTO;
	if (!u->dataset->envelope)
		upload_count_rows(u, p, n);
	/* Before the bytes are encrypted where they lie. */
	if (u->checked)
		plausible_feed(&u->plaus, p, n);
	/* Encrypted where it lies: no plaintext copy is left behind. */
	if ((r = seal_writer_write_inplace(u->writer, p, n)) != 0)
		return r;
	return 0;
}

/* The store's file for this upload, and a writer on it. 0, or -1 when
 * the store refused (it recorded why; the reply is given here). */
static int
upload_start(struct upload *u)
{
	struct srv_conn *c = u->c;
	struct seal_handoff h;
	struct proc_msg req;
	struct proc_reply rep;
	int fd, r;

	proc_msg_init(&req, RMSG_UPLOAD_BEGIN);
	proc_put_str(&req, MUNI(c)->id);
	proc_put_str(&req, u->dataset->id);
	proc_put_u64(&req, u->length);
	proc_put_str(&req, u->replaces);
	net_call(RCV(c), &req, -1, &rep);
	if (rep.status != 0) {
		net_reply_end(&rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return -1;
	}
	proc_get_u64(&rep.msg, &u->token);
	proc_get_u32(&rep.msg, &h.chunk_size);
	proc_get_fixed(&rep.msg, h.header, sizeof(h.header));
	proc_get_fixed(&rep.msg, h.key, sizeof(h.key));
	fd = proc_take_fd(&rep.msg);
	net_reply_end(&rep);
	if (fd == -1)
		fatalx("the store gave no file for an upload; ending");
	r = seal_writer_attach(fd, &h, &u->writer);
	sk_wipe(&h, sizeof(h));
	if (r != 0)
		close(fd);
	/* Content-Length is known: each chunk is sealed as it arrives. */
	if (r == 0)
		r = seal_writer_expect(u->writer, u->length);
	if (r != 0 || (u->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		srv_error(c, 500, "upload.failed", "could not start storing",
		    NULL);
		return -1;
	}
	return 0;
}

/* Gives a fast upload its sealing thread (see UPLOAD_FAST_RATE); while the
 * threads are all taken, or one cannot be made, it goes on as it is. */
static void
upload_maybe_async(struct upload *u, uint64_t done, uint64_t elapsed_ms)
{
	if (u->async || done < UPLOAD_FAST_AFTER ||
	    done * 1000 < (uint64_t)UPLOAD_FAST_RATE * (elapsed_ms + 1))
		return;
	if (atomic_fetch_add(&upload_async_n, 1) >= UPLOAD_ASYNC_MAX) {
		atomic_fetch_sub(&upload_async_n, 1);
		return;
	}
	if (seal_writer_async(u->writer, UPLOAD_ASYNC_BUF) != 0) {
		atomic_fetch_sub(&upload_async_n, 1);
		return;
	}
	u->async = 1;
}

/* Tells the store the upload failed here: its file goes. */
static void
upload_abort(struct upload *u)
{
	struct proc_msg req;
	struct proc_reply rep;

	if (u->token == 0)
		return;
	proc_msg_init(&req, RMSG_UPLOAD_ABORT);
	proc_put_u64(&req, u->token);
	net_call(RCV(u->c), &req, -1, &rep);
	net_reply_end(&rep);
	u->token = 0;
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
		upload_maybe_async(u, done, elapsed);
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

/* The store's answer with a receipt: given to the client as it is. */
static void
upload_answer(struct upload *u, struct proc_reply *rep)
{
	struct srv_conn *c = u->c;
	uint32_t status = rep->status;
	char reason[RECEIVER_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s", rep->reason);
	if (status == 200 || status == 201)
		proc_get_str(&rep->msg, u->receipt, sizeof(u->receipt));
	net_reply_end(rep);
	u->token = 0;		/* the store has let go of it */
	if (status == 200 || status == 201) {
		log_info("upload from %s: %s (%llu bytes, body %llu ms, seal "
		    "and sync %llu ms)", c->actor, status == 201 ? "stored" :
		    "a repeat", (unsigned long long)u->length,
		    (unsigned long long)u->body_ms,
		    (unsigned long long)u->sync_ms);
		srv_respond_json(c, (int)status, u->receipt, NULL);
	} else
		srv_error(c, (int)status, NULL, reason, NULL);
}

/* The receipt from the store, sealed as the object's metadata, then the
 * commit. */
static void
upload_store(struct upload *u)
{
	struct srv_conn *c = u->c;
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t t0;
	int r;

	proc_msg_init(&req, RMSG_UPLOAD_FINISH);
	proc_put_u64(&req, u->token);
	proc_put_str(&req, u->filename);
	proc_put_fixed(&req, u->sha256, sizeof(u->sha256));
	proc_put_u32(&req, u->dataset->envelope ? 0 : 1);
	proc_put_u64(&req, u->rows + (u->length > 0 && u->last_byte != '\n'));
	net_call(RCV(c), &req, -1, &rep);
	if (rep.status != 0) {
		upload_answer(u, &rep);	/* a repeat, or refused */
		return;
	}
	proc_get_str(&rep.msg, u->receipt, sizeof(u->receipt));
	net_reply_end(&rep);
	t0 = util_now_ms();
	if ((r = seal_writer_finish(u->writer, u->receipt,
	    strlen(u->receipt))) != 0) {
		upload_abort(u);
		srv_error(c, r == SK_ENOSPACE ? 507 : 500, "upload.failed",
		    r == SK_ENOSPACE ? "disk full" : "could not store", NULL);
		return;
	}
	u->sync_ms = util_now_ms() - t0;
	proc_msg_init(&req, RMSG_UPLOAD_COMMIT);
	proc_put_u64(&req, u->token);
	net_call(RCV(c), &req, -1, &rep);
	upload_answer(u, &rep);
}

static void
upload_run(struct upload *u)
{
	struct srv_conn *c = u->c;
	unsigned mdlen = 0;
	int r, status;

	if (upload_start(u) != 0)
		return;
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
	if (u->has_digest && CRYPTO_memcmp(u->sha256, u->want_digest, 32) != 0) {
		srv_error(c, 400, "upload.refused", "Content-Digest does not "
		    "match the body; nothing was kept", NULL);
		return;
	}
	/* Not this dataset's file, or not in its encoding: said now, with
	 * the line, instead of days later by a failed job. */
	if (u->checked && plausible_end(&u->plaus) != 0) {
		srv_error_ja(c, 422, "upload.refused", u->plaus.why,
		    u->plaus.why_ja, NULL);
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
	if (u.async)
		atomic_fetch_sub(&upload_async_n, 1);
	upload_abort(&u);
	EVP_MD_CTX_free(u.md);
	sk_wipe(u.receipt, sizeof(u.receipt));
}
