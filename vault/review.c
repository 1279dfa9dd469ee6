/*
 * review.c: the manager's monthly review of the logs (R43, council ch. 8
 * 3), printed at the vault from the three hosts' audit logs.
 *
 *   review --month YYYY-MM --logs DIR|FILE ... [--out FILE
 *          [--sign --operator OP --key KEY]]
 *
 * What an auditor reads in five minutes: whether each log verifies (with
 * its first key, FILE.key0, where the auditor put it beside the copy), the
 * counts per host and event, the anomalies (refused connections by source,
 * bursts of refused requests, download alerts and the thresholds in force,
 * failed jobs, operators' actions at odd hours, log gaps and breaks,
 * firewall lockdowns, days a host logged nothing, a host whose log is
 * missing) and the ledgers' totals. Exit status 0 with no anomaly, 1 with
 * some, 2 for a wrong call. Signed, the review's digest becomes an audit
 * entry (review.signed) through the console register.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "audit.h"
#include "backup.h"
#include "daemon.h"
#include "log.h"
#include "logbook.h"
#include "review.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

#define BURST_PER_HOUR 20	/* refused requests from one host an hour */
#define TALLY_MAX 256

static const char *const host_names[] = { "receiver", "vault", "sender",
	"other" };

struct tally {
	char key[160];
	uint64_t n;
};

struct tallies {
	struct tally t[TALLY_MAX];
	size_t n;
	uint64_t dropped;
};

static void
tally_add(struct tallies *ts, const char *key, uint64_t n)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].key, key) == 0) {
			ts->t[i].n += n;
			return;
		}
	if (ts->n == TALLY_MAX) {
		ts->dropped += n;
		return;
	}
	snprintf(ts->t[ts->n].key, sizeof(ts->t[0].key), "%s", key);
	ts->t[ts->n++].n = n;
}

static int
cmp_tally(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->key, y->key);
}

static void
tally_print(FILE *fp, struct tallies *ts, const char *indent)
{
	size_t i;

	qsort(ts->t, ts->n, sizeof(ts->t[0]), cmp_tally);
	for (i = 0; i < ts->n; i++)
		fprintf(fp, "%s%-60s %8" PRIu64 "\n", indent, ts->t[i].key,
		    ts->t[i].n);
	if (ts->dropped > 0)
		fprintf(fp, "%s(others)%53s %8" PRIu64 "\n", indent, "",
		    ts->dropped);
}

/* An operator's action at an hour an office does not work (JST): before
 * 07:00, from 20:00, or on a Saturday or Sunday. */
static int
odd_hour(int64_t t)
{
	time_t tt = (time_t)(t + JST);
	struct tm tm;

	gmtime_r(&tt, &tm);
	return tm.tm_hour < 7 || tm.tm_hour >= 20 || tm.tm_wday == 0 ||
	    tm.tm_wday == 6;
}

static int
operator_event(const struct entry *e)
{
	return strncmp(e->actor, "operator:", 9) == 0 ||
	    strcmp(e->event, "release.approved") == 0 ||
	    strcmp(e->event, "release.rejected") == 0 ||
	    strcmp(e->event, "release.withdrawal_approved") == 0 ||
	    strncmp(e->event, "firewall.", 9) == 0;
}

static uint64_t
count_of(const struct entry *e)
{
	char c[32];

	return logbook_detail(e->detail, "count", c, sizeof(c)) == 0 ?
	    strtoull(c, NULL, 10) : 1;
}

/* The verification of one log with its first key beside it. */
static int
verify_file(const struct logfile *f, char *out, size_t cap)
{
	struct audit_verify_result res;
	char key[PATH_MAX + 8];
	int r;

	size_t n = strlen(f->path);

	/* A rotated segment is verified with its log, which reads it. */
	if (n > 26 && f->path[n - 13] == '-' && strspn(f->path + n - 25,
	    "0123456789-") == 25) {
		snprintf(out, cap, "a rotated segment: verified with its log");
		return 0;
	}
	if (snprintf(key, sizeof(key), "%s.key0", f->path) >=
	    (int)sizeof(key) || access(key, R_OK) != 0) {
		snprintf(out, cap, "未検証 / not verified: no first key "
		    "FILE.key0 beside it");
		return 1;
	}
	memset(&res, 0, sizeof(res));
	r = audit_verify(f->path, key, NULL, &res);
	if (r == 0 && res.breaks == 0 && res.gaps == 0) {
		snprintf(out, cap, "OK (%" PRIu64 " entries verified)",
		    res.entries);
		return 0;
	}
	if (r == 0)
		snprintf(out, cap, "verifies, but with %" PRIu64 " break(s) "
		    "and %" PRIu64 " gap(s)", res.breaks, res.gaps);
	else if (r == SK_EAUTH)
		snprintf(out, cap, "改ざんの疑い / FAILED at line %" PRIu64
		    ": %s", res.bad_line, res.reason);
	else
		snprintf(out, cap, "cannot be read: %s", sk_strerror(r));
	return 1;
}

static int
review_print(struct vault *v, const struct book *b, const char *month,
    int64_t from, int64_t to, FILE *fp)
{
	struct tallies counts = { 0 }, refused = { 0 }, bursts = { 0 };
	struct tallies totals = { 0 };
	const struct entry *e;
	char line[1400], key[200], a[32], z[32], hour[32], state[32];
	char why[200];
	unsigned anomalies = 0, h, days_without[H_OTHER] = { 0 };
	unsigned char seen[H_OTHER][32];
	size_t i, k;
	int64_t d;

	memset(seen, 0, sizeof(seen));
	logbook_jst(from, 0, a, sizeof(a));
	logbook_jst(to - 1, 0, z, sizeof(z));
	fprintf(fp, "月次点検 / Monthly review %s (JST %s .. %s), site %s\n"
	    "site digest %s\n\n", month, a, z, v->site->name,
	    v->site->digest);

	fprintf(fp, "1. 監査ログ / Audit logs\n");
	for (h = 0; h < H_OTHER; h++)
		if (b->logs[h] == 0) {
			fprintf(fp, "   ! %s: no log given: its part of the "
			    "review is missing\n", host_names[h]);
			anomalies++;
		}
	for (i = 0; i < b->nfiles; i++) {
		const struct logfile *f = &b->files[i];

		logbook_jst(f->first, 1, a, sizeof(a));
		logbook_jst(f->last, 1, z, sizeof(z));
		anomalies += (unsigned)verify_file(f, line, sizeof(line));
		fprintf(fp, "   %-8s %s\n            %zu entries, %s .. %s; %s\n"
		    "            head (witnessed by this review): seq %" PRIu64
		    " mac %s\n", host_names[f->host], f->path, f->entries, a,
		    z, line, f->head_seq, f->head_mac);
	}

	for (i = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->t < from || e->t >= to)
			continue;
		if (e->host < H_OTHER && (d = (e->t - from) / 86400) < 32)
			seen[e->host][d] = 1;
		snprintf(key, sizeof(key), "%-8s %s", host_names[e->host],
		    e->event);
		tally_add(&counts, key, 1);
		if (strstr(e->event, ".refused") != NULL &&
		    strcmp(e->event, "release.refused") != 0) {
			snprintf(key, sizeof(key), "%-8s %-16s from %.80s",
			    host_names[e->host], e->event, e->actor);
			tally_add(&refused, key, count_of(e));
			logbook_jst(e->t, 1, hour, sizeof(hour));
			hour[13] = '\0';	/* "YYYY-MM-DD HH" */
			snprintf(key, sizeof(key), "%-8s %s:00", host_names[e->host],
			    hour);
			tally_add(&bursts, key, count_of(e));
		}
		if (strcmp(e->event, "upload.stored") == 0)
			tally_add(&totals, "受付 / uploads received", 1);
		else if (strcmp(e->event, "release.published") == 0 &&
		    e->host == H_VAULT)
			tally_add(&totals, "公開 / releases published", 1);
		else if (strcmp(e->event, "download.completed") == 0)
			tally_add(&totals, "提供 / downloads", 1);
		else if (strcmp(e->event, "release.delivered") == 0)
			tally_add(&totals, "送付 / push deliveries", 1);
		else if (strcmp(e->event, "object.disposed") == 0 ||
		    strcmp(e->event, "upload.disposed") == 0 ||
		    strcmp(e->event, "release.disposed") == 0)
			tally_add(&totals, "廃棄 / disposals (all hosts)", 1);
		else if (strcmp(e->event, "backup.written") == 0)
			tally_add(&totals, "バックアップ / backups", 1);
	}
	fprintf(fp, "\n2. 件数 / Entries per host and event\n");
	tally_print(fp, &counts, "   ");

	fprintf(fp, "\n3. 異常 / Anomalies\n");
	fprintf(fp, "   a. 拒否された接続・要求 / refused connections and "
	    "requests, by source\n");
	if (refused.n == 0)
		fprintf(fp, "      none\n");
	tally_print(fp, &refused, "      ");
	fprintf(fp, "   b. 集中した拒否 / bursts (%u or more refusals on a "
	    "host in an hour)\n", BURST_PER_HOUR);
	for (i = 0, k = 0; i < bursts.n; i++)
		if (bursts.t[i].n >= BURST_PER_HOUR) {
			fprintf(fp, "      ! %s  %" PRIu64 "\n", bursts.t[i].key,
			    bursts.t[i].n);
			k++;
		}
	if (k == 0)
		fprintf(fp, "      none\n");
	anomalies += (unsigned)k;
	fprintf(fp, "   c. ダウンロード警告 / download alerts (thresholds in "
	    "force: window %u s, warn %" PRIu64 " bytes or %" PRIu64
	    " files, limit %" PRIu64 " bytes or %" PRIu64 " files; 0: none)\n",
	    v->site->downloads.window, v->site->downloads.warn_bytes,
	    v->site->downloads.warn_files, v->site->downloads.limit_bytes,
	    v->site->downloads.limit_files);
	for (i = 0, k = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->t < from || e->t >= to ||
		    strcmp(e->event, "download.alert") != 0)
			continue;
		logbook_jst(e->t, 1, a, sizeof(a));
		fprintf(fp, "      ! %s %s %.200s\n", a, e->actor, e->detail);
		k++;
	}
	if (k == 0)
		fprintf(fp, "      none\n");
	anomalies += (unsigned)k;
	fprintf(fp, "   d. 失敗した処理 / failed jobs and deliveries\n");
	for (i = 0, k = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->t < from || e->t >= to)
			continue;
		state[0] = '\0';
		if (strcmp(e->event, "job.state") == 0)
			logbook_detail(e->detail, "state", state, sizeof(state));
		if (strcmp(state, "failed") != 0 &&
		    strcmp(e->event, "push.failed") != 0 &&
		    strcmp(e->event, "fetch.failed") != 0 &&
		    strcmp(e->event, "object.dispose_failed") != 0 &&
		    strcmp(e->event, "release.dispose_failed") != 0)
			continue;
		why[0] = '\0';
		snprintf(why, sizeof(why), "%.180s", e->detail);
		logbook_jst(e->t, 1, a, sizeof(a));
		fprintf(fp, "      ! %s %-8s %s %.32s %s\n", a,
		    host_names[e->host], e->event, e->object, why);
		k++;
	}
	if (k == 0)
		fprintf(fp, "      none\n");
	anomalies += (unsigned)k;
	fprintf(fp, "   e. 時間外の操作 / operators' actions outside office "
	    "hours (JST 07:00-20:00, Monday to Friday)\n");
	for (i = 0, k = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->t < from || e->t >= to || !operator_event(e) ||
		    !odd_hour(e->t))
			continue;
		logbook_jst(e->t, 1, a, sizeof(a));
		fprintf(fp, "      ! %s %-8s %s %s %.32s\n", a,
		    host_names[e->host], e->event, e->actor, e->object);
		k++;
	}
	if (k == 0)
		fprintf(fp, "      none\n");
	anomalies += (unsigned)k;
	fprintf(fp, "   f. ログの欠落・断絶・封鎖 / log gaps, breaks and "
	    "lockdowns\n");
	for (i = 0, k = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->t < from || e->t >= to ||
		    (strcmp(e->event, "audit.resumed") != 0 &&
		    strcmp(e->event, "audit.break") != 0 &&
		    strcmp(e->event, "firewall.lockdown") != 0))
			continue;
		logbook_jst(e->t, 1, a, sizeof(a));
		fprintf(fp, "      ! %s %-8s %s %.200s\n", a,
		    host_names[e->host], e->event, e->detail);
		k++;
	}
	for (h = 0; h < H_OTHER; h++) {
		if (b->logs[h] == 0)
			continue;
		for (d = 0; d < 32 && from + d * 86400 < to; d++)
			if (!seen[h][d] && from + d * 86400 <
			    (int64_t)time(NULL))
				days_without[h]++;
		if (days_without[h] > 0) {
			fprintf(fp, "      ! %-8s logged nothing on %u day(s) "
			    "of the period (stopped, or its log is "
			    "incomplete)\n", host_names[h], days_without[h]);
			k++;
		}
	}
	if (k == 0)
		fprintf(fp, "      none\n");
	anomalies += (unsigned)k;

	fprintf(fp, "\n4. 台帳の合計 / Ledger totals\n");
	if (totals.n == 0)
		fprintf(fp, "   none\n");
	tally_print(fp, &totals, "   ");
	fprintf(fp, "\n5. 結果 / Result: %s\n", anomalies == 0 ?
	    "異常なし / no anomalies" : "確認事項あり / items to check");
	if (anomalies > 0)
		fprintf(fp, "   %u item(s) marked ! above\n", anomalies);
	return anomalies == 0 ? 0 : 1;
}

static int
file_sha256(const char *path, char hex[65])
{
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return SK_ESYS;
	e = util_fd_sha256_hex(fd, hex);
	close(fd);
	return e;
}

int
console_review(struct vault *v, int argc, char **argv)
{
	const char *month = NULL, *out = NULL, *op = NULL, *keyfile = NULL;
	struct book b = { 0 };
	char day[32], name[32], sha[65], note[64];
	int64_t from, to;
	int i, first_log = 0, logs = 0, sign = 0, r, e, y, m;
	FILE *fp = stdout;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--month") == 0 && i + 1 < argc)
			month = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--operator") == 0 && i + 1 < argc)
			op = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			keyfile = argv[++i];
		else if (strcmp(argv[i], "--sign") == 0)
			sign = 1;
		else if (strcmp(argv[i], "--logs") == 0 && logs == 0) {
			first_log = i + 1;
			logs = logbook_arg_list(argc, argv, &i);
		} else
			return -1;
	}
	if (month == NULL || logs == 0 || (sign && (out == NULL ||
	    op == NULL || keyfile == NULL)) || (!sign && (op != NULL ||
	    keyfile != NULL)))
		return -1;
	if (sscanf(month, "%4d-%2d", &y, &m) != 2 || strlen(month) != 7 ||
	    m < 1 || m > 12 || y < 2000 || y > 9998)
		fatalx("--month %s: a month written YYYY-MM", month);
	snprintf(day, sizeof(day), "%04d-%02d-01", y, m);
	if (logbook_day(day, &from) != 0)
		fatalx("--month %s: a month written YYYY-MM", month);
	snprintf(day, sizeof(day), "%04d-%02d-01", m == 12 ? y + 1 : y,
	    m == 12 ? 1 : m + 1);
	if (logbook_day(day, &to) != 0)
		fatalx("--month %s: out of range", month);
	logbook_load_args(&b, argv + first_log, logs);
	logbook_sort(&b);
	if (out != NULL && (fp = fopen(out, "wx")) == NULL)
		fatalx("%s: %s", out, strerror(errno));
	r = review_print(v, &b, month, from, to, fp);
	logbook_free(&b);
	if (fp != stdout && fclose(fp) != 0)
		fatalx("%s: %s", out, strerror(errno));
	if (fp == stdout)
		fflush(stdout);
	if (sign) {
		if ((e = file_sha256(out, sha)) != 0)
			fatalx("%s: %s", out, sk_strerror(e));
		snprintf(name, sizeof(name), "review-%s", month);
		snprintf(note, sizeof(note), "result=%s", r == 0 ?
		    "no_anomalies" : "items_to_check");
		console_signed_record(v, "reviewed", name, sha, out, op,
		    keyfile, note);
		printf("%s: signed by %s (sha256 %s); the vault records it "
		    "at its next round\n", out, op, sha);
	}
	return r;
}
