/*
 * hclient.c: HTTP/1.1 over TLS 1.3 for the vault (see hclient.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hclient.h"
#include "netaddr.h"
#include "sk.h"
#include "tls.h"

/* A TCP connection to address:port, bounded by timeout_s. */
static int
tcp_connect(const char *address, uint16_t port, unsigned timeout_s,
    struct hc_conn *c, char *why, size_t whycap)
{
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = timeout_s, .tv_usec = 0 };
	struct netaddr na;
	socklen_t sslen;
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&ss, 0, sizeof(ss));
	if (netaddr_parse(address, &na) != 0) {
		snprintf(why, whycap, "bad address %s", address);
		return SK_ECONFIG;
	}
	if (na.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, na.addr, 4);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, na.addr, 16);
		sslen = sizeof(*sin6);
	}
	if ((c->fd = socket(na.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whycap, "socket: %s", strerror(errno));
		return SK_ESYS;
	}
	/* The send timeout bounds connect(2) as well. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A request's head and body are separate TLS records: without this,
	 * Nagle holds the body until the peer's delayed ACK (40 ms). */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&ss, sslen) == -1) {
		snprintf(why, whycap, "connecting to %s port %u: %s", address,
		    port, strerror(errno));
		close(c->fd);
		c->fd = -1;
		return SK_ESYS;
	}
	return 0;
}

int
hc_open(SSL_CTX *ctx, const char *address, uint16_t port,
    const char *identity, unsigned timeout_s, struct hc_conn *c, char *why,
    size_t whycap)
{
	int e;

	if ((e = tcp_connect(address, port, timeout_s, c, why, whycap)) != 0)
		return e;
	if ((e = tls_connect(ctx, c->fd, identity, &c->ssl, why, whycap)) != 0) {
		close(c->fd);
		c->fd = -1;
		return e;
	}
	return 0;
}

int
hc_open_named(SSL_CTX *ctx, const char *address, uint16_t port,
    const char *dns_name, unsigned timeout_s, struct hc_conn *c, char *why,
    size_t whycap)
{
	long vr;
	int e;

	if ((e = tcp_connect(address, port, timeout_s, c, why, whycap)) != 0)
		return e;
	snprintf(c->host, sizeof(c->host), "%s", dns_name);
	c->lenient = 1;
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, dns_name) != 1 ||
	    SSL_set1_host(c->ssl, dns_name) != 1) {
		snprintf(why, whycap, "cannot set up TLS");
		e = SK_ECRYPTO;
		goto fail;
	}
	if (SSL_connect(c->ssl) != 1) {
		vr = SSL_get_verify_result(c->ssl);
		snprintf(why, whycap, "TLS handshake with %s failed: %s",
		    dns_name, vr != X509_V_OK ?
		    X509_verify_cert_error_string(vr) : "refused");
		e = SK_EAUTH;
		goto fail;
	}
	if (SSL_get_verify_result(c->ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(c->ssl) == NULL) {
		snprintf(why, whycap, "%s showed no certificate it could be "
		    "trusted with", dns_name);
		e = SK_EAUTH;
		goto fail;
	}
	return 0;
fail:
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	return e;
}

int
hc_request(struct hc_conn *c, const char *method, const char *target,
    const char *extra, int64_t body_len)
{
	char head[HTTP_HEAD_MAX], cl[48] = "";
	int n;

	if (body_len >= 0)
		snprintf(cl, sizeof(cl), "Content-Length: %lld\r\n",
		    (long long)body_len);
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\n%s%s\r\n", method, target,
	    c->host[0] != '\0' ? c->host : "sekisho", cl,
	    extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return SK_ETOOBIG;
	return tls_write_all(c->ssl, head, (size_t)n);
}

int
hc_send(struct hc_conn *c, const void *buf, size_t len)
{
	return tls_write_all(c->ssl, buf, len);
}

/* Decimal, at most 19 digits. */
static int
parse_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p >= '0' && *p <= '9') {
		if (++n > 19)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (n == 0 || p != end)
		return -1;
	*out = v;
	return 0;
}

int
hc_parse_head(const uint8_t *buf, size_t len, size_t *head_len, int *status,
    int *has_length, uint64_t *length)
{
	const char *p = (const char *)buf, *end, *line, *eol, *colon;
	uint64_t v;
	size_t i;

	*has_length = 0;
	/* The end of the head: the first empty line. */
	for (i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			break;
	if (i + 3 >= len)
		return len >= HTTP_HEAD_MAX ? SK_ETOOBIG : SK_EAGAIN;
	end = p + i + 2;
	*head_len = i + 4;
	if (i < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (i > 12 && p[12] != ' ' &&
	    p[12] != '\r'))
		return SK_EFORMAT;
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	line = memchr(p, '\n', (size_t)(end - p));
	for (line = line + 1; line < end; line = eol + 2) {
		if ((eol = memchr(line, '\r', (size_t)(end - line))) == NULL ||
		    eol[1] != '\n')
			return SK_EFORMAT;
		if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
			return SK_EFORMAT;
		if ((size_t)(colon - line) == 14 &&
		    strncasecmp(line, "Content-Length", 14) == 0) {
			if (parse_dec(colon + 1, eol, &v) != 0 ||
			    (*has_length && v != *length))
				return SK_EFORMAT;
			*has_length = 1;
			*length = v;
		}
		if ((size_t)(colon - line) == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0)
			return SK_EFORMAT;	/* our servers never chunk */
	}
	return 0;
}

int
hc_response(struct hc_conn *c)
{
	size_t got;
	int e;

	for (;;) {
		e = hc_parse_head(c->head, c->len, &c->head_len, &c->status,
		    &c->has_length, &c->length);
		if (e != SK_EAGAIN)
			break;
		if ((e = tls_read(c->ssl, c->head + c->len,
		    sizeof(c->head) - c->len, &got)) != 0)
			return e;
		if (got == 0)
			return SK_ETRUNCATED;
		c->len += got;
	}
	if (e != 0)
		return e;
	/* Our servers always say it, but for an interim answer (1xx, which
	 * has no body); a server outside the site need not when it sends no
	 * body (204), or when we read none. */
	if (!c->has_length && !c->lenient && c->status / 100 != 1)
		return SK_EFORMAT;
	c->off = 0;
	return 0;
}

int
hc_continue(struct hc_conn *c, unsigned wait_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int e;

	if (SSL_pending(c->ssl) == 0 && poll(&pfd, 1, (int)wait_ms) <= 0)
		return 0;		/* no interim answer: send anyway */
	if ((e = hc_response(c)) != 0)
		return e;
	if (c->status != 100)
		return 1;		/* a final answer: no body */
	/* What came after the interim head is the final one's start. */
	memmove(c->head, c->head + c->head_len, c->len - c->head_len);
	c->len -= c->head_len;
	c->head_len = 0;
	c->status = 0;
	return 0;
}

int
hc_header(const struct hc_conn *c, const char *name, char *out, size_t cap)
{
	const char *p = (const char *)c->head, *end = p + c->head_len, *line;
	const char *eol, *v;
	size_t n = strlen(name);

	for (line = memchr(p, '\n', c->head_len); line != NULL &&
	    ++line < end; line = memchr(line, '\n', (size_t)(end - line))) {
		if ((eol = memchr(line, '\r', (size_t)(end - line))) == NULL)
			break;
		if ((size_t)(eol - line) > n && line[n] == ':' &&
		    strncasecmp(line, name, n) == 0) {
			for (v = line + n + 1; v < eol && (*v == ' ' ||
			    *v == '\t'); v++)
				;
			if ((size_t)(eol - v) >= cap)
				return SK_ETOOBIG;
			memcpy(out, v, (size_t)(eol - v));
			out[eol - v] = '\0';
			return 0;
		}
	}
	return SK_ENOTFOUND;
}

int
hc_read(struct hc_conn *c, void *buf, size_t cap, size_t *got)
{
	size_t early = c->len - c->head_len, n;
	uint64_t left = c->length - c->off;
	int e;

	*got = 0;
	if (left == 0)
		return 0;
	if (cap > left)
		cap = (size_t)left;
	if (c->off < early) {		/* bytes that came with the head */
		n = early - (size_t)c->off < cap ? early - (size_t)c->off : cap;
		memcpy(buf, c->head + c->head_len + c->off, n);
		c->off += n;
		*got = n;
		return 0;
	}
	if ((e = tls_read(c->ssl, buf, cap, &n)) != 0)
		return e;
	if (n == 0)
		return SK_ETRUNCATED;
	c->off += n;
	*got = n;
	return 0;
}

int
hc_read_all(struct hc_conn *c, size_t max, char **out, size_t *len)
{
	size_t n = 0, got;
	char *buf;
	int e;

	if (c->length > max)
		return SK_ETOOBIG;
	if ((buf = malloc((size_t)c->length + 1)) == NULL)
		return SK_ENOMEM;
	while (n < c->length) {
		if ((e = hc_read(c, buf + n, (size_t)c->length - n, &got)) != 0) {
			free(buf);
			return e;
		}
		n += got;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

void
hc_close(struct hc_conn *c)
{
	if (c->ssl != NULL)
		tls_close(c->ssl);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
