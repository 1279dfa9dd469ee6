/*
 * fuzz_content_digest.c: libFuzzer target for the RFC 9530 Content-Digest
 * parser and the base64 decoder under it, and for the file name checks
 * and NFC (which must be idempotent: NFC of an NFC name is itself).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "nfc.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t digest[32], out[64];
	static char once[4096], twice[4096];
	char *s;
	size_t n;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	http_content_digest_sha256(s, digest);
	if (sk_base64_decode(s, strlen(s), out, sizeof(out), &n) == 0 &&
	    n > sizeof(out))
		__builtin_trap();
	sk_utf8_printable(s, strlen(s));
	sk_filename_valid(s);
	if (sk_nfc(s, once, sizeof(once)) == 0 &&
	    (sk_nfc(once, twice, sizeof(twice)) != 0 ||
	    strcmp(once, twice) != 0))
		__builtin_trap();
	free(s);
	return 0;
}
