/*
 * fuzz_http.c: libFuzzer target for the HTTP request parser and the path
 * splitter, the first code every byte from the network reaches.
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
	http_header(&req, "range", value, sizeof(value));
	return 0;
}
