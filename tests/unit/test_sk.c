/*
 * test_sk.c: encodings, UTF-8 and file name checks; reading a small file
 * whole (util_read_at).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sk.h"
#include "util.h"

/* A file of max bytes is read whole; one byte more, a missing file or a
 * symbolic link is NULL. */
static void
test_read_at_whole_or_nothing(void **state)
{
	char dir[] = "/tmp/sekisho-test-sk.XXXXXX", path[64], *b;
	size_t len = 99;
	int dfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "12345", 5), 5);
	close(fd);
	assert_non_null(b = util_read_at(dfd, "f", 5, &len));
	assert_int_equal(len, 5);
	assert_string_equal(b, "12345");
	free(b);
	len = 99;
	assert_null(util_read_at(dfd, "f", 4, &len));
	assert_int_equal(len, 99);
	assert_null(util_read_at(dfd, "missing", 5, &len));
	/* util_write_at replaces it whole and leaves no temporary file. */
	assert_int_equal(util_write_at(dfd, "f", "abc", 3), 0);
	assert_non_null(b = util_read_at(dfd, "f", 5, &len));
	assert_int_equal(len, 3);
	assert_string_equal(b, "abc");
	free(b);
	assert_int_equal(faccessat(dfd, ".f.t", F_OK, 0), -1);
	assert_int_not_equal(util_write_at(-1, "f", "x", 1), 0);
	assert_int_equal(symlinkat("f", dfd, "link"), 0);
	assert_null(util_read_at(dfd, "link", 5, &len));
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "f", 0);
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_base64_round_trip_all_lengths(void **state)
{
	uint8_t in[64], out[64];
	char enc[100];
	size_t len, n;

	(void)state;
	for (len = 0; len < sizeof(in); len++)
		in[len] = (uint8_t)(len * 37 + 11);
	for (len = 1; len <= sizeof(in); len++) {
		sk_base64_encode(in, len, enc);
		assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
		assert_int_equal(sk_base64_decode(enc, strlen(enc), out,
		    sizeof(out), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(in, out, len);
		/* One byte too little room. */
		assert_int_equal(sk_base64_decode(enc, strlen(enc), out, len - 1,
		    &n), SK_ETOOBIG);
	}
}

static void
test_base64_rejects(void **state)
{
	uint8_t out[16];
	size_t n;

	(void)state;
	assert_int_equal(sk_base64_decode("", 0, out, 16, &n), SK_EFORMAT);
	assert_int_equal(sk_base64_decode("abc", 3, out, 16, &n), SK_EFORMAT);
	assert_int_equal(sk_base64_decode("ab!d", 4, out, 16, &n), SK_EFORMAT);
	assert_int_equal(sk_base64_decode("a=bc", 4, out, 16, &n), SK_EFORMAT);
	assert_int_equal(sk_base64_decode("ab\0d", 4, out, 16, &n), SK_EFORMAT);
	/* Non-canonical: bits after the padding must be zero. */
	assert_int_equal(sk_base64_decode("QR==", 4, out, 16, &n), SK_EFORMAT);
	assert_int_equal(sk_base64_decode("QQ==", 4, out, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'A');
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(sk_utf8_printable("abc", 3));
	assert_true(sk_utf8_printable("\xe5\x81\xa5\xe8\xa8\xba", 6));
	assert_true(sk_utf8_printable("\xf0\x9f\x98\x80", 4));
	assert_true(sk_utf8_printable("", 0));
	assert_false(sk_utf8_printable("a\nb", 3));
	assert_false(sk_utf8_printable("a\x7f", 2));
	assert_false(sk_utf8_printable("\xc2\x85", 2));		/* C1 NEL */
	assert_false(sk_utf8_printable("\xc0\xaf", 2));		/* overlong */
	assert_false(sk_utf8_printable("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(sk_utf8_printable("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(sk_utf8_printable("\xf4\x90\x80\x80", 4)); /* > 10FFFF */
	assert_false(sk_utf8_printable("\xe5\x81", 2));		/* cut off */
	assert_false(sk_utf8_printable("\x93\xfa", 2));		/* CP932 */
}

static void
test_filename(void **state)
{
	char name[300];

	(void)state;
	assert_true(sk_filename_valid("kenshin_2026.csv"));
	assert_true(sk_filename_valid("\xe5\x81\xa5\xe8\xa8\xba.csv"));
	assert_true(sk_filename_valid(".hidden"));
	assert_false(sk_filename_valid(""));
	assert_false(sk_filename_valid("."));
	assert_false(sk_filename_valid(".."));
	assert_false(sk_filename_valid("a/b"));
	assert_false(sk_filename_valid("a\\b"));
	assert_false(sk_filename_valid("a..b"));
	assert_false(sk_filename_valid("a\tb"));
	assert_false(sk_filename_valid("a\x1b[31m"));
	/* R56: nothing that hides what the name is. */
	assert_false(sk_filename_valid("report\xe2\x80\xae" "vsc.exe")); /* RLO */
	assert_false(sk_filename_valid("a\xe2\x80\x8b" "b.csv"));	/* ZWSP */
	assert_false(sk_filename_valid("a\xe2\x81\xa6" "b.csv"));	/* LRI */
	assert_false(sk_filename_valid("\xef\xbb\xbf" "a.csv"));		/* BOM */
	assert_false(sk_filename_valid("a\xe2\x88\x95" "b.csv"));	/* U+2215 */
	assert_false(sk_filename_valid("a\xef\xbc\x8f" "b.csv"));	/* U+FF0F */
	assert_false(sk_filename_valid("a\xe2\x81\x84" "b.csv"));	/* U+2044 */
	assert_true(sk_filename_valid("\xe5\x81\xa5\xe8\xa8\xba\xe2\x80\x95"
	    "2026.csv"));	/* a horizontal bar is fine */
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_true(sk_filename_valid(name));
	name[255] = 'x';
	name[256] = '\0';
	assert_false(sk_filename_valid(name));
}

static void
test_hex_time_errors(void **state)
{
	uint8_t b[3] = { 0x00, 0xab, 0xff };
	char hex[7], t[32];

	(void)state;
	sk_hex(b, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_int_equal(sk_time_format(0, t, sizeof(t)), 0);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	assert_int_equal(sk_time_format(1767225600, t, sizeof(t)), 0);
	assert_string_equal(t, "2026-01-01T00:00:00Z");
	assert_int_equal(sk_time_format(0, t, 10), SK_ETOOBIG);
	assert_string_equal(sk_strerror(SK_EAUTH), "authentication failed");
	assert_string_equal(sk_strerror(12345), "unknown error");
}

/* One URL path segment: RFC 3986's unreserved bytes kept, the rest %XX;
 * too long leaves the string as it was. */
static void
test_pct_append(void **state)
{
	char out[64] = "/in/", small[8] = "/a/";

	(void)state;
	assert_int_equal(sk_pct_append(out, sizeof(out), "健診 a~b.csv"), 0);
	assert_string_equal(out, "/in/%E5%81%A5%E8%A8%BA%20a~b.csv");
	assert_int_equal(sk_pct_append(small, sizeof(small), "abcd"), 0);
	assert_string_equal(small, "/a/abcd");
	strcpy(small, "/a/");
	assert_int_equal(sk_pct_append(small, sizeof(small), "abcde"), SK_ETOOBIG);
	assert_string_equal(small, "/a/");
	assert_int_equal(sk_pct_append(small, sizeof(small), "a/"), 0);
	assert_string_equal(small, "/a/a%2F");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_round_trip_all_lengths),
		cmocka_unit_test(test_read_at_whole_or_nothing),
		cmocka_unit_test(test_base64_rejects),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_hex_time_errors),
		cmocka_unit_test(test_pct_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
