/*
 * server.h: the TLS 1.3 listeners of the daemons that serve (the sender;
 * the receiver's internal listener joins with the vault pipeline).
 *
 * One thread per connection. A connection holds no slot until the peer is
 * known: until its listener's authorize function has accepted its
 * certificate and source network it counts only against the caps on
 * unauthenticated connections (in all, and per source address), and over
 * either it is closed at once, without a thread. The TLS handshake and the
 * request head must be complete within handshake_timeout of the accept,
 * however slowly the bytes come. An authorized connection past
 * max_connections is answered 503 at once. Each connection's request head is
 * read under the strict parser's limits and handed to the listener's serve
 * function. Replies are JSON with a log line and, for a
 * refusal, an audit entry. Nothing here ever opens a connection.
 */
#ifndef SK_SERVER_H
#define SK_SERVER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "http.h"
#include "netaddr.h"
#include "seal.h"
#include "tls.h"

struct srv_conn;
struct srv_sources;

struct srv_listener {
	const char *name;		/* "external", "internal": for logs */
	SSL_CTX *tls;
	struct tls_trust *trust;	/* its CA and CRL, or NULL: tls's */
	int fd;
	unsigned max_connections;	/* authorized connections served */
	unsigned read_timeout;		/* seconds without a byte */
	unsigned handshake_timeout;	/* seconds from the accept to the end
					 * of the request head */
	unsigned max_unauth;		/* connections not yet authorized */
	unsigned max_unauth_per_source;	/* ... from one address */
	unsigned refusal_interval;	/* seconds one summary entry covers */
	/* Where audit entries go: this log (a daemon of one process), or,
	 * when audit_fn is set, to audit_fn(arg, ...) and broken_fn(arg):
	 * a net process hands them to the store that holds the log. */
	struct audit_log *audit;
	int (*audit_fn)(void *arg, const struct audit_event *ev);
	int (*broken_fn)(void *arg);
	/* After the handshake: is the peer one of ours (certificate, source
	 * network)? 0, or -1 once it was answered. NULL: anyone the TLS
	 * handshake let in. */
	int (*authorize)(struct srv_conn *c);
	void (*serve)(struct srv_conn *c);	/* after authorize */
	void (*tick)(void *arg);	/* every half second, or NULL */
	void *arg;			/* the daemon's state */
	atomic_uint active;		/* authorized connections being served */
	atomic_uint unauth;		/* connections not yet authorized */
	struct srv_sources *sources;	/* unauthorized ones by address */
};

struct srv_conn {
	struct srv_listener *l;
	int fd;
	struct sockaddr_storage peer;
	char peer_str[64];
	SSL *ssl;
	char actor[80];			/* "recip:<id>", "vault": once known */
	const void *peer_cfg;		/* the peer's site entry, once known */
	uint8_t head[HTTP_HEAD_MAX];
	size_t head_len;		/* bytes read into head so far */
	struct http_request req;
	int responded;
	uint64_t deadline_ms;		/* for the handshake and the head */
	int admitted;			/* authorized: counts in active */
};

/* The connection limits of the local file's `limits` group. */
void srv_listener_limits(struct srv_listener *l, const struct local_config *lc);

/* Binds and listens on a configured address and port. */
int srv_listen(const struct config_listener *cl, int *fd, char *why,
    size_t whycap);

/* Accepts on every listener until *stop is set, or until watch_fd (a
 * channel to the store; -1 for none) hangs up. */
void srv_run(struct srv_listener *ls, size_t n, int watch_fd,
    volatile sig_atomic_t *stop);

/* Is the listener's audit log unwritable (R50)? */
int srv_audit_broken(struct srv_listener *l);

/* Reads and parses the request head. On error *status is the reply to give
 * (0: the peer left, nothing to answer). */
int srv_read_head(struct srv_conn *c, int *status);

/* Refuses all work (503) while the audit log cannot be written (R50);
 * returns -1 then. */
int srv_audit_ok(struct srv_conn *c);

/* The peer must be the site's host `identity` connecting from `address`
 * (the vault, on an internal link): 0, or -1 after a 403. */
int srv_require_host(struct srv_conn *c, const char *identity,
    const char *address, const char *actor);

/* Reads the request head; with no_body, a request that carries a body is
 * refused (400) before a byte of it is read. 0, or -1 when answered. */
int srv_read_request(struct srv_conn *c, int no_body);

/*
 * HTTP dispatch by a table: a method, a path whose "{name}" parts match
 * one segment each, and the handler, which gets the path's segments
 * (decoded, at most SRV_SEGS of 255 bytes). A path that no route has is
 * 404; one that a route has for another method, 405 with Allow; a
 * malformed path, 400. Each refusal lists the endpoints and is recorded as
 * event.
 */
#define SRV_SEGS 6

struct srv_route {
	enum http_method method;
	const char *path;
	void (*handle)(struct srv_conn *c, char segs[][256], size_t nsegs);
};

void srv_dispatch(struct srv_conn *c, const struct srv_route *routes,
    size_t n, const char *event);

/* Sends a reply with a body (once per connection). */
void srv_respond(struct srv_conn *c, int status, const char *content_type,
    const char *body, size_t len, const char *extra_headers);

/* A JSON reply. */
void srv_respond_json(struct srv_conn *c, int status, const char *json,
    const char *extra_headers);

/* The same with its own Japanese (a reason that names a line, say). */
void srv_error_ja(struct srv_conn *c, int status, const char *event,
    const char *reason, const char *reason_ja, const char *extra_headers);

/* A JSON error, a log line and (if event) an audit entry. */
void srv_error(struct srv_conn *c, int status, const char *event,
    const char *reason, const char *extra_headers);

/* An audit entry with the connection's actor. */
int srv_audit(struct srv_conn *c, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail);

/* A sealed object to send, and what its headers say of it. */
struct srv_object {
	struct seal_reader *reader;	/* open already (the caller frees), or
					 * NULL: opened with master below */
	const struct seal_master *master;
	int dirfd;
	const char *name;		/* the object's file in dirfd */
	uint64_t size;
	const char *sha256;		/* hex: the ETag and Content-Digest */
	const char *filename;		/* Content-Disposition, or NULL */
	const char *content_type;
};

/* The part of an object a GET or HEAD asks for. */
struct srv_range {
	int status;			/* 200 or 206 */
	uint64_t first, last, len;
};

/*
 * Plans the reply from Range and If-Range (RFC 9110): the whole object, or
 * one part. A range past the end is answered 416 here (audited as event)
 * and -1 returned.
 */
int srv_plan_range(struct srv_conn *c, const struct srv_object *o,
    struct srv_range *rg, const char *event);

/*
 * Sends the head (ETag, Accept-Ranges, Content-Disposition; Content-Range
 * on 206, Content-Digest on 200) and, for GET, the bytes, decrypted from
 * the sealed object on the way. Returns the body bytes sent.
 */
uint64_t srv_send_object(struct srv_conn *c, const struct srv_object *o,
    const struct srv_range *rg);

/* Is the peer's address inside one of the networks? */
int srv_peer_in(const struct srv_conn *c, const struct netaddr *nets,
    size_t n);

#endif
