/*
 * fuzz_plausible.c: libFuzzer target for the receiver's look at an upload
 * (common/plausible.c), in both encodings, fed whole and in two pieces:
 * it never reads past what it is given, and the verdict does not depend
 * on where the bytes were split.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plausible.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
