/*
 * fuzz_http.c: libFuzzer target for the HTTP request parser and the path
 * splitter, the first code every byte from the network reaches, and the
 * Range header parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request req;
	char segs[6][256], value[512];
	size_t n;
	int status = 0, r;

	r = http_parse_request(data, size, &http_default_limits, &req, &status);
	if (r != 0) {
		/* An error always comes with a status to answer. */
		if (r != SK_EAGAIN && (status < 400 || status > 599))
			__builtin_trap();
		return 0;
	}
	if (req.head_len > size || req.nfields > HTTP_HEADERS_MAX)
		__builtin_trap();
	http_split_path(req.target, segs, 6, &n);
	if (http_header(&req, "content-digest", value, sizeof(value)) == 0) {
		uint8_t d[32];

		http_content_digest_sha256(value, d);
	}
	if (http_header(&req, "range", value, sizeof(value)) == 0) {
		static const uint64_t sizes[] = { 0, 1, 1000, UINT64_MAX / 2 };
		uint64_t first, last;
		size_t i;

		/* A part always lies inside the representation. */
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (http_parse_range(value, sizes[i], &first, &last) ==
			    HTTP_RANGE_PART && (first > last || last >= sizes[i]))
				__builtin_trap();
	}
	return 0;
}
