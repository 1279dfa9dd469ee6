/*
 * server.h: the TLS 1.3 listeners of the daemons that serve (the sender;
 * the receiver's internal listener joins with the vault pipeline).
 *
 * One thread per connection, up to a cap; past it a few threads answer 503
 * and close, and past those the connection is dropped. Each connection is
 * handshaken (a client certificate of the listener's CA is required), its
 * request head read under the strict parser's limits, and handed to the
 * listener's serve function. Replies are JSON with a log line and, for a
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

struct srv_conn;

struct srv_listener {
	const char *name;		/* "external", "internal": for logs */
	SSL_CTX *tls;
	int fd;
	unsigned max_connections;
	unsigned read_timeout;		/* seconds without a byte */
	struct audit_log *audit;
	void (*serve)(struct srv_conn *c);	/* after the handshake */
	void *arg;			/* the daemon's state */
	atomic_uint active;		/* connections being served */
	atomic_uint rejecting;		/* connections being answered 503 */
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
};

/* Binds and listens on a configured address and port. */
int srv_listen(const struct config_listener *cl, int *fd, char *why,
    size_t whycap);

/* Accepts on every listener until *stop is set. */
void srv_run(struct srv_listener *ls, size_t n, volatile sig_atomic_t *stop);

/* Reads and parses the request head. On error *status is the reply to give
 * (0: the peer left, nothing to answer). */
int srv_read_head(struct srv_conn *c, int *status);

/* Sends a reply with a body (once per connection). */
void srv_respond(struct srv_conn *c, int status, const char *content_type,
    const char *body, size_t len, const char *extra_headers);

/* A JSON reply. */
void srv_respond_json(struct srv_conn *c, int status, const char *json,
    const char *extra_headers);

/* A JSON error, a log line and (if event) an audit entry. */
void srv_error(struct srv_conn *c, int status, const char *event,
    const char *reason, const char *extra_headers);

/* An audit entry with the connection's actor. */
int srv_audit(struct srv_conn *c, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail);

/* Is the peer's address inside one of the networks? */
int srv_peer_in(const struct srv_conn *c, const struct netaddr *nets,
    size_t n);

#endif
