/*
 * http.c: a strict, bounded HTTP/1.1 request parser and response helpers.
 *
 * Strict on purpose: one way to frame a request, so that no proxy or client
 * can make two parties disagree about where a body starts or ends.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "sk.h"

const struct http_limits http_default_limits = {
	.line_max = HTTP_LINE_MAX,
	.head_max = HTTP_HEAD_MAX,
	.headers_max = HTTP_HEADERS_MAX,
};

static const struct {
	const char *name;
	enum http_method method;
} http_methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "PUT", HTTP_PUT },
	{ "POST", HTTP_POST }, { "DELETE", HTTP_DELETE },
	{ "OPTIONS", HTTP_OPTIONS }, { "PROPFIND", HTTP_PROPFIND },
};

/* RFC 9110 tchar. */
static int
is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values: visible characters, space, tab and obs-text. */
static int
is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Finds CRLF at or after from; returns the CR's offset or -1. */
static long
find_crlf(const uint8_t *buf, size_t len, size_t from)
{
	size_t i;

	for (i = from; i + 1 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			return (long)i;
		if (buf[i] == '\n' || buf[i] == '\r')
			return -2;	/* a bare LF or CR */
	}
	if (len > from && buf[len - 1] == '\n')
		return -2;
	return -1;
}

static int
fail(int *status, int code, int r)
{
	*status = code;
	return r;
}

static int
parse_request_line(const uint8_t *buf, size_t linelen, struct http_request *req,
    int *status)
{
	const uint8_t *sp1, *sp2;
	size_t mlen, tlen, i;

	sp1 = memchr(buf, ' ', linelen);
	if (sp1 == NULL)
		return fail(status, 400, SK_EFORMAT);
	mlen = (size_t)(sp1 - buf);
	if (mlen == 0 || mlen >= sizeof(req->method_text))
		return fail(status, 400, SK_EFORMAT);
	for (i = 0; i < mlen; i++)
		if (!is_tchar(buf[i]))
			return fail(status, 400, SK_EFORMAT);
	sp2 = memchr(sp1 + 1, ' ', linelen - mlen - 1);
	if (sp2 == NULL)
		return fail(status, 400, SK_EFORMAT);
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen == 0 || sp1[1] != '/')
		return fail(status, 400, SK_EFORMAT);
	for (i = 0; i < tlen; i++)
		if (sp1[1 + i] <= 0x20 || sp1[1 + i] >= 0x7f)
			return fail(status, 400, SK_EFORMAT);
	if (linelen - (size_t)(sp2 + 1 - buf) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return fail(status, 400, SK_EFORMAT);
	if (sp2[8] != '1')
		return fail(status, 505, SK_EFORMAT);
	memcpy(req->method_text, buf, mlen);
	req->method_text[mlen] = '\0';
	memcpy(req->target, sp1 + 1, tlen);
	req->target[tlen] = '\0';
	req->method = HTTP_OTHER;
	for (i = 0; i < SK_ARRAY_LEN(http_methods); i++)
		if (strcmp(req->method_text, http_methods[i].name) == 0)
			req->method = http_methods[i].method;
	return 0;
}

static int
parse_content_length(const char *v, size_t vlen, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (vlen == 0 || vlen > 19)
		return SK_EFORMAT;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return SK_EFORMAT;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

/* Applies the framing headers that the parser itself must understand. */
static int
note_field(struct http_request *req, const struct http_field *f, int *status)
{
	const char *name = req->raw + f->name_off;
	const char *value = req->raw + f->value_off;
	uint64_t n;

	if (f->name_len == 14 && strncasecmp(name, "content-length", 14) == 0) {
		if (req->has_content_length ||
		    parse_content_length(value, f->value_len, &n) != 0)
			return fail(status, 400, SK_EFORMAT);
		req->has_content_length = 1;
		req->content_length = n;
	} else if (f->name_len == 17 &&
	    strncasecmp(name, "transfer-encoding", 17) == 0) {
		req->has_transfer_encoding = 1;
	} else if (f->name_len == 6 && strncasecmp(name, "expect", 6) == 0) {
		if (f->value_len != 12 ||
		    strncasecmp(value, "100-continue", 12) != 0)
			return fail(status, 417, SK_EFORMAT);
		req->expect_continue = 1;
	}
	return 0;
}

/*
 * Fields whose meaning we use may come once: a second Content-Digest (or
 * Range, or a Sekisho-* field) would say two things, and a check of the
 * first while another part reads the second is how a smuggled request
 * gets through. Content-Length and Host are checked where they are read.
 */
static int
said_once(const char *name, size_t len)
{
	static const char *const once[] = { "content-digest", "range",
		"if-range", "expect", "transfer-encoding" };
	size_t i;

	if (len > 8 && strncasecmp(name, "sekisho-", 8) == 0)
		return 1;
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (len == strlen(once[i]) && strncasecmp(name, once[i], len) == 0)
			return 1;
	return 0;
}

static int
repeated(const struct http_request *req, const struct http_field *f)
{
	const char *name = req->raw + f->name_off;
	size_t i;

	if (!said_once(name, f->name_len))
		return 0;
	for (i = 0; i + 1 < req->nfields; i++)
		if (req->fields[i].name_len == f->name_len &&
		    strncasecmp(req->raw + req->fields[i].name_off, name,
		    f->name_len) == 0)
			return 1;
	return 0;
}

static int
parse_field(struct http_request *req, size_t off, size_t len, int *status)
{
	const uint8_t *line = (const uint8_t *)req->raw + off;
	struct http_field *f;
	size_t i, colon, vstart, vend;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(status, 400, SK_EFORMAT);	/* obs-fold */
	for (colon = 0; colon < len && line[colon] != ':'; colon++)
		if (!is_tchar(line[colon]))
			return fail(status, 400, SK_EFORMAT);
	if (colon == 0 || colon == len || colon > 64)
		return fail(status, 400, SK_EFORMAT);
	vstart = colon + 1;
	vend = len;
	while (vstart < vend && (line[vstart] == ' ' || line[vstart] == '\t'))
		vstart++;
	while (vend > vstart && (line[vend - 1] == ' ' || line[vend - 1] == '\t'))
		vend--;
	for (i = vstart; i < vend; i++)
		if (!is_field_char(line[i]))
			return fail(status, 400, SK_EFORMAT);
	f = &req->fields[req->nfields++];
	f->name_off = (uint16_t)off;
	f->name_len = (uint16_t)colon;
	f->value_off = (uint16_t)(off + vstart);
	f->value_len = (uint16_t)(vend - vstart);
	if (repeated(req, f))
		return fail(status, 400, SK_EFORMAT);
	return note_field(req, f, status);
}

int
http_parse_request(const uint8_t *buf, size_t len,
    const struct http_limits *lim, struct http_request *req, int *status)
{
	size_t head_max = lim->head_max, pos;
	long eol;
	int r, host_seen = 0;

	if (head_max > HTTP_HEAD_MAX)
		head_max = HTTP_HEAD_MAX;
	memset(req, 0, offsetof(struct http_request, raw));
	req->nfields = 0;
	eol = find_crlf(buf, len < head_max ? len : head_max, 0);
	if (eol == -2)
		return fail(status, 400, SK_EFORMAT);
	if (eol == -1 || (size_t)eol > lim->line_max) {
		if ((eol == -1 && len <= lim->line_max) || lim->line_max >= len)
			return SK_EAGAIN;
		return fail(status, 414, SK_ETOOBIG);
	}
	if ((r = parse_request_line(buf, (size_t)eol, req, status)) != 0)
		return r;
	pos = (size_t)eol + 2;
	for (;;) {
		eol = find_crlf(buf, len < head_max ? len : head_max, pos);
		if (eol == -2)
			return fail(status, 400, SK_EFORMAT);
		if (eol == -1) {
			if (len < head_max)
				return SK_EAGAIN;
			return fail(status, 431, SK_ETOOBIG);
		}
		if ((size_t)eol == pos)
			break;		/* the empty line ends the head */
		if (req->nfields >= lim->headers_max)
			return fail(status, 431, SK_ETOOBIG);
		memcpy(req->raw + pos, buf + pos, (size_t)eol - pos);
		if ((r = parse_field(req, pos, (size_t)eol - pos, status)) != 0)
			return r;
		if (req->fields[req->nfields - 1].name_len == 4 &&
		    strncasecmp(req->raw + pos, "host", 4) == 0) {
			if (host_seen++)
				return fail(status, 400, SK_EFORMAT);
		}
		pos = (size_t)eol + 2;
	}
	/* HTTP/1.1 requires Host; both framings at once is a smuggling try. */
	if (!host_seen ||
	    (req->has_content_length && req->has_transfer_encoding))
		return fail(status, 400, SK_EFORMAT);
	req->head_len = (size_t)eol + 2;
	return 0;
}

int
http_header(const struct http_request *req, const char *name, char *out,
    size_t outcap)
{
	size_t i, nlen = strlen(name);
	const struct http_field *f;

	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (f->name_len != nlen ||
		    strncasecmp(req->raw + f->name_off, name, nlen) != 0)
			continue;
		if (f->value_len >= outcap)
			return SK_ETOOBIG;
		memcpy(out, req->raw + f->value_off, f->value_len);
		out[f->value_len] = '\0';
		return 0;
	}
	return SK_ENOTFOUND;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_split_path(const char *target, char segs[][256], size_t max,
    size_t *count)
{
	const char *p = target;
	size_t n = 0, o;
	int hi, lo;

	if (*p != '/')
		return SK_EFORMAT;
	while (*p == '/') {
		p++;
		if (n == max)
			return SK_EINVAL;
		for (o = 0; *p != '\0' && *p != '/'; p++) {
			char c = *p;

			if (c == '?' || c == '#')
				return SK_EFORMAT;
			if (c == '%') {
				if ((hi = hexval(p[1])) < 0 ||
				    (lo = hexval(p[2])) < 0)
					return SK_EFORMAT;
				c = (char)(hi << 4 | lo);
				if (c == '\0')
					return SK_EFORMAT;
				p += 2;
			}
			if (o + 1 >= 256)
				return SK_ETOOBIG;
			segs[n][o++] = c;
		}
		if (o == 0)
			return SK_EFORMAT;
		segs[n++][o] = '\0';
	}
	if (*p != '\0')
		return SK_EFORMAT;
	*count = n;
	return 0;
}

const char *
http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 204, "No Content" }, { 206, "Partial Content" },
		{ 207, "Multi-Status" },
		{ 400, "Bad Request" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 409, "Conflict" },
		{ 410, "Gone" },
		{ 411, "Length Required" }, { 413, "Content Too Large" },
		{ 414, "URI Too Long" }, { 416, "Range Not Satisfiable" },
		{ 417, "Expectation Failed" }, { 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
		{ 507, "Insufficient Storage" },
	};
	size_t i;

	for (i = 0; i < SK_ARRAY_LEN(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* Decimal digits, at most 19 (below 2^63); *p moves past them. */
static int
range_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 19)
			return -1;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	*out = v;
	return n > 0 ? 0 : -1;
}

int
http_parse_content_range(const char *value, uint64_t *first, uint64_t *last,
    uint64_t *complete)
{
	const char *p = value;
	uint64_t a, b, t;

	if (strncasecmp(p, "bytes ", 6) != 0)
		return SK_EFORMAT;
	p += 6;
	if (range_number(&p, &a) != 0 || *p++ != '-' ||
	    range_number(&p, &b) != 0 || *p++ != '/' ||
	    range_number(&p, &t) != 0 || *p != '\0' || a > b || b >= t)
		return SK_EFORMAT;
	*first = a;
	*last = b;
	*complete = t;
	return 0;
}

enum http_range
http_parse_range(const char *value, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	const char *p = value;
	uint64_t a, b;

	if (strncasecmp(p, "bytes=", 6) != 0)
		return HTTP_RANGE_IGNORE;
	p += 6;
	if (*p == '-') {		/* the last S bytes */
		p++;
		if (range_number(&p, &b) != 0 || *p != '\0')
			return HTTP_RANGE_IGNORE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTP_RANGE_PART;
	}
	if (range_number(&p, &a) != 0 || *p++ != '-')
		return HTTP_RANGE_IGNORE;
	if (*p == '\0')
		b = UINT64_MAX;
	else if (range_number(&p, &b) != 0 || *p != '\0' || b < a)
		return HTTP_RANGE_IGNORE;	/* also "a-b,c-d": ignored */
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return HTTP_RANGE_PART;
}

int
http_format_head(char *out, size_t outcap, int status,
    const char *content_type, uint64_t content_length, const char *extra)
{
	int n;

	n = snprintf(out, outcap,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %llu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "%s\r\n",
	    status, http_reason(status), content_type,
	    (unsigned long long)content_length, extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= outcap)
		return SK_ETOOBIG;
	return n;
}

int
http_content_digest_sha256(const char *value, uint8_t digest[32])
{
	const char *p = value, *key, *colon1, *colon2;
	size_t keylen, dlen;
	int r, found = 0;

	/* A dictionary of key=:base64:, separated by commas. */
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		key = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '*')
			p++;
		keylen = (size_t)(p - key);
		if (keylen == 0 || p[0] != '=' || p[1] != ':')
			return SK_EFORMAT;
		colon1 = p + 1;
		colon2 = strchr(colon1 + 1, ':');
		if (colon2 == NULL)
			return SK_EFORMAT;
		if (keylen == 7 && memcmp(key, "sha-256", 7) == 0) {
			if (found)
				return SK_EFORMAT;
			r = sk_base64_decode(colon1 + 1,
			    (size_t)(colon2 - colon1 - 1), digest, 32, &dlen);
			if (r != 0 || dlen != 32)
				return SK_EFORMAT;
			found = 1;
		}
		p = colon2 + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return SK_EFORMAT;
	}
	return found ? 0 : SK_ENOTFOUND;
}
