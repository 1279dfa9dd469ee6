/*
 * test_http.c: the strict HTTP/1.1 request parser at its edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "sk.h"

static struct http_request req;

static int
parse(const char *text, int *status)
{
	*status = 0;
	return http_parse_request((const uint8_t *)text, strlen(text),
	    &http_default_limits, &req, status);
}

static void
expect_status(const char *text, int want)
{
	int status, r = parse(text, &status);

	assert_true(r != 0 && r != SK_EAGAIN);
	assert_int_equal(status, want);
}

static void
test_put_with_body_follows_head(void **state)
{
	const char *text = "PUT /v1/uploads/ds/a.csv HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 5\r\n"
	    "Content-Digest: sha-256=:abc=:\r\n\r\nhello";
	char value[64];
	int status;

	(void)state;
	assert_int_equal(parse(text, &status), 0);
	assert_int_equal(req.method, HTTP_PUT);
	assert_string_equal(req.target, "/v1/uploads/ds/a.csv");
	assert_true(req.has_content_length);
	assert_int_equal(req.content_length, 5);
	assert_int_equal(req.head_len, strlen(text) - 5);
	assert_int_equal(http_header(&req, "CONTENT-digest", value,
	    sizeof(value)), 0);
	assert_string_equal(value, "sha-256=:abc=:");
	assert_int_equal(http_header(&req, "range", value, sizeof(value)),
	    SK_ENOTFOUND);
	assert_int_equal(http_header(&req, "host", value, 1), SK_ETOOBIG);
}

/* Every proper prefix of a valid head is "need more", never an error. */
static void
test_every_prefix_needs_more(void **state)
{
	const char *text = "GET /v1/releases HTTP/1.1\r\nHost: x\r\n"
	    "Range: bytes=0-\r\n\r\n";
	size_t i, len = strlen(text);
	int status;

	(void)state;
	for (i = 0; i < len; i++)
		assert_int_equal(http_parse_request((const uint8_t *)text, i,
		    &http_default_limits, &req, &status), SK_EAGAIN);
	assert_int_equal(http_parse_request((const uint8_t *)text, len,
	    &http_default_limits, &req, &status), 0);
}

static char *
request_with_target(size_t target_len)
{
	char *buf = malloc(target_len + 64);
	size_t n;

	assert_non_null(buf);
	n = (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', target_len - 1);
	n += target_len - 1;
	strcpy(buf + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	return buf;
}

static void
test_request_line_limit(void **state)
{
	/* "GET " + target + " HTTP/1.1" must fit HTTP_LINE_MAX. */
	size_t max_target = HTTP_LINE_MAX - 4 - 9;
	char *ok = request_with_target(max_target);
	char *over = request_with_target(max_target + 1);
	int status;

	(void)state;
	assert_int_equal(parse(ok, &status), 0);
	expect_status(over, 414);
	/* Too long is known before the line ends. */
	over[HTTP_LINE_MAX + 2] = '\0';
	expect_status(over, 414);
	free(ok);
	free(over);
}

static void
test_header_count_limit(void **state)
{
	char buf[4096];
	size_t n, i;
	int status;

	(void)state;
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (i = 1; i < HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(buf + n, "X-%zu: y\r\n", i);
	strcpy(buf + n, "\r\n");
	assert_int_equal(parse(buf, &status), 0);
	assert_int_equal(req.nfields, HTTP_HEADERS_MAX);
	sprintf(buf + n, "X-last: y\r\n\r\n");
	expect_status(buf, 431);
}

static void
test_head_size_limit(void **state)
{
	char *buf = malloc(HTTP_HEAD_MAX + 100);
	size_t n;
	int status;

	(void)state;
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nX-big: ");
	/* Head exactly HTTP_HEAD_MAX bytes: accepted. */
	memset(buf + n, 'v', HTTP_HEAD_MAX - n - 4);
	strcpy(buf + HTTP_HEAD_MAX - 4, "\r\n\r\n");
	assert_int_equal(parse(buf, &status), 0);
	assert_int_equal(req.head_len, HTTP_HEAD_MAX);
	/* One byte more: refused. */
	memset(buf + n, 'v', HTTP_HEAD_MAX - n - 3);
	strcpy(buf + HTTP_HEAD_MAX - 3, "\r\n\r\n");
	expect_status(buf, 431);
	free(buf);
}

static void
test_framing_is_strict(void **state)
{
	(void)state;
	expect_status("GET / HTTP/1.1\nHost: x\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost: x\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost: x\r\nBad\x01: y\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n", 400);
	expect_status("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_status("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_status("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_status("GET / HTTP/1.0\r\nHost: x\r\n\r\n", 505);
	expect_status("GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400);
	expect_status("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400);
	expect_status("GET /\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\n\r\n", 400);	/* no Host */
	expect_status("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400);
}

/* A field whose meaning we use, twice: 400, whatever the case of its name
 * (issue 14: a second Content-Digest was ignored). Other fields may
 * repeat, and two different Sekisho-* fields are fine. */
static void
test_repeated_fields_we_use_are_refused(void **state)
{
	int status;

	(void)state;
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	    "Content-Digest: md5=:x:\r\ncontent-digest: sha-256=:y:\r\n\r\n",
	    400);
	expect_status("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n"
	    "Range: bytes=5-\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nHost: x\r\nIf-Range: \"a\"\r\n"
	    "If-Range: \"b\"\r\n\r\n", 400);
	expect_status("DELETE / HTTP/1.1\r\nHost: x\r\nSekisho-Sha256: a\r\n"
	    "SEKISHO-SHA256: b\r\n\r\n", 400);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\n"
	    "Accept: b\r\nSekisho-Dataset: d\r\nSekisho-Expires: 1\r\n\r\n",
	    &status), 0);
}

static void
test_content_length(void **state)
{
	int status;

	(void)state;
	assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 9999999999999999999\r\n\r\n", &status), 0);
	assert_int_equal(req.content_length, UINT64_C(9999999999999999999));
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 18446744073709551616\r\n\r\n", 400);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
	    400);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n",
	    400);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
	    400);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n", 400);
	/* Both framings: a smuggling attempt. */
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400);
	assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &status), 0);
	assert_true(req.has_transfer_encoding);
	assert_false(req.has_content_length);
}

static void
test_expect(void **state)
{
	int status;

	(void)state;
	assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\n"
	    "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &status), 0);
	assert_true(req.expect_continue);
	expect_status("PUT / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417);
}

static void
test_methods(void **state)
{
	int status;

	(void)state;
	assert_int_equal(parse("BREW / HTTP/1.1\r\nHost: x\r\n\r\n", &status),
	    0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_string_equal(req.method_text, "BREW");
	assert_int_equal(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", &status),
	    0);
	assert_int_equal(req.method, HTTP_HEAD);
	expect_status("VERYLONGMETHODNAME / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

static void
test_split_path(void **state)
{
	char segs[4][256], long_seg[300];
	size_t n;

	(void)state;
	assert_int_equal(http_split_path("/v1/uploads/ds/%E5%81%A5%20a.csv",
	    segs, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(segs[3], "\xe5\x81\xa5 a.csv");
	assert_int_equal(http_split_path("/a/%2F", segs, 4, &n), 0);
	assert_string_equal(segs[1], "/");
	assert_int_equal(http_split_path("/a/%00", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a/%0", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a/%zz", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a//b", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a/", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a?x=1", segs, 4, &n), SK_EFORMAT);
	assert_int_equal(http_split_path("/a/b/c/d/e", segs, 4, &n),
	    SK_EINVAL);
	long_seg[0] = '/';
	memset(long_seg + 1, 'x', 255);
	long_seg[256] = '\0';
	assert_int_equal(http_split_path(long_seg, segs, 4, &n), 0);
	assert_int_equal(strlen(segs[0]), 255);
	strcpy(long_seg + 256, "x");
	assert_int_equal(http_split_path(long_seg, segs, 4, &n), SK_ETOOBIG);
}

static void
test_content_digest(void **state)
{
	/* sha-256 of "hello" */
	static const char *b64 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
	uint8_t d[32];
	char v[256];

	(void)state;
	snprintf(v, sizeof(v), "sha-256=:%s:", b64);
	assert_int_equal(http_content_digest_sha256(v, d), 0);
	assert_int_equal(d[0], 0x2c);
	assert_int_equal(d[31], 0x24);
	snprintf(v, sizeof(v), "sha-512=:AAAA:, sha-256=:%s:", b64);
	assert_int_equal(http_content_digest_sha256(v, d), 0);
	assert_int_equal(http_content_digest_sha256("sha-512=:AAAA:", d),
	    SK_ENOTFOUND);
	assert_int_equal(http_content_digest_sha256("sha-256=:AAAA:", d),
	    SK_EFORMAT);
	assert_int_equal(http_content_digest_sha256("sha-256=abc", d),
	    SK_EFORMAT);
	assert_int_equal(http_content_digest_sha256("", d), SK_EFORMAT);
	assert_int_equal(http_content_digest_sha256("sha-256=:", d),
	    SK_EFORMAT);
	snprintf(v, sizeof(v), "sha-256=:%s:, sha-256=:%s:", b64, b64);
	assert_int_equal(http_content_digest_sha256(v, d), SK_EFORMAT);
	snprintf(v, sizeof(v), "sha-256=:%s:,", b64);
	assert_int_equal(http_content_digest_sha256(v, d), SK_EFORMAT);
}

/* A resumed upload's Content-Range: one strict form, the rest refused. */
static void
test_content_range(void **state)
{
	static const char *const bad[] = { "", "bytes", "bytes 1-2", "bytes */10",
		"bytes 1-*/10", "bytes 5-4/10", "bytes 0-10/10", "bytes -1-5/10",
		"bytes 1-5/10 ", " bytes 1-5/10", "bytes  1-5/10", "bits 1-5/10",
		"bytes 1-5/+10", "bytes 1 -5/10", "bytes 1-5/99999999999999999999",
		"bytes 0x1-5/10" };
	uint64_t a = 7, b = 7, t = 7;
	size_t i;

	(void)state;
	assert_int_equal(http_parse_content_range("bytes 943718400-"
	    "1073741823/1073741824", &a, &b, &t), 0);
	assert_true(a == 943718400 && b == 1073741823 && t == 1073741824);
	assert_int_equal(http_parse_content_range("Bytes 0-0/1", &a, &b, &t), 0);
	assert_true(a == 0 && b == 0 && t == 1);
	for (i = 0; i < SK_ARRAY_LEN(bad); i++) {
		a = b = t = 7;
		assert_int_equal(http_parse_content_range(bad[i], &a, &b, &t),
		    SK_EFORMAT);
		assert_true(a == 7 && b == 7 && t == 7);
	}
}

static void
test_format_head(void **state)
{
	char small[16], big[512];
	int n;

	(void)state;
	assert_int_equal(http_format_head(small, sizeof(small), 201,
	    "application/json", 10, NULL), SK_ETOOBIG);
	n = http_format_head(big, sizeof(big), 413, "application/json", 10,
	    "X-A: b\r\n");
	assert_true(n > 0);
	assert_non_null(strstr(big, "HTTP/1.1 413 Content Too Large\r\n"));
	assert_non_null(strstr(big, "Content-Length: 10\r\n"));
	assert_non_null(strstr(big, "X-A: b\r\n\r\n"));
	assert_string_equal(http_reason(999), "Unknown");
	assert_string_equal(http_reason(207), "Multi-Status");
	assert_string_equal(http_reason(409), "Conflict");
	assert_string_equal(http_reason(422), "Unprocessable Content");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_with_body_follows_head),
		cmocka_unit_test(test_every_prefix_needs_more),
		cmocka_unit_test(test_request_line_limit),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_head_size_limit),
		cmocka_unit_test(test_framing_is_strict),
		cmocka_unit_test(test_repeated_fields_we_use_are_refused),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_content_digest),
		cmocka_unit_test(test_format_head),
		cmocka_unit_test(test_content_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
