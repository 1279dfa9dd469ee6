/*
 * hclient.h: the vault's side of the internal links: one HTTP/1.1 request
 * per TLS 1.3 connection, to a host of the site whose certificate must
 * name that host. Only the vault and the sender's push process link this
 * (the only programs that open connections).
 */
#ifndef SK_HCLIENT_H
#define SK_HCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "http.h"

struct hc_conn {
	int fd;
	SSL *ssl;
	uint8_t head[HTTP_HEAD_MAX];	/* the response head, then body bytes */
	size_t len, off;		/* bytes in head; body bytes taken */
	size_t head_len;
	int status;
	int has_length;
	uint64_t length;		/* Content-Length of the response */
	char host[256];			/* Host: (hc_open_named), or "sekisho" */
	int lenient;			/* a response may omit Content-Length */
};

/* Connects to address:port, runs the handshake, checks the identity. */
int hc_open(SSL_CTX *ctx, const char *address, uint16_t port,
    const char *identity, unsigned timeout_s, struct hc_conn *c, char *why,
    size_t whycap);

/*
 * The same to a server outside the site (a push recipient's endpoint):
 * its certificate must chain to ctx's trust (a plain client context, not
 * tls_client_new's) and carry dns_name, which is also the SNI and Host.
 */
int hc_open_named(SSL_CTX *ctx, const char *address, uint16_t port,
    const char *dns_name, unsigned timeout_s, struct hc_conn *c, char *why,
    size_t whycap);

/* Sends the request head; body_len < 0 means no body. extra is header
 * lines, each ending in CRLF, or NULL. */
int hc_request(struct hc_conn *c, const char *method, const char *target,
    const char *extra, int64_t body_len);

/*
 * After a request head with "Expect: 100-continue": waits up to wait_ms
 * for the server's answer. 0: send the body (it said 100, or nothing in
 * time); 1: it gave its final answer already (c->status), send nothing;
 * else an error.
 */
int hc_continue(struct hc_conn *c, unsigned wait_ms);

/* Sends body bytes. */
int hc_send(struct hc_conn *c, const void *buf, size_t len);

/* Reads and parses the response head (status, Content-Length). */
int hc_response(struct hc_conn *c);

/* A response header's value, or SK_ENOTFOUND. */
int hc_header(const struct hc_conn *c, const char *name, char *out,
    size_t cap);

/* Reads body bytes; *got == 0 at the end of the Content-Length. */
int hc_read(struct hc_conn *c, void *buf, size_t cap, size_t *got);

/* Reads the whole body (at most max bytes) into a new NUL-terminated
 * buffer. */
int hc_read_all(struct hc_conn *c, size_t max, char **out, size_t *len);

void hc_close(struct hc_conn *c);

/* Parses a response head (pure; fuzzed): status and Content-Length. */
int hc_parse_head(const uint8_t *buf, size_t len, size_t *head_len,
    int *status, int *has_length, uint64_t *length);

#endif
