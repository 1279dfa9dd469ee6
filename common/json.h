/*
 * json.h: a bounded JSON object writer into a caller's buffer.
 *
 * Overflow is sticky: once the buffer is too small every further call does
 * nothing and json_end() returns SK_ETOOBIG.
 */
#ifndef SK_JSON_H
#define SK_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json {
	char *buf;
	size_t cap;
	size_t len;
	int overflow;
	int first;	/* no member written yet in the current object */
};

void json_begin(struct json *j, char *buf, size_t cap);
void json_str(struct json *j, const char *key, const char *value);
void json_strn(struct json *j, const char *key, const char *value,
    size_t len);
void json_u64(struct json *j, const char *key, uint64_t value);
void json_bool(struct json *j, const char *key, int value);
/* A number with up to 6 significant decimals ("0.2", "1", "0.000123"). */
void json_double(struct json *j, const char *key, double value);
/* A comma-separated list of len bytes as an array of strings ("a,b" as
 * ["a","b"]; an empty list as []). */
void json_list(struct json *j, const char *key, const char *csv, size_t len);
/* A value that is already JSON text (an array or object built apart). */
void json_raw(struct json *j, const char *key, const char *value);
/* Closes the object. Returns its length (without NUL) or SK_ETOOBIG. */
int json_end(struct json *j);

#endif
