/*
 * fuzz_reply.c: libFuzzer target for what the vault reads from the other
 * hosts: an HTTP response head, and the JSON of a listing with the
 * receipts in it; and for the package the sender reads from the vault
 * (proto_package_valid, then each file as the store takes it out).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hclient.h"
#include "jsonr.h"
#include "proto.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonr doc = { (const char *)data, size }, list, item;
	struct proto_receipt rc;
	char s[256];
	uint64_t len, u;
	size_t head, pos = 0;
	int status, has, n = 0;

	if (hc_parse_head(data, size, &head, &status, &has, &len) == 0 &&
	    (head > size || status < 100 || status > 599))
		__builtin_trap();
	if (proto_package_valid(doc.p, doc.n)) {
		static char out[1 << 16];

		if (jsonr_valid(doc.p, doc.n) != 0)
			__builtin_trap();
		if (jsonr_get_string(doc, PROTO_PKG_MANIFEST, out,
		    sizeof(out)) == 0 && strlen(out) >= sizeof(out))
			__builtin_trap();
	}
	if (jsonr_valid(doc.p, doc.n) != 0)
		return 0;
	if (jsonr_member(doc, "pending", &list) == 0)
		while (jsonr_next(list, &pos, &item) == 0 && n++ < 10000) {
			if (item.p < doc.p || item.p + item.n > doc.p + doc.n)
				__builtin_trap();
			if (jsonr_get_string(item, "id", s, sizeof(s)) == 0 &&
			    strlen(s) >= sizeof(s))
				__builtin_trap();
			jsonr_get_u64(item, "size", &u);
			/* The receipt's codec (proto.h), as the vault reads
			 * each: what it accepts is what it promises. */
			if (proto_receipt_parse(item.p, item.n, &rc) == 0 &&
			    (strlen(rc.sha256) != 64 ||
			    !sk_hexid_valid(rc.id, PROTO_ID_MAX - 1)))
				__builtin_trap();
		}
	return 0;
}
