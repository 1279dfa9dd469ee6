/*
 * console.c: the operators' commands at the vault's console (R41).
 *
 *   release list
 *   release show ID                      the job and its release report
 *   release approve ID --operator OP --key KEY [--yes]
 *   release reject ID --operator OP --key KEY --reason TEXT
 *   release withdraw ID --operator OP --key KEY
 *   release diff ID [--with ID2]         against the previous release
 *
 * A decision is the operator's signature, made here with their private key
 * and checked at once against their public key in the roster (and its
 * dates), then recorded next to the job. The daemon counts the signatures
 * again before it acts, and writes the audit entries: the audit log keeps
 * one writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "approve.h"
#include "backup.h"
#include "daemon.h"
#include "diff.h"
#include "health.h"
#include "json.h"
#include "jsonr.h"
#include "report_html.h"
#include "log.h"
#include "seal.h"
#include "csv.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

/* Gives up root for the vault's user, then opens its folders. */
static void
console_open(struct vault *v)
{
	struct sandbox_layers layers;

	daemon_drop(&v->local, &layers);
	vault_open(v, 0);
}

/* `status` reads as the vault's user, and opens nothing else. */
void
console_status_open(struct vault *v)
{
	struct sandbox_layers layers;

	daemon_drop(&v->local, &layers);
}

/* One job as a JSON line of `release list --json`: ids, states, counts,
 * times; nothing from the data. */
/* The rows a job's report says it releases: 0 with *rows set, or -1 when
 * it has no report (yet). */
static int
report_rows(struct vault *v, const struct job *j, uint64_t *rows)
{
	char name[JOB_ID_MAX + 8], rep[8192];
	struct jsonr doc;
	ssize_t r;
	int fd;

	snprintf(name, sizeof(name), "%s.json", j->id);
	if ((fd = openat(v->reports_fd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, rep, sizeof(rep) - 1);
	close(fd);
	doc.p = rep;
	doc.n = r > 0 ? (size_t)r : 0;
	return r > 0 && jsonr_get_u64(doc, "rows_out", rows) == 0 ? 0 : -1;
}

static void
list_json(struct vault *v, const struct job *j, unsigned n, unsigned need)
{
	char line[1024], stamp[32];
	struct json js;
	uint64_t rows_out = 0;
	int has_rows = report_rows(v, j, &rows_out) == 0;

	json_begin(&js, line, sizeof(line));
	json_str(&js, "id", j->id);
	json_str(&js, "dataset", j->dataset);
	json_str(&js, "municipality", j->municipality);
	json_str(&js, "state", job_state_name(j->state));
	if (sk_time_format(j->received, stamp, sizeof(stamp)) == 0)
		json_str(&js, "received", stamp);
	json_u64(&js, "size", j->size);
	if (has_rows)
		json_u64(&js, "rows_out", rows_out);
	json_u64(&js, "approvals", n);
	json_u64(&js, "approvals_needed", need);
	if (j->replaced_by[0] != '\0')
		json_str(&js, "replaced_by", j->replaced_by);
	if (json_end(&js) > 0)
		printf("%s\n", line);
}

static int
list(struct vault *v, const char *state, int as_json)
{
	char **ids = NULL, ops[256], stamp[32], nrows[24];
	const struct config_dataset *ds;
	uint64_t rows;
	unsigned n, bad;
	size_t k, i;
	struct job j;

	if (job_list(v->jobs_fd, &ids, &k) != 0)
		fatalx("cannot read the jobs");
	if (!as_json)
		printf("%-16s  %-24s  %-6s  %-17s  %-17s  %8s  %s\n", "ID",
		    "DATASET", "MUNI", "STATE", "RECEIVED (UTC)", "ROWS",
		    "APPROVALS");
	for (i = 0; i < k; i++) {
		if (job_load(v->jobs_fd, ids[i], &j) == 0 && (state == NULL ||
		    strcmp(state, job_state_name(j.state)) == 0)) {
			ds = site_find_dataset(v->site, j.dataset);
			approval_count(v->jobs_fd, v->site, v->op_keys, &j, "approve",
			    (int64_t)time(NULL), &n, &bad, ops, sizeof(ops),
			    NULL, 0);
			if (as_json) {
				list_json(v, &j, n, ds ? ds->approvals : 2);
				free(ids[i]);
				continue;
			}
			/* To the minute: 2026-12-02T15:48Z */
			if (sk_time_format(j.received, stamp,
			    sizeof(stamp)) != 0 || strlen(stamp) < 16)
				snprintf(stamp, sizeof(stamp), "-");
			else
				memcpy(stamp + 16, "Z", 2);
			if (report_rows(v, &j, &rows) == 0)
				snprintf(nrows, sizeof(nrows), "%" PRIu64, rows);
			else
				snprintf(nrows, sizeof(nrows), "-");
			printf("%-16.16s  %-24s  %-6s  %-17s  %-17s  %8s  "
			    "%u of %u%s%s%s\n", j.id, j.dataset, j.municipality,
			    job_state_name(j.state), stamp, nrows, n,
			    ds ? ds->approvals : 2,
			    n ? " by " : "", ops, j.replaced_by[0] != '\0' &&
			    j.state == JOB_PUBLISHED ? "  [corrected: "
			    "withdrawal requested / 訂正あり・取り下げ要]" : "");
		}
		free(ids[i]);
	}
	free(ids);
	return 0;
}

/* A job by its id or by a unique prefix of at least 8 characters. */
static int
find(struct vault *v, const char *arg, struct job *j)
{
	char **ids = NULL;
	size_t k, i, hits = 0, len = strlen(arg);
	int r = SK_ENOTFOUND;

	if (job_load(v->jobs_fd, arg, j) == 0)
		return 0;
	if (len < 8 || job_list(v->jobs_fd, &ids, &k) != 0)
		return SK_ENOTFOUND;
	for (i = 0; i < k; i++) {
		if (strncmp(ids[i], arg, len) == 0 && hits++ == 0)
			r = job_load(v->jobs_fd, ids[i], j);
		free(ids[i]);
	}
	free(ids);
	return hits == 1 ? r : SK_ENOTFOUND;
}

static uint64_t
num(struct jsonr doc, const char *key)
{
	uint64_t v = 0;

	jsonr_get_u64(doc, key, &v);
	return v;
}

/* The class sizes as a text histogram: one bar per bucket, its rows. */
static void
show_histogram(struct jsonr doc)
{
	struct jsonr list, b;
	uint64_t from, to, classes, rows, total = 0, width;
	size_t pos = 0;
	char bar[41];

	if (jsonr_member(doc, "class_sizes", &list) != 0)
		return;
	while (jsonr_next(list, &pos, &b) == 0)
		total += num(b, "rows");
	if (total == 0)
		return;
	printf("クラスの大きさ / class sizes (行 / rows):\n");
	pos = 0;
	while (jsonr_next(list, &pos, &b) == 0) {
		from = num(b, "from");
		to = num(b, "to");
		classes = num(b, "classes");
		rows = num(b, "rows");
		if (classes == 0)
			continue;
		width = rows * 40 / total;
		memset(bar, '#', (size_t)width);
		bar[width] = '\0';
		printf("  %6" PRIu64 "-%-7" PRIu64 " %-40s %" PRIu64 " classes, %"
		    PRIu64 " rows\n", from, to, bar, classes, rows);
	}
}

/*
 * Whom suppression removes: per quasi-identifier and sensitive column,
 * the largest share of one value's rows that suppression took (the report
 * names no value; `anonymize --values` does, at the console).
 */
static void
show_groups(struct jsonr doc)
{
	struct jsonr groups, cols, col, list, first;
	char name[256], share[32];
	size_t pos = 0, p2;

	if (jsonr_member(doc, "suppression_by_value", &groups) != 0 ||
	    jsonr_member(doc, "columns", &cols) != 0)
		return;
	printf("値ごとの削除 / suppression by value (最大 / largest share):\n");
	while (jsonr_next(cols, &pos, &col) == 0) {
		p2 = 0;
		if (jsonr_get_string(col, "name", name, sizeof(name)) != 0 ||
		    jsonr_member(groups, name, &list) != 0 ||
		    jsonr_next(list, &p2, &first) != 0 ||
		    jsonr_member(first, "share", &col) != 0)
			continue;
		printf("  %-20s %s (%" PRIu64 " / %" PRIu64 " 行 / rows)\n",
		    name, jsonr_get_scalar(first, "share", share, sizeof(share)),
		    num(first, "suppressed"), num(first, "rows"));
	}
}

static void
show_more(void *arg, const char *ja, const char *en, const char *value)
{
	(void)arg;
	printf("%s / %s: %s\n", ja, en, value);
}

/*
 * The report as the two operators read it before they sign (R41, issue
 * 20): what went in and out, what was removed and why, whether the privacy
 * model holds, the risk, and what each column became; Japanese and English.
 */
static void
show_summary(const char *text, size_t len)
{
	struct jsonr doc = { text, len }, cols, col;
	char a[32], b[32], c[32], name[128], role[32], action[32];
	uint64_t k, smallest, in, out, values, level;
	size_t pos = 0;

	if (jsonr_valid(text, len) != 0) {
		printf("報告 / report: 読めません / cannot be read\n");
		return;
	}
	k = num(doc, "k");
	smallest = num(doc, "smallest_class");
	in = num(doc, "rows_in");
	out = num(doc, "rows_out");
	/* A job whose privacy model could not be met: why, and which
	 * column to generalize, before the figures. */
	if (jsonr_get_string(doc, "outcome", a, sizeof(a)) == 0 &&
	    strcmp(a, "failed") == 0) {
		char what[512];

		if (jsonr_get_string(doc, "failure", what, sizeof(what)) != 0)
			snprintf(what, sizeof(what), "-");
		printf("結果 / outcome:             加工できませんでした / NOT "
		    "RELEASED: %s\n", what);
		if (jsonr_get_string(doc, "failed_on", name,
		    sizeof(name)) == 0)
			printf("原因の列 / driving column:  %s（さらに一般化して"
			    "ください / generalize it further）\n", name);
		printf("k 未満のクラス / classes under k: %" PRIu64 " (%" PRIu64
		    " 行 / rows)\n", num(doc, "classes_under_k"),
		    num(doc, "rows_in_classes_under_k"));
	}
	printf("入力行数 / rows in:         %" PRIu64 "\n", in);
	printf("出力行数 / rows out:        %" PRIu64 "\n", out);
	printf("形式不正 / rows rejected:   %" PRIu64 "\n",
	    num(doc, "rows_rejected"));
	printf("削除行数 / rows suppressed: %" PRIu64 " (k: %" PRIu64 ", l: %"
	    PRIu64 "; 上限 / limit %s)\n", num(doc, "rows_suppressed"),
	    num(doc, "rows_suppressed_k"), num(doc, "rows_suppressed_l"),
	    jsonr_get_scalar(doc, "max_suppression", a, sizeof(a)));
	printf("モデル / privacy model:     k = %" PRIu64 ", l = %s: %s\n", k,
	    jsonr_get_scalar(doc, "l_diversity", b, sizeof(b)), out == 0 ? "出力なし / "
	    "nothing released" : smallest >= k ? "満たす / holds" :
	    "満たさない / DOES NOT HOLD");
	printf("同値クラス / classes:       %" PRIu64 " (最小 / smallest %"
	    PRIu64 ")\n", num(doc, "equivalence_classes"), smallest);
	printf("再識別リスク / risk:        最大 / highest %s, 平均 / average "
	    "%s\n", jsonr_get_scalar(doc, "risk_highest", a, sizeof(a)),
	    jsonr_get_scalar(doc, "risk_average", c, sizeof(c)));
	printf("閾値超のリスク / rows at risk: %" PRIu64 " (1/クラスの大きさ > "
	    "%s / 1 / class size above %s)\n", num(doc, "rows_at_risk"),
	    jsonr_get_scalar(doc, "risk_threshold", a, sizeof(a)), a);
	show_histogram(doc);
	show_groups(doc);
	printf("数式の無害化 / formulas guarded: %s\n",
	    jsonr_get_scalar(doc, "formulas_guarded", a, sizeof(a)));
	if (strcmp(jsonr_get_scalar(doc, "information_loss", a, sizeof(a)), "?") != 0)
		printf("情報損失 / information loss: %s (ARX の Loss 指標 / "
		    "ARX's loss metric, 0 = none, 1 = all)%s\n", a,
		    num(doc, "search_lattice_nodes") > 0 ?
		    "; 一般化の段階は探索で決定 / levels chosen by the search" :
		    "");
	if (jsonr_get_string(doc, "search_metric", name, sizeof(name)) == 0 &&
	    strcmp(name, "loss") != 0)
		printf("探索の指標 / search metric: %s = %s (小さいほど良い / "
		    "lower is better)\n", name, jsonr_get_scalar(doc,
		    "search_metric_value", a, sizeof(a)));
	report_more(text, len, show_more, NULL);
	if (jsonr_member(doc, "columns", &cols) != 0)
		return;
	printf("列 / columns:\n");
	while (jsonr_next(cols, &pos, &col) == 0) {
		if (jsonr_get_string(col, "name", name, sizeof(name)) != 0 ||
		    jsonr_get_string(col, "role", role, sizeof(role)) != 0 ||
		    jsonr_get_string(col, "action", action, sizeof(action)) != 0)
			continue;
		if (jsonr_get_u64(col, "level", &level) == 0)
			printf("  %-20s %-10s %-12s 段階 / level %" PRIu64
			    "%s, %" PRIu64 " 値 / values, 損失 / loss %s\n", name,
			    role, action, level, strcmp(jsonr_get_scalar(col,
			    "level_searched", b, sizeof(b)), "true") == 0 ?
			    " (探索 / searched)" : "", num(col,
			    "distinct_values_out"), jsonr_get_scalar(col,
			    "information_loss", c, sizeof(c)));
		else if (jsonr_get_u64(col, "distinct_values_out", &values) == 0)
			printf("  %-20s %-10s %-12s %" PRIu64 " 値 / values\n",
			    name, role, action, values);
		else
			printf("  %-20s %-10s %-12s %s\n", name, role, action,
			    strcmp(action, "drop") == 0 ? "出力しない / not "
			    "released" : "");
	}
}

/* One field as a CSV cell (quoted when it must be), for the preview. */
static void
put_cell(const char *f, uint32_t len, int first)
{
	uint32_t i;

	if (!first)
		putchar(',');
	if (strcspn(f, ",\"\r\n") >= len) {
		fwrite(f, 1, len, stdout);
		return;
	}
	putchar('"');
	for (i = 0; i < len; i++) {
		if (f[i] == '"')
			putchar('"');
		putchar(f[i]);
	}
	putchar('"');
}

/*
 * The first n rows of the release as the recipient will get them (before
 * any envelope), in UTF-8 whatever the release's encoding: what the two
 * operators sign. Read from the sealed copy with the vault's master key;
 * the plaintext is wiped once shown.
 */
static void
show_preview(struct vault *v, const struct job *j, const char *report,
    size_t reportlen, unsigned n)
{
	struct jsonr doc = { report, reportlen };
	struct seal_reader *rd = NULL;
	struct csv_reader *cr = NULL;
	enum csv_encoding enc = CSV_UTF8;
	char encname[16] = "", **f;
	size_t cap = 1u << 20, got = 0, nf, i;
	uint32_t *lens;
	unsigned row;
	uint8_t *buf;

	if (n == 0 || j->out_sha256[0] == '\0' || !v->master_loaded)
		return;
	if (jsonr_get_string(doc, "output_encoding", encname,
	    sizeof(encname)) == 0 && strcmp(encname, "cp932") == 0)
		enc = CSV_CP932;
	if ((buf = malloc(cap)) == NULL)
		return;
	if (seal_reader_open(&v->master, v->releases_fd, j->id, &rd) != 0 ||
	    seal_reader_read(rd, buf, cap, &got) != 0) {
		printf("先頭行 / preview: 読めません / the release cannot be "
		    "read here\n");
		goto out;
	}
	/* The last line read may be cut: only whole rows are shown. */
	while (got > 0 && got < j->out_size && buf[got - 1] != '\n')
		got--;
	if (csv_reader_new_mem(buf, got, enc, ',', &cr) != 0)
		goto out;
	printf("先頭 %u 行 / the first %u rows (the header first):\n", n, n);
	for (row = 0; row <= n && csv_read(cr, &f, &lens, &nf) == 1; row++) {
		printf("  ");
		for (i = 0; i < nf; i++)
			put_cell(f[i], lens[i], i == 0);
		putchar('\n');
	}
out:
	csv_reader_free(cr);
	seal_reader_free(rd);
	sk_wipe(buf, cap);
	free(buf);
}

static int
show(struct vault *v, const char *id, unsigned preview)
{
	char name[JOB_ID_MAX + 8], buf[65536];
	struct job j;
	ssize_t n;
	int fd;

	if (find(v, id, &j) != 0)
		fatalx("no job %s", id);
	printf("id:            %s\nmunicipality:  %s\ndataset:       %s\n"
	    "upload:        %llu bytes, sha256 %s\nstate:         %s%s%s\n",
	    j.id, j.municipality, j.dataset, (unsigned long long)j.size,
	    j.sha256, job_state_name(j.state), j.reason[0] ? ": " : "",
	    j.reason);
	if (j.out_sha256[0] != '\0')
		printf("release:       %llu bytes, sha256 %s\n"
		    "report:        sha256 %s\n", (unsigned long long)j.out_size,
		    j.out_sha256, j.report_sha256);
	/* The vault alone keeps the mapping to the id recipients see. */
	if (j.release_id[0] != '\0')
		printf("release id:    %s (at the sender)\n", j.release_id);
	if (j.datapackage_sha256[0] != '\0')
		printf("codebook:      datapackage.json sha256 %s\n"
		    "               codebook.md sha256 %s\n"
		    "recipients:    %s%s\n", j.datapackage_sha256,
		    j.codebook_sha256, j.recipients, j.sealed ? " (sealed)" :
		    "");
	if (j.replaces[0] != '\0')
		printf("replaces:      %s (訂正 / a correction of it)\n",
		    j.replaces);
	{
		char prev[JOB_ID_MAX];

		if (j.out_sha256[0] != '\0' && release_previous(v, &j, prev,
		    sizeof(prev)) == 0)
			printf("previous:      %s, the last release of this "
			    "dataset (前回の提供): compare with 'release diff "
			    "%.16s'\n", prev, j.id);
	}
	if (j.replaced_by[0] != '\0')
		printf("replaced by:   %s (訂正済み / corrected)%s\n",
		    j.replaced_by, j.state == JOB_PUBLISHED ?
		    "; 取り下げが必要です / withdrawal requested: two operators "
		    "sign 'release withdraw'" : "");
	snprintf(name, sizeof(name), "%s.json", j.id);
	if ((fd = openat(v->reports_fd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		printf("審査用の要約 / summary for the review:\n");
		show_summary(buf, (size_t)n);
		show_preview(v, &j, buf, (size_t)n, preview);
		printf("release report:\n%s", buf);
	}
	return 0;
}

#define REPORT_READ_MAX (4u << 20)

/*
 * release show ID --html FILE: the report's page (report_html.h) into
 * FILE, made from the report as it stands, for an operator's browser.
 */
static int
show_html(struct vault *v, const char *id, const char *path, FILE *fp)
{
	char name[JOB_ID_MAX + 8], *buf, *page = NULL;
	struct job j;
	ssize_t n;
	int fd, e;

	if (find(v, id, &j) != 0)
		fatalx("no job %s", id);
	snprintf(name, sizeof(name), "%s.json", j.id);
	if ((fd = openat(v->reports_fd, name, O_RDONLY | O_CLOEXEC)) == -1)
		fatalx("job %s has no report (yet)", j.id);
	if ((buf = malloc(REPORT_READ_MAX)) == NULL)
		fatalx("out of memory");
	n = read(fd, buf, REPORT_READ_MAX);
	close(fd);
	if (n <= 0 || n == REPORT_READ_MAX)
		fatalx("job %s: its report cannot be read", j.id);
	e = report_html(buf, (size_t)n, j.id, &page);
	free(buf);
	if (e != 0)
		fatalx("job %s: its report cannot be read: %s", j.id,
		    sk_strerror(e));
	if (fputs(page, fp) == EOF || fclose(fp) != 0)
		fatalx("%s: cannot write it", path);
	free(page);
	printf("%s: the report of %s (open it in a browser; it fetches "
	    "nothing)\n", path, j.id);
	return 0;
}

/*
 * `sekisho-vault report REPORT.json [--html PAGE.html]`: the summary that
 * `release show` prints, or the page, for a report that `anonymize` wrote
 * (a policy tried on a file before it goes into the site). 2: a wrong call.
 */
int
console_report(int argc, char **argv)
{
	char *buf, *page = NULL;
	size_t got = 0;
	ssize_t n;
	FILE *fp;
	int fd, e;

	if (argc != 1 && !(argc == 3 && strcmp(argv[1], "--html") == 0))
		return 2;
	if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", argv[0], strerror(errno));
	if ((buf = malloc(REPORT_READ_MAX + 1)) == NULL)
		fatalx("out of memory");
	while (got < REPORT_READ_MAX &&
	    (n = read(fd, buf + got, REPORT_READ_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got == 0 || got == REPORT_READ_MAX ||
	    jsonr_valid(buf, got) != 0)
		fatalx("%s: not a report (JSON, at most %u bytes)", argv[0],
		    REPORT_READ_MAX);
	buf[got] = '\0';
	if (argc == 1) {
		show_summary(buf, got);
		free(buf);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	e = report_html(buf, got, argv[0], &page);
	free(buf);
	if (e != 0)
		fatalx("%s: cannot be read: %s", argv[0], sk_strerror(e));
	if ((fp = fopen(argv[2], "w")) == NULL)
		fatalx("%s: %s", argv[2], strerror(errno));
	if (fputs(page, fp) == EOF || fclose(fp) != 0)
		fatalx("%s: cannot write it", argv[2]);
	free(page);
	return 0;
}

/* Operators' reasons are short printable text on one line. */
static int
reason_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= APPROVAL_REASON_MAX && sk_utf8_printable(s, n);
}

/* data/status, as main last wrote it: 0, or -1 if it cannot be read. */
static int
status_read(struct vault *v, char *audit, size_t acap, char *since,
    size_t scap, char *error, size_t ecap, uint64_t *lost)
{
	char path[PATH_MAX], buf[1024];
	struct jsonr doc;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/status", v->local.data_dir) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	doc.p = buf;
	doc.n = (size_t)n;
	since[0] = error[0] = '\0';
	*lost = 0;
	if (jsonr_valid(buf, (size_t)n) != 0 ||
	    jsonr_get_string(doc, "audit", audit, acap) != 0)
		return -1;
	jsonr_get_string(doc, "since", since, scap);
	jsonr_get_string(doc, "error", error, ecap);
	jsonr_get_u64(doc, "entries_not_written", lost);
	return 0;
}

int
vault_status(struct vault *v, int argc, char **argv)
{
	char audit[32], since[40], error[128], **ids = NULL;
	unsigned count[JOB_NSTATES] = { 0 };
	int64_t now = (int64_t)time(NULL), oldest = 0;
	const char *prom;
	struct health h;
	struct job j;
	uint64_t lost;
	size_t n = 0, i;
	int as_json, fd, s;

	if (health_args(argc, argv, &as_json, &prom) != 0)
		return -1;
	health_init(&h, "vault");
	if (status_read(v, audit, sizeof(audit), since, sizeof(since), error,
	    sizeof(error), &lost) != 0)
		health_add(&h, HEALTH_UNKNOWN, "working", 0, "状態 / status: "
		    "不明 / unknown (%s/status cannot be read: has the vault "
		    "run?)", v->local.data_dir);
	else if (strcmp(audit, "unwritable") == 0)
		health_add(&h, HEALTH_CRITICAL, "working", 0, "監査ログ / audit "
		    "log: 書き込めません / cannot be written since %s (%s); "
		    "entries not written: %" PRIu64 "; 受付・処理・承認・公開を"
		    "停止しています / taking, processing, approving and "
		    "publishing are stopped (R50)", since, error, lost);
	else
		health_add(&h, HEALTH_OK, "working", 1, "監査ログ / audit log: "
		    "書き込み可 / writable; 稼働中 / working");
	/* The jobs per state, and how long the oldest has awaited its
	 * operators. */
	if ((fd = open(v->local.data_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		v->jobs_fd = openat(fd, "jobs", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		close(fd);
	}
	if (v->jobs_fd >= 0 && job_list(v->jobs_fd, &ids, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (job_load(v->jobs_fd, ids[i], &j) == 0 &&
			    j.state < JOB_NSTATES) {
				count[j.state]++;
				if (j.state == JOB_AWAITING && (oldest == 0 ||
				    j.received < oldest))
					oldest = j.received;
			}
			free(ids[i]);
		}
		free(ids);
		for (s = 0; s < JOB_NSTATES; s++) {
			char metric[64];

			snprintf(metric, sizeof(metric), "jobs_%s",
			    job_state_name((enum job_state)s));
			health_add(&h, HEALTH_OK, metric, count[s],
			    "ジョブ / jobs %s: %u", job_state_name(
			    (enum job_state)s), count[s]);
		}
		health_add(&h, oldest > 0 && now - oldest > 7 * 86400 ?
		    HEALTH_WARNING : HEALTH_OK, "oldest_awaiting_seconds",
		    oldest > 0 ? (double)(now - oldest) : 0,
		    "承認待ちの最古 / the oldest awaiting approval: %" PRId64
		    " s", oldest > 0 ? now - oldest : 0);
	} else
		health_add(&h, HEALTH_UNKNOWN, "jobs_received", 0, "ジョブ / "
		    "jobs: %s/jobs cannot be read", v->local.data_dir);
	health_add(&h, HEALTH_OK, "published_24h", (double)
	    health_recent_events(v->local.audit_log, "release.published",
	    now - 86400), "24時間の公開 / published in 24 h");
	health_common(&h, &v->local, v->site, v->local.require_firewall);
	return health_report(&h, as_json, prom);
}

/*
 * What the operator is about to sign, shown before anything is signed: the
 * release's figures from its report and the exact text of the signature
 * (digests, operator, time). Then a confirmation from the terminal, unless
 * --yes; without a terminal and without --yes, nothing is signed.
 */
static void
confirm(struct vault *v, const struct job *j, const char *action,
    const char *op, int64_t now, const char *reason, int yes)
{
	char name[JOB_ID_MAX + 8], rep[8192], msg[APPROVAL_MSG_MAX], answer[16];
	uint64_t rows_in = 0, rows_out = 0, k = 0;
	struct jsonr doc = { rep, 0 };
	ssize_t r = 0;
	int fd;

	snprintf(name, sizeof(name), "%s.json", j->id);
	if ((fd = openat(v->reports_fd, name, O_RDONLY | O_CLOEXEC)) != -1) {
		r = read(fd, rep, sizeof(rep) - 1);
		close(fd);
	}
	doc.n = r > 0 ? (size_t)r : 0;
	jsonr_get_u64(doc, "rows_in", &rows_in);
	jsonr_get_u64(doc, "rows_out", &rows_out);
	jsonr_get_u64(doc, "k", &k);
	if (approval_message(j, action, op, now, reason, msg, sizeof(msg)) != 0)
		fatalx("cannot make the text to sign");
	printf("署名する内容 / what you are about to sign:\n"
	    "  ジョブ / job:        %s (%s, %s)\n"
	    "  行数 / rows:         %llu in, %llu out, k = %llu\n"
	    "  リリース / release:  %llu bytes, SHA-256 %s\n"
	    "  報告 / report:       SHA-256 %s (%s/reports/%s.json)\n"
	    "  コードブック / codebook:\n"
	    "    datapackage.json   SHA-256 %s (%s/reports/%s.datapackage.json)\n"
	    "    codebook.md        SHA-256 %s (%s/reports/%s.codebook.md)\n"
	    "  提供先 / recipients: %s%s\n"
	    "  署名する文 / signed text:\n", j->id, j->municipality,
	    j->dataset, (unsigned long long)rows_in,
	    (unsigned long long)rows_out, (unsigned long long)k,
	    (unsigned long long)j->out_size, j->out_sha256, j->report_sha256,
	    v->local.data_dir, j->id, j->datapackage_sha256, v->local.data_dir,
	    j->id, j->codebook_sha256, v->local.data_dir, j->id,
	    j->recipients, j->sealed ? "（証明書あて暗号化 / sealed to their "
	    "certificates）" : "");
	for (char *l = msg, *nl; *l != '\0'; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL)
			break;
		printf("    %.*s\n", (int)(nl - l), l);
	}
	fflush(stdout);
	if (yes)
		return;
	if (!isatty(STDIN_FILENO))
		fatalx("標準入力が端末ではないため署名しません。スクリプトでは --yes "
		    "を付けてください / stdin is not a terminal: nothing signed "
		    "(scripts pass --yes)");
	printf("署名しますか / sign it? [y/N] ");
	fflush(stdout);
	if (fgets(answer, sizeof(answer), stdin) == NULL ||
	    (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0))
		fatalx("署名しませんでした / not signed");
}

static int
decide(struct vault *v, const char *action, const char *id, const char *op,
    EVP_PKEY *key, const char *reason, int yes)
{
	const struct config_operator *o = site_find_operator(v->site, op);
	const struct config_dataset *ds;
	char msg[APPROVAL_MSG_MAX], sig[256], why[256], ops[256], shown[272];
	char seen[272], recips[sizeof(((struct job *)0)->recipients)];
	char note[400];
	int64_t now = (int64_t)time(NULL);
	enum job_state want = strcmp(action, "withdraw") == 0 ? JOB_PUBLISHED :
	    JOB_AWAITING;
	unsigned n, bad;
	uint64_t lost;
	struct job j;
	int lk;

	if (o == NULL)
		fatalx("operator %s is not on the roster; refused", op);
	/* R50: no decision is taken while the vault cannot record it. */
	if (status_read(v, msg, sizeof(msg), why, sizeof(why), ops,
	    sizeof(ops), &lost) == 0 && strcmp(msg, "unwritable") == 0)
		fatalx("監査ログに書き込めないため、判断を受け付けません / the "
		    "vault's audit log cannot be written (since %s): no "
		    "decision is taken until it can (R50)", why);
	/* Shown and confirmed before the jobs are locked (a person may take
	 * a while); what is signed must then still be what was shown. */
	if (find(v, id, &j) != 0)
		fatalx("no job %s", id);
	if (j.state != want)
		fatalx("job %s is %s: it cannot be %s now", j.id,
		    job_state_name(j.state), strcmp(action, "approve") == 0 ?
		    "approved" : strcmp(action, "reject") == 0 ? "rejected" :
		    "withdrawn");
	confirm(v, &j, action, op, now, reason, yes);
	snprintf(recips, sizeof(recips), "%s", j.recipients);
	snprintf(shown, sizeof(shown), "%s %s %s %s", j.out_sha256,
	    j.report_sha256, j.datapackage_sha256, j.codebook_sha256);
	if ((lk = job_lock(v->jobs_fd)) < 0)
		fatalx("cannot lock the jobs");
	if (find(v, id, &j) != 0)
		fatalx("no job %s", id);
	snprintf(seen, sizeof(seen), "%s %s %s %s", j.out_sha256,
	    j.report_sha256, j.datapackage_sha256, j.codebook_sha256);
	if (j.state != want || strcmp(seen, shown) != 0 ||
	    strcmp(j.recipients, recips) != 0)
		fatalx("job %s changed while it was shown (now %s): nothing "
		    "signed", j.id, job_state_name(j.state));
	if (approval_message(&j, action, op, now, reason, msg,
	    sizeof(msg)) != 0 ||
	    approval_sign(key, msg, sig, sizeof(sig), why, sizeof(why)) != 0)
		fatalx("cannot sign: %s", why);
	/* The key must be the one the roster has for this operator. */
	if (approval_verify(o, v->op_keys[o - v->site->operators], msg, sig,
	    now, why, sizeof(why)) != 0)
		fatalx("refused: %s", why);
	if (approval_record(v->jobs_fd, j.id, action, op, now, sig,
	    reason) != 0)
		fatalx("cannot record the decision");
	approval_count(v->jobs_fd, v->site, v->op_keys, &j, action, now, &n, &bad, ops,
	    sizeof(ops), NULL, 0);
	job_unlock(lk);
	/* Each signature its own audit entry, with the operator's id and
	 * the digest of the text signed (the daemon records it). */
	util_sha256_hex(msg, strlen(msg), seen);
	snprintf(note, sizeof(note), "operator=%s time=%" PRId64
	    " signed_sha256=%s", op, now, seen);
	console_note(v, strcmp(action, "approve") == 0 ? "release-approve" :
	    strcmp(action, "reject") == 0 ? "release-reject" :
	    "release-withdraw", j.id, note);
	ds = site_find_dataset(v->site, j.dataset);
	printf("%s: %s by %s recorded: %u of %u distinct operators (%s)\n",
	    j.id, strcmp(action, "approve") == 0 ? "approval" :
	    strcmp(action, "reject") == 0 ? "rejection" : "withdrawal", op, n,
	    ds ? ds->approvals : 2, ops);
	return 0;
}

int
console_release(struct vault *v, int argc, char **argv)
{
	const char *op = NULL, *keyfile = NULL, *reason = NULL;
	EVP_PKEY *key = NULL;
	char why[256];
	int i, r, yes = 0;

	/* The operator's key is read as whoever runs the command (root at
	 * the console may read it); the vault's data is then touched as the
	 * vault's own user only, so the daemon can still read and lock it. */
	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		const char *state = NULL;
		int as_json = 0;

		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				as_json = 1;
			else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
				state = argv[++i];
			else
				return -1;
		}
		console_open(v);
		return list(v, state, as_json);
	}
	if (argc >= 2 && argc % 2 == 0 && strcmp(argv[0], "show") == 0) {
		const char *html = NULL;
		unsigned preview = 20;
		char *end;

		for (i = 2; i + 1 < argc; i += 2) {
			unsigned long pv = strtoul(argv[i + 1], &end, 10);

			if (strcmp(argv[i], "--html") == 0 && html == NULL)
				html = argv[i + 1];
			else if (strcmp(argv[i], "--preview") != 0 ||
			    *end != '\0' || argv[i + 1][0] == '\0' ||
			    pv > 100000)
				return -1;
			else
				preview = (unsigned)pv;
		}
		if (html != NULL) {
			/* The file is opened as whoever runs the command
			 * (their folder), before the vault's user is taken. */
			FILE *fp = fopen(html, "w");

			if (fp == NULL)
				fatalx("%s: %s", html, strerror(errno));
			console_open(v);
			r = show_html(v, argv[1], html, fp);
			if (r == 0)
				console_note(v, "release-show-html", argv[1],
				    "preview_rows=0");
			return r;
		}
		/* The master key, as whoever runs the command (root may
		 * read it), for the preview of the sealed release. */
		if (preview > 0 &&
		    seal_master_load(v->local.master_key, &v->master) == 0)
			v->master_loaded = 1;
		console_open(v);
		r = show(v, argv[1], preview);
		if (r == 0) {
			char detail[64];

			snprintf(detail, sizeof(detail), "preview_rows=%u%s",
			    preview, v->master_loaded ? "" : " sealed");
			console_note(v, "release-show", argv[1], detail);
		}
		if (v->master_loaded)
			seal_master_wipe(&v->master);
		return r;
	}
	if ((argc == 2 || argc == 4) && strcmp(argv[0], "diff") == 0) {
		struct job j;

		if (argc == 4 && strcmp(argv[2], "--with") != 0)
			return -1;
		if (seal_master_load(v->local.master_key, &v->master) != 0)
			fatalx("the master key %s cannot be read: run this as "
			    "root at the vault's console", v->local.master_key);
		v->master_loaded = 1;
		console_open(v);
		if (find(v, argv[1], &j) != 0)
			fatalx("no job %s", argv[1]);
		if (j.out_sha256[0] == '\0')
			fatalx("job %s has no release to compare", j.id);
		r = release_diff(v, &j, argc == 4 ? argv[3] : NULL);
		seal_master_wipe(&v->master);
		return r;
	}
	if (argc < 2)
		return -1;
	/* --yes, wherever it is: for scripts, which have no terminal. */
	for (i = r = 2; i < argc; i++)
		if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else
			argv[r++] = argv[i];
	argc = r;
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--operator") == 0)
			op = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			keyfile = argv[i + 1];
		else if (strcmp(argv[i], "--reason") == 0)
			reason = argv[i + 1];
		else
			return -1;
	}
	if (i != argc || op == NULL || keyfile == NULL)
		return -1;
	if (strcmp(argv[0], "reject") == 0) {
		if (reason == NULL || !reason_ok(reason))
			fatalx("reject needs --reason: one line of at most %d "
			    "characters", APPROVAL_REASON_MAX);
	} else if (reason != NULL || (strcmp(argv[0], "approve") != 0 &&
	    strcmp(argv[0], "withdraw") != 0))
		return -1;
	if (approval_load_key(keyfile, &key, why, sizeof(why)) != 0)
		fatalx("cannot sign: %s", why);
	console_open(v);
	r = decide(v, argv[0], argv[1], op, key, reason, yes);
	EVP_PKEY_free(key);
	return r;
}
