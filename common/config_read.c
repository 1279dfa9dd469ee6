/*
 * config_read.c: reading a libconfig file with file:line errors (see
 * config_read.h). A file is read into memory once, hashed and parsed from
 * that same copy, so the digest describes what was parsed (R54).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/evp.h>

#include "config.h"
#include "log.h"
#include "sk.h"

#define CONFIG_FILE_MAX (16u << 20)	/* 16 MiB: far beyond any real site */

struct config_asked {
	const config_setting_t *group;
	const char *name;
};

/* The hook of every setting a parser read. */
static char config_known;

const config_setting_t *
config_member(struct config_ctx *cx, const config_setting_t *group,
    const char *name)
{
	config_setting_t *s;
	struct config_asked *a;
	size_t cap;

	if (group == NULL)
		return NULL;
	if ((s = config_setting_get_member(group, name)) != NULL)
		config_setting_set_hook(s, &config_known);
	if (cx->nasked == cx->capasked) {
		cap = cx->capasked ? cx->capasked * 2 : 256;
		/* Without room the suggestion is lost, not the check. */
		if ((a = realloc(cx->asked, cap * sizeof(*a))) == NULL)
			return s;
		cx->asked = a;
		cx->capasked = cap;
	}
	cx->asked[cx->nasked].group = group;
	cx->asked[cx->nasked].name = name;
	cx->nasked++;
	return s;
}

const char *
config_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a decimal number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	}
	return "nothing";
}

/* Edit distance, for the nearest known name (names are short). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64], prev, cur;

	if (la >= sizeof(d) / sizeof(d[0]) || lb >= sizeof(d) / sizeof(d[0]))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = d[j];
			d[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < d[j - 1] ?
			    (prev < d[j] ? prev : d[j]) : (d[j - 1] < d[j] ?
			    d[j - 1] : d[j]));
			prev = cur;
		}
	}
	return d[lb];
}

static int
unknown(struct config_ctx *cx, const config_setting_t *group,
    const config_setting_t *s)
{
	const char *name = config_setting_name(s), *best = NULL;
	size_t i, d, bestd = (size_t)-1, len = strlen(name);

	for (i = 0; i < cx->nasked; i++) {
		if (cx->asked[i].group != group ||
		    (d = distance(name, cx->asked[i].name)) >= bestd)
			continue;
		bestd = d;
		best = cx->asked[i].name;
	}
	if (best != NULL && bestd <= (len < 6 ? 2 : len / 3))
		return config_fail(cx, s, "unknown setting '%s'; did you mean "
		    "'%s'?", name, best);
	return config_fail(cx, s, "unknown setting '%s'", name);
}

/* Every named setting under group was read by the parser. */
static int
check_known(struct config_ctx *cx, const config_setting_t *group)
{
	const config_setting_t *s;
	int i, n = config_setting_length(group), r;

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(group, (unsigned)i);
		if (config_setting_name(s) != NULL &&
		    config_setting_get_hook(s) != &config_known)
			return unknown(cx, group, s);
		if (config_setting_is_aggregate(s) &&
		    (r = check_known(cx, s)) != 0)
			return r;
	}
	return 0;
}

int
config_fail(struct config_ctx *cx, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;

	if (cx->err != NULL) {
		snprintf(cx->err->file, sizeof(cx->err->file), "%s", cx->name);
		cx->err->line = at != NULL ? config_setting_source_line(at) : 0;
		va_start(ap, fmt);
		vsnprintf(cx->err->message, sizeof(cx->err->message), fmt, ap);
		va_end(ap);
	}
	return SK_ECONFIG;
}

/* Reads a string member. Missing and optional: leaves buf empty. */
int
config_string(struct config_ctx *cx, const config_setting_t *group, const char *name,
    char *buf, size_t cap, int required)
{
	const config_setting_t *s = config_member(cx, group, name);
	const char *v;

	buf[0] = '\0';
	if (s == NULL) {
		if (required)
			return config_fail(cx, group, "missing setting '%s'", name);
		return 0;
	}
	if ((v = config_setting_get_string(s)) == NULL)
		return config_fail(cx, s, "'%s' must be a string, not %s", name,
		    config_type_name(s));
	if (v[0] == '\0' && required)
		return config_fail(cx, s, "'%s' must not be empty", name);
	if (strlen(v) >= cap)
		return config_fail(cx, s, "'%s' is longer than %zu bytes", name,
		    cap - 1);
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

/* Reads a path member and makes it absolute relative to the file's folder. */
int
config_path(struct config_ctx *cx, const config_setting_t *group, const char *name,
    char *buf, size_t cap, int required)
{
	char tmp[PATH_MAX];
	int r, n;

	if ((r = config_string(cx, group, name, tmp, sizeof(tmp), required)) != 0)
		return r;
	if (tmp[0] == '\0' || tmp[0] == '/') {
		n = snprintf(buf, cap, "%s", tmp);
	} else
		n = snprintf(buf, cap, "%s/%s", cx->dir, tmp);
	if (n < 0 || (size_t)n >= cap)
		return config_fail(cx, config_member(cx, group, name),
		    "path '%s' is too long", name);
	return 0;
}

int
config_uint64(struct config_ctx *cx, const config_setting_t *group, const char *name,
    uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out)
{
	const config_setting_t *s = config_member(cx, group, name);
	long long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return config_fail(cx, s, "'%s' must be an integer, not %s",
		    name, config_type_name(s));
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return config_fail(cx, s, "'%s' must be between %llu and %llu",
		    name, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

int
config_unsigned(struct config_ctx *cx, const config_setting_t *group,
    const char *name, unsigned min, unsigned max, unsigned dflt, unsigned *out)
{
	uint64_t v = 0;
	int r;

	if ((r = config_uint64(cx, group, name, min, max, dflt, &v)) != 0)
		return r;
	*out = (unsigned)v;
	return 0;
}

int
config_bool(struct config_ctx *cx, const config_setting_t *group, const char *name,
    int dflt, int *out)
{
	const config_setting_t *s = config_member(cx, group, name);

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return config_fail(cx, s, "'%s' must be true or false, not %s",
		    name, config_type_name(s));
	*out = config_setting_get_bool(s);
	return 0;
}

const config_setting_t *
config_group(struct config_ctx *cx, const config_setting_t *parent, const char *name,
    int *r)
{
	const config_setting_t *s = config_member(cx, parent, name);

	*r = 0;
	if (s == NULL)
		*r = config_fail(cx, parent, "missing group '%s'", name);
	else if (!config_setting_is_group(s)) {
		*r = config_fail(cx, s, "'%s' must be a group { ... }", name);
		s = NULL;
	}
	return s;
}

/* Returns the list setting with at most max entries, or NULL and *r set. */
const config_setting_t *
config_list(struct config_ctx *cx, const config_setting_t *root, const char *name,
    int required, int *r)
{
	const config_setting_t *s = config_member(cx, root, name);

	*r = 0;
	if (s == NULL) {
		if (required)
			*r = config_fail(cx, root, "missing list '%s'", name);
		return NULL;
	}
	if (!config_setting_is_list(s)) {
		*r = config_fail(cx, s, "'%s' must be a list ( { ... }, ... )", name);
		return NULL;
	}
	if (config_setting_length(s) > CONFIG_PEERS_MAX) {
		*r = config_fail(cx, s, "'%s' has more than %d entries", name,
		    CONFIG_PEERS_MAX);
		return NULL;
	}
	return s;
}

/*
 * libconfig 1.5 reads an integer without the L suffix as 32 bits and wraps
 * a larger one silently (2147483648 becomes -2147483648). What was meant
 * is clear, so such a literal gets its L before libconfig sees it. Strings
 * and comments are left alone. Returns a new text, or NULL (no memory).
 */
static char *
widen_ints(const char *t, size_t len)
{
	char *out = malloc(len * 2 + 1);
	size_t i = 0, o = 0, j;
	unsigned long long v;
	int neg, hex, big;

	if (out == NULL)
		return NULL;
	while (i < len) {
		if (t[i] == '"') {		/* a string, with its escapes */
			out[o++] = t[i++];
			while (i < len && t[i] != '"') {
				if (t[i] == '\\' && i + 1 < len)
					out[o++] = t[i++];
				out[o++] = t[i++];
			}
			if (i < len)
				out[o++] = t[i++];
			continue;
		}
		if (t[i] == '#' || (t[i] == '/' && i + 1 < len &&
		    t[i + 1] == '/')) {
			while (i < len && t[i] != '\n')
				out[o++] = t[i++];
			continue;
		}
		if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			while (i < len && !(t[i] == '*' && i + 1 < len &&
			    t[i + 1] == '/'))
				out[o++] = t[i++];
			continue;
		}
		if (t[i] < '0' || t[i] > '9' || (i > 0 && (isalnum(
		    (unsigned char)t[i - 1]) || t[i - 1] == '_' ||
		    t[i - 1] == '.'))) {
			out[o++] = t[i++];
			continue;
		}
		/* A number: where it ends, and whether it fits 32 bits. */
		neg = i > 0 && t[i - 1] == '-';
		hex = t[i] == '0' && i + 1 < len && (t[i + 1] == 'x' ||
		    t[i + 1] == 'X');
		j = hex ? i + 2 : i;
		while (j < len && (hex ? isxdigit((unsigned char)t[j]) :
		    isdigit((unsigned char)t[j])))
			j++;
		errno = 0;
		v = strtoull(t + i, NULL, hex ? 16 : 10);
		big = errno == 0 && (neg ? v > 2147483648ull : v > 2147483647ull);
		memcpy(out + o, t + i, j - i);
		o += j - i;
		if (big && !(j < len && (t[j] == 'L' || t[j] == 'l' ||
		    t[j] == '.' || t[j] == 'e' || t[j] == 'E')))
			out[o++] = 'L';
		i = j;
	}
	out[o] = '\0';
	return out;
}

int
config_parse_text(struct config_ctx *cx, const char *text, size_t len,
    char digest[65], config_parse_fn parse, void *arg)
{
	char *wide;
	uint8_t md[32];
	unsigned mdlen = 0;
	config_t cfg;
	int r;

	if (digest != NULL) {
		if (!EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL))
			return SK_ECRYPTO;
		sk_hex(md, sizeof(md), digest);
	}
	if ((wide = widen_ints(text, len)) == NULL)
		return SK_ENOMEM;
	config_init(&cfg);
	cx->asked = NULL;
	cx->nasked = cx->capasked = 0;
	if (config_read_string(&cfg, wide) != CONFIG_TRUE) {
		r = config_fail(cx, NULL, "%s", config_error_text(&cfg));
		if (cx->err != NULL)
			cx->err->line = config_error_line(&cfg);
	} else if ((r = parse(&cfg, cx, arg)) == 0)
		r = check_known(cx, config_root_setting(&cfg));
	config_destroy(&cfg);
	free(wide);
	free(cx->asked);
	cx->asked = NULL;
	cx->nasked = cx->capasked = 0;
	return r;
}

void
config_ctx_dir(struct config_ctx *cx, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(cx->dir, sizeof(cx->dir), ".");
	else if (slash == path)
		snprintf(cx->dir, sizeof(cx->dir), "/");
	else
		snprintf(cx->dir, sizeof(cx->dir), "%.*s", (int)(slash - path),
		    path);
}

/* Reads a whole configuration file (bounded) into a NUL-terminated buffer. */
int
config_read_text(struct config_ctx *cx, const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return config_fail(cx, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		return config_fail(cx, NULL, "not a regular file of at most 16 MiB");
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return SK_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return config_fail(cx, NULL, "read error");
	}
	buf[got] = '\0';
	if (strlen(buf) != got) {
		free(buf);
		return config_fail(cx, NULL, "the file contains a NUL byte");
	}
	*out = buf;
	*len = got;
	return 0;
}
