/*
 * action.c: the column actions and the release safety scan.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "action.h"
#include "dict.h"
#include "sk.h"
#include "util.h"

/* Pseudonyms are letters only, so they can never look like a number. */
#define PSEUDONYM_LETTERS 18	/* 26^18 > 2^84 */

static int
copy_out(char *out, const char *s, size_t len)
{
	if (len >= ACTION_OUT_MAX)
		return SK_ETOOBIG;
	memcpy(out, s, len);
	out[len] = '\0';
	return (int)len;
}

/* Reads a decimal number; full-width digits (０-９, ．, －) are accepted. */
static int
parse_number(const char *s, uint32_t len, double *out)
{
	char ascii[64], *end;
	size_t o = 0;
	uint32_t i = 0;
	const unsigned char *u = (const unsigned char *)s;

	while (i < len && o + 1 < sizeof(ascii)) {
		if (u[i] < 0x80) {
			ascii[o++] = (char)u[i++];
		} else if (i + 2 < len && u[i] == 0xef && u[i + 1] == 0xbc &&
		    u[i + 2] >= 0x90 && u[i + 2] <= 0x99) {
			ascii[o++] = (char)('0' + u[i + 2] - 0x90);
			i += 3;
		} else if (i + 2 < len && u[i] == 0xef && u[i + 1] == 0xbc &&
		    (u[i + 2] == 0x8e || u[i + 2] == 0x8d)) {
			ascii[o++] = u[i + 2] == 0x8e ? '.' : '-';
			i += 3;
		} else
			return SK_EFORMAT;
	}
	if (i != len || o == 0)
		return SK_EFORMAT;
	ascii[o] = '\0';
	if (strspn(ascii, "+-0123456789.") != o)
		return SK_EFORMAT;	/* no exponents, hex, inf or nan */
	*out = strtod(ascii, &end);
	if (*end != '\0' || !isfinite(*out))
		return SK_EFORMAT;
	return 0;
}

/* Bands a number: "lo-hi" for whole widths ("lo" for a band of one),
 * "[lo,hi)" otherwise. */
static int
band(const struct policy_column *c, double v, char *out)
{
	double lo, hi;
	int n;

	if (c->has_top && v >= c->top)
		n = snprintf(out, ACTION_OUT_MAX, "%g+", c->top);
	else if (c->has_bottom && v < c->bottom)
		n = snprintf(out, ACTION_OUT_MAX, "<%g", c->bottom);
	else {
		lo = floor(v / c->width) * c->width;
		hi = lo + c->width;
		if (c->has_top && hi > c->top)
			hi = c->top;
		if (c->width == floor(c->width) && hi - 1 == lo)
			n = snprintf(out, ACTION_OUT_MAX, "%.0f", lo);
		else if (c->width == floor(c->width))
			n = snprintf(out, ACTION_OUT_MAX, "%.0f-%.0f", lo,
			    hi - 1);
		else
			n = snprintf(out, ACTION_OUT_MAX, "[%g,%g)", lo, hi);
	}
	return n > 0 && n < ACTION_OUT_MAX ? n : SK_ETOOBIG;
}

/* Dates as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, checked for real. */
static int
parse_date(const char *s, uint32_t len, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	char buf[16], tail;
	int leap;

	if (len >= sizeof(buf))
		return SK_EFORMAT;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len == 8 && strspn(buf, "0123456789") == 8) {
		if (sscanf(buf, "%4d%2d%2d", y, m, d) != 3)
			return SK_EFORMAT;
	} else if (sscanf(buf, "%4d-%2d-%2d%c", y, m, d, &tail) != 3 &&
	    sscanf(buf, "%4d/%2d/%2d%c", y, m, d, &tail) != 3)
		return SK_EFORMAT;
	if (strspn(buf, "0123456789-/") != len || *y < 1800 || *y > 9999 ||
	    *m < 1 || *m > 12 || *d < 1)
		return SK_EFORMAT;
	leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	if (*d > mdays[*m - 1] + (*m == 2 && leap))
		return SK_EFORMAT;
	return 0;
}

/*
 * Age in whole years at the reference date. Someone born on 29 February
 * is a year older from 1 March in common years (their birthday has not
 * come on 28 February).
 */
static int
age_at(const struct policy_column *c, int y, int m, int d)
{
	int age = c->ref_y - y;

	if (c->ref_m < m || (c->ref_m == m && c->ref_d < d))
		age--;
	return age;
}

static int
truncate_chars(const struct policy_column *c, const char *in, uint32_t len,
    char *out)
{
	const unsigned char *u = (const unsigned char *)in;
	uint32_t i = 0, chars = 0;

	while (i < len && chars < c->keep) {
		i++;
		while (i < len && (u[i] & 0xc0) == 0x80)
			i++;	/* continuation bytes of this character */
		chars++;
	}
	return copy_out(out, in, i);
}

static int
pseudonym(const uint8_t key[32], const char *in, uint32_t len, char *out)
{
	struct iovec part = { .iov_base = (void *)(uintptr_t)in,
		.iov_len = len };
	uint8_t mac[32];
	unsigned __int128 v = 0;
	int i;

	if (util_hmac_sha256(key, 32, &part, 1, mac) != 0)
		return SK_ECRYPTO;
	for (i = 0; i < 12; i++)
		v = v << 8 | mac[i];	/* 96 bits */
	for (i = 0; i < PSEUDONYM_LETTERS; i++) {
		out[i] = (char)('a' + (int)(v % 26));
		v /= 26;
	}
	out[PSEUDONYM_LETTERS] = '\0';
	sk_wipe(mac, sizeof(mac));
	return PSEUDONYM_LETTERS;
}

static int
lookup(const struct policy_column *c, const char *in, uint32_t len, char *out,
    const char **why)
{
	uint32_t id, n;
	const char *v;

	if (dict_find(c->from, in, len, &id) == 0) {
		v = dict_key(c->to, c->to_id[id], &n);
		return copy_out(out, v, n);
	}
	if (c->action == ACT_MAP && c->has_default)
		return copy_out(out, c->default_value,
		    strlen(c->default_value));
	*why = c->action == ACT_MAP ? "a value that the map does not list" :
	    "a value that the hierarchy does not list";
	return SK_EFORMAT;
}

int
action_apply(const struct policy_column *c, const uint8_t key[32],
    const char *in, uint32_t len, char *out, const char **why)
{
	double v;
	int y, m, d, age;

	*why = "invalid value";
	if (len == 0 && c->action != ACT_MAP && c->action != ACT_HIERARCHY)
		return copy_out(out, "", 0);
	switch (c->action) {
	case ACT_DROP:
		return SK_EINVAL;
	case ACT_KEEP:
		if (len >= ACTION_OUT_MAX)
			*why = "a value longer than 511 bytes";
		return copy_out(out, in, len) < 0 ? SK_EFORMAT : (int)len;
	case ACT_PSEUDONYMIZE:
		return pseudonym(key, in, len, out);
	case ACT_TRUNCATE:
		return truncate_chars(c, in, len, out);
	case ACT_BAND:
		*why = "not a number";
		if (parse_number(in, len, &v) != 0)
			return SK_EFORMAT;
		return band(c, v, out);
	case ACT_DATE:
		*why = "not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)";
		if (parse_date(in, len, &y, &m, &d) != 0)
			return SK_EFORMAT;
		return snprintf(out, ACTION_OUT_MAX, c->month ? "%04d-%02d" :
		    "%04d", y, m);
	case ACT_AGE_BAND:
		*why = "not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)";
		if (parse_date(in, len, &y, &m, &d) != 0)
			return SK_EFORMAT;
		if ((age = age_at(c, y, m, d)) < 0) {
			*why = "a birth date after the reference date";
			return SK_EFORMAT;
		}
		return band(c, (double)age, out);
	case ACT_MAP:
	case ACT_HIERARCHY:
		return lookup(c, in, len, out, why);
	}
	return SK_EINTERNAL;
}

int
action_apply_level(const struct policy_column *c, unsigned level,
    const char *in, uint32_t len, char *out, const char **why)
{
	static const uint8_t nokey[32];
	struct policy_column at;

	if (level > c->nsteps)
		return SK_EINVAL;
	if (level == c->nsteps)
		return copy_out(out, "*", 1);
	at = *c;
	switch (c->action) {
	case ACT_TRUNCATE:
		at.keep = (unsigned)c->steps[level];
		break;
	case ACT_BAND:
	case ACT_AGE_BAND:
		at.width = c->steps[level];
		break;
	case ACT_DATE:
		at.month = c->steps[level] != 0;
		break;
	default:
		return SK_EINVAL;
	}
	return action_apply(&at, nokey, in, len, out, why);
}

int
action_mynumber_valid(const uint8_t d[12])
{
	int n, sum = 0, q, check;

	/* P_n is the n-th digit from the right of the first eleven. */
	for (n = 1; n <= 11; n++) {
		q = n <= 6 ? n + 1 : n - 5;
		sum += d[11 - n] * q;
	}
	check = sum % 11 <= 1 ? 0 : 11 - sum % 11;
	return check == d[11];
}

/* The digit at s[i] (ASCII or full-width), its byte length in *adv. */
static int
digit_at(const unsigned char *s, uint32_t len, uint32_t i, uint32_t *adv)
{
	if (s[i] >= '0' && s[i] <= '9') {
		*adv = 1;
		return s[i] - '0';
	}
	if (i + 2 < len && s[i] == 0xef && s[i + 1] == 0xbc &&
	    s[i + 2] >= 0x90 && s[i + 2] <= 0x99) {
		*adv = 3;
		return s[i + 2] - 0x90;
	}
	return -1;
}

/* A single separator between digit groups: '-', ' ', '－' or a full space. */
static uint32_t
separator_at(const unsigned char *s, uint32_t len, uint32_t i)
{
	if (s[i] == '-' || s[i] == ' ')
		return 1;
	if (i + 2 < len && ((s[i] == 0xef && s[i + 1] == 0xbc && s[i + 2] == 0x8d) ||
	    (s[i] == 0xe3 && s[i + 1] == 0x80 && s[i + 2] == 0x80)))
		return 3;
	return 0;
}

/* Finds a run of exactly 12 digits (separators allowed) with a valid
 * My Number check digit. */
int
action_has_mynumber(const char *str, uint32_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint8_t d[12];
	uint32_t i = 0, adv, sep;
	int v, n;

	while (i < len) {
		if (digit_at(s, len, i, &adv) < 0) {
			i++;
			continue;
		}
		n = 0;
		for (;;) {
			if ((v = digit_at(s, len, i, &adv)) >= 0) {
				if (n < 12)
					d[n] = (uint8_t)v;
				n++;
				i += adv;
				continue;
			}
			if (i < len && (sep = separator_at(s, len, i)) != 0 &&
			    i + sep < len && digit_at(s, len, i + sep, &adv) >= 0) {
				i += sep;
				continue;
			}
			break;
		}
		if (n == 12 && action_mynumber_valid(d))
			return 1;
	}
	return 0;
}

const char *
action_scan(const struct policy *p, const char *s, uint32_t len)
{
	size_t i;

	if (action_has_mynumber(s, len))
		return "My Number";
	for (i = 0; i < p->npatterns; i++)
		if (regexec(&p->patterns[i].re, s, 0, NULL, 0) == 0)
			return p->patterns[i].name;
	return NULL;
}
