/*
 * test_plausible.c: the receiver's encoding and header checks (R56, R51;
 * issue 18, item 3). Every case is fed whole and then split at every
 * offset: the verdict must not depend on how the bytes arrived.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plausible.h"
#include "sk.h"

/* 氏名 and 年齢 in UTF-8 and in CP932 (JIS X 0208: 氏 8E81, 名 96BC,
 * 年 944E, 齢 97EE). */
#define U_SHIMEI "\xE6\xB0\x8F\xE5\x90\x8D"
#define U_NENREI "\xE5\xB9\xB4\xE9\xBD\xA2"
#define S_SHIMEI "\x8E\x81\x96\xBC"
#define S_NENREI "\x94\x4E\x97\xEE"

static struct plausible_header utf8_head, sjis_head;

static int
setup(void **state)
{
	(void)state;
	utf8_head = (struct plausible_header){
		.field = { (const uint8_t *)U_SHIMEI, (const uint8_t *)U_NENREI },
		.len = { 6, 6 }, .name = { U_SHIMEI, U_NENREI }, .n = 2 };
	sjis_head = (struct plausible_header){
		.field = { (const uint8_t *)S_SHIMEI, (const uint8_t *)S_NENREI },
		.len = { 4, 4 }, .name = { U_SHIMEI, U_NENREI }, .n = 2 };
	return 0;
}

/* The verdict (0 or -1) and the line, the same for every split. */
static int
verdict(enum plausible_enc enc, const struct plausible_header *h,
    const char *data, size_t len, uint64_t *line)
{
	struct plausible p;
	int want, got;
	size_t cut;

	plausible_init(&p, enc, h);
	plausible_feed(&p, (const uint8_t *)data, len);
	want = plausible_end(&p);
	*line = p.bad_line;
	for (cut = 0; cut <= len; cut++) {
		plausible_init(&p, enc, h);
		plausible_feed(&p, (const uint8_t *)data, cut);
		plausible_feed(&p, (const uint8_t *)data + cut, len - cut);
		got = plausible_end(&p);
		assert_int_equal(got, want);
		assert_int_equal(p.bad_line, *line);
		if (got != 0) {
			/* Every verdict says where, but an empty file. */
			assert_true(strstr(p.why, "line") != NULL ||
			    (len == 0 && strstr(p.why, "empty") != NULL));
			assert_true(p.why_ja[0] != '\0');
		}
	}
	return want;
}

#define OK(enc, h, s) do { uint64_t l_; \
	assert_int_equal(verdict(enc, h, s, sizeof(s) - 1, &l_), 0); } while (0)
#define BAD(enc, h, s, at) do { uint64_t l_; \
	assert_int_equal(verdict(enc, h, s, sizeof(s) - 1, &l_), -1); \
	assert_int_equal(l_, at); } while (0)

static void
test_utf8_exactly(void **state)
{
	(void)state;
	OK(PLAUSIBLE_UTF8, NULL, "a,b\nplain ascii only, and more than eight\n");
	OK(PLAUSIBLE_UTF8, NULL, "x\n" U_SHIMEI "\n\xF0\x9F\x98\x80\n");
	BAD(PLAUSIBLE_UTF8, NULL, "ok\nok\n\xC0\xAF\n", 3);	/* overlong */
	BAD(PLAUSIBLE_UTF8, NULL, "\xED\xA0\x80\n", 1);		/* surrogate */
	BAD(PLAUSIBLE_UTF8, NULL, "a\n\xF4\x90\x80\x80", 2);	/* > U+10FFFF */
	BAD(PLAUSIBLE_UTF8, NULL, "a\nb\n" S_SHIMEI "\n", 3);	/* CP932 */
	BAD(PLAUSIBLE_UTF8, NULL, "a\n\xE6\xB0", 2);	/* cut in a character */
	BAD(PLAUSIBLE_UTF8, NULL, "", 1);		/* empty */
}

static void
test_cp932_structure(void **state)
{
	(void)state;
	OK(PLAUSIBLE_CP932, NULL, "id\n" S_SHIMEI ",\xB1\xB2\n\x81\x40\n");
	BAD(PLAUSIBLE_CP932, NULL, "id\n\x80\n", 2);	/* not a lead byte */
	BAD(PLAUSIBLE_CP932, NULL, "a\nb\n\x81\x0A", 3);	/* LF as a trail */
	BAD(PLAUSIBLE_CP932, NULL, "\xFD\n", 1);
	BAD(PLAUSIBLE_CP932, NULL, "a\n\x96", 2);	/* a lone lead at the end */
}

static void
test_header_is_the_datasets_columns(void **state)
{
	(void)state;
	OK(PLAUSIBLE_UTF8, &utf8_head, U_SHIMEI "," U_NENREI "\r\nx,1\r\n");
	OK(PLAUSIBLE_UTF8, &utf8_head, "\xEF\xBB\xBF\"" U_SHIMEI "\",\""
	    U_NENREI "\"\n");				/* BOM, quoted */
	OK(PLAUSIBLE_UTF8, &utf8_head, U_SHIMEI "," U_NENREI);	/* no LF */
	OK(PLAUSIBLE_CP932, &sjis_head, S_SHIMEI "," S_NENREI "\r\n");
	BAD(PLAUSIBLE_UTF8, &utf8_head, U_NENREI "," U_SHIMEI "\n", 1);
	BAD(PLAUSIBLE_UTF8, &utf8_head, U_SHIMEI "\n", 1);	/* one short */
	BAD(PLAUSIBLE_UTF8, &utf8_head, U_SHIMEI "," U_NENREI ",x\n", 1);
	/* The first fault counts, however the bytes came (the fuzzer found
	 * a split that reported the second): here the header's. */
	BAD(PLAUSIBLE_CP932, &sjis_head, "id,x\n\xe6\xb0\x8f\n", 1);
	/* The right columns in UTF-8 where CP932 is expected. */
	BAD(PLAUSIBLE_CP932, &sjis_head, U_SHIMEI "," U_NENREI "\n", 1);
}

static void
test_messages_name_the_column_never_a_value(void **state)
{
	static const char data[] = "secret-value,x\n";
	struct plausible p;

	(void)state;
	plausible_init(&p, PLAUSIBLE_UTF8, &utf8_head);
	plausible_feed(&p, (const uint8_t *)data, sizeof(data) - 1);
	assert_int_equal(plausible_end(&p), -1);
	assert_non_null(strstr(p.why, U_SHIMEI));
	assert_null(strstr(p.why, "secret"));
	assert_null(strstr(p.why_ja, "secret"));
	/* A header row over 4096 bytes is refused, not read on. */
	plausible_init(&p, PLAUSIBLE_UTF8, &utf8_head);
	{
		char big[5000];

		memset(big, 'a', sizeof(big));
		plausible_feed(&p, (const uint8_t *)big, sizeof(big));
	}
	assert_int_equal(plausible_end(&p), -1);
	assert_non_null(strstr(p.why, "4096"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_exactly),
		cmocka_unit_test(test_cp932_structure),
		cmocka_unit_test(test_header_is_the_datasets_columns),
		cmocka_unit_test(test_messages_name_the_column_never_a_value),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
