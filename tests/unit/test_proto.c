/*
 * test_proto.c: the receipt's codec that the receiver writes with and the
 * vault reads with (proto.h): what one writes the other reads back, and a
 * receipt with a field missing or out of shape is refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "sk.h"

static const char sha[] =
    "d6ba148a9e7fe07f0d7779ae30cea90ce99c1dba697c9bc0246612cacdde9c04";

static int
receipt(struct proto_receipt *r, char *out, size_t cap)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "2c063dd9b2af69d320db5b672e4d0036");
	snprintf(r->municipality, sizeof(r->municipality), "131156");
	snprintf(r->dataset, sizeof(r->dataset), "health-checkup");
	snprintf(r->sha256, sizeof(r->sha256), "%s", sha);
	snprintf(r->received, sizeof(r->received), "2026-12-01T10:00:00Z");
	r->filename = "健診結果 \"4月\".csv";
	r->size = 180055;
	r->has_rows = 1;
	r->rows = 2001;
	return proto_receipt_format(r, out, cap);
}

static void
test_what_the_receiver_writes_the_vault_reads(void **state)
{
	struct proto_receipt w, r;
	char buf[PROTO_RECEIPT_MAX];
	int n;

	(void)state;
	assert_true((n = receipt(&w, buf, sizeof(buf))) > 0);
	assert_int_equal(proto_receipt_parse(buf, (size_t)n, &r), 0);
	assert_string_equal(r.id, w.id);
	assert_string_equal(r.municipality, "131156");
	assert_string_equal(r.dataset, "health-checkup");
	assert_string_equal(r.sha256, sha);
	assert_string_equal(r.received, w.received);
	assert_int_equal(r.size, 180055);
	assert_true(r.has_rows);
	assert_int_equal(r.rows, 2001);
}

static void
test_rows_are_optional(void **state)
{
	struct proto_receipt w, r;
	char buf[PROTO_RECEIPT_MAX];
	int n;

	(void)state;
	receipt(&w, buf, sizeof(buf));
	w.has_rows = 0;
	assert_true((n = proto_receipt_format(&w, buf, sizeof(buf))) > 0);
	assert_null(strstr(buf, "\"rows\""));
	assert_int_equal(proto_receipt_parse(buf, (size_t)n, &r), 0);
	assert_false(r.has_rows);
}

static void
test_a_receipt_out_of_shape_is_refused(void **state)
{
	static const char *const bad[] = {
		"{\"id\":\"2c06\",\"municipality\":\"131156\",\"dataset\":\"d\","
		    "\"size\":1,\"received\":\"x\"}",	/* no sha256 */
		"{\"id\":\"2C06\",\"municipality\":\"131156\",\"dataset\":\"d\","
		    "\"size\":1,\"sha256\":\"" "d6ba148a9e7fe07f0d7779ae30cea90c"
		    "e99c1dba697c9bc0246612cacdde9c04\",\"received\":\"x\"}",
		"{\"id\":\"2c06\",\"municipality\":\"131156\",\"dataset\":\"d\","
		    "\"size\":1,\"sha256\":\"d6ba\",\"received\":\"x\"}",
		"{\"id\":\"../x\",\"municipality\":\"131156\",\"dataset\":\"d\","
		    "\"size\":1,\"sha256\":\"" "d6ba148a9e7fe07f0d7779ae30cea90c"
		    "e99c1dba697c9bc0246612cacdde9c04\",\"received\":\"x\"}",
		"{\"id\":\"2c06\",\"municipality\":\"131156\",\"dataset\":\"d\","
		    "\"size\":-1,\"sha256\":\"" "d6ba148a9e7fe07f0d7779ae30cea90c"
		    "e99c1dba697c9bc0246612cacdde9c04\",\"received\":\"x\"}",
		"{\"id\":\"2c06\"",			/* not JSON */
	};
	struct proto_receipt r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proto_receipt_parse(bad[i], strlen(bad[i]), &r),
		    SK_EFORMAT);
}

static void
test_too_small_a_buffer_is_an_error(void **state)
{
	struct proto_receipt w;
	char buf[64];

	(void)state;
	assert_int_equal(receipt(&w, buf, sizeof(buf)), SK_ETOOBIG);
}

/* R20: a pending upload expires retention_days after its receipt's time;
 * 0 days is no limit; a time that is not RFC 3339 UTC cannot say. */
static void
test_receipt_expiry(void **state)
{
	struct proto_receipt r = { .received = "2026-11-01T00:00:00Z" };
	int64_t t = 1793491200;		/* 2026-11-01T00:00:00Z */

	(void)state;
	assert_int_equal(proto_receipt_expired(&r, 30, t + 30 * 86400 - 1), 0);
	assert_int_equal(proto_receipt_expired(&r, 30, t + 30 * 86400), 1);
	assert_int_equal(proto_receipt_expired(&r, 0, t + 3650 * 86400), 0);
	assert_int_equal(proto_receipt_expired(&r, 1, t), 0);
	snprintf(r.received, sizeof(r.received), "2026-11-01 00:00:00");
	assert_int_equal(proto_receipt_expired(&r, 1, t), -1);
	snprintf(r.received, sizeof(r.received), "2026-11-01T00:00:00Zx");
	assert_int_equal(proto_receipt_expired(&r, 1, t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt_expiry),
		cmocka_unit_test(test_what_the_receiver_writes_the_vault_reads),
		cmocka_unit_test(test_rows_are_optional),
		cmocka_unit_test(test_a_receipt_out_of_shape_is_refused),
		cmocka_unit_test(test_too_small_a_buffer_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
