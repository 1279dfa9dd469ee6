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

/*
 * Resumable uploads (issue 18, item 6). An upload cut off in its body, or
 * stalled past the read timeout, is held as it is: its writer with the
 * object's key, its digest so far, its row count and checks, all in this
 * process's memory, and its sealed temporary file at the store. It is held
 * for limits.resume_seconds, at most limits.resume_uploads at once and
 * UPLOAD_HELD_PER_CITY per municipality (past either, the oldest goes).
 * HEAD on the upload's path tells how much is held (Upload-Offset); a PUT
 * with "Content-Range: bytes N-LAST/LENGTH" from exactly there goes on with
 * it, and the receipt is the whole file's. Only in memory: a restart drops
 * what is held (the store removes the files), and the file is sent whole.
 */
#define UPLOAD_HELD_PER_CITY 2

struct held {
	struct upload *u;
	uint64_t since_ms;		/* when it was cut */
};

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct held *held;
static size_t nheld, held_cap;

struct upload {
	struct srv_conn *c;		/* NULL while it is held */
	struct receiver *rcv;
	const struct config_municipality *muni;
	const struct config_dataset *dataset;
	const char *filename;		/* NFC */
	char nfc_name[512];
	uint64_t length;		/* the whole file's */
	uint64_t done;			/* of it taken, over every connection */
	uint64_t offset;		/* where this request's body starts */
	int resuming;			/* this request goes on with a held one */
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
	held_cap = rcv->local.resume_seconds > 0 ? rcv->local.resume_uploads :
	    0;
	if (held_cap > 0 && (held = calloc(held_cap, sizeof(*held))) == NULL)
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

/* Content-Range: the rest of a file that was cut, from byte offset on.
 * 0 (u->resuming set when it goes on from past the start), or -1 when
 * answered. */
static int
upload_range(struct upload *u)
{
	struct srv_conn *c = u->c;
	uint64_t first, last, total;
	char value[128];
	int r;

	r = http_header(&c->req, "content-range", value, sizeof(value));
	if (r == SK_ENOTFOUND)
		return 0;
	if (r != 0 || http_parse_content_range(value, &first, &last,
	    &total) != 0 || last + 1 != total ||
	    c->req.content_length != total - first) {
		srv_error(c, 400, "upload.refused", "Content-Range must be "
		    "\"bytes FIRST-LAST/LENGTH\", from where the held part ends "
		    "to the end of the file, with Content-Length LENGTH - FIRST",
		    NULL);
		return -1;
	}
	u->length = total;
	u->offset = first;
	u->resuming = first > 0;
	return 0;
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
	if (upload_range(u) != 0)
		return -1;
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
	proc_put_str(&req, u->muni->id);
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
	net_call(u->rcv, &req, -1, &rep);
	net_reply_end(&rep);
	u->token = 0;
}

/* Streams the body; returns 0 or the HTTP status to answer (0 = none). */
static int
upload_body(struct upload *u, int *status)
{
	struct srv_conn *c = u->c;
	const struct local_config *lc = &RCV(c)->local;
	uint64_t start = util_now_ms(), elapsed, here;
	uint64_t from = u->done;	/* this request's bytes are past it */
	size_t got, want, early = c->head_len - c->req.head_len;
	uint8_t *buf;
	int r = 0;

	*status = 500;
	/* Bytes that arrived with the head belong to the body. */
	if (early > u->length - u->done) {
		*status = 400;
		return SK_EFORMAT;
	}
	if (early > 0 && (r = upload_consume(u, c->head + c->req.head_len,
	    early)) != 0)
		return r == SK_ENOSPACE ? (*status = 507, r) : r;
	u->done += early;
	if ((buf = malloc(RECEIVER_BODY_BUF)) == NULL)
		return SK_ENOMEM;
	while (u->done < u->length) {
		want = u->length - u->done < RECEIVER_BODY_BUF ?
		    (size_t)(u->length - u->done) : RECEIVER_BODY_BUF;
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
		u->done += got;
		here = u->done - from;
		/* A client trickling bytes must not pin a slot forever. */
		elapsed = util_now_ms() - start;
		upload_maybe_async(u, here, elapsed);
		if (lc->min_rate > 0 && elapsed > lc->min_rate_grace * 1000ull &&
		    here * 1000 / elapsed < lc->min_rate) {
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

/* Ends an upload that is not held: its writer, its file at the store. */
static void
upload_free(struct upload *u)
{
	if (u == NULL)
		return;
	seal_writer_free(u->writer);
	if (u->async)
		atomic_fetch_sub(&upload_async_n, 1);
	upload_abort(u);
	EVP_MD_CTX_free(u->md);
	sk_wipe(u, sizeof(*u));
	free(u);
}

/* ---- held uploads ---- */

static int
held_is(const struct upload *h, const struct config_municipality *muni,
    const struct config_dataset *dataset, const char *filename)
{
	return h->muni == muni && h->dataset == dataset &&
	    strcmp(h->filename, filename) == 0;
}

/* Takes the held upload of this name out of the table (or NULL). */
static struct upload *
held_take(const struct config_municipality *muni,
    const struct config_dataset *dataset, const char *filename)
{
	struct upload *u = NULL;
	size_t i;

	pthread_mutex_lock(&held_lock);
	for (i = 0; i < nheld; i++)
		if (held_is(held[i].u, muni, dataset, filename)) {
			u = held[i].u;
			held[i] = held[--nheld];
			break;
		}
	pthread_mutex_unlock(&held_lock);
	return u;
}

/* Puts u in the table, since since_ms; returns the upload that had to go
 * to make room (the city's oldest past its share, else the oldest of
 * all), or NULL. */
static struct upload *
held_put(struct upload *u, uint64_t since_ms)
{
	struct upload *out = NULL;
	size_t i, mine = 0, oldest = SIZE_MAX, oldest_mine = SIZE_MAX, k;

	pthread_mutex_lock(&held_lock);
	for (i = 0; i < nheld; i++) {
		if (oldest == SIZE_MAX || held[i].since_ms <
		    held[oldest].since_ms)
			oldest = i;
		if (held[i].u->muni != u->muni)
			continue;
		mine++;
		if (oldest_mine == SIZE_MAX || held[i].since_ms <
		    held[oldest_mine].since_ms)
			oldest_mine = i;
	}
	k = mine >= UPLOAD_HELD_PER_CITY ? oldest_mine : nheld == held_cap ?
	    oldest : SIZE_MAX;
	if (k != SIZE_MAX) {
		out = held[k].u;
		held[k] = held[--nheld];
	}
	held[nheld].u = u;
	held[nheld].since_ms = since_ms;
	nheld++;
	pthread_mutex_unlock(&held_lock);
	return out;
}

/* An upload given up (its time passed, or it made room): recorded as cut,
 * nothing kept. */
static void
held_drop(struct upload *u, const char *why)
{
	struct audit_event ev = { .event = "upload.truncated", .has_size = 1 };
	char actor[CONFIG_ID_MAX + 8], detail[96];

	snprintf(actor, sizeof(actor), "muni:%s", u->muni->id);
	snprintf(detail, sizeof(detail), "held=%llu %s",
	    (unsigned long long)u->done, why);
	ev.actor = actor;
	ev.size = u->length;
	ev.detail = detail;
	log_info("%s: a cut upload (%llu of %llu bytes) is dropped: %s", actor,
	    (unsigned long long)u->done, (unsigned long long)u->length, why);
	if (daemon_net_audit(&u->rcv->chan, &ev) != 0)
		log_errorx("audit log write failed: refusing all work from "
		    "now on (R50)");
	upload_free(u);
}

void
upload_held_tick(struct receiver *rcv)
{
	uint64_t now = util_now_ms(),
	    window = (uint64_t)rcv->local.resume_seconds * 1000;
	struct upload *u;

	for (;;) {
		size_t i;

		u = NULL;
		pthread_mutex_lock(&held_lock);
		for (i = 0; i < nheld; i++)
			if (now - held[i].since_ms >= window) {
				u = held[i].u;
				held[i] = held[--nheld];
				break;
			}
		pthread_mutex_unlock(&held_lock);
		if (u == NULL)
			return;
		held_drop(u, "not resumed within resume_seconds");
	}
}

/* A cut upload kept for resuming, if the site holds them and its writer
 * is sound: 1 when it is held (and no longer the caller's). */
static int
upload_hold(struct upload *u, int status)
{
	struct srv_conn *c = u->c;
	char detail[64], extra[64];
	struct upload *out;

	if (held_cap == 0 || u->token == 0 || u->done == 0 ||
	    seal_writer_settle(u->writer) != 0)
		return 0;
	if (u->async) {
		atomic_fetch_sub(&upload_async_n, 1);
		u->async = 0;
	}
	log_warnx("peer %s (%s): upload cut off after %llu of %llu bytes; "
	    "held %u s for resuming", c->peer_str, c->actor,
	    (unsigned long long)u->done, (unsigned long long)u->length,
	    u->rcv->local.resume_seconds);
	snprintf(detail, sizeof(detail), "held=%llu",
	    (unsigned long long)u->done);
	srv_audit(c, "upload.suspended", NULL, 1, u->length, NULL, detail);
	snprintf(extra, sizeof(extra), "Upload-Offset: %llu\r\n",
	    (unsigned long long)u->done);
	/* Held before the answer, so that a HEAD right after it finds it;
	 * from here u is the table's (another thread may take it). */
	u->c = NULL;
	out = held_put(u, util_now_ms());
	if (status != 0)
		srv_error(c, status, NULL, "body too slow or stalled; what "
		    "came is held for resuming from Upload-Offset", extra);
	if (out != NULL)
		held_drop(out, "room for a newer cut upload");
	return 1;
}

/*
 * A PUT with Content-Range goes on with the held upload of its name: that
 * one is returned (the fresh u is freed), or NULL when it was answered.
 */
static struct upload *
upload_resume(struct upload *u)
{
	struct srv_conn *c = u->c;
	struct upload *h, *out;
	char extra[64], detail[64];
	const char *why = NULL;

	h = held_take(u->muni, u->dataset, u->filename);
	if (h == NULL) {
		srv_error(c, 404, "upload.refused", "nothing of this file is "
		    "held for resuming (never cut, not resumed in time, or "
		    "the gateway restarted): send it whole, without "
		    "Content-Range", NULL);
		upload_free(u);
		return NULL;
	}
	if (h->length != u->length)
		why = "this is not the length of the upload that was cut";
	else if (h->done != u->offset)
		why = "Content-Range does not start where the held part ends "
		    "(Upload-Offset)";
	else if (u->has_digest && h->has_digest &&
	    memcmp(u->want_digest, h->want_digest, 32) != 0)
		why = "a Content-Digest other than the cut upload's";
	else if (strcmp(u->replaces, h->replaces) != 0)
		why = "a " PROTO_H_REPLACES " other than the cut upload's";
	if (why != NULL) {
		snprintf(extra, sizeof(extra), "Upload-Offset: %llu\r\n",
		    (unsigned long long)h->done);
		/* Back in the table before the answer (a HEAD may follow). */
		out = held_put(h, util_now_ms());
		srv_error(c, 409, "upload.refused", why, extra);
		if (out != NULL)
			held_drop(out, "room for a newer cut upload");
		upload_free(u);
		return NULL;
	}
	if (u->has_digest && !h->has_digest) {
		memcpy(h->want_digest, u->want_digest, 32);
		h->has_digest = 1;
	}
	h->c = c;
	h->offset = u->offset;
	h->resuming = 1;
	snprintf(detail, sizeof(detail), "from=%llu",
	    (unsigned long long)h->offset);
	srv_audit(c, "upload.resumed", NULL, 1, h->length, NULL, detail);
	upload_free(u);
	return h;
}

/* HEAD /v1/uploads/{dataset}/{filename}: how much of a cut upload of
 * this name is held (Upload-Offset, Upload-Length), or 404. */
void
upload_head(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	const struct config_dataset *d = site_find_dataset(RCV(c)->site,
	    segs[2]);
	char name[512], extra[128];
	uint64_t done = 0, length = 0;
	int found = 0;
	size_t i;

	(void)nsegs;
	if (d != NULL && site_municipality_allows(MUNI(c), d->id) &&
	    sk_nfc(segs[3], name, sizeof(name)) == 0) {
		pthread_mutex_lock(&held_lock);
		for (i = 0; i < nheld && !found; i++)
			if (held_is(held[i].u, MUNI(c), d, name)) {
				done = held[i].u->done;
				length = held[i].u->length;
				found = 1;
			}
		pthread_mutex_unlock(&held_lock);
	}
	if (!found) {
		srv_error(c, 404, NULL, "nothing of this file is held for "
		    "resuming", NULL);
		return;
	}
	snprintf(extra, sizeof(extra), "Upload-Offset: %llu\r\n"
	    "Upload-Length: %llu\r\n", (unsigned long long)done,
	    (unsigned long long)length);
	srv_respond(c, 200, "application/json", "", 0, extra);
}

/* The body, its checks and the store's receipt; 1 when the upload was cut
 * and is held (no longer the caller's). */
static int
upload_run(struct upload *u)
{
	struct srv_conn *c = u->c;
	unsigned mdlen = 0;
	int r, status;

	if (!u->resuming && upload_start(u) != 0)
		return 0;
	if (c->req.expect_continue &&
	    tls_write_all(c->ssl, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
		return upload_hold(u, 0);
	u->body_ms = util_now_ms();
	r = upload_body(u, &status);
	u->body_ms = util_now_ms() - u->body_ms;
	if (r != 0) {
		if ((status == 0 || status == 408) && upload_hold(u, status))
			return 1;
		if (status == 0) {
			log_warnx("peer %s (%s): upload cut off after part of "
			    "the body; nothing kept", c->peer_str, c->actor);
			srv_audit(c, "upload.truncated", NULL, 1, u->length,
			    NULL, NULL);
		} else
			srv_error(c, status, "upload.failed", status == 408 ?
			    "body too slow or stalled" : "could not store", NULL);
		return 0;
	}
	if (EVP_DigestFinal_ex(u->md, u->sha256, &mdlen) != 1)
		fatalx("SHA-256 failed");
	if (u->has_digest && CRYPTO_memcmp(u->sha256, u->want_digest, 32) != 0) {
		srv_error(c, 400, "upload.refused", "Content-Digest does not "
		    "match the body; nothing was kept", NULL);
		return 0;
	}
	/* Not this dataset's file, or not in its encoding: said now, with
	 * the line, instead of days later by a failed job. */
	if (u->checked && plausible_end(&u->plaus) != 0) {
		srv_error_ja(c, 422, "upload.refused", u->plaus.why,
		    u->plaus.why_ja, NULL);
		return 0;
	}
	upload_store(u);
	return 0;
}

void
upload_handle(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	struct upload *u, *old;

	(void)nsegs;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		srv_error(c, 500, "upload.failed", "out of memory", NULL);
		return;
	}
	u->c = c;
	u->rcv = RCV(c);
	u->muni = MUNI(c);
	if (upload_checks(u, segs) != 0) {
		upload_free(u);
		return;
	}
	if (u->resuming)
		u = upload_resume(u);
	else if ((old = held_take(u->muni, u->dataset, u->filename)) != NULL)
		held_drop(old, "the same name sent whole again");
	if (u != NULL && upload_run(u) == 0)
		upload_free(u);
}
