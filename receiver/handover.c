/*
 * handover.c: the receiver's internal listener, for the vault only (the
 * internal CA, the vault's identity, the vault's address).
 *
 *   GET    /v1/pending        the receipts of the uploads not yet taken
 *   GET    /v1/pending/ID     one upload (HEAD too; Range for resuming)
 *   DELETE /v1/pending/ID     the vault has it: with Sekisho-Sha256 set to
 *                             the digest it computed, the receiver keeps
 *                             the receipt, disposes of its copy
 *                             (crypto-shredding, R13) and records both
 *
 * The receipt of a handed-over upload stays, sealed, in data_dir/handed/
 * (an object with no data): a municipality that sends the same file again
 * gets its original receipt, and the vault never sees it twice. A repeated
 * acknowledgement answers 200 again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "receiver.h"
#include "seal.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define PENDING_LIST_MAX 1000	/* receipts in one listing */

/* Object ids are the receiver's own: lowercase hex. */
static int
id_valid(const char *id)
{
	return sk_hexid_valid(id, 64);
}

/* The receipt (our own JSON, authenticated by the seal) and the size. */
static int
read_receipt(struct receiver *rcv, int dirfd, const char *id, char *out,
    size_t cap, uint64_t *size)
{
	struct seal_reader *rd;
	size_t len = 0;
	int e;

	if ((e = seal_reader_open(&rcv->master, dirfd, id, &rd)) != 0)
		return e;
	e = seal_reader_meta(rd, (uint8_t *)out, cap - 1, &len);
	if (size != NULL)
		*size = seal_reader_size(rd);
	seal_reader_free(rd);
	if (e != 0)
		return e;
	out[len] = '\0';
	return 0;
}

/* The value of "key":"..." in a receipt we wrote ourselves. */
static int
receipt_field(const char *receipt, const char *key, char *out, size_t cap)
{
	char pat[40];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(receipt, pat)) == NULL)
		return SK_ENOTFOUND;
	p += strlen(pat);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= cap)
		return SK_EFORMAT;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_pending(struct srv_conn *c)
{
	struct receiver *rcv = RCV(c);
	char **ids = NULL, **p, receipt[SEAL_META_MAX], *buf;
	size_t n = 0, i, o, cap, shown = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = dup(rcv->objects_fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		srv_error(c, 500, NULL, "cannot read the objects", NULL);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!id_valid(de->d_name))
			continue;
		if ((p = reallocarray(ids, n + 1, sizeof(*p))) == NULL ||
		    (p[n] = strdup(de->d_name)) == NULL) {
			if (p != NULL)
				ids = p;
			break;
		}
		ids = p;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_names);
	cap = 64 + (n < PENDING_LIST_MAX ? n : PENDING_LIST_MAX) *
	    (SEAL_META_MAX + 1);
	if ((buf = malloc(cap)) == NULL) {
		srv_error(c, 500, NULL, "out of memory", NULL);
		goto out;
	}
	o = (size_t)snprintf(buf, cap, "{\"pending\":[");
	for (i = 0; i < n && shown < PENDING_LIST_MAX; i++) {
		if (read_receipt(rcv, rcv->objects_fd, ids[i], receipt,
		    sizeof(receipt), NULL) != 0)
			continue;	/* gone meanwhile, or being written */
		o += (size_t)snprintf(buf + o, cap - o, "%s%s",
		    shown++ ? "," : "", receipt);
	}
	snprintf(buf + o, cap - o, "],\"more\":%s}", i < n ? "true" : "false");
	srv_respond_json(c, 200, buf, NULL);
	srv_audit(c, "pending.listed", NULL, 1, shown, NULL, NULL);
	free(buf);
out:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static void
fetch(struct srv_conn *c, const char *id)
{
	struct receiver *rcv = RCV(c);
	char receipt[SEAL_META_MAX], sha[65], detail[128];
	struct srv_object o;
	struct srv_range rg;
	uint64_t size, sent;

	if (read_receipt(rcv, rcv->objects_fd, id, receipt, sizeof(receipt),
	    &size) != 0 || receipt_field(receipt, "sha256", sha,
	    sizeof(sha)) != 0) {
		srv_error(c, 404, "fetch.refused", "no such pending upload",
		    NULL);
		return;
	}
	o = (struct srv_object){ .master = &rcv->master,
		.dirfd = rcv->objects_fd, .name = id, .size = size,
		.sha256 = sha, .content_type = "application/octet-stream" };
	if (srv_plan_range(c, &o, &rg, "fetch.refused") != 0)
		return;
	sent = srv_send_object(c, &o, &rg);
	if (c->req.method != HTTP_GET)
		return;
	snprintf(detail, sizeof(detail), "range=%" PRIu64 "-%" PRIu64 "/%"
	    PRIu64 " sent=%" PRIu64, rg.first, rg.len ? rg.last : 0, size,
	    sent);
	srv_audit(c, sent == rg.len ? "upload.fetched" : "upload.fetch_broken",
	    id, 1, sent, sha, detail);
}

/* Keeps the receipt as a sealed object without data in handed/. */
static int
keep_receipt(struct receiver *rcv, const char *id, const char *receipt)
{
	struct seal_writer *w;
	char tmp[300];
	int e;

	snprintf(tmp, sizeof(tmp), "handed.%s", id);
	if ((e = seal_writer_open(&rcv->master, rcv->tmp_fd, tmp, 0, &w)) != 0)
		return e;
	if ((e = seal_writer_finish(w, receipt, strlen(receipt))) == 0)
		e = seal_writer_commit(w, rcv->tmp_fd, rcv->handed_fd, id);
	seal_writer_free(w);
	return e;
}

/* Disposes of the pending copy and records it (R13). */
static int
dispose(struct receiver *rcv, const char *id, const char *sha, uint64_t size,
    const char *actor)
{
	struct seal_disposal disp = { 0 };
	struct audit_event ev = { .event = "upload.disposed", .actor = actor,
		.object = id, .has_size = 1, .size = size, .sha256 = sha };
	char detail[96];
	int e;

	if ((e = seal_dispose(rcv->objects_fd, id, &disp)) != 0)
		return e;
	snprintf(detail, sizeof(detail), "reason=handed_over key_destroyed=%d "
	    "file_bytes=%" PRIu64, disp.key_destroyed, disp.file_bytes);
	ev.detail = detail;
	return audit_append(rcv->audit, &ev);
}

static void
acknowledge(struct srv_conn *c, const char *id)
{
	struct receiver *rcv = RCV(c);
	char receipt[SEAL_META_MAX], sha[65], theirs[80], body[400];
	uint64_t size = 0;
	int e;

	if (http_header(&c->req, "Sekisho-Sha256", theirs, sizeof(theirs)) != 0
	    || strlen(theirs) != 64) {
		srv_error(c, 400, "ack.refused", "Sekisho-Sha256 (the digest "
		    "the vault computed, in hex) is required", NULL);
		return;
	}
	pthread_mutex_lock(&rcv->handover_lock);
	e = read_receipt(rcv, rcv->objects_fd, id, receipt, sizeof(receipt),
	    &size);
	if (e != 0) {
		/* Taken already? Then this is a retry: the same answer. */
		e = read_receipt(rcv, rcv->handed_fd, id, receipt,
		    sizeof(receipt), &size);
		pthread_mutex_unlock(&rcv->handover_lock);
		if (e == 0 && receipt_field(receipt, "sha256", sha,
		    sizeof(sha)) == 0 && strcmp(sha, theirs) == 0) {
			snprintf(body, sizeof(body), "{\"id\":\"%s\","
			    "\"acknowledged\":true,\"again\":true}", id);
			srv_respond_json(c, 200, body, NULL);
		} else
			srv_error(c, 404, "ack.refused",
			    "no such pending upload", NULL);
		return;
	}
	if (receipt_field(receipt, "sha256", sha, sizeof(sha)) != 0 ||
	    strcmp(sha, theirs) != 0) {
		pthread_mutex_unlock(&rcv->handover_lock);
		srv_error(c, 409, "ack.refused", "Sekisho-Sha256 differs from "
		    "the upload's: nothing was disposed of", NULL);
		return;
	}
	/* The receipt first, then the record, then the copy goes: a crash
	 * in between is finished at the next start (handover_recover). */
	if ((e = keep_receipt(rcv, id, receipt)) != 0 ||
	    (e = srv_audit(c, "upload.handed_over", id, 1, size, sha,
	    NULL)) != 0 || (e = dispose(rcv, id, sha, size, "vault")) != 0) {
		pthread_mutex_unlock(&rcv->handover_lock);
		log_errorx("object %s: hand-over failed: %s", id,
		    sk_strerror(e));
		srv_error(c, 500, "ack.failed", "the hand-over could not be "
		    "completed; retry", NULL);
		return;
	}
	pthread_mutex_unlock(&rcv->handover_lock);
	log_info("object %s: handed over to the vault and disposed of", id);
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"acknowledged\":true}",
	    id);
	srv_respond_json(c, 200, body, NULL);
}

unsigned
handover_recover(struct receiver *rcv)
{
	char receipt[SEAL_META_MAX], sha[65];
	struct dirent *de;
	uint64_t size = 0;
	unsigned n = 0;
	DIR *d;
	int fd;

	if ((fd = dup(rcv->handed_fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!id_valid(de->d_name) || faccessat(rcv->objects_fd,
		    de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (read_receipt(rcv, rcv->objects_fd, de->d_name, receipt,
		    sizeof(receipt), &size) != 0 ||
		    receipt_field(receipt, "sha256", sha, sizeof(sha)) != 0)
			sha[0] = '\0';
		if (dispose(rcv, de->d_name, sha[0] ? sha : NULL, size,
		    "system") == 0)
			n++;
	}
	closedir(d);
	return n;
}

void
handover_serve(struct srv_conn *c)
{
	char segs[4][256];
	size_t nsegs;

	if (srv_audit_ok(c) != 0 || srv_require_host(c,
	    RCV(c)->site->vault.identity, RCV(c)->site->vault.address,
	    "vault") != 0 || srv_read_request(c, 1) != 0)
		return;
	if (http_split_path(c->req.target, segs, SK_ARRAY_LEN(segs),
	    &nsegs) != 0 || nsegs < 2 || nsegs > 3 ||
	    strcmp(segs[0], "v1") != 0 || strcmp(segs[1], "pending") != 0 ||
	    (nsegs == 3 && !id_valid(segs[2]))) {
		srv_error(c, 404, "request.refused", "the endpoints are "
		    "/v1/pending and /v1/pending/{id}", NULL);
		return;
	}
	if (nsegs == 2 && c->req.method == HTTP_GET)
		list_pending(c);
	else if (nsegs == 3 && (c->req.method == HTTP_GET ||
	    c->req.method == HTTP_HEAD))
		fetch(c, segs[2]);
	else if (nsegs == 3 && c->req.method == HTTP_DELETE)
		acknowledge(c, segs[2]);
	else
		srv_error(c, 405, "request.refused", "GET /v1/pending, GET, "
		    "HEAD or DELETE /v1/pending/{id}", NULL);
}
