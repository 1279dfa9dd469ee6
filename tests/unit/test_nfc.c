/*
 * test_nfc.c: NFC of file names (R56; issue 14, item 10): known cases from
 * the standard, and 4,000 vectors that Python's unicodedata normalized
 * (tests/data/nfc/vectors.txt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nfc.h"
#include "sk.h"

static void
expect(const char *in, const char *want)
{
	char out[1024];

	assert_int_equal(sk_nfc(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_known_cases(void **state)
{
	(void)state;
	/* か + combining dakuten (as macOS writes it): が */
	expect("\xe3\x81\x8b\xe3\x82\x99.csv", "\xe3\x81\x8c.csv");
	/* ハ + handakuten: パ; 健診 unchanged */
	expect("\xe3\x83\x8f\xe3\x82\x9a", "\xe3\x83\x91");
	expect("\xe5\x81\xa5\xe8\xa8\xba.csv", "\xe5\x81\xa5\xe8\xa8\xba.csv");
	/* e + acute: U+00E9 */
	expect("e\xcc\x81", "\xc3\xa9");
	/* a, dot below, circumflex, in either order: U+1EAD */
	expect("a\xcc\xa3\xcc\x82", "\xe1\xba\xad");
	expect("a\xcc\x82\xcc\xa3", "\xe1\xba\xad");
	/* Hangul jamo L V T: U+AC01; an LV syllable and a T: the same */
	expect("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81");
	expect("\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81");
	/* Singletons: Angstrom sign U+212B -> U+00C5, ohm U+2126 -> U+03A9 */
	expect("\xe2\x84\xab", "\xc3\x85");
	expect("\xe2\x84\xa6", "\xce\xa9");
	/* A composition exclusion: U+0958 stays U+0915 U+093C */
	expect("\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc");
	/* ASCII is itself */
	expect("kenshin_2026-11.csv", "kenshin_2026-11.csv");
}

static void
test_errors(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(sk_nfc("\xff", out, sizeof(out)), SK_EFORMAT);
	assert_int_equal(sk_nfc("\x01", out, sizeof(out)), SK_EFORMAT);
	/* U+00C5 decomposes to 2 code points and composes back to 2 bytes;
	 * 8 bytes do not hold 5 of them. */
	assert_int_equal(sk_nfc("\xc3\x85\xc3\x85\xc3\x85\xc3\x85\xc3\x85",
	    out, sizeof(out)), SK_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(sk_nfc("abc", out, 0), SK_ETOOBIG);
}

static int
unhex(const char *h, char *out, size_t cap)
{
	size_t n = strlen(h), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 >= cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return 0;
}

static void
test_python_vectors(void **state)
{
	FILE *fp = fopen("tests/data/nfc/vectors.txt", "r");
	char line[512], a[256], b[256], in[128], want[128], out[256];
	unsigned n = 0, bad = 0;

	(void)state;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%255s %255s", a, b), 2);
		assert_int_equal(unhex(a, in, sizeof(in)), 0);
		assert_int_equal(unhex(b, want, sizeof(want)), 0);
		n++;
		if (sk_nfc(in, out, sizeof(out)) != 0 || strcmp(out, want) != 0) {
			if (bad++ < 5)
				print_error("vector %u: %s -> %s, want %s\n", n,
				    a, out, b);
		}
	}
	fclose(fp);
	assert_int_equal(n, 4000);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_cases),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_python_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
