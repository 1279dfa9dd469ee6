/*
 * health.h: `sekisho-ROLE status`, a host's health with Nagios exit codes,
 * JSON, and the Prometheus text format (issue 21).
 */
#ifndef SK_HEALTH_H
#define SK_HEALTH_H

#include "config.h"

enum { HEALTH_OK, HEALTH_WARNING, HEALTH_CRITICAL, HEALTH_UNKNOWN };

#define HEALTH_ITEMS_MAX 32

struct health_item {
	int level;
	char metric[64];		/* sekisho_METRIC in Prometheus */
	double value;
	char text[512];			/* Japanese / English, no personal data */
};

struct health {
	char role[16];
	int level;			/* the worst so far */
	struct health_item items[HEALTH_ITEMS_MAX];
	size_t n;
};

void health_init(struct health *h, const char *role);

/* One finding with its figure; the overall level follows the worst. */
void health_add(struct health *h, int level, const char *metric,
    double value, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* What every role reports: disk against reserve, certificates and CRLs,
 * the audit log, and (firewall != 0) the firewall's verify. */
void health_common(struct health *h, const struct local_config *local,
    const struct site_config *site, int firewall);

/* The regular files of base/sub (no hidden, no temporary ones): how many,
 * and the oldest's modification time (0: none). -1 if it cannot be read. */
int health_files(const char *base, const char *sub, uint64_t *count,
    int64_t *oldest);
/* The same, and how many were last modified before the time given. */
int health_files_before(const char *base, const char *sub, int64_t before,
    uint64_t *count, int64_t *oldest, uint64_t *older);

/* How many entries of event the audit log has since the time given. */
uint64_t health_recent_events(const char *log, const char *event,
    int64_t since);

/* `status [--json] [--prometheus FILE]`; -1 for a wrong call. */
int health_args(int argc, char **argv, int *as_json, const char **prometheus);

/* Prints the report (the plugin line first, or JSON), writes the
 * Prometheus file if asked; returns the exit code. */
int health_report(const struct health *h, int as_json,
    const char *prometheus);

#endif
