/*
 * config_read.h: reading any libconfig file of Sekisho's (the site file,
 * a local file, a policy) with one error contract: every error is a file,
 * a line and a plain message in struct config_error, and SK_ECONFIG.
 */
#ifndef SK_CONFIG_READ_H
#define SK_CONFIG_READ_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

struct config_error {
	char file[PATH_MAX];
	int line;
	char message[512];
};

/*
 * Helpers for reading any libconfig file with the same error reporting
 * (the vault's policy files use them). A context names the file for
 * messages and the folder that relative paths are taken from.
 */
struct config_asked;

struct config_ctx {
	const char *name;		/* file name for messages */
	char dir[PATH_MAX];		/* base for relative paths */
	struct config_error *err;
	/* The names the parser asked for, per group: what an unknown
	 * setting is compared with ("did you mean ...?"). Kept by
	 * config_parse_text. */
	struct config_asked *asked;
	size_t nasked, capasked;
};

/* Sets cx->dir to the folder of path. */
void config_ctx_dir(struct config_ctx *cx, const char *path);

/* Reads a whole file (at most 16 MiB, no NUL) into a new buffer. */
int config_read_text(struct config_ctx *cx, const char *path, char **out,
    size_t *len);

typedef int (*config_parse_fn)(config_t *cfg, struct config_ctx *cx,
    void *arg);

/*
 * Parses text (len bytes, NUL-terminated) as libconfig and hands the result
 * to parse. A syntax error is reported with its line. If digest is not
 * NULL it gets the hex SHA-256 of the text, the digest logged at load (R54).
 */
int config_parse_text(struct config_ctx *cx, const char *text, size_t len,
    char digest[65], config_parse_fn parse, void *arg);

/*
 * A member of a group, as every parser reads one: the name is noted as
 * known in that group. Once parse has read the whole file, a setting or
 * group that no parser asked for is an error with its line and the nearest
 * known name ("unknown setting 'envelop'; did you mean 'envelope'?"), as
 * `sshd -t` does: a typo never silently becomes a default.
 */
const config_setting_t *config_member(struct config_ctx *cx,
    const config_setting_t *group, const char *name);

/* The type of a setting, in words ("a string", "an integer", ...). */
const char *config_type_name(const config_setting_t *s);

/* Records "file:line: message" (line of at, or 0) and returns SK_ECONFIG. */
int config_fail(struct config_ctx *cx, const config_setting_t *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Typed getters: missing optional settings leave defaults / empty. */
int config_string(struct config_ctx *cx, const config_setting_t *group,
    const char *name, char *buf, size_t cap, int required);
int config_path(struct config_ctx *cx, const config_setting_t *group,
    const char *name, char *buf, size_t cap, int required);
int config_uint64(struct config_ctx *cx, const config_setting_t *group,
    const char *name, uint64_t min, uint64_t max, uint64_t dflt,
    uint64_t *out);
int config_unsigned(struct config_ctx *cx, const config_setting_t *group,
    const char *name, unsigned min, unsigned max, unsigned dflt,
    unsigned *out);
int config_bool(struct config_ctx *cx, const config_setting_t *group,
    const char *name, int dflt, int *out);
const config_setting_t *config_group(struct config_ctx *cx,
    const config_setting_t *parent, const char *name, int *r);
const config_setting_t *config_list(struct config_ctx *cx,
    const config_setting_t *root, const char *name, int required, int *r);

#endif
