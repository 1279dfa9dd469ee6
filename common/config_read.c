/*
 * config_read.c: reading a libconfig file with file:line errors (see
 * config_read.h). A file is read into memory once, hashed and parsed from
 * that same copy, so the digest describes what was parsed (R54).
 */
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
	const config_setting_t *s = config_setting_get_member(group, name);
	const char *v;

	buf[0] = '\0';
	if (s == NULL) {
		if (required)
			return config_fail(cx, group, "missing setting '%s'", name);
		return 0;
	}
	if ((v = config_setting_get_string(s)) == NULL)
		return config_fail(cx, s, "'%s' must be a string", name);
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
		return config_fail(cx, config_setting_get_member(group, name),
		    "path '%s' is too long", name);
	return 0;
}

int
config_uint64(struct config_ctx *cx, const config_setting_t *group, const char *name,
    uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	long long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return config_fail(cx, s, "'%s' must be an integer", name);
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
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return config_fail(cx, s, "'%s' must be true or false", name);
	*out = config_setting_get_bool(s);
	return 0;
}

const config_setting_t *
config_group(struct config_ctx *cx, const config_setting_t *parent, const char *name,
    int *r)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

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
	const config_setting_t *s = config_setting_get_member(root, name);

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

int
config_parse_text(struct config_ctx *cx, const char *text, size_t len,
    char digest[65], config_parse_fn parse, void *arg)
{
	uint8_t md[32];
	unsigned mdlen = 0;
	config_t cfg;
	int r;

	if (digest != NULL) {
		if (!EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL))
			return SK_ECRYPTO;
		sk_hex(md, sizeof(md), digest);
	}
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		r = config_fail(cx, NULL, "%s", config_error_text(&cfg));
		if (cx->err != NULL)
			cx->err->line = config_error_line(&cfg);
	} else
		r = parse(&cfg, cx, arg);
	config_destroy(&cfg);
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
