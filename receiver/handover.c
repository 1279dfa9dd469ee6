/*
 * handover.c: the receiver's internal listener, for the vault only (the
 * internal CA, the vault's identity, the vault's address), in the net
 * process.
 *
 *   GET    /v1/pending        the receipts of the uploads not yet taken
 *   GET    /v1/pending?wait=N the same, but with none pending the answer
 *                             waits until one is stored, at most N seconds
 *                             (1 to 60): the vault learns of an upload the
 *                             moment it is durable
 *   GET    /v1/pending/ID     one upload (HEAD too; Range for resuming)
 *   DELETE /v1/pending/ID     the vault has it: with Sekisho-Sha256 set to
 *                             the digest it computed, the receiver keeps
 *                             the receipt, disposes of its copy
 *                             (crypto-shredding, R13) and records both
 *
 * Listing and hand-over are the store's (store.c); for a fetch the store
 * hands over the object's descriptor and its own key, and the bytes are
 * decrypted here on their way into TLS. A repeated acknowledgement answers
 * 200 again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "receiver.h"
#include "seal.h"
#include "sk.h"
#include "util.h"

/* Object ids are the receiver's own: lowercase hex. */
static int
id_valid(const char *id)
{
	return sk_hexid_valid(id, 64);
}

#define WAIT_STEP_MS 20		/* how often a long-poll asks the store */

/* The listing's JSON (malloc'd), or NULL with the error answered. */
static char *
pending_json(struct srv_conn *c)
{
	struct proc_msg req;
	struct proc_reply rep;
	size_t cap;
	char *json;

	proc_msg_init(&req, RMSG_PENDING_LIST);
	net_call(RCV(c), &req, -1, &rep);
	if (rep.status != 200) {
		net_reply_end(&rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return NULL;
	}
	/* The text is shorter than the payload it came in. */
	cap = rep.msg.len + 1;
	if ((json = malloc(cap)) == NULL)
		fatalx("out of memory");
	proc_get_str(&rep.msg, json, cap);
	net_reply_end(&rep);
	return json;
}

static uint64_t
pending_gen(struct srv_conn *c)
{
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t gen = 0;

	proc_msg_init(&req, RMSG_PENDING_GEN);
	net_call(RCV(c), &req, -1, &rep);
	proc_get_u64(&rep.msg, &gen);
	net_reply_end(&rep);
	return gen;
}

/*
 * The listing; with wait_s > 0 and nothing pending, asked again each time
 * the store has stored an upload, until one is pending or wait_s seconds
 * have passed (or the receiver stops). The store's generation is read
 * before the listing, so an upload stored in between is never missed.
 */
static void
list_pending(struct srv_conn *c, unsigned wait_s)
{
	uint64_t until = util_now_ms() + (uint64_t)wait_s * 1000, gen;
	struct timespec step = { 0, WAIT_STEP_MS * 1000000L };
	char *json;

	for (;;) {
		gen = pending_gen(c);
		if ((json = pending_json(c)) == NULL)
			return;
		if (wait_s == 0 || strstr(json, "\"pending\":[]") == NULL)
			break;
		while (util_now_ms() < until && !RCV(c)->stop &&
		    pending_gen(c) == gen)
			nanosleep(&step, NULL);
		if (util_now_ms() >= until || RCV(c)->stop)
			break;
		free(json);
	}
	srv_respond_json(c, 200, json, NULL);
	free(json);
}

/* "/v1/pending?wait=N": N in seconds, 1 to PROTO_WAIT_MAX; else 0. */
static unsigned
wait_of(const char *target)
{
	static const char prefix[] = PROTO_PENDING "?wait=";
	const char *p = target + sizeof(prefix) - 1;
	unsigned n = 0;

	if (strncmp(target, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	while (*p >= '0' && *p <= '9' && n <= PROTO_WAIT_MAX)
		n = n * 10 + (unsigned)(*p++ - '0');
	return *p == '\0' && n >= 1 && n <= PROTO_WAIT_MAX ? n : 0;
}

/* The store's descriptor and key for one pending upload, as a reader. */
static int
open_pending(struct srv_conn *c, const char *id, struct seal_reader **rd,
    uint64_t *size, char sha[65])
{
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg req;
	struct proc_reply rep;
	int fd, r;

	proc_msg_init(&req, RMSG_PENDING_OPEN);
	proc_put_str(&req, id);
	net_call(RCV(c), &req, -1, &rep);
	if (rep.status != 0) {
		net_reply_end(&rep);
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return -1;
	}
	proc_get_u64(&rep.msg, size);
	proc_get_str(&rep.msg, sha, 65);
	proc_get_fixed(&rep.msg, key, sizeof(key));
	fd = proc_take_fd(&rep.msg);
	net_reply_end(&rep);
	if (fd == -1)
		fatalx("the store gave no file for object %s; ending", id);
	r = seal_reader_attach(fd, key, rd);
	sk_wipe(key, sizeof(key));
	if (r != 0) {
		close(fd);
		log_errorx("object %s: cannot be read: %s", id, sk_strerror(r));
		srv_error(c, 500, "fetch.refused", "the stored copy cannot be "
		    "read", NULL);
		return -1;
	}
	return 0;
}

static void
fetch(struct srv_conn *c, const char *id)
{
	char sha[65], detail[128];
	struct seal_reader *rd = NULL;
	struct srv_object o;
	struct srv_range rg;
	uint64_t size = 0, sent;

	if (open_pending(c, id, &rd, &size, sha) != 0)
		return;
	o = (struct srv_object){ .reader = rd, .name = id, .size = size,
		.sha256 = sha, .content_type = "application/octet-stream" };
	if (srv_plan_range(c, &o, &rg, "fetch.refused") != 0)
		goto out;
	sent = srv_send_object(c, &o, &rg);
	if (c->req.method != HTTP_GET)
		goto out;
	snprintf(detail, sizeof(detail), "range=%" PRIu64 "-%" PRIu64 "/%"
	    PRIu64 " sent=%" PRIu64, rg.first, rg.len ? rg.last : 0, size,
	    sent);
	srv_audit(c, sent == rg.len ? "upload.fetched" : "upload.fetch_broken",
	    id, 1, sent, sha, detail);
out:
	seal_reader_free(rd);
}

static void
acknowledge(struct srv_conn *c, const char *id)
{
	char theirs[80], body[400];
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t status;

	if (http_header(&c->req, PROTO_H_SHA256, theirs, sizeof(theirs)) != 0
	    || strlen(theirs) != 64) {
		srv_error(c, 400, "ack.refused", "Sekisho-Sha256 (the digest "
		    "the vault computed, in hex) is required", NULL);
		return;
	}
	proc_msg_init(&req, RMSG_PENDING_ACK);
	proc_put_str(&req, id);
	proc_put_str(&req, theirs);
	net_call(RCV(c), &req, -1, &rep);
	status = rep.status;
	if (status != 200) {
		net_reply_end(&rep);
		srv_error(c, (int)status, NULL, rep.reason, NULL);
		return;
	}
	proc_get_str(&rep.msg, body, sizeof(body));
	net_reply_end(&rep);
	srv_respond_json(c, 200, body, NULL);
}

int
handover_authorize(struct srv_conn *c)
{
	return srv_require_host(c, RCV(c)->site->vault.identity,
	    RCV(c)->site->vault.address, "vault");
}

static void
route_list(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)segs;
	(void)nsegs;
	list_pending(c, 0);
}

/* An id that is not the receiver's own is no object: 404. */
static int
known_id(struct srv_conn *c, const char *id)
{
	if (id_valid(id))
		return 1;
	srv_error(c, 404, "request.refused", "no such pending upload", NULL);
	return 0;
}

static void
route_fetch(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	if (known_id(c, segs[2]))
		fetch(c, segs[2]);
}

static void
route_ack(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	(void)nsegs;
	if (known_id(c, segs[2]))
		acknowledge(c, segs[2]);
}

/* A disposal day (issue 18, item 2): "" when absent; only with
 * "disposed", and only a day. 0, or -1 when answered. */
static int
gone_day(struct srv_conn *c, const char *name, const char *state, char *out)
{
	int64_t t;
	int r;

	r = http_header(&c->req, name, out, 16);
	if (r == SK_ENOTFOUND) {
		out[0] = '\0';
		return 0;
	}
	if (r != 0 || strcmp(state, "disposed") != 0 || !proto_day(out, &t)) {
		srv_error(c, 400, "status.refused", "a disposal day is "
		    "YYYY-MM-DD, and goes with the state disposed only", NULL);
		return -1;
	}
	return 0;
}

/*
 * PUT /v1/status/{id}: the vault says what became of an upload it took, in
 * the closed vocabulary only; anything else is a 400 and is kept nowhere
 * (issue 18).
 */
static void
route_status(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	char state[32], reason[32], line[16], *end, gone_vault[16];
	char gone_sender[16];
	struct proc_msg req;
	struct proc_reply rep;
	uint64_t lineno = 0;
	int r;

	(void)nsegs;
	if (!known_id(c, segs[2]))
		return;
	if (http_header(&c->req, PROTO_H_STATE, state, sizeof(state)) != 0 ||
	    !proto_status_state(state)) {
		srv_error(c, 400, "status.refused", PROTO_H_STATE " is not a "
		    "state of the vocabulary", NULL);
		return;
	}
	r = http_header(&c->req, PROTO_H_REASON, reason, sizeof(reason));
	if (r == SK_ENOTFOUND)
		reason[0] = '\0';
	if ((r != 0 && r != SK_ENOTFOUND) || (r == 0 &&
	    !proto_status_reason(reason)) ||
	    proto_status_needs_reason(state) != (reason[0] != '\0')) {
		srv_error(c, 400, "status.refused", PROTO_H_REASON " is not a "
		    "reason code of the vocabulary, or is missing or out of "
		    "place", NULL);
		return;
	}
	if ((r = http_header(&c->req, PROTO_H_LINE, line, sizeof(line))) == 0) {
		errno = 0;
		lineno = strtoull(line, &end, 10);
		if (line[0] < '1' || line[0] > '9' || *end != '\0' ||
		    errno != 0 || lineno > UINT32_MAX)
			r = SK_EFORMAT;
	}
	if (r != 0 && r != SK_ENOTFOUND) {
		srv_error(c, 400, "status.refused", PROTO_H_LINE " is not a "
		    "line number", NULL);
		return;
	}
	if (gone_day(c, PROTO_H_GONE_VAULT, state, gone_vault) != 0 ||
	    gone_day(c, PROTO_H_GONE_SENDER, state, gone_sender) != 0)
		return;
	proc_msg_init(&req, RMSG_STATUS_PUT);
	proc_put_str(&req, segs[2]);
	proc_put_str(&req, state);
	proc_put_str(&req, reason);
	proc_put_u64(&req, lineno);
	proc_put_str(&req, gone_vault);
	proc_put_str(&req, gone_sender);
	net_call(RCV(c), &req, -1, &rep);
	net_reply_end(&rep);
	if (rep.status != 200) {
		srv_error(c, (int)rep.status, NULL, rep.reason, NULL);
		return;
	}
	srv_respond_json(c, 200, "{\"recorded\":true}", NULL);
}

void
handover_serve(struct srv_conn *c)
{
	static const struct srv_route routes[] = {
		{ HTTP_GET, PROTO_PENDING, route_list },
		{ HTTP_GET, PROTO_PENDING "/{id}", route_fetch },
		{ HTTP_HEAD, PROTO_PENDING "/{id}", route_fetch },
		{ HTTP_DELETE, PROTO_PENDING "/{id}", route_ack },
		{ HTTP_PUT, PROTO_STATUS "/{id}", route_status },
	};
	unsigned wait;

	if (srv_audit_ok(c) != 0 || srv_read_request(c, 1) != 0)
		return;
	/* The long-poll is the listing with a query: the only one. */
	if (c->req.method == HTTP_GET && (wait = wait_of(c->req.target)) > 0) {
		list_pending(c, wait);
		return;
	}
	srv_dispatch(c, routes, SK_ARRAY_LEN(routes), "request.refused");
}
