/*
 * fuzz_plausible.c: libFuzzer target for the receiver's look at an upload
 * (common/plausible.c), in both encodings, fed whole and in two pieces:
 * it never reads past what it is given, the verdict does not depend on
 * where the bytes were split, and its UTF-8 verdict is the plain reading
 * of RFC 3629's table below (the fast paths must agree with it).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plausible.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed UTF-8 (RFC 3629, table 3-7 of Unicode), one byte at a time. */
static int
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, j, k;
	uint8_t c, lo, hi;

	while (i < n) {
		c = s[i];
		lo = 0x80;
		hi = 0xBF;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c == 0xE0)
			k = 2, lo = 0xA0;
		else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
			k = 2;
		else if (c == 0xED)
			k = 2, hi = 0x9F;
		else if (c == 0xF0)
			k = 3, lo = 0x90;
		else if (c >= 0xF1 && c <= 0xF3)
			k = 3;
		else if (c == 0xF4)
			k = 3, hi = 0x8F;
		else
			return 0;
		if (i + k >= n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xBF)
				return 0;
		i += k + 1;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct plausible_header h = {
		.field = { (const uint8_t *)"id", (const uint8_t *)"\x8e\x81" },
		.len = { 2, 2 }, .name = { "id", "name" }, .n = 2 };
	static struct plausible a, b;
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;
	int enc, ra, rb;

	for (enc = 0; enc < 2; enc++) {
		plausible_init(&a, (enum plausible_enc)enc, &h);
		plausible_feed(&a, data, size);
		ra = plausible_end(&a);
		plausible_init(&b, (enum plausible_enc)enc, &h);
		plausible_feed(&b, data, cut);
		plausible_feed(&b, data + cut, size - cut);
		rb = plausible_end(&b);
		if (ra != rb || a.bad_line != b.bad_line ||
		    strcmp(a.why, b.why) != 0)
			__builtin_trap();
	}
	/* Without a header to check, UTF-8 is all there is to it. */
	plausible_init(&a, PLAUSIBLE_UTF8, NULL);
	plausible_feed(&a, data, cut);
	plausible_feed(&a, data + cut, size - cut);
	if ((plausible_end(&a) == 0) != (size > 0 && utf8_valid(data, size)))
		__builtin_trap();
	return 0;
}
