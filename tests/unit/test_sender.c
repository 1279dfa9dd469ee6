/*
 * test_sender.c: the sender's pure parts: the Range parser, the release
 * record round trip, and the sliding download window (R16).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "sender.h"
#include "sk.h"

static void
expect_part(const char *v, uint64_t size, uint64_t first, uint64_t last)
{
	uint64_t f = 99, l = 99;

	assert_int_equal(http_parse_range(v, size, &f, &l), HTTP_RANGE_PART);
	assert_int_equal(f, first);
	assert_int_equal(l, last);
}

static void
test_range_forms(void **state)
{
	uint64_t f, l;

	(void)state;
	expect_part("bytes=0-", 1000, 0, 999);
	expect_part("bytes=500-", 1000, 500, 999);
	expect_part("bytes=10-19", 1000, 10, 19);
	expect_part("bytes=990-5000", 1000, 990, 999);	/* clipped */
	expect_part("bytes=-100", 1000, 900, 999);
	expect_part("bytes=-5000", 1000, 0, 999);
	expect_part("BYTES=1-1", 1000, 1, 1);
	/* Starting at or past the end: 416. */
	assert_int_equal(http_parse_range("bytes=1000-", 1000, &f, &l),
	    HTTP_RANGE_UNSATISFIABLE);
	assert_int_equal(http_parse_range("bytes=-0", 1000, &f, &l),
	    HTTP_RANGE_UNSATISFIABLE);
	assert_int_equal(http_parse_range("bytes=0-", 0, &f, &l),
	    HTTP_RANGE_UNSATISFIABLE);
	/* Malformed, several ranges, other units: ignored (a full reply). */
	assert_int_equal(http_parse_range("bytes=5-1", 1000, &f, &l),
	    HTTP_RANGE_IGNORE);
	assert_int_equal(http_parse_range("bytes=0-1,5-6", 1000, &f, &l),
	    HTTP_RANGE_IGNORE);
	assert_int_equal(http_parse_range("items=0-1", 1000, &f, &l),
	    HTTP_RANGE_IGNORE);
	assert_int_equal(http_parse_range("bytes= 0-1", 1000, &f, &l),
	    HTTP_RANGE_IGNORE);
	assert_int_equal(http_parse_range("bytes=-", 1000, &f, &l),
	    HTTP_RANGE_IGNORE);
	assert_int_equal(http_parse_range("bytes=99999999999999999999-",
	    1000, &f, &l), HTTP_RANGE_IGNORE);
}

static void
test_release_record_round_trip(void **state)
{
	struct release r, back;
	char buf[SEAL_META_MAX];
	int n;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.id, "rel-2026.11_a");
	strcpy(r.dataset, "health-checkup");
	strcpy(r.filename, "kenshin.csv");
	strcpy(r.recipients[0], "univ-a");
	strcpy(r.recipients[1], "inst-b");
	r.nrecipients = 2;
	r.published = 1795300000;
	r.expires = 1795400000;
	r.max_downloads = 3;
	r.size = UINT64_C(5000000000);
	memset(r.sha256, 'a', 64);
	r.envelope = 1;
	assert_true((n = store_meta_format(&r, buf, sizeof(buf))) > 0);
	assert_int_equal(store_meta_parse(buf, (size_t)n, &back), 0);
	assert_string_equal(back.id, r.id);
	assert_string_equal(back.recipients[1], "inst-b");
	assert_int_equal(back.nrecipients, 2);
	assert_int_equal(back.size, r.size);
	assert_int_equal(back.expires, r.expires);
	assert_int_equal(back.max_downloads, 3);
	assert_true(back.envelope);
	/* A record missing a field, or with a bad id, is refused. */
	assert_int_equal(store_meta_parse(buf, (size_t)n - 20, &back),
	    SK_EFORMAT);
	memcpy(buf + 3, "../", 3);
	assert_int_equal(store_meta_parse(buf, (size_t)n, &back), SK_EFORMAT);
	assert_false(store_id_valid(".."));
	assert_false(store_id_valid("a/b"));
	assert_false(store_id_valid(""));
	assert_true(store_id_valid("r-1"));
}

static void
test_r16_sliding_window(void **state)
{
	struct config_downloads d = { .window = 3600, .limit_bytes = 1000,
		.limit_files = 3 };
	struct acct a;
	uint64_t b, f;
	int64_t t0 = 1795300000;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(acct_add(&a, t0, 400, 1), 0);
	assert_int_equal(acct_add(&a, t0 + 600, 500, 1), 0);
	acct_usage(&a, t0 + 601, d.window, &b, &f);
	assert_int_equal(b, 900);
	assert_int_equal(f, 2);
	/* 200 more bytes do not fit until the first minute has left the
	 * window: an hour after it, to the minute. */
	assert_int_equal(acct_retry_after(&a, t0 + 601, &d, 200),
	    (t0 / 60 + 1) * 60 + 3600 - (t0 + 601));
	assert_int_equal(acct_retry_after(&a, t0 + 601, &d, 100), 0);
	/* A correction gives back what was never sent. */
	assert_int_equal(acct_add(&a, t0 + 601, -300, 0), 0);
	acct_usage(&a, t0 + 602, d.window, &b, &f);
	assert_int_equal(b, 600);
	/* An hour and a minute later, the first bucket is gone. */
	acct_usage(&a, t0 + 3600 + 61, d.window, &b, &f);
	assert_int_equal(b, 200);
	assert_int_equal(f, 1);
	free(a.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_forms),
		cmocka_unit_test(test_release_record_round_trip),
		cmocka_unit_test(test_r16_sliding_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
