/*
 * server.c: TLS 1.3 listeners, one thread per connection (see server.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "msg_ja.h"
#include "server.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define SRV_DROP_LOG_MS 10000	/* one line for connections closed at once */
#define SRV_LINGER_BYTES (256u << 10)
#define SRV_LINGER_MS 1000
#define SRV_REFUSAL_SLOTS 256	/* sources summarized one by one */
#define SRV_SEND_BUF (64u << 10)	/* at most this much per TLS write */

int
srv_listen(const struct config_listener *cl, int *out, char *why,
    size_t whycap)
{
	struct sockaddr_storage ss;
	struct netaddr na;
	socklen_t sslen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (netaddr_parse(cl->address, &na) != 0) {
		snprintf(why, whycap, "bad listen address %s", cl->address);
		return SK_ECONFIG;
	}
	if (na.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(cl->port);
		memcpy(&sin->sin_addr, na.addr, 4);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cl->port);
		memcpy(&sin6->sin6_addr, na.addr, 16);
		sslen = sizeof(*sin6);
	}
	if ((fd = socket(na.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whycap, "socket: %s", strerror(errno));
		return SK_ESYS;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, 128) == -1) {
		snprintf(why, whycap, "listening on %s port %u: %s",
		    cl->address, cl->port, strerror(errno));
		close(fd);
		return SK_ESYS;
	}
	*out = fd;
	return 0;
}

void
srv_listener_limits(struct srv_listener *l, const struct local_config *lc)
{
	l->max_connections = lc->max_connections;
	l->read_timeout = lc->read_timeout;
	l->handshake_timeout = lc->handshake_timeout;
	l->max_unauth = lc->max_unauthenticated;
	l->max_unauth_per_source = lc->max_unauthenticated_per_source;
	l->refusal_interval = lc->refusal_interval;
}

int
srv_audit_broken(struct srv_listener *l)
{
	return l->broken_fn != NULL ? l->broken_fn(l->arg) :
	    audit_broken(l->audit);
}

int
srv_audit(struct srv_conn *c, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail)
{
	struct audit_event ev = {
		.event = event,
		.actor = c->actor[0] != '\0' ? c->actor : c->peer_str,
		.object = object,
		.has_size = has_size,
		.size = size,
		.sha256 = sha256,
		.detail = detail,
	};
	int r;

	r = c->l->audit_fn != NULL ? c->l->audit_fn(c->l->arg, &ev) :
	    audit_append(c->l->audit, &ev);
	if (r != 0)
		log_errorx("audit log write failed (%s): refusing all work "
		    "from now on (R50)", sk_strerror(r));
	return r;
}

void
srv_respond(struct srv_conn *c, int status, const char *content_type,
    const char *body, size_t len, const char *extra_headers)
{
	char head[1024];
	int n;

	if (c->responded)
		return;
	c->responded = 1;
	n = http_format_head(head, sizeof(head), status, content_type, len,
	    extra_headers);
	if (n < 0 || tls_write_all(c->ssl, head, (size_t)n) != 0 ||
	    (len > 0 && c->req.method != HTTP_HEAD &&
	    tls_write_all(c->ssl, body, len) != 0))
		log_warnx("peer %s: could not send the %d reply", c->peer_str,
		    status);
}

void
srv_respond_json(struct srv_conn *c, int status, const char *json,
    const char *extra_headers)
{
	size_t len = strlen(json);
	char *buf = malloc(len + 2);

	if (buf == NULL) {
		log_warnx("peer %s: out of memory for a reply", c->peer_str);
		return;
	}
	memcpy(buf, json, len);
	buf[len] = '\n';
	srv_respond(c, status, "application/json", buf, len + 1,
	    extra_headers);
	free(buf);
}

/* ---- refusals of peers not yet known, summarized ---- */

/*
 * A refused handshake or connection of a peer that is not yet known writes
 * no entry of its own: it is counted by source address, event and reason,
 * and srv_run writes one entry per such triple and interval (first, last,
 * count). Past SRV_REFUSAL_SLOTS triples, one entry per event counts the
 * other sources. So one client refused many times a second costs one entry
 * a minute, and many clients at most SRV_REFUSAL_SLOTS + a few.
 */
struct srv_refusal {
	struct srv_listener *l;		/* NULL: a free slot */
	char source[64];
	char event[24];
	char reason[128];
	int64_t first, last;
	uint64_t count;
};

static struct {
	pthread_mutex_t lock;
	struct srv_refusal v[SRV_REFUSAL_SLOTS];
	struct srv_refusal other[4];	/* per event, past the slots */
	uint64_t since_ms;
} refusals = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
refusal_add(struct srv_refusal *e, struct srv_listener *l, const char *source,
    const char *event, const char *reason, int64_t now)
{
	if (e->l == NULL) {
		e->l = l;
		snprintf(e->source, sizeof(e->source), "%s", source);
		snprintf(e->event, sizeof(e->event), "%s", event);
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
		e->first = now;
		e->count = 0;
	}
	e->last = now;
	e->count++;
}

/* Counts one refusal for the summary of this interval. */
static void
refusal_note(struct srv_listener *l, const char *source, const char *event,
    const char *reason)
{
	struct srv_refusal *e = NULL, *free_slot = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t i;

	pthread_mutex_lock(&refusals.lock);
	for (i = 0; i < SRV_REFUSAL_SLOTS && e == NULL; i++) {
		if (refusals.v[i].l == NULL) {
			if (free_slot == NULL)
				free_slot = &refusals.v[i];
		} else if (refusals.v[i].l == l &&
		    strcmp(refusals.v[i].source, source) == 0 &&
		    strcmp(refusals.v[i].event, event) == 0 &&
		    strncmp(refusals.v[i].reason, reason,
		    sizeof(refusals.v[i].reason) - 1) == 0)
			e = &refusals.v[i];
	}
	if (e == NULL && free_slot != NULL)
		e = free_slot;
	if (e == NULL) {
		for (i = 0; i < SK_ARRAY_LEN(refusals.other); i++)
			if (refusals.other[i].l == NULL ||
			    (refusals.other[i].l == l &&
			    strcmp(refusals.other[i].event, event) == 0))
				break;
		if (i == SK_ARRAY_LEN(refusals.other))
			i--;
		e = &refusals.other[i];
		source = "other sources";
		reason = "various";
	}
	refusal_add(e, l, source, event, reason, now);
	pthread_mutex_unlock(&refusals.lock);
}

static void
refusal_write(const struct srv_refusal *e)
{
	char detail[320], first[32], last[32];
	struct audit_event ev = { .event = e->event, .actor = e->source,
		.detail = detail };
	struct srv_listener *l = e->l;
	int r;

	if (sk_time_format(e->first, first, sizeof(first)) != 0 ||
	    sk_time_format(e->last, last, sizeof(last)) != 0)
		return;
	snprintf(detail, sizeof(detail), "first=%s last=%s count=%" PRIu64
	    " listener=%s %s", first, last, e->count, l->name, e->reason);
	r = l->audit_fn != NULL ? l->audit_fn(l->arg, &ev) :
	    audit_append(l->audit, &ev);
	if (r != 0)
		log_errorx("audit log write failed (%s): a summary of %" PRIu64
		    " refusals is lost (R50)", sk_strerror(r), e->count);
}

/* Writes the summaries of the interval that ended (all of them, with
 * force). Only srv_run's thread calls this. */
static void
refusals_flush(unsigned interval, int force)
{
	static struct srv_refusal out[SRV_REFUSAL_SLOTS + 4];
	uint64_t now = util_now_ms();
	size_t i, n = 0;

	pthread_mutex_lock(&refusals.lock);
	if (refusals.since_ms == 0)
		refusals.since_ms = now;
	if (!force && now - refusals.since_ms < interval * 1000ull) {
		pthread_mutex_unlock(&refusals.lock);
		return;
	}
	refusals.since_ms = now;
	for (i = 0; i < SRV_REFUSAL_SLOTS; i++)
		if (refusals.v[i].l != NULL) {
			out[n++] = refusals.v[i];
			refusals.v[i].l = NULL;
		}
	for (i = 0; i < SK_ARRAY_LEN(refusals.other); i++)
		if (refusals.other[i].l != NULL) {
			out[n++] = refusals.other[i];
			refusals.other[i].l = NULL;
		}
	pthread_mutex_unlock(&refusals.lock);
	for (i = 0; i < n; i++)
		refusal_write(&out[i]);
}

void
srv_error(struct srv_conn *c, int status, const char *event,
    const char *reason, const char *extra_headers)
{
	srv_error_ja(c, status, event, reason, msg_ja(status, reason),
	    extra_headers);
}

void
srv_error_ja(struct srv_conn *c, int status, const char *event,
    const char *reason, const char *reason_ja, const char *extra_headers)
{
	char body[2048], detail[224];
	struct json j;

	json_begin(&j, body, sizeof(body));
	json_u64(&j, "status", (uint64_t)status);
	json_str(&j, "error", reason);
	json_str(&j, "error_ja", reason_ja);
	if (json_end(&j) < 0)
		snprintf(body, sizeof(body), "{\"status\":%d}", status);
	snprintf(detail, sizeof(detail), "status=%d %s", status, reason);
	/* A peer not yet known is counted, not recorded one by one. */
	if (event != NULL && c->actor[0] == '\0') {
		/* The log line each time (journald limits its own rate); the
		 * audit entry once per source, reason and interval. */
		log_warnx("%s peer %s (unidentified): %d: %s", c->l->name,
		    c->peer_str, status, reason);
		refusal_note(c->l, c->peer_str, event, detail);
	} else {
		log_warnx("%s peer %s (%s): %d: %s", c->l->name, c->peer_str,
		    c->actor[0] != '\0' ? c->actor : "unidentified", status,
		    reason);
		/* A refusal is still answered when the audit log is
		 * broken. */
		if (event != NULL && !srv_audit_broken(c->l))
			srv_audit(c, event, NULL, 0, 0, NULL, detail);
	}
	srv_respond_json(c, status, body, extra_headers);
}

static void
set_read_timeout(int fd, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* The socket's receive timeout: what is left until the deadline, at most
 * the read timeout. -1 when the deadline has passed. */
static int
limit_read(struct srv_conn *c)
{
	uint64_t now = util_now_ms(), left;
	struct timeval tv;

	if (now >= c->deadline_ms)
		return -1;
	left = c->deadline_ms - now;
	if (left > c->l->read_timeout * 1000ull)
		left = c->l->read_timeout * 1000ull;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	return setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int
srv_read_head(struct srv_conn *c, int *status)
{
	size_t got;
	int r;

	for (;;) {
		r = http_parse_request(c->head, c->head_len,
		    &http_default_limits, &c->req, status);
		if (r != SK_EAGAIN)
			return r;
		if (c->head_len == sizeof(c->head)) {
			*status = 431;
			return SK_ETOOBIG;
		}
		/* The head too must be complete by the deadline. */
		if (c->deadline_ms != 0 && limit_read(c) != 0) {
			*status = 408;
			return SK_ETRUNCATED;
		}
		r = tls_read(c->ssl, c->head + c->head_len,
		    sizeof(c->head) - c->head_len, &got);
		if (r != 0 || got == 0) {
			*status = 0;	/* nothing to answer: the peer left */
			return SK_ETRUNCATED;
		}
		c->head_len += got;
	}
}

int
srv_plan_range(struct srv_conn *c, const struct srv_object *o,
    struct srv_range *rg, const char *event)
{
	enum http_range range = HTTP_RANGE_IGNORE;
	char value[256], extra[64];

	rg->status = 200;
	rg->first = 0;
	rg->last = o->size == 0 ? 0 : o->size - 1;
	if (o->size > 0 &&
	    http_header(&c->req, "Range", value, sizeof(value)) == 0) {
		range = http_parse_range(value, o->size, &rg->first, &rg->last);
		/* If-Range: resume only the same content, else send it all. */
		if (range == HTTP_RANGE_PART && http_header(&c->req, "If-Range",
		    value, sizeof(value)) == 0 && (strlen(value) != 66 ||
		    strncmp(value + 1, o->sha256, 64) != 0))
			range = HTTP_RANGE_IGNORE;
	}
	if (range == HTTP_RANGE_UNSATISFIABLE) {
		snprintf(extra, sizeof(extra), "Content-Range: bytes */%" PRIu64
		    "\r\n", o->size);
		srv_error(c, 416, event, "the range starts past the end", extra);
		return -1;
	}
	if (range == HTTP_RANGE_PART)
		rg->status = 206;
	else {
		rg->first = 0;
		rg->last = o->size == 0 ? 0 : o->size - 1;
	}
	rg->len = o->size == 0 ? 0 : rg->last - rg->first + 1;
	return 0;
}

/* The body: straight from the reader's decrypted chunk into TLS. */
static uint64_t
stream_object(struct srv_conn *c, const struct srv_object *o,
    uint64_t first, uint64_t len)
{
	struct seal_reader *rd = o->reader;
	const uint8_t *p;
	uint64_t sent = 0;
	size_t got, want;
	int e = 0;

	if ((rd == NULL && (e = seal_reader_open(o->master, o->dirfd, o->name,
	    &rd)) != 0) || (e = seal_reader_seek(rd, first)) != 0) {
		log_errorx("object %s: cannot be read: %s", o->name,
		    sk_strerror(e));
		goto out;
	}
	while (sent < len) {
		want = len - sent < SRV_SEND_BUF ? (size_t)(len - sent) :
		    SRV_SEND_BUF;
		if ((e = seal_reader_peek(rd, &p, want, &got)) != 0 || got == 0) {
			log_errorx("object %s: %s at byte %" PRIu64, o->name,
			    e ? sk_strerror(e) : "ended early", first + sent);
			break;
		}
		if (tls_write_all(c->ssl, p, got) != 0)
			break;		/* the peer left */
		sent += got;
	}
out:
	if (rd != NULL && rd != o->reader)
		seal_reader_free(rd);
	return sent;
}

uint64_t
srv_send_object(struct srv_conn *c, const struct srv_object *o,
    const struct srv_range *rg)
{
	char head[1024], extra[768], digest64[48];
	uint8_t md[32];
	size_t i;
	int n;

	n = snprintf(extra, sizeof(extra), "Accept-Ranges: bytes\r\n"
	    "ETag: \"%s\"\r\n", o->sha256);
	if (o->filename != NULL)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "Content-Disposition: attachment; filename=\"%s\"\r\n",
		    o->filename);
	if (rg->status == 206)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
		    "\r\n", rg->first, rg->last, o->size);
	else {
		for (i = 0; i < 32; i++)
			sscanf(o->sha256 + 2 * i, "%2hhx", &md[i]);
		sk_base64_encode(md, sizeof(md), digest64);
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
		    "Content-Digest: sha-256=:%s:\r\n", digest64);
	}
	c->responded = 1;
	if (n < 0 || (size_t)n >= sizeof(extra) ||
	    (n = http_format_head(head, sizeof(head), rg->status,
	    o->content_type, rg->len, extra)) < 0 ||
	    tls_write_all(c->ssl, head, (size_t)n) != 0)
		return 0;
	if (c->req.method != HTTP_GET)
		return 0;
	return stream_object(c, o, rg->first, rg->len);
}

int
srv_audit_ok(struct srv_conn *c)
{
	if (!srv_audit_broken(c->l))
		return 0;
	srv_error(c, 503, NULL, "the audit log cannot be written; all work "
	    "is refused until an operator fixes it", NULL);
	return -1;
}

int
srv_require_host(struct srv_conn *c, const char *identity,
    const char *address, const char *actor)
{
	char peer[TLS_IDENTITY_MAX];
	struct netaddr host;

	if (tls_peer_identity(c->ssl, peer, sizeof(peer)) != 0 ||
	    strcmp(peer, identity) != 0) {
		srv_error(c, 403, "access.refused", "only the vault may use "
		    "this listener", NULL);
		return -1;
	}
	snprintf(c->actor, sizeof(c->actor), "%s", actor);
	if (netaddr_parse(address, &host) != 0 || !srv_peer_in(c, &host, 1)) {
		srv_error(c, 403, "access.refused", "source address is not "
		    "the vault's", NULL);
		return -1;
	}
	return 0;
}

int
srv_read_request(struct srv_conn *c, int no_body)
{
	int status;

	if (srv_read_head(c, &status) != 0) {
		if (status != 0)
			srv_error(c, status, "request.refused",
			    http_reason(status), NULL);
		else
			log_info("%s peer %s (%s): closed before a request",
			    c->l->name, c->peer_str, c->actor);
		return -1;
	}
	/* The body has its own pace (min_rate): the read timeout again. */
	c->deadline_ms = 0;
	set_read_timeout(c->fd, c->l->read_timeout);
	if (no_body && (c->req.has_transfer_encoding ||
	    (c->req.has_content_length && c->req.content_length > 0))) {
		srv_error(c, 400, "request.refused", "this listener accepts no "
		    "request body", NULL);
		return -1;
	}
	return 0;
}

int
srv_peer_in(const struct srv_conn *c, const struct netaddr *nets, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (netaddr_contains(&nets[i], (const struct sockaddr *)&c->peer))
			return 1;
	return 0;
}

/*
 * Closes the write side and reads a little of what the client still sends,
 * so that an early error reply is not destroyed by a TCP reset.
 */
static void
linger(struct srv_conn *c)
{
	uint8_t sink[16384];
	uint64_t deadline = util_now_ms() + SRV_LINGER_MS;
	size_t total = 0;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	shutdown(c->fd, SHUT_WR);
	while (total < SRV_LINGER_BYTES && util_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - util_now_ms())) <= 0)
			break;
		if ((n = read(c->fd, sink, sizeof(sink))) <= 0)
			break;
		total += (size_t)n;
	}
}

/* Timeouts on a connection, and no Nagle delay. */
static void
set_timeouts(int fd, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A reply's head and body are separate TLS records: without this,
	 * Nagle holds the body until the peer's delayed ACK (40 ms). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
handshake(struct srv_conn *c)
{
	char why[256];
	int r;

	r = tls_accept(c->l->tls, c->l->trust, c->fd, c->deadline_ms, &c->ssl,
	    why, sizeof(why));
	if (r == 0)
		return 0;
	log_warnx("%s peer %s: TLS handshake refused: %s", c->l->name,
	    c->peer_str, why);
	refusal_note(c->l, c->peer_str, "tls.refused", why);
	return -1;
}

static void
finish(struct srv_conn *c)
{
	if (c->ssl != NULL) {
		tls_close(c->ssl);
		linger(c);
	}
	close(c->fd);
	free(c);
}

/* ---- unauthorized connections, by source address ---- */

struct srv_source {
	uint8_t addr[16];
	unsigned count;			/* 0: a free entry */
};

struct srv_sources {
	pthread_mutex_t lock;
	struct srv_source *v;
	size_t n;			/* max_unauth entries */
	uint64_t dropped;		/* closed at once since the last line */
	uint64_t logged_ms;
};

static void
source_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET)
		memcpy(key, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* Counts one more unauthorized connection from peer, unless a cap is
 * reached: 0, or -1 to close it at once. */
static int
source_take(struct srv_listener *l, const struct sockaddr_storage *peer)
{
	struct srv_sources *ss = l->sources;
	struct srv_source *free_slot = NULL, *e = NULL;
	uint8_t key[16];
	size_t i;
	int r = -1;

	source_key(peer, key);
	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n && e == NULL; i++) {
		if (ss->v[i].count == 0) {
			if (free_slot == NULL)
				free_slot = &ss->v[i];
		} else if (memcmp(ss->v[i].addr, key, 16) == 0)
			e = &ss->v[i];
	}
	if (e == NULL && free_slot != NULL) {
		e = free_slot;
		memcpy(e->addr, key, 16);
	}
	if (e != NULL && e->count < l->max_unauth_per_source &&
	    atomic_load(&l->unauth) < l->max_unauth) {
		e->count++;
		atomic_fetch_add(&l->unauth, 1);
		r = 0;
	} else
		ss->dropped++;
	pthread_mutex_unlock(&ss->lock);
	return r;
}

static void
source_give(struct srv_listener *l, const struct sockaddr_storage *peer)
{
	struct srv_sources *ss = l->sources;
	uint8_t key[16];
	size_t i;

	source_key(peer, key);
	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n; i++)
		if (ss->v[i].count > 0 && memcmp(ss->v[i].addr, key, 16) == 0) {
			ss->v[i].count--;
			break;
		}
	atomic_fetch_sub(&l->unauth, 1);
	pthread_mutex_unlock(&ss->lock);
}

/* One log line now and then for the connections closed at once. */
static void
source_note_drops(struct srv_listener *l)
{
	struct srv_sources *ss = l->sources;
	uint64_t now = util_now_ms(), n = 0;

	pthread_mutex_lock(&ss->lock);
	if (ss->dropped > 0 && now - ss->logged_ms >= SRV_DROP_LOG_MS) {
		n = ss->dropped;
		ss->dropped = 0;
		ss->logged_ms = now;
	}
	pthread_mutex_unlock(&ss->lock);
	if (n > 0)
		log_warnx("%s: %llu connection(s) closed at once: over the caps "
		    "on connections not yet authenticated (%u in all, %u from "
		    "one address)", l->name, (unsigned long long)n,
		    l->max_unauth, l->max_unauth_per_source);
}

static void
sources_init(struct srv_listener *l)
{
	/* The limits come from the local file (srv_listener_limits), whose
	 * parser gives every one a default and a minimum of 1. */
	if (l->max_connections == 0 || l->handshake_timeout == 0 ||
	    l->max_unauth == 0 || l->max_unauth_per_source == 0)
		fatalx("listener %s has no connection limits", l->name);
	if ((l->sources = calloc(1, sizeof(*l->sources))) == NULL ||
	    (l->sources->v = calloc(l->max_unauth,
	    sizeof(*l->sources->v))) == NULL)
		fatalx("out of memory");
	l->sources->n = l->max_unauth;
	pthread_mutex_init(&l->sources->lock, NULL);
}

/* The peer is known: from now on it counts in active, or over the cap is
 * answered 503 at once. 0, or -1 once answered. */
static int
admit(struct srv_conn *c)
{
	struct srv_listener *l = c->l;

	if (l->authorize != NULL && l->authorize(c) != 0)
		return -1;
	source_give(l, &c->peer);
	c->admitted = 1;
	if (atomic_fetch_add(&l->active, 1) >= l->max_connections) {
		srv_error(c, 503, NULL, "too many connections; try again "
		    "shortly", "Retry-After: 5\r\n");
		return -1;
	}
	return 0;
}

static void *
conn_main(void *arg)
{
	struct srv_conn *c = arg;
	struct srv_listener *l = c->l;

	set_timeouts(c->fd, l->read_timeout);
	if (handshake(c) == 0 && admit(c) == 0)
		l->serve(c);
	if (c->admitted)
		atomic_fetch_sub(&l->active, 1);
	else
		source_give(l, &c->peer);
	finish(c);
	return NULL;
}

static void
spawn(struct srv_listener *l, int fd, const struct sockaddr_storage *peer)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct srv_conn *c;

	/* Over a cap: closed now, before a thread or a byte of TLS. */
	if (source_take(l, peer) != 0) {
		close(fd);
		source_note_drops(l);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: dropping a connection");
		source_give(l, peer);
		close(fd);
		return;
	}
	c->l = l;
	c->fd = fd;
	c->peer = *peer;
	c->deadline_ms = util_now_ms() + l->handshake_timeout * 1000ull;
	netaddr_sockaddr_str((const struct sockaddr *)peer, c->peer_str,
	    sizeof(c->peer_str));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256u << 10);
	if (pthread_create(&tid, &attr, conn_main, c) != 0) {
		log_warnx("cannot start a thread: dropping a connection");
		source_give(l, peer);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

void
srv_run(struct srv_listener *ls, size_t n, int watch_fd,
    volatile sig_atomic_t *stop)
{
	struct pollfd pfd[5];
	struct sockaddr_storage peer;
	socklen_t plen;
	size_t i;
	int fd;

	if (n >= SK_ARRAY_LEN(pfd))
		fatalx("too many listeners");
	for (i = 0; i < n; i++) {
		sources_init(&ls[i]);
		pfd[i].fd = ls[i].fd;
		pfd[i].events = POLLIN;
	}
	/* Only a hang-up: the replies on the channel are other threads'. */
	pfd[n].fd = watch_fd;
	pfd[n].events = 0;
	pfd[n].revents = 0;
	while (!*stop) {
		refusals_flush(ls[0].refusal_interval, 0);
		for (i = 0; i < n; i++)
			if (ls[i].tick != NULL)
				ls[i].tick(ls[i].arg);
		if (poll(pfd, (nfds_t)n + 1, 500) <= 0)
			continue;
		if (pfd[n].revents & (POLLHUP | POLLERR)) {
			log_warnx("the store process is gone: stopping");
			return;		/* nothing to record the counts in */
		}
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			plen = sizeof(peer);
			fd = accept4(ls[i].fd, (struct sockaddr *)&peer, &plen,
			    SOCK_CLOEXEC);
			if (fd == -1) {
				if (errno != EINTR && errno != EAGAIN &&
				    errno != ECONNABORTED)
					log_warnx("accept: %s", strerror(errno));
				continue;
			}
			spawn(&ls[i], fd, &peer);
		}
	}
	refusals_flush(0, 1);
}

/* ---- dispatch ---- */

static const char *
method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
		return "GET";
	case HTTP_HEAD:
		return "HEAD";
	case HTTP_PUT:
		return "PUT";
	case HTTP_POST:
		return "POST";
	case HTTP_DELETE:
		return "DELETE";
	case HTTP_OPTIONS:
		return "OPTIONS";
	case HTTP_PROPFIND:
		return "PROPFIND";
	case HTTP_OTHER:
		break;
	}
	return "?";
}

/* Does the path pattern match these segments? */
static int
route_matches(const char *pattern, char segs[][256], size_t nsegs)
{
	const char *p = pattern, *end;
	size_t i = 0, len;

	while (*p == '/') {
		p++;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (i == nsegs)
			return 0;
		if (!(len >= 2 && p[0] == '{' && p[len - 1] == '}') &&
		    (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0))
			return 0;
		i++;
		p = end;
	}
	return i == nsegs;
}

void
srv_dispatch(struct srv_conn *c, const struct srv_route *routes, size_t n,
    const char *event)
{
	char segs[SRV_SEGS][256], list[512], allow[96];
	size_t nsegs = 0, i, o = 0, a = 0;
	int r, path_known = 0;

	r = http_split_path(c->req.target, segs, SRV_SEGS, &nsegs);
	for (i = 0; r == 0 && i < n; i++) {
		if (!route_matches(routes[i].path, segs, nsegs))
			continue;
		if (routes[i].method == c->req.method) {
			routes[i].handle(c, segs, nsegs);
			return;
		}
		path_known = 1;
		a += (size_t)snprintf(allow + a, sizeof(allow) - a, "%s%s",
		    a ? ", " : "Allow: ", method_name(routes[i].method));
		if (a >= sizeof(allow))
			a = sizeof(allow) - 1;
	}
	for (i = 0; i < n && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s %s",
		    i ? ", " : "the endpoints are ",
		    method_name(routes[i].method), routes[i].path);
	if (r == SK_EFORMAT || r == SK_ETOOBIG) {
		srv_error(c, 400, event, r == SK_ETOOBIG ? "a path segment is "
		    "longer than 255 bytes" : "malformed path", NULL);
		return;
	}
	if (path_known && a + 3 <= sizeof(allow)) {
		memcpy(allow + a, "\r\n", 3);
		srv_error(c, 405, event, list, allow);
		return;
	}
	srv_error(c, path_known ? 405 : 404, event, list, NULL);
}
