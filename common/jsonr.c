/*
 * jsonr.c: a strict JSON scanner (see jsonr.h).
 */
#include <string.h>

#include "jsonr.h"
#include "sk.h"

#define JSONR_DEPTH 16

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_string(const char *p, const char *end)
{
	int i;

	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end) {
		unsigned char ch = (unsigned char)*p++;

		if (ch == '"')
			return p;
		if (ch < 0x20)
			return NULL;
		if (ch != '\\')
			continue;
		if (p >= end)
			return NULL;
		ch = (unsigned char)*p++;
		if (ch == 'u') {
			for (i = 0; i < 4; i++, p++)
				if (p >= end || !((*p >= '0' && *p <= '9') ||
				    (*p >= 'a' && *p <= 'f') ||
				    (*p >= 'A' && *p <= 'F')))
					return NULL;
		} else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0')
			return NULL;
	}
	return NULL;
}

static const char *
skip_number(const char *p, const char *end)
{
	const char *start;

	if (p < end && *p == '-')
		p++;
	start = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == start || (p - start > 1 && *start == '0'))
		return NULL;
	if (p < end && *p == '.') {
		start = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		start = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

/* The end of the value at p, or NULL if it is not one. */
static const char *
skip_value(const char *p, const char *end, int depth)
{
	char close;

	p = ws(p, end);
	if (p >= end || depth > JSONR_DEPTH)
		return NULL;
	switch (*p) {
	case '"':
		return skip_string(p, end);
	case 't':
		return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
	case '{':
	case '[':
		close = *p == '{' ? '}' : ']';
		p = ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if ((p = skip_string(ws(p, end), end)) == NULL)
					return NULL;
				p = ws(p, end);
				if (p >= end || *p++ != ':')
					return NULL;
			}
			if ((p = skip_value(p, end, depth + 1)) == NULL)
				return NULL;
			p = ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	default:
		return skip_number(p, end);
	}
}

int
jsonr_valid(const char *text, size_t len)
{
	const char *end = text + len, *p = skip_value(text, end, 0);

	return p != NULL && ws(p, end) == end ? 0 : SK_EFORMAT;
}

int
jsonr_member(struct jsonr v, const char *key, struct jsonr *out)
{
	const char *p = ws(v.p, v.p + v.n), *end = v.p + v.n, *k, *ke, *ve;
	size_t klen = strlen(key);

	if (p >= end || *p++ != '{')
		return SK_EFORMAT;
	for (;;) {
		p = ws(p, end);
		if (p < end && *p == '}')
			return SK_ENOTFOUND;
		k = p;
		if ((ke = skip_string(p, end)) == NULL)
			return SK_EFORMAT;
		p = ws(ke, end);
		if (p >= end || *p++ != ':')
			return SK_EFORMAT;
		p = ws(p, end);
		if ((ve = skip_value(p, end, 1)) == NULL)
			return SK_EFORMAT;
		/* Keys are compared as written: ours need no escapes. */
		if ((size_t)(ke - k) == klen + 2 && memcmp(k + 1, key, klen) == 0) {
			out->p = p;
			out->n = (size_t)(ve - p);
			return 0;
		}
		p = ws(ve, end);
		if (p >= end)
			return SK_EFORMAT;
		if (*p == '}')
			return SK_ENOTFOUND;
		if (*p++ != ',')
			return SK_EFORMAT;
	}
}

int
jsonr_next(struct jsonr v, size_t *pos, struct jsonr *elem)
{
	const char *end = v.p + v.n, *p, *ve;

	if (*pos == 0) {
		p = ws(v.p, end);
		if (p >= end || *p++ != '[')
			return SK_EFORMAT;
		p = ws(p, end);
		if (p < end && *p == ']')
			return SK_ENOTFOUND;
	} else {
		p = ws(v.p + *pos, end);
		if (p >= end || *p == ']')
			return SK_ENOTFOUND;
		if (*p++ != ',')
			return SK_EFORMAT;
		p = ws(p, end);
	}
	if ((ve = skip_value(p, end, 1)) == NULL)
		return SK_EFORMAT;
	elem->p = p;
	elem->n = (size_t)(ve - p);
	*pos = (size_t)(ve - v.p);
	return 0;
}

static int
hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v = v * 16 + (c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10);
	}
	return v;
}

int
jsonr_string(struct jsonr v, char *out, size_t cap)
{
	const char *p = v.p, *end = v.p + v.n;
	size_t o = 0;
	int u;

	if (skip_string(p, end) != end || cap == 0)
		return SK_EFORMAT;
	for (p++; p < end - 1; p++) {
		char ch = *p;

		if (ch == '\\') {
			ch = *++p;
			switch (ch) {
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				u = hex4(p + 1);
				if (u == 0 || u > 0x7f)
					return SK_EFORMAT;
				ch = (char)u;
				p += 4;
				break;
			default: break;		/* " \ / */
			}
		}
		if (o + 1 >= cap)
			return SK_ETOOBIG;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

int
jsonr_u64(struct jsonr v, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (v.n == 0 || v.n > 19 || (v.n > 1 && v.p[0] == '0'))
		return SK_EFORMAT;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return SK_EFORMAT;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = x;
	return 0;
}

int
jsonr_get_string(struct jsonr v, const char *key, char *out, size_t cap)
{
	struct jsonr m;
	int e;

	if ((e = jsonr_member(v, key, &m)) != 0)
		return e;
	return jsonr_string(m, out, cap);
}

int
jsonr_get_u64(struct jsonr v, const char *key, uint64_t *out)
{
	struct jsonr m;
	int e;

	if ((e = jsonr_member(v, key, &m)) != 0)
		return e;
	return jsonr_u64(m, out);
}

const char *
jsonr_get_scalar(struct jsonr v, const char *key, char *buf, size_t cap)
{
	struct jsonr m;

	if (jsonr_member(v, key, &m) != 0 || m.n == 0 || m.n >= cap ||
	    m.p[0] == '"' || m.p[0] == '{' || m.p[0] == '[')
		return "?";
	memcpy(buf, m.p, m.n);
	buf[m.n] = '\0';
	return buf;
}
