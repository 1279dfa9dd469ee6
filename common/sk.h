/*
 * sk.h: error codes and small helpers shared by every Sekisho program.
 *
 * Library functions return 0 on success or a negative SK_E* code; they set
 * their out-parameters only on success. sk_strerror() turns a code into text.
 */
#ifndef SK_H
#define SK_H

#include <stddef.h>
#include <stdint.h>

enum sk_error {
	SK_OK = 0,
	SK_EINTERNAL = -1,	/* a broken invariant */
	SK_ENOMEM = -2,		/* an allocation failed */
	SK_EINVAL = -3,		/* a bad argument */
	SK_ESYS = -4,		/* a system call failed; see errno */
	SK_ECONFIG = -5,	/* configuration is invalid */
	SK_ECRYPTO = -6,	/* a cryptographic operation failed */
	SK_EAUTH = -7,		/* authentication failed (tag, MAC, signature) */
	SK_EFORMAT = -8,	/* malformed input */
	SK_ETOOBIG = -9,	/* input exceeds a limit */
	SK_EAGAIN = -10,	/* incomplete input: need more bytes */
	SK_ENOTFOUND = -11,	/* no such object */
	SK_EEXIST = -12,	/* object exists already */
	SK_ENOSPACE = -13,	/* storage is full */
	SK_ETRUNCATED = -14,	/* input ended early */
	SK_EPERM = -15,		/* file permissions are unsafe */
	SK_EAUDIT = -16,	/* done, but the audit log cannot record it */
};

/* Returns a static description of an SK_E* code. */
const char *sk_strerror(int code);

#define SK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Wipes a buffer in a way the compiler may not optimise away. */
void sk_wipe(void *p, size_t len);

/* Hex-encodes len bytes into out, which must hold 2 * len + 1 bytes. */
void sk_hex(const uint8_t *in, size_t len, char *out);

/*
 * Appends s to the string in out (cap bytes in all) as one URL path
 * segment: every byte but A-Z a-z 0-9 - . _ ~ (RFC 3986's unreserved) as
 * %XX. 0, or SK_ETOOBIG with out left as it was.
 */
int sk_pct_append(char *out, size_t cap, const char *s);

/*
 * Decodes standard base64 (with padding) into out. Returns the decoded
 * length in *outlen. SK_EFORMAT on bad input, SK_ETOOBIG if out is short.
 */
int sk_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen);

/* Encodes len bytes as base64 into out (4 * ceil(len / 3) + 1 bytes). */
void sk_base64_encode(const uint8_t *in, size_t len, char *out);

/* Formats a UNIX time as RFC 3339 UTC ("2026-11-21T09:30:00Z"). */
int sk_time_format(int64_t t, char *out, size_t outcap);

/* Returns 1 if s is valid UTF-8 without control characters, else 0. */
int sk_utf8_printable(const char *s, size_t len);

/*
 * Returns 1 if name is acceptable as an uploaded file's name: 1 to 255 bytes
 * of printable UTF-8 without '/', '\\' or "..", and without what would hide
 * what the name is (R56): zero-width and bidi controls, the byte order
 * mark, look-alikes of / and \\. Else 0.
 */
int sk_filename_valid(const char *name);

/* Returns 1 if s is 1 to max lowercase hex digits (an object id). */
int sk_hexid_valid(const char *s, size_t max);

/* Big-endian 32-bit integers in byte buffers (file headers, messages). */
static inline void
sk_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
sk_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif
