/*
 * json.c: bounded JSON object writer.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "sk.h"

static void
json_put(struct json *j, const char *s, size_t n)
{
	if (j->overflow || j->cap - j->len <= n) {
		j->overflow = 1;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

void
json_begin(struct json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->overflow = cap == 0;
	j->first = 1;
	json_put(j, "{", 1);
}

static void
json_escaped(struct json *j, const char *s, size_t len)
{
	char esc[8];
	size_t i, run = 0;

	json_put(j, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		json_put(j, s + run, i - run);
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		json_put(j, esc, strlen(esc));
		run = i + 1;
	}
	json_put(j, s + run, len - run);
	json_put(j, "\"", 1);
}

static void
json_key(struct json *j, const char *key)
{
	if (!j->first)
		json_put(j, ",", 1);
	j->first = 0;
	json_escaped(j, key, strlen(key));
	json_put(j, ":", 1);
}

void
json_strn(struct json *j, const char *key, const char *value, size_t len)
{
	json_key(j, key);
	json_escaped(j, value, len);
}

void
json_str(struct json *j, const char *key, const char *value)
{
	json_strn(j, key, value, strlen(value));
}

void
json_u64(struct json *j, const char *key, uint64_t value)
{
	char num[24];

	json_key(j, key);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	json_put(j, num, strlen(num));
}

void
json_bool(struct json *j, const char *key, int value)
{
	json_key(j, key);
	json_put(j, value ? "true" : "false", value ? 4 : 5);
}

void
json_double(struct json *j, const char *key, double value)
{
	char num[32];

	json_key(j, key);
	snprintf(num, sizeof(num), "%.6g", value);
	json_put(j, num, strlen(num));
}

void
json_list(struct json *j, const char *key, const char *csv, size_t len)
{
	const char *p = csv, *end = csv + len, *c;

	json_key(j, key);
	json_put(j, "[", 1);
	while (len > 0 && p <= end) {
		if ((c = memchr(p, ',', (size_t)(end - p))) == NULL)
			c = end;
		if (p != csv)
			json_put(j, ",", 1);
		json_escaped(j, p, (size_t)(c - p));
		p = c + 1;
	}
	json_put(j, "]", 1);
}

void
json_raw(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_put(j, value, strlen(value));
}

int
json_end(struct json *j)
{
	json_put(j, "}", 1);
	return j->overflow ? SK_ETOOBIG : (int)j->len;
}
