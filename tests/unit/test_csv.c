/*
 * test_csv.c: the vault's CSV reader and writer, and CP932 conversion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cp932.h"
#include "csv.h"
#include "sk.h"

/* A pipe-free in-memory "file": a temporary file holding text. */
static int
file_with(const void *text, size_t len)
{
	FILE *fp = tmpfile();
	int fd;

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fflush(fp);
	fd = dup(fileno(fp));
	fclose(fp);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

struct parsed {
	char text[4096];	/* records as "f1|f2|...\n" */
	int error;
	char message[192];
};

static struct parsed
parse(const char *text, size_t len, enum csv_encoding enc, char delim)
{
	struct parsed out;
	struct csv_reader *r;
	char **f;
	uint32_t *lens;
	size_t n, i, o = 0;
	int fd = file_with(text, len), e;

	memset(&out, 0, sizeof(out));
	assert_int_equal(csv_reader_new(fd, enc, delim, &r), 0);
	while ((e = csv_read(r, &f, &lens, &n)) == 1) {
		for (i = 0; i < n; i++) {
			assert_int_equal(strlen(f[i]), lens[i]);
			o += (size_t)snprintf(out.text + o, sizeof(out.text) - o,
			    "%s%s", i ? "|" : "", f[i]);
		}
		o += (size_t)snprintf(out.text + o, sizeof(out.text) - o, "\n");
	}
	out.error = e;
	snprintf(out.message, sizeof(out.message), "%s", csv_reader_error(r));
	csv_reader_free(r);
	close(fd);
	return out;
}

#define PARSE(s) parse((s), sizeof(s) - 1, CSV_UTF8, ',')

static void
test_rfc4180(void **state)
{
	struct parsed p;

	(void)state;
	p = PARSE("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",\r\n");
	assert_int_equal(p.error, 0);
	assert_string_equal(p.text, "a|b\nx,y|say \"hi\"\nmulti\nline|\n");
	/* LF line ends, no final line end, a UTF-8 BOM, empty fields. */
	p = PARSE("\xef\xbb\xbfid,v\n1,\n,\n2,z");
	assert_int_equal(p.error, 0);
	assert_string_equal(p.text, "id|v\n1|\n|\n2|z\n");
	/* Blank lines (a common trailing one) are no records. */
	p = PARSE("a\n\n\nb\n\n");
	assert_string_equal(p.text, "a\nb\n");
	/* A quoted empty field is a record. */
	p = PARSE("a\n\"\"\n");
	assert_string_equal(p.text, "a\n\n");
	p = PARSE("");
	assert_int_equal(p.error, 0);
	assert_string_equal(p.text, "");
	p = parse("a;b\n\"c;d\";e\n", 12, CSV_UTF8, ';');
	assert_string_equal(p.text, "a|b\nc;d|e\n");
}

static void
test_errors_name_the_line(void **state)
{
	struct parsed p;

	(void)state;
	p = PARSE("a,b\n1,2\n\"open,3\n4,5\n");
	assert_int_equal(p.error, SK_EFORMAT);
	assert_string_equal(p.message, "line 3: unterminated quoted field");
	p = PARSE("a\n\"x\"y\n");
	assert_int_equal(p.error, SK_EFORMAT);
	assert_non_null(strstr(p.message, "line 2: text after a closing quote"));
	p = PARSE("a\nb\"c\n");
	assert_non_null(strstr(p.message, "line 2: a quote inside unquoted"));
	p = PARSE("a\nb\rc\n");
	assert_non_null(strstr(p.message, "line 2: carriage return"));
	/* A multi-line record's error names the line it started on. */
	p = PARSE("a\n\"x\ny\nz\"q\n");
	assert_non_null(strstr(p.message, "line 2:"));
	p = PARSE("a\nok\n\xff\xfe\n");
	assert_int_equal(p.error, SK_EFORMAT);
	assert_non_null(strstr(p.message, "line 3: bytes that are not valid "
	    "UTF-8"));
	p = PARSE("a\nb\0c\n");
	assert_int_equal(p.error, SK_EFORMAT);
}

static void
test_record_limit(void **state)
{
	size_t len = CSV_RECORD_MAX + 10;
	char *big = malloc(len);
	struct parsed p;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', len);
	big[len - 1] = '\n';
	p = parse(big, len, CSV_UTF8, ',');
	assert_int_equal(p.error, SK_ETOOBIG);
	free(big);
}

/* Characters where CP932 differs from plain Shift_JIS round-trip. */
static void
test_cp932_round_trip(void **state)
{
	static const char utf8[] = "\xe2\x91\xa0,\xef\xbd\x9e,\xe9\xab\x99,"
	    "\xef\xa8\x91,\xef\xbd\xb1\n";	/* ①,～,髙,﨑,ｱ */
	static const uint8_t sjis[] = { 0x87, 0x40, ',', 0x81, 0x60, ',', 0xfb,
		0xfc, ',', 0xfa, 0xb1, ',', 0xb1, '\n' };
	struct csv_writer *w;
	struct parsed p;
	char out[64];
	const char *fields[5] = { "\xe2\x91\xa0", "\xef\xbd\x9e",
		"\xe9\xab\x99", "\xef\xa8\x91", "\xef\xbd\xb1" };
	uint32_t lens[5] = { 3, 3, 3, 3, 3 };
	uint8_t digest[32];
	FILE *fp;
	int fd;

	(void)state;
	p = parse((const char *)sjis, sizeof(sjis), CSV_CP932, ',');
	assert_int_equal(p.error, 0);
	assert_string_equal(p.text, "\xe2\x91\xa0|\xef\xbd\x9e|\xe9\xab\x99|"
	    "\xef\xa8\x91|\xef\xbd\xb1\n");
	fp = tmpfile();
	fd = fileno(fp);
	assert_int_equal(csv_writer_new(fd, CSV_CP932, ',', 0, &w), 0);
	assert_int_equal(csv_write(w, fields, lens, 5), 0);
	assert_int_equal(csv_writer_finish(w, digest), 0);
	csv_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(read(fd, out, sizeof(out)), (ssize_t)sizeof(sjis));
	assert_memory_equal(out, sjis, sizeof(sjis));
	fclose(fp);
	(void)utf8;
}

static void
test_cp932_errors_and_splits(void **state)
{
	uint8_t out[32];
	size_t used = 0, bad = 0;
	long n;
	struct parsed p;

	(void)state;
	assert_int_equal(cp932_init(), 0);
	/* A lead byte at the end waits for its trail byte. */
	n = cp932_to_utf8((const uint8_t *)"a\x87", 2, 0, out, &used, &bad);
	assert_int_equal(n, 1);
	assert_int_equal(used, 1);
	n = cp932_to_utf8((const uint8_t *)"a\x87", 2, 1, out, &used, &bad);
	assert_int_equal(n, SK_EFORMAT);
	assert_int_equal(bad, 1);
	/* An invalid trail byte. */
	n = cp932_to_utf8((const uint8_t *)"\x81\x20", 2, 1, out, &used, &bad);
	assert_int_equal(n, SK_EFORMAT);
	/* UTF-8 that CP932 cannot hold (an emoji, and U+00E9). */
	n = cp932_from_utf8((const uint8_t *)"ok\xf0\x9f\x98\x80", 6, out, &bad);
	assert_int_equal(n, SK_EFORMAT);
	assert_int_equal(bad, 2);
	n = cp932_from_utf8((const uint8_t *)"\xc3\xa9", 2, out, &bad);
	assert_int_equal(n, SK_EFORMAT);
	/* Overlong UTF-8 is refused, not folded to ASCII. */
	n = cp932_from_utf8((const uint8_t *)"\xc1\x81", 2, out, &bad);
	assert_int_equal(n, SK_EFORMAT);
	p = parse("a\n\x81\x20\n", 5, CSV_CP932, ',');
	assert_int_equal(p.error, SK_EFORMAT);
	assert_non_null(strstr(p.message, "line 2: bytes that are not valid "
	    "CP932"));
}

/* Multibyte characters split across the reader's 1 MiB blocks. */
static void
test_block_boundaries(void **state)
{
	size_t len = (1u << 20) * 2 + 7, i;
	char *text = malloc(len + 1);
	struct csv_reader *r;
	char **f;
	uint32_t *lens;
	size_t n, rows = 0;
	int fd, e;

	(void)state;
	assert_non_null(text);
	/* "あ" (0x82 0xa0) repeated, a line end every ~1000 bytes, and one
	 * character placed to straddle the first block boundary. */
	i = 0;
	while (i < len - 1) {
		if (i == (1u << 20) - 2 ||
		    (i % 1001 == 1000 && i != (1u << 20) - 1)) {
			text[i++] = '\n';
			continue;
		}
		if (i + 2 > len - 1) {
			text[i++] = 'x';
			continue;
		}
		text[i] = (char)0x82;
		text[i + 1] = (char)0xa0;
		i += 2;
	}
	assert_int_equal((uint8_t)text[(1u << 20) - 1], 0x82);
	text[len - 1] = '\n';
	fd = file_with(text, len);
	assert_int_equal(csv_reader_new(fd, CSV_CP932, ',', &r), 0);
	while ((e = csv_read(r, &f, &lens, &n)) == 1)
		rows++;
	if (e != 0)
		fail_msg("%s", csv_reader_error(r));
	assert_true(rows > 1000);
	csv_reader_free(r);
	close(fd);
	free(text);
}

static void
test_writer_quotes(void **state)
{
	const char *fields[4] = { "plain", "a,b", "say \"x\"", "two\nlines" };
	uint32_t lens[4] = { 5, 3, 7, 9 };
	struct csv_writer *w;
	uint8_t digest[32];
	char out[128];
	FILE *fp = tmpfile();
	int fd = fileno(fp);
	ssize_t n;

	(void)state;
	assert_int_equal(csv_writer_new(fd, CSV_UTF8, ',', 1, &w), 0);
	assert_int_equal(csv_write(w, fields, lens, 4), 0);
	assert_int_equal(csv_writer_finish(w, digest), 0);
	csv_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, sizeof(out) - 1);
	out[n] = '\0';
	assert_string_equal(out, "plain,\"a,b\",\"say \"\"x\"\"\",\"two\nlines\"\r\n");
	fclose(fp);
}

/* Issue 14: a cell a spreadsheet would run is written as text, with a
 * leading '; so is one that starts with ' (the guard is never ambiguous);
 * others, and everything with the guard off, as they are. */
static void
test_writer_guards_formulas(void **state)
{
	const char *fields[8] = { "=HYPERLINK(\"http://x\")", "+1", "-2",
		"@SUM(A1)", "\tx", "'q", "a=b", "12" };
	uint32_t lens[8] = { 22, 2, 2, 8, 2, 2, 3, 2 };
	struct csv_writer *w;
	uint8_t digest[32];
	char out[256];
	FILE *fp;
	ssize_t n;
	int on;

	(void)state;
	for (on = 1; on >= 0; on--) {
		fp = tmpfile();
		assert_int_equal(csv_writer_new(fileno(fp), CSV_UTF8, ',', 0, &w),
		    0);
		csv_writer_guard_formulas(w, on);
		assert_int_equal(csv_write(w, fields, lens, 8), 0);
		assert_int_equal(csv_writer_finish(w, digest), 0);
		csv_writer_free(w);
		lseek(fileno(fp), 0, SEEK_SET);
		n = read(fileno(fp), out, sizeof(out) - 1);
		out[n] = '\0';
		if (on)
			assert_string_equal(out, "\"'=HYPERLINK(\"\"http://x\"\")\","
			    "'+1,'-2,'@SUM(A1),'\tx,''q,a=b,12\n");
		else
			assert_string_equal(out, "\"=HYPERLINK(\"\"http://x\"\")\","
			    "+1,-2,@SUM(A1),\tx,'q,a=b,12\n");
		fclose(fp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4180),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_cp932_round_trip),
		cmocka_unit_test(test_cp932_errors_and_splits),
		cmocka_unit_test(test_block_boundaries),
		cmocka_unit_test(test_writer_quotes),
		cmocka_unit_test(test_writer_guards_formulas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
