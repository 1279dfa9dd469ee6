/*
 * local.c: a host's local file: its role, service user, data folder, keys,
 * audit log, logging and limits (see config.h).
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

static int
local_parse_limits(struct config_ctx *cx, const config_setting_t *root,
    struct local_config *lc)
{
	const config_setting_t *g = config_member(cx, root, "limits");
	int r;

	/* Every limit has a default; an absent group means all defaults. */
	if (g != NULL && !config_setting_is_group(g))
		return config_fail(cx, g, "'limits' must be a group");
	if (g == NULL)
		g = root;
	if ((r = config_unsigned(cx, g, "max_connections", 1, 4096, 64,
	    &lc->max_connections)) ||
	    (r = config_unsigned(cx, g, "read_timeout", 1, 3600, 30,
	    &lc->read_timeout)) ||
	    (r = config_unsigned(cx, g, "handshake_timeout", 1, 300, 10,
	    &lc->handshake_timeout)) ||
	    (r = config_unsigned(cx, g, "max_unauthenticated", 1, 65536, 512,
	    &lc->max_unauthenticated)) ||
	    (r = config_unsigned(cx, g, "max_unauthenticated_per_source", 1,
	    65536, 64, &lc->max_unauthenticated_per_source)) ||
	    (r = config_unsigned(cx, g, "poll_interval", 1, 3600, 10,
	    &lc->poll_interval)) ||
	    (r = config_unsigned(cx, g, "min_rate", 0, 1u << 30, 1024,
	    &lc->min_rate)) ||
	    (r = config_unsigned(cx, g, "min_rate_grace", 0, 3600, 10,
	    &lc->min_rate_grace)) ||
	    (r = config_uint64(cx, g, "disk_reserve", 0, UINT64_MAX >> 1,
	    UINT64_C(1) << 30, &lc->disk_reserve)) ||
	    (r = config_unsigned(cx, g, "refusal_interval", 1, 3600, 60,
	    &lc->refusal_interval)) ||
	    (r = config_unsigned(cx, g, "push_retry", 1, 3600, 60,
	    &lc->push_retry)) ||
	    (r = config_unsigned(cx, g, "resume_seconds", 0, 7 * 86400, 3600,
	    &lc->resume_seconds)) ||
	    (r = config_unsigned(cx, g, "resume_uploads", 0, 4096, 64,
	    &lc->resume_uploads)) ||
	    (r = config_unsigned(cx, g, "expiry_warn_days", 1, 3650,
	    CHECK_WARN_DAYS, &lc->expiry_warn_days)))
		return r;
	return 0;
}

/* The user a daemon started as root becomes (default sekisho-ROLE): a
 * plain POSIX account name. */
static int
local_parse_user(struct config_ctx *cx, const config_setting_t *root,
    struct local_config *lc)
{
	size_t i;
	int r;

	if ((r = config_string(cx, root, "user", lc->user, sizeof(lc->user),
	    0)) != 0)
		return r;
	if (lc->user[0] == '\0') {
		snprintf(lc->user, sizeof(lc->user), "sekisho-%s",
		    config_role_name(lc->role));
		return 0;
	}
	for (i = 0; lc->user[i] != '\0'; i++)
		if (!((lc->user[i] >= 'a' && lc->user[i] <= 'z') ||
		    lc->user[i] == '_' || (i > 0 && ((lc->user[i] >= '0' &&
		    lc->user[i] <= '9') || lc->user[i] == '-'))))
			return config_fail(cx, config_member(cx, root,
			    "user"), "'user' must be an account name: a-z, "
			    "0-9, '_' and '-', not starting with a digit");
	if (strcmp(lc->user, "root") == 0)
		return config_fail(cx, config_member(cx, root, "user"),
		    "'user' may not be root: the daemons drop root (R17)");
	return 0;
}

static int
local_parse(config_t *cfg, struct config_ctx *cx, void *arg)
{
	struct local_config *lc = arg;
	const config_setting_t *root = config_root_setting(cfg), *g;
	char role[32], level[16];
	int r, n;

	if ((r = config_string(cx, root, "role", role, sizeof(role), 1)) != 0)
		return r;
	if (strcmp(role, "receiver") == 0)
		lc->role = ROLE_RECEIVER;
	else if (strcmp(role, "vault") == 0)
		lc->role = ROLE_VAULT;
	else if (strcmp(role, "sender") == 0)
		lc->role = ROLE_SENDER;
	else
		return config_fail(cx, config_member(cx, root, "role"),
		    "'role' must be \"receiver\", \"vault\" or \"sender\"");
	if ((r = local_parse_user(cx, root, lc)) != 0)
		return r;
	if ((r = config_path(cx, root, "site", lc->site_file, PATH_MAX, 1)) ||
	    (r = config_path(cx, root, "data_dir", lc->data_dir, PATH_MAX, 1)) ||
	    (r = config_path(cx, root, "certificate", lc->certificate, PATH_MAX,
	    1)) ||
	    (r = config_path(cx, root, "key", lc->key, PATH_MAX, 1)) ||
	    (r = config_path(cx, root, "master_key", lc->master_key, PATH_MAX,
	    1)) ||
	    (r = config_bool(cx, root, "require_firewall", 1,
	    &lc->require_firewall)))
		return r;
	if ((g = config_member(cx, root, "envelope")) != NULL) {
		if (lc->role != ROLE_VAULT)
			return config_fail(cx, g, "'envelope' is for the vault "
			    "only");
		if (!config_setting_is_group(g))
			return config_fail(cx, g, "'envelope' must be a group");
		if ((r = config_path(cx, g, "certificate",
		    lc->envelope_certificate, PATH_MAX, 1)) ||
		    (r = config_path(cx, g, "key", lc->envelope_key, PATH_MAX,
		    1)))
			return r;
	}
	if ((g = config_member(cx, root, "signing")) != NULL) {
		if (lc->role != ROLE_VAULT)
			return config_fail(cx, g, "'signing' is for the vault "
			    "only");
		if (!config_setting_is_group(g))
			return config_fail(cx, g, "'signing' must be a group");
		if ((r = config_path(cx, g, "certificate",
		    lc->signing_certificate, PATH_MAX, 1)) ||
		    (r = config_path(cx, g, "key", lc->signing_key, PATH_MAX,
		    1)))
			return r;
	}
	n = 0;
	if ((g = config_member(cx, root, "audit")) != NULL) {
		if (!config_setting_is_group(g))
			return config_fail(cx, g, "'audit' must be a group");
		if ((r = config_path(cx, g, "log", lc->audit_log, PATH_MAX, 0)) ||
		    (r = config_path(cx, g, "key", lc->audit_key, PATH_MAX, 0)) ||
		    (r = config_uint64(cx, g, "reserve", 0, UINT64_C(1) << 40,
		    LOCAL_AUDIT_RESERVE, &lc->audit_reserve)) ||
		    (r = config_uint64(cx, g, "rotate_bytes", 0,
		    UINT64_C(1) << 40, 0, &lc->audit_rotate_bytes)) ||
		    (r = config_unsigned(cx, g, "retention_days", 0, 36500, 0,
		    &lc->audit_retention_days)) ||
		    (r = config_bool(cx, g, "rotate_monthly", 0,
		    &lc->audit_rotate_monthly)))
			return r;
	} else
		lc->audit_reserve = LOCAL_AUDIT_RESERVE;
	if (lc->audit_log[0] == '\0')
		n = snprintf(lc->audit_log, PATH_MAX, "%s/audit.log",
		    lc->data_dir);
	if (n < 0 || n >= PATH_MAX)
		return config_fail(cx, root, "data_dir is too long");
	if (lc->audit_key[0] == '\0')
		n = snprintf(lc->audit_key, PATH_MAX, "%s.key0", lc->audit_log);
	if (n < 0 || n >= PATH_MAX)
		return config_fail(cx, root, "audit log path is too long");
	lc->use_syslog = 0;
	lc->log_level = LOG_LEVEL_INFO;
	if ((g = config_member(cx, root, "log")) != NULL) {
		if ((r = config_bool(cx, g, "syslog", 0, &lc->use_syslog)) ||
		    (r = config_string(cx, g, "level", level, sizeof(level), 0)))
			return r;
		if (strcmp(level, "debug") == 0)
			lc->log_level = LOG_LEVEL_DEBUG;
		else if (strcmp(level, "warning") == 0)
			lc->log_level = LOG_LEVEL_WARN;
		else if (level[0] != '\0' && strcmp(level, "info") != 0)
			return config_fail(cx, g, "'level' must be \"debug\", "
			    "\"info\" or \"warning\"");
	}
	return local_parse_limits(cx, root, lc);
}

int
local_config_load(const char *path, struct local_config *out,
    struct config_error *err)
{
	struct config_ctx cx = { .name = path, .err = err };
	struct local_config *lc;
	char *text;
	size_t len;
	int r;

	config_ctx_dir(&cx, path);
	if ((r = config_read_text(&cx, path, &text, &len)) != 0)
		return r;
	if ((lc = calloc(1, sizeof(*lc))) == NULL) {
		free(text);
		return SK_ENOMEM;
	}
	snprintf(lc->file, sizeof(lc->file), "%s", path);
	r = config_parse_text(&cx, text, len, NULL, local_parse, lc);
	free(text);
	if (r == 0)
		*out = *lc;
	free(lc);
	return r;
}
