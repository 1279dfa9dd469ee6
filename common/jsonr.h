/*
 * jsonr.h: reading JSON answers from Sekisho's own servers (the vault reads
 * the receiver's receipts and the sender's records). A strict, bounded
 * scanner over the text: no tree is built; a value is a span of the text.
 */
#ifndef SK_JSONR_H
#define SK_JSONR_H

#include <stddef.h>
#include <stdint.h>

struct jsonr {
	const char *p;
	size_t n;
};

/* Checks that text is one JSON value (nesting at most 16 deep). */
int jsonr_valid(const char *text, size_t len);

/* The value of member key in the object v (top level of v only). */
int jsonr_member(struct jsonr v, const char *key, struct jsonr *out);

/* The next element of the array v after *pos (start with *pos = 0);
 * SK_ENOTFOUND after the last. */
int jsonr_next(struct jsonr v, size_t *pos, struct jsonr *elem);

/* A string value decoded into out (escapes of ASCII only). */
int jsonr_string(struct jsonr v, char *out, size_t cap);

/* A non-negative integer value. */
int jsonr_u64(struct jsonr v, uint64_t *out);

/* Shorthands: member key of v as a string / an integer. */
int jsonr_get_string(struct jsonr v, const char *key, char *out, size_t cap);
int jsonr_get_u64(struct jsonr v, const char *key, uint64_t *out);
/* Member key of v as its text when it is a number, true, false or null
 * (what a report prints as it stands), in buf; "?" when it is absent, a
 * string, an object or an array, or longer than cap - 1. */
const char *jsonr_get_scalar(struct jsonr v, const char *key, char *buf,
    size_t cap);

#endif
