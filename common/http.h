/*
 * http.h: the strict HTTP/1.1 subset spoken by every Sekisho listener.
 *
 * The parser is pure: bytes in, a struct out, no socket or allocation. It
 * accepts only origin-form targets, CRLF line ends, bounded request line,
 * header block and header count, and at most one Content-Length. Whether a
 * method or a Transfer-Encoding is acceptable is the endpoint's decision.
 */
#ifndef SK_HTTP_H
#define SK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192	/* request line and headers, CRLFs included */
#define HTTP_LINE_MAX 2048	/* request line without its CRLF */
#define HTTP_HEADERS_MAX 32	/* header fields */

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_PUT, HTTP_POST,
	HTTP_DELETE, HTTP_OPTIONS, HTTP_PROPFIND };

struct http_field {
	uint16_t name_off, name_len;
	uint16_t value_off, value_len;
};

struct http_limits {
	size_t line_max;	/* <= HTTP_LINE_MAX */
	size_t head_max;	/* <= HTTP_HEAD_MAX */
	size_t headers_max;	/* <= HTTP_HEADERS_MAX */
};

struct http_request {
	enum http_method method;
	char method_text[16];
	char target[HTTP_LINE_MAX + 1];	/* as sent, NUL-terminated */
	size_t head_len;		/* bytes of the head, final CRLF included */
	int has_content_length;
	uint64_t content_length;
	int has_transfer_encoding;
	int expect_continue;
	char raw[HTTP_HEAD_MAX];	/* a copy of the head; fields point here */
	struct http_field fields[HTTP_HEADERS_MAX];
	size_t nfields;
};

/* The limits a listener uses unless it asks for tighter ones. */
extern const struct http_limits http_default_limits;

/*
 * Parses a request head from the len bytes at buf. Returns 0 when a whole
 * head was parsed (req->head_len says where the body starts), SK_EAGAIN when
 * more bytes are needed, or SK_EFORMAT / SK_ETOOBIG with *status set to the
 * HTTP status to answer (400, 414, 417, 431, 505).
 */
int http_parse_request(const uint8_t *buf, size_t len,
    const struct http_limits *lim, struct http_request *req, int *status);

/*
 * Copies the value of the first header called name (case-insensitive) into
 * out, NUL-terminated. Returns 0, SK_ENOTFOUND, or SK_ETOOBIG.
 */
int http_header(const struct http_request *req, const char *name, char *out,
    size_t outcap);

/*
 * Splits an origin-form path into at most max percent-decoded segments, each
 * copied into segs[i] (256 bytes each). A query string, an empty segment,
 * a bad escape or a decoded NUL byte gives SK_EFORMAT; a segment over 255
 * bytes SK_ETOOBIG; more than max segments SK_EINVAL.
 */
int http_split_path(const char *target, char segs[][256], size_t max,
    size_t *count);

/* The reason phrase for a status code. */
const char *http_reason(int status);

enum http_range { HTTP_RANGE_PART, HTTP_RANGE_IGNORE, HTTP_RANGE_UNSATISFIABLE };

/*
 * A Range header value against a representation of size bytes: one range,
 * "bytes=N-", "bytes=N-M" or "bytes=-S". HTTP_RANGE_PART gives the first
 * and last byte (inclusive); a malformed value, or several ranges, is to be
 * ignored (a full response), as RFC 9110 allows; a range that starts past
 * the end cannot be satisfied (416).
 */
enum http_range http_parse_range(const char *value, uint64_t size,
    uint64_t *first, uint64_t *last);

/*
 * A request's Content-Range (a resumed upload, RFC 9110 14.4):
 * "bytes FIRST-LAST/COMPLETE" with FIRST <= LAST < COMPLETE, nothing else
 * ("*" forms, spaces, signs: SK_EFORMAT).
 */
int http_parse_content_range(const char *value, uint64_t *first,
    uint64_t *last, uint64_t *complete);

/*
 * Formats a response head into out. extra is a block of further header
 * lines, each ending in CRLF, or NULL. Returns the length or SK_ETOOBIG.
 */
int http_format_head(char *out, size_t outcap, int status,
    const char *content_type, uint64_t content_length, const char *extra);

/*
 * Parses an RFC 9530 Content-Digest value and finds its sha-256 member.
 * Returns 0 with the 32-byte digest, SK_ENOTFOUND if no sha-256 member is
 * present, or SK_EFORMAT if the field is malformed.
 */
int http_content_digest_sha256(const char *value, uint8_t digest[32]);

#endif
