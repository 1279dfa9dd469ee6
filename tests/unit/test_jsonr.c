/*
 * test_jsonr.c: the JSON scanner and the HTTP response head parser the
 * vault uses on the receiver's and the sender's answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hclient.h"
#include "jsonr.h"
#include "sk.h"

static struct jsonr
J(const char *s)
{
	struct jsonr j = { s, strlen(s) };

	return j;
}

static void
test_listing(void **state)
{
	const char *doc = "{ \"pending\" : [ {\"id\":\"ab\",\"size\":12},\n"
	    "{\"id\":\"c\\u0041\\\"d\",\"size\":0,\"x\":{\"y\":[1,2]}} ],"
	    " \"more\": false }";
	struct jsonr list, item;
	char s[16];
	uint64_t u;
	size_t pos = 0;

	(void)state;
	assert_int_equal(jsonr_valid(doc, strlen(doc)), 0);
	assert_int_equal(jsonr_member(J(doc), "pending", &list), 0);
	assert_int_equal(jsonr_next(list, &pos, &item), 0);
	assert_int_equal(jsonr_get_string(item, "id", s, sizeof(s)), 0);
	assert_string_equal(s, "ab");
	assert_int_equal(jsonr_get_u64(item, "size", &u), 0);
	assert_int_equal(u, 12);
	assert_int_equal(jsonr_next(list, &pos, &item), 0);
	assert_int_equal(jsonr_get_string(item, "id", s, sizeof(s)), 0);
	assert_string_equal(s, "cA\"d");
	assert_int_equal(jsonr_get_u64(item, "nothing", &u), SK_ENOTFOUND);
	assert_int_equal(jsonr_next(list, &pos, &item), SK_ENOTFOUND);
	/* "y" is inside "x": not a member of the item itself. */
	assert_int_equal(jsonr_get_u64(item, "y", &u), SK_ENOTFOUND);
	assert_int_equal(jsonr_get_string(item, "id", s, 3), SK_ETOOBIG);
}

static void
test_invalid_documents(void **state)
{
	static const char *const bad[] = { "", "{", "{\"a\":}", "[1,]",
		"{\"a\" 1}", "\"\\x\"", "01", "1.", "tru", "{\"a\":1}x",
		"\"a\nb\"", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]" };
	size_t i;
	char s[8];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jsonr_valid(bad[i], strlen(bad[i])),
		    SK_EFORMAT);
	/* A NUL or a non-ASCII escape is not let through into a string. */
	assert_int_equal(jsonr_string(J("\"a\\u0000\""), s, sizeof(s)),
	    SK_EFORMAT);
	assert_int_equal(jsonr_string(J("\"\\u00e9\""), s, sizeof(s)),
	    SK_EFORMAT);
	assert_int_equal(jsonr_u64(J("-1"), (uint64_t *)s), SK_EFORMAT);
	assert_int_equal(jsonr_u64(J("12345678901234567890"), (uint64_t *)s),
	    SK_EFORMAT);
}

static void
test_response_head(void **state)
{
	const char *ok = "HTTP/1.1 206 Partial Content\r\nETag: \"x\"\r\n"
	    "content-length: 10\r\n\r\nbody";
	size_t head;
	int status, has;
	uint64_t len;

	(void)state;
	assert_int_equal(hc_parse_head((const uint8_t *)ok, strlen(ok), &head,
	    &status, &has, &len), 0);
	assert_int_equal(status, 206);
	assert_true(has);
	assert_int_equal(len, 10);
	assert_int_equal(head, strlen(ok) - 4);
	assert_int_equal(hc_parse_head((const uint8_t *)ok, 20, &head,
	    &status, &has, &len), SK_EAGAIN);
#define BAD(s) assert_int_equal(hc_parse_head((const uint8_t *)(s), \
	strlen(s), &head, &status, &has, &len), SK_EFORMAT)
	BAD("HTTP/2 200 OK\r\n\r\n");
	BAD("HTTP/1.1 20 OK\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	BAD("HTTP/1.1 200 OK\r\nno colon\r\n\r\n");
#undef BAD
}

/* A report's figure as the report wrote it; "?" for what is no scalar. */
static void
test_scalar_as_it_stands(void **state)
{
	static const char doc[] = "{\"a\":0.25,\"b\":true,\"c\":\"x\","
	    "\"d\":[1],\"e\":{\"f\":1},\"g\":123456789}";
	struct jsonr v = { doc, sizeof(doc) - 1 };
	char buf[8];

	(void)state;
	assert_string_equal(jsonr_get_scalar(v, "a", buf, sizeof(buf)), "0.25");
	assert_string_equal(jsonr_get_scalar(v, "b", buf, sizeof(buf)), "true");
	assert_string_equal(jsonr_get_scalar(v, "c", buf, sizeof(buf)), "?");
	assert_string_equal(jsonr_get_scalar(v, "d", buf, sizeof(buf)), "?");
	assert_string_equal(jsonr_get_scalar(v, "e", buf, sizeof(buf)), "?");
	assert_string_equal(jsonr_get_scalar(v, "z", buf, sizeof(buf)), "?");
	/* nine digits do not fit in eight bytes with the NUL */
	assert_string_equal(jsonr_get_scalar(v, "g", buf, sizeof(buf)), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_response_head),
		cmocka_unit_test(test_scalar_as_it_stands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
