/*
 * sk.c: error strings and small encoding helpers.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sk.h"

static const struct {
	int code;
	const char *text;
} sk_error_texts[] = {
	{ SK_OK, "success" },
	{ SK_EINTERNAL, "internal error" },
	{ SK_ENOMEM, "out of memory" },
	{ SK_EINVAL, "invalid argument" },
	{ SK_ESYS, "system call failed" },
	{ SK_ECONFIG, "invalid configuration" },
	{ SK_ECRYPTO, "cryptographic operation failed" },
	{ SK_EAUTH, "authentication failed" },
	{ SK_EFORMAT, "malformed input" },
	{ SK_ETOOBIG, "input too large" },
	{ SK_EAGAIN, "incomplete input" },
	{ SK_ENOTFOUND, "not found" },
	{ SK_EEXIST, "already exists" },
	{ SK_ENOSPACE, "no space left" },
	{ SK_ETRUNCATED, "input truncated" },
	{ SK_EPERM, "unsafe file permissions" },
	{ SK_EAUDIT, "the audit log cannot be written" },
};

const char *
sk_strerror(int code)
{
	size_t i;

	for (i = 0; i < SK_ARRAY_LEN(sk_error_texts); i++)
		if (sk_error_texts[i].code == code)
			return sk_error_texts[i].text;
	return "unknown error";
}

void
sk_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
sk_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
sk_pct_append(char *out, size_t cap, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = strlen(out), start = o;

	for (; *p != '\0'; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (o + (plain ? 1 : 3) >= cap) {
			out[start] = '\0';
			return SK_ETOOBIG;
		}
		if (plain)
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = digits[*p >> 4];
			out[o++] = digits[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alphabet, c);
	return p == NULL ? -1 : (int)(p - b64_alphabet);
}

int
sk_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	size_t i, n = 0, pad = 0;
	int v[4], k;

	if (inlen == 0 || inlen % 4 != 0)
		return SK_EFORMAT;
	if (in[inlen - 1] == '=')
		pad++;
	if (in[inlen - 2] == '=')
		pad++;
	if (inlen / 4 * 3 - pad > outcap)
		return SK_ETOOBIG;
	for (i = 0; i < inlen; i += 4) {
		int last = (i + 4 == inlen);

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			if ((v[k] = b64_value(in[i + k])) < 0)
				return SK_EFORMAT;
		}
		out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (!last || pad < 2)
			out[n++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (!last || pad < 1)
			out[n++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
		/* Bits beyond the padding must be zero (canonical form). */
		if (last && pad == 2 && (v[1] & 0x0f) != 0)
			return SK_EFORMAT;
		if (last && pad == 1 && (v[2] & 0x03) != 0)
			return SK_EFORMAT;
	}
	*outlen = n;
	return 0;
}

void
sk_base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = b64_alphabet[in[i] >> 2];
		out[o++] = b64_alphabet[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64_alphabet[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
		out[o++] = b64_alphabet[in[i + 2] & 0x3f];
	}
	if (len - i == 1) {
		out[o++] = b64_alphabet[in[i] >> 2];
		out[o++] = b64_alphabet[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		out[o++] = b64_alphabet[in[i] >> 2];
		out[o++] = b64_alphabet[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64_alphabet[(in[i + 1] & 0x0f) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
}

int
sk_time_format(int64_t t, char *out, size_t outcap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		return SK_EINVAL;
	if (strftime(out, outcap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return SK_ETOOBIG;
	return 0;
}

int
sk_utf8_printable(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, need, k;
	uint32_t cp;

	while (i < len) {
		unsigned char c = p[i];

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp < 0xa0))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * Characters a name must not hide behind (R56): zero-width and bidi
 * controls (a name that shows as "csv.exe" and is not), the byte order
 * mark, and look-alikes of / and \.
 */
static int
deceptive(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) ||	/* zero-width, LRM/RLM */
	    (cp >= 0x202a && cp <= 0x202e) ||		/* bidi embeddings */
	    (cp >= 0x2060 && cp <= 0x2069) ||		/* word joiner, isolates */
	    cp == 0x061c || cp == 0x180e || cp == 0xfeff ||
	    cp == 0x2044 || cp == 0x2215 || cp == 0x2216 || cp == 0x29f8 ||
	    cp == 0x29f9 || cp == 0xff0f || cp == 0xff3c || cp == 0x3033 ||
	    cp == 0x1735 || cp == 0x2571 || cp == 0x2572;
}

int
sk_filename_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), i, n, k;
	uint32_t cp;

	if (len == 0 || len > 255)
		return 0;
	if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
	    strstr(name, "..") != NULL || strcmp(name, ".") == 0)
		return 0;
	if (!sk_utf8_printable(name, len))
		return 0;
	/* Valid UTF-8 from here on: decode and look at each character. */
	for (i = 0; i < len; i += n + 1) {
		n = p[i] < 0x80 ? 0 : p[i] < 0xe0 ? 1 : p[i] < 0xf0 ? 2 : 3;
		cp = n == 0 ? p[i] : p[i] & (0x3f >> n);
		for (k = 1; k <= n; k++)
			cp = cp << 6 | (p[i + k] & 0x3f);
		if (deceptive(cp))
			return 0;
	}
	return 1;
}

int
sk_hexid_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
