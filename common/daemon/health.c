/*
 * health.c: `sekisho-ROLE status`, the host's health for an administrator
 * and for monitoring over SSH (issue 21): Nagios/Icinga exit codes (0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and a first line in the plugin format
 * for check_by_ssh, the details in Japanese and English, `--json` one JSON
 * object, and `--prometheus FILE` the same figures in the text format,
 * written atomically for node_exporter's textfile collector.
 *
 * Every role reports the disk against its reserve, its certificates and
 * CRLs against their ends, whether its audit log can be written and when
 * it last wrote, and whether the firewall is the generated one; the roles
 * add their own figures (health_add).
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "health.h"
#include "json.h"
#include "sk.h"
#include "util.h"

static const char *const level_names[] = { "OK", "WARNING", "CRITICAL",
	"UNKNOWN" };

void
health_init(struct health *h, const char *role)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->role, sizeof(h->role), "%s", role);
}

void
health_add(struct health *h, int level, const char *metric, double value,
    const char *fmt, ...)
{
	struct health_item *it;
	va_list ap;

	if (h->n == HEALTH_ITEMS_MAX)
		return;
	it = &h->items[h->n++];
	it->level = level;
	snprintf(it->metric, sizeof(it->metric), "%s", metric);
	it->value = value;
	va_start(ap, fmt);
	vsnprintf(it->text, sizeof(it->text), fmt, ap);
	va_end(ap);
	/* A known problem outranks not knowing; not knowing outranks OK. */
	if (level == HEALTH_UNKNOWN) {
		if (h->level == HEALTH_OK)
			h->level = HEALTH_UNKNOWN;
	} else if (h->level == HEALTH_UNKNOWN) {
		if (level != HEALTH_OK)
			h->level = level;
	} else if (level > h->level)
		h->level = level;
}

/* The time of the log's last entry, from its last line (0: none). */
static int64_t
last_entry(const char *path)
{
	char buf[4096], *p, *t;
	struct stat st;
	struct tm tm;
	ssize_t n;
	off_t off;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		return 0;
	}
	off = st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size -
	    ((off_t)sizeof(buf) - 1) : 0;
	n = pread(fd, buf, sizeof(buf) - 1, off);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	p = p != NULL ? p + 1 : buf;
	if ((t = strstr(p, "\"time\":\"")) == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (strptime(t + 8, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

void
health_common(struct health *h, const struct local_config *local,
    const struct site_config *site, int firewall)
{
	unsigned errors = 0, warnings = 0;
	uint64_t avail = 0;
	int64_t last, now = (int64_t)time(NULL);
	struct passwd *pw;
	struct stat st;
	int saved, devnull, r;

	if (util_disk_free(local->data_dir, &avail) != 0)
		health_add(h, HEALTH_UNKNOWN, "disk_free_bytes", 0,
		    "ディスク / disk: %s cannot be read (%s)", local->data_dir,
		    strerror(errno));
	else
		health_add(h, avail < local->disk_reserve ? HEALTH_CRITICAL :
		    avail < 2 * local->disk_reserve ? HEALTH_WARNING :
		    HEALTH_OK, "disk_free_bytes", (double)avail,
		    "ディスク / disk: %" PRIu64 " MiB free, reserve %" PRIu64
		    " MiB", avail >> 20, local->disk_reserve >> 20);
	/* The check-config findings go to stderr; here they are counted. */
	daemon_check_credentials_counted(local, site,
	    local->expiry_warn_days, &errors, &warnings);
	health_add(h, errors > 0 ? HEALTH_CRITICAL : warnings > 0 ?
	    HEALTH_WARNING : HEALTH_OK, "credential_problems",
	    (double)(errors + warnings),
	    "証明書・CRL / certificates and CRLs: %u expired or unusable, %u "
	    "ending within %u days (details: check-config)", errors, warnings,
	    local->expiry_warn_days);
	/* Writable by the service user, who writes it (status runs as
	 * root, for the firewall's verify). */
	pw = getpwnam(local->user);
	if (stat(local->audit_log, &st) != 0)
		health_add(h, errno == ENOENT ? HEALTH_WARNING : HEALTH_CRITICAL,
		    "audit_writable", 0, "監査ログ / audit log: %s: %s",
		    local->audit_log, errno == ENOENT ? "none yet (has the "
		    "daemon run?)" : strerror(errno));
	else if (pw == NULL || st.st_uid != pw->pw_uid ||
	    (st.st_mode & S_IWUSR) == 0)
		health_add(h, HEALTH_CRITICAL, "audit_writable", 0,
		    "監査ログ / audit log: %s cannot be written by %s",
		    local->audit_log, local->user);
	else
		health_add(h, HEALTH_OK, "audit_writable", 1,
		    "監査ログ / audit log: 書き込み可 / writable by %s",
		    local->user);
	last = last_entry(local->audit_log);
	health_add(h, HEALTH_OK, "audit_last_entry_age_seconds",
	    last > 0 ? (double)(now - last) : -1,
	    "最後の記録 / last audit entry: %s", last > 0 ? "" : "none yet");
	if (last > 0)
		sk_time_format(last, h->items[h->n - 1].text + strlen(
		    h->items[h->n - 1].text), sizeof(h->items[0].text) -
		    strlen(h->items[h->n - 1].text));
	if (!firewall)
		return;
	/* The firewall's verify prints its differences: not here. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && devnull >= 0)
		dup2(devnull, STDOUT_FILENO);
	r = daemon_firewall_verify(local);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	health_add(h, r < 0 ? HEALTH_UNKNOWN : r == 0 ? HEALTH_OK :
	    HEALTH_CRITICAL, "firewall_ok", r == 0 ? 1 : 0,
	    "ファイアウォール / firewall: %s", r < 0 ? "cannot be checked" :
	    r == 0 ? "the generated ruleset" : "DIFFERS from the generated "
	    "ruleset (sekisho-firewall ... verify)");
}

static int
write_prometheus(const struct health *h, const char *path)
{
	char tmp[4096];
	size_t i;
	FILE *fp;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
	    (int)sizeof(tmp) || (fd = mkstemp(tmp)) == -1)
		return -1;
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(fp, "# HELP sekisho_status 0 OK, 1 WARNING, 2 CRITICAL, 3 "
	    "UNKNOWN\n# TYPE sekisho_status gauge\n"
	    "sekisho_status{role=\"%s\"} %d\n", h->role, h->level);
	for (i = 0; i < h->n; i++)
		fprintf(fp, "# TYPE sekisho_%s gauge\nsekisho_%s{role=\"%s\"} "
		    "%.17g\n", h->items[i].metric, h->items[i].metric, h->role,
		    h->items[i].value);
	if (fflush(fp) != 0 || fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	fclose(fp);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
health_report(const struct health *h, int as_json, const char *prometheus)
{
	char buf[16384], item[640];
	size_t i, o = 0;
	struct json j;

	if (prometheus != NULL && write_prometheus(h, prometheus) != 0) {
		printf("SEKISHO-%s UNKNOWN - cannot write %s: %s\n", h->role,
		    prometheus, strerror(errno));
		return HEALTH_UNKNOWN;
	}
	if (as_json) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"role\":\"%s\","
		    "\"status\":\"%s\",\"code\":%d,\"checks\":[", h->role,
		    level_names[h->level], h->level);
		for (i = 0; i < h->n && o < sizeof(buf); i++) {
			json_begin(&j, item, sizeof(item));
			json_str(&j, "metric", h->items[i].metric);
			json_str(&j, "status", level_names[h->items[i].level]);
			json_double(&j, "value", h->items[i].value);
			json_str(&j, "text", h->items[i].text);
			if (json_end(&j) < 0)
				continue;
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    i ? "," : "", item);
		}
		if (o < sizeof(buf))
			snprintf(buf + o, sizeof(buf) - o, "]}");
		printf("%s\n", buf);
		return h->level;
	}
	/* The plugin line: the worst finding first, then the figures. */
	printf("SEKISHO-%s %s - ", h->role, level_names[h->level]);
	for (i = 0; i < h->n; i++)
		if (h->items[i].level == h->level) {
			printf("%s", h->items[i].text);
			break;
		}
	printf(" |");
	for (i = 0; i < h->n; i++)
		printf(" %s=%.17g", h->items[i].metric, h->items[i].value);
	printf("\n");
	for (i = 0; i < h->n; i++)
		printf("  [%s] %s\n", level_names[h->items[i].level],
		    h->items[i].text);
	return h->level;
}

int
health_files(const char *base, const char *sub, uint64_t *count,
    int64_t *oldest)
{
	uint64_t older;

	return health_files_before(base, sub, 0, count, oldest, &older);
}

int
health_files_before(const char *base, const char *sub, int64_t before,
    uint64_t *count, int64_t *oldest, uint64_t *older)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	*count = *older = 0;
	*oldest = 0;
	if (snprintf(path, sizeof(path), "%s/%s", base, sub) >=
	    (int)sizeof(path) || (d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp") != NULL ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISREG(st.st_mode))
			continue;
		(*count)++;
		if ((int64_t)st.st_mtime < before)
			(*older)++;
		if (*oldest == 0 || st.st_mtime < *oldest)
			*oldest = st.st_mtime;
	}
	closedir(d);
	return 0;
}

uint64_t
health_recent_events(const char *log, const char *event, int64_t since)
{
	char line[4096], want[96], *t;
	uint64_t n = 0;
	struct tm tm;
	FILE *fp;

	snprintf(want, sizeof(want), "\"event\":\"%s\"", event);
	if ((fp = fopen(log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, want) == NULL ||
		    (t = strstr(line, "\"time\":\"")) == NULL)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (strptime(t + 8, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL &&
		    (int64_t)timegm(&tm) >= since)
			n++;
	}
	fclose(fp);
	return n;
}

int
health_args(int argc, char **argv, int *as_json, const char **prometheus)
{
	int i;

	*as_json = 0;
	*prometheus = NULL;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			*as_json = 1;
		else if (strcmp(argv[i], "--prometheus") == 0 && i + 1 < argc)
			*prometheus = argv[++i];
		else
			return -1;
	return 0;
}
