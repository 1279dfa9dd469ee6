/*
 * cp932.c: table-driven CP932 <-> UTF-8 conversion.
 *
 * The tables are not copied from anywhere: at first use every one- and
 * two-byte CP932 code, and every BMP code point, is put through glibc's
 * own "CP932" iconv converter once, and the answers are kept. Conversion is
 * then a table lookup per character, far faster than iconv per field.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cp932.h"
#include "sk.h"

/* Decoding: UTF-8 of each code, packed as len << 24 | bytes (0 = invalid). */
static uint32_t dec1[256];
static uint32_t *dec2;		/* [lead - 0x80][trail] for leads 0x80..0xff */
/* Encoding: CP932 code of each BMP code point, 0 = none (U+0000 -> 0). */
static uint16_t *enc;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_error;

static uint32_t
pack_utf8(const uint8_t *u, size_t n)
{
	uint32_t v = (uint32_t)n << 24;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint32_t)u[i] << (8 * (2 - i));
	return v;
}

static int
utf8_encode(uint32_t cp, uint8_t *u)
{
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	u[0] = (uint8_t)(0xe0 | cp >> 12);
	u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	u[2] = (uint8_t)(0x80 | (cp & 0x3f));
	return 3;
}

/* Converts one small sequence with iconv; returns output length or -1. */
static long
convert(iconv_t cd, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	char *ip = (char *)(uintptr_t)in, *op = (char *)out;
	size_t il = len, ol = cap;

	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return -1;
	return (long)(cap - ol);
}

static void
build_tables(void)
{
	iconv_t to_utf8 = iconv_open("UTF-8", "CP932");
	iconv_t from_utf8 = iconv_open("CP932", "UTF-8");
	uint8_t in[4], out[8];
	unsigned b, t;
	uint32_t cp;
	long n;

	dec2 = calloc(128 * 256, sizeof(*dec2));
	enc = calloc(65536, sizeof(*enc));
	if (to_utf8 == (iconv_t)-1 || from_utf8 == (iconv_t)-1 ||
	    dec2 == NULL || enc == NULL) {
		init_error = 1;
		goto out;
	}
	for (b = 0; b < 256; b++) {
		in[0] = (uint8_t)b;
		n = convert(to_utf8, in, 1, out, sizeof(out));
		if (n > 0 && n <= 3)
			dec1[b] = pack_utf8(out, (size_t)n);
		if (b < 0x80)
			continue;
		for (t = 0x40; t < 0x100; t++) {
			in[1] = (uint8_t)t;
			n = convert(to_utf8, in, 2, out, sizeof(out));
			if (n > 0 && n <= 3)
				dec2[(b - 0x80) * 256 + t] = pack_utf8(out,
				    (size_t)n);
		}
	}
	for (cp = 1; cp < 0x10000; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = convert(from_utf8, out, (size_t)utf8_encode(cp, out), in,
		    sizeof(in));
		if (n == 1)
			enc[cp] = in[0];
		else if (n == 2)
			enc[cp] = (uint16_t)(in[0] << 8 | in[1]);
	}
out:
	if (to_utf8 != (iconv_t)-1)
		iconv_close(to_utf8);
	if (from_utf8 != (iconv_t)-1)
		iconv_close(from_utf8);
}

int
cp932_init(void)
{
	pthread_once(&once, build_tables);
	return init_error ? SK_EINTERNAL : 0;
}

long
cp932_to_utf8(const uint8_t *in, size_t len, int final, uint8_t *out,
    size_t *used, size_t *bad_at)
{
	size_t i = 0, o = 0, n;
	uint32_t v;

	while (i < len) {
		/* ASCII runs dominate CSV: copy them without a lookup. */
		if (in[i] < 0x80 && in[i] != 0) {
			out[o++] = in[i++];
			continue;
		}
		v = dec1[in[i]];
		if (v != 0 || in[i] == 0) {
			if (in[i] == 0)
				v = 1u << 24;
			n = v >> 24;
			memcpy(out + o, (uint8_t[]){ (uint8_t)(v >> 16),
			    (uint8_t)(v >> 8), (uint8_t)v }, n);
			o += n;
			i++;
			continue;
		}
		if (in[i] < 0x80 || (i + 1 == len && !final))
			break;	/* a lead byte whose trail is still to come */
		if (i + 1 == len ||
		    (v = dec2[(in[i] - 0x80) * 256 + in[i + 1]]) == 0) {
			*bad_at = i;
			return SK_EFORMAT;
		}
		n = v >> 24;
		out[o++] = (uint8_t)(v >> 16);
		if (n > 1)
			out[o++] = (uint8_t)(v >> 8);
		if (n > 2)
			out[o++] = (uint8_t)v;
		i += 2;
	}
	*used = i;
	return (long)o;
}

long
cp932_from_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t *bad_at)
{
	size_t i = 0, o = 0, start;
	uint32_t cp;
	uint16_t c = 0;

	while (i < len) {
		if (in[i] < 0x80) {
			out[o++] = in[i++];
			continue;
		}
		start = i;
		if ((in[i] & 0xe0) == 0xc0 && i + 1 < len &&
		    (in[i + 1] & 0xc0) == 0x80) {
			cp = (uint32_t)(in[i] & 0x1f) << 6 | (in[i + 1] & 0x3f);
			i += 2;
			if (cp < 0x80)
				cp = 0;		/* overlong */
		} else if ((in[i] & 0xf0) == 0xe0 && i + 2 < len &&
		    (in[i + 1] & 0xc0) == 0x80 && (in[i + 2] & 0xc0) == 0x80) {
			cp = (uint32_t)(in[i] & 0x0f) << 12 |
			    (uint32_t)(in[i + 1] & 0x3f) << 6 | (in[i + 2] & 0x3f);
			i += 3;
			if (cp < 0x800)
				cp = 0;		/* overlong */
		} else
			cp = 0;		/* invalid, or beyond the BMP */
		if (cp == 0 || (c = enc[cp]) == 0) {
			*bad_at = start;
			return SK_EFORMAT;
		}
		if (c > 0xff)
			out[o++] = (uint8_t)(c >> 8);
		out[o++] = (uint8_t)c;
	}
	return (long)o;
}
