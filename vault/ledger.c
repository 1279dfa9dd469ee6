/*
 * ledger.c: the council's ledgers, forms 7 to 10, printed from the three
 * hosts' audit logs and the site's registers (R40, R44, R31).
 *
 *   ledger --form 7|8|9|10 [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *          --logs DIR|FILE ...
 *
 * The auditor copies the receiver's, the vault's and the sender's audit
 * logs to the vault's console (each log says whose it is by its first
 * entries); the command joins them by object id: an upload id from the
 * receiver's `upload.stored` to the vault's jobs, the vault's
 * `release.published` to the release id at the sender. File names the
 * municipalities chose are never in a log: they come from the receipt
 * sealed beside each job (jobs/ID.receipt), opened with the master key, so
 * the ledgers are printed at the vault only. Output: CSV in UTF-8 with a
 * byte order mark and CRLF line ends (Excel opens it as is), the forms'
 * own Japanese column headers, times in JST. Where a column cannot be
 * filled, 備考 says why.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approve.h"
#include "backup.h"
#include "daemon.h"
#include "jsonr.h"
#include "ledger.h"
#include "logbook.h"
#include "roster.h"
#include "log.h"
#include "proto.h"
#include "seal.h"
#include "sk.h"
#include "vaultd.h"

/* ---- CSV ---- */

static void
csv_field(FILE *fp, const char *s, int last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', fp);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', fp);
			fputc(*p, fp);
		}
		fputc('"', fp);
	} else
		fputs(s, fp);
	fputs(last ? "\r\n" : ",", fp);
}

static void
csv_row(FILE *fp, const char *const *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		csv_field(fp, cols[i] != NULL ? cols[i] : "", i + 1 == n);
}

/* ---- what the vault knows beside the logs ---- */

/* The file name from the sealed receipt, or "" (and why in note). */
static void
receipt_name(struct vault *v, const char *id, char *out, size_t cap,
    char *note, size_t ncap)
{
	char name[JOB_ID_MAX + 16], buf[PROTO_RECEIPT_MAX + 1];
	struct seal_reader *r;
	struct jsonr doc;
	size_t got = 0;

	out[0] = '\0';
	snprintf(name, sizeof(name), "%.64s.receipt", id);
	if (!v->master_loaded || !job_id_valid(id) ||
	    seal_reader_open(&v->master, v->jobs_fd, name, &r) != 0) {
		snprintf(note, ncap, "ファイル名: 封かんされた受領記録がない"
		    "ため記載できません");
		return;
	}
	if (seal_reader_read(r, (uint8_t *)buf, sizeof(buf) - 1, &got) != 0)
		got = 0;
	seal_reader_free(r);
	buf[got] = '\0';
	doc.p = buf;
	doc.n = got;
	if (got == 0 || jsonr_get_string(doc, "filename", out, cap) != 0) {
		out[0] = '\0';
		snprintf(note, ncap, "ファイル名: 受領記録を読めません");
	}
	sk_wipe(buf, sizeof(buf));
}

static const char *
muni_label(const struct vault *v, const char *actor, char *out, size_t cap)
{
	const struct config_municipality *m;
	const char *id = strncmp(actor, "muni:", 5) == 0 ? actor + 5 : actor;

	m = site_find_municipality(v->site, id);
	snprintf(out, cap, "%s%s%s", id, m != NULL && m->name[0] ? " " : "",
	    m != NULL ? m->name : "");
	return out;
}

/* One id of a list, as the ledgers name it. */
typedef void (*label_fn)(const struct vault *v, const char *id, char *out,
    size_t cap);

static void
operator_one(const struct vault *v, const char *id, char *out, size_t cap)
{
	const struct config_operator *o = site_find_operator(v->site, id);

	snprintf(out, cap, "%s%s%s%s", id, o != NULL && o->name[0] ? " (" : "",
	    o != NULL ? o->name : "", o != NULL && o->name[0] ? ")" : "");
}

static void
recipient_one(const struct vault *v, const char *id, char *out, size_t cap)
{
	const struct config_recipient *rc = site_find_recipient(v->site, id);

	snprintf(out, cap, "%s%s%s%s%s", id, rc != NULL && rc->name[0] ?
	    " " : "", rc != NULL ? rc->name : "", rc != NULL &&
	    rc->contract[0] ? " 契約 " : "", rc != NULL ? rc->contract : "");
}

/* "op1,op3" as "op1 (name)、op3 (name)", and the like. */
static void
ids_label(const struct vault *v, const char *ids, label_fn one, char *out,
    size_t cap)
{
	char id[CONFIG_ID_MAX], label[CONFIG_NAME_MAX * 2 + 64];
	size_t off = 0, n;
	const char *p = ids;

	out[0] = '\0';
	while (*p != '\0' && off + 1 < cap) {
		n = strcspn(p, ",");
		snprintf(id, sizeof(id), "%.*s", (int)n, p);
		one(v, id, label, sizeof(label));
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
		    off ? "、" : "", label);
		p += n;
		if (*p == ',')
			p++;
	}
}

static void
operators_label(const struct vault *v, const char *ids, char *out, size_t cap)
{
	ids_label(v, ids, operator_one, out, cap);
}

static void
recipients_label(const struct vault *v, const char *ids, char *out,
    size_t cap)
{
	ids_label(v, ids, recipient_one, out, cap);
}

static const char *
reason_ja(const char *r)
{
	if (strcmp(r, "handed_over") == 0)
		return "保管庫へ引渡し後に消去";
	if (strcmp(r, "decided") == 0)
		return "提供の可否の判断後に消去";
	if (strcmp(r, "expired") == 0)
		return "保存期間の満了により消去";
	if (strcmp(r, "replaced") == 0)
		return "訂正版による差替えで消去";
	if (strcmp(r, "withdrawn") == 0)
		return "提供の撤回により消去";
	return r;
}

static int
in_period(int64_t t, int64_t from, int64_t to)
{
	return t >= from && t < to;
}

/* ---- form 8: 受払簿 ---- */

static void
form8(struct vault *v, const struct book *b, int64_t from, int64_t to,
    FILE *fp)
{
	static const char *const head[] = { "受払簿No.", "入手 年月日",
		"入手 取扱者", "特定個人情報等(ファイル名・書類名)", "入手目的",
		"提出/廃棄 年月日", "事由", "取扱者", "備考" };
	const struct entry *st, *rd, *vd, *ap, *rj, *ex;
	const struct config_dataset *ds;
	char when[32], gone[32], who[512], fname[300], note[1024], why[512];
	char ops[256], ops_l[512], rsn[64], vr[64], state[32], dsid[CONFIG_ID_MAX];
	char rows[24];
	struct job j;
	size_t i;
	int64_t last;

	csv_row(fp, head, 9);
	for (i = 0; i < b->n; i++) {
		st = &b->e[i];
		if (st->host != H_RECEIVER || strcmp(st->event,
		    "upload.stored") != 0)
			continue;
		rd = logbook_find(b, H_RECEIVER, "upload.disposed", st->object);
		vd = logbook_find_kind(b, H_VAULT, "object.disposed",
		    st->object, "source");
		ap = logbook_find(b, H_VAULT, "release.approved", st->object);
		rj = logbook_find(b, H_VAULT, "release.rejected", st->object);
		ex = logbook_find(b, H_VAULT, "job.expired", st->object);
		last = vd != NULL ? vd->t : 0;
		if (!in_period(st->t, from, to) && !(last > 0 &&
		    in_period(last, from, to)))
			continue;
		logbook_word(st->detail, dsid, sizeof(dsid));
		ds = site_find_dataset(v->site, dsid);
		if (logbook_detail(st->detail, "rows", rows, sizeof(rows)) != 0)
			snprintf(rows, sizeof(rows), "-");
		note[0] = '\0';
		logbook_jst(st->t, 0, when, sizeof(when));
		snprintf(who, sizeof(who), "受信サーバ(自動受信) 送信元: ");
		muni_label(v, st->actor, who + strlen(who),
		    sizeof(who) - strlen(who));
		receipt_name(v, st->object, fname, sizeof(fname), note,
		    sizeof(note));
		logbook_jst(last, 0, gone, sizeof(gone));
		why[0] = '\0';
		if (rd != NULL && logbook_detail(rd->detail, "reason", rsn,
		    sizeof(rsn)) == 0)
			snprintf(why, sizeof(why), "受信サーバ: %s",
			    reason_ja(rsn));
		if (vd != NULL && logbook_detail(vd->detail, "reason", vr,
		    sizeof(vr)) == 0)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
			    "%s保管庫: %s", why[0] ? "; " : "", reason_ja(vr));
		ops[0] = '\0';
		if (ap != NULL || rj != NULL)
			logbook_detail((ap != NULL ? ap : rj)->detail, "operators",
			    ops, sizeof(ops));
		if (ops[0] != '\0')
			operators_label(v, ops, ops_l, sizeof(ops_l));
		else
			snprintf(ops_l, sizeof(ops_l), "%s", ex != NULL ?
			    "保管庫(自動: 保存期間満了)" : last > 0 ?
			    "保管庫(自動)" : "");
		state[0] = '\0';
		if (job_load(v->jobs_fd, st->object, &j) == 0)
			snprintf(state, sizeof(state), "%s",
			    job_state_name(j.state));
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
		    "%sデータセット %.64s; %zu バイト、%s 行 (見出し行を含む); 状態 %s%s",
		    note[0] ? "; " : "", dsid, (size_t)st->size, rows,
		    state[0] ? state :
		    "保管庫の記録なし", ap != NULL ? "; 提供承認済み" :
		    rj != NULL ? "; 提供却下" : "");
		if (ds == NULL || ds->purpose[0] == '\0')
			snprintf(note + strlen(note), sizeof(note) -
			    strlen(note), "; 入手目的がサイト設定の登録簿にあり"
			    "ません (datasets.purpose)");
		if (last == 0)
			snprintf(note + strlen(note), sizeof(note) -
			    strlen(note), "; 保管庫で保管中 (廃棄前)");
		{
			const char *cols[] = { st->object, when, who, fname,
				ds != NULL ? ds->purpose : "", gone, why, ops_l,
				note };

			csv_row(fp, cols, SK_ARRAY_LEN(cols));
		}
	}
}

/* ---- form 9: 使用記録簿 ---- */

static void
form9_row(struct vault *v, FILE *fp, int64_t t, const char *id,
    const char *dataset, const char *user, const char *what)
{
	const struct config_dataset *ds = site_find_dataset(v->site, dataset);
	char when[32], fname[300], note[512] = "";
	const char *cols[] = { when, id, fname, ds != NULL ? ds->purpose : "",
		user, note };

	logbook_jst(t, 1, when, sizeof(when));
	receipt_name(v, id, fname, sizeof(fname), note, sizeof(note));
	snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s%s",
	    note[0] ? "; " : "", what);
	if (ds == NULL || ds->purpose[0] == '\0')
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
		    "; 使用目的がサイト設定の登録簿にありません");
	csv_row(fp, cols, SK_ARRAY_LEN(cols));
}

/* The individual signatures beside a job (jobs/ID.approvals). */
static void
form9_signatures(struct vault *v, FILE *fp, const char *id,
    const char *dataset, int64_t from, int64_t to)
{
	char name[JOB_ID_MAX + 16], line[1024], act[16], op[CONFIG_ID_MAX];
	char who[320], what[64];
	long long t;
	FILE *in;
	int fd;

	snprintf(name, sizeof(name), "%.64s.approvals", id);
	if (!job_id_valid(id) || (fd = openat(v->jobs_fd, name, O_RDONLY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if ((in = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		if (sscanf(line, "%15s %63s %lld", act, op, &t) != 3 ||
		    !in_period((int64_t)t, from, to))
			continue;
		operators_label(v, op, who, sizeof(who));
		snprintf(what, sizeof(what), "%s (署名)", strcmp(act,
		    "approve") == 0 ? "提供の承認" : strcmp(act, "reject") ==
		    0 ? "提供の却下" : "提供の撤回");
		form9_row(v, fp, (int64_t)t, id, dataset, who, what);
	}
	fclose(in);
}

/*
 * A release looked at on the console (R30): its report and preview shown,
 * written as HTML, or compared with the one before. The user is the
 * console's login, who need not be an operator.
 */
static void
form9_view(struct vault *v, FILE *fp, const struct entry *e)
{
	char cmd[32], rows[16], who[128], what[128];
	const char *user = strncmp(e->actor, "console:", 8) == 0 ?
	    e->actor + 8 : e->actor;
	struct job j;

	if (logbook_detail(e->detail, "command", cmd, sizeof(cmd)) != 0 ||
	    e->object[0] == '\0' || job_load(v->jobs_fd, e->object, &j) != 0)
		return;
	if (strcmp(cmd, "release-show") == 0) {
		if (logbook_detail(e->detail, "preview_rows", rows,
		    sizeof(rows)) != 0 || strcmp(rows, "0") == 0 ||
		    strstr(e->detail, " sealed") != NULL)
			snprintf(what, sizeof(what), "処理報告の表示 (コンソール)");
		else
			snprintf(what, sizeof(what), "処理報告と提供データ先頭 "
			    "%s 行の表示 (コンソール)", rows);
	} else if (strcmp(cmd, "release-show-html") == 0)
		snprintf(what, sizeof(what), "処理報告の HTML 出力 (コンソール)");
	else if (strcmp(cmd, "release-diff") == 0)
		snprintf(what, sizeof(what), "前回の提供データとの比較 "
		    "(コンソール)");
	else
		return;
	snprintf(who, sizeof(who), "%s (コンソールの利用者)", user);
	form9_row(v, fp, e->t, e->object, j.dataset, who, what);
}

static void
form9(struct vault *v, const struct book *b, int64_t from, int64_t to,
    FILE *fp)
{
	static const char *const head[] = { "使用日時", "受払簿No.",
		"使用する特定個人情報等(ファイル名・書類名)", "使用目的",
		"使用者", "備考" };
	const struct entry *e;
	char ds[CONFIG_ID_MAX], state[32];
	struct job j;
	size_t i;

	csv_row(fp, head, 6);
	for (i = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->host != H_VAULT)
			continue;
		if (strcmp(e->event, "job.state") == 0 &&
		    logbook_detail(e->detail, "state", state, sizeof(state)) == 0 &&
		    strcmp(state, "processing") == 0 &&
		    in_period(e->t, from, to)) {
			logbook_detail(e->detail, "dataset", ds, sizeof(ds));
			form9_row(v, fp, e->t, e->object, ds,
			    "保管庫(自動処理)", "匿名加工の実行");
		} else if (strcmp(e->event, "job.received") == 0 &&
		    job_load(v->jobs_fd, e->object, &j) == 0)
			form9_signatures(v, fp, e->object, j.dataset, from, to);
		else if (strcmp(e->event, "console.used") == 0 &&
		    in_period(e->t, from, to))
			form9_view(v, fp, e);
	}
}

/* ---- form 10: 複製・運搬記録簿 ---- */

static void
form10_row(FILE *fp, int64_t t, const char *what, const char *src,
    const char *dst, const char *amount, const char *purpose,
    const char *worker, const char *note)
{
	char when[32];
	const char *cols[] = { when, what, src, dst, amount, purpose, worker,
		note };

	logbook_jst(t, 1, when, sizeof(when));
	csv_row(fp, cols, SK_ARRAY_LEN(cols));
}

static void
form10(struct vault *v, const struct book *b, int64_t from, int64_t to,
    FILE *fp)
{
	static const char *const head[] = { "複製日時",
		"複製元特定個人情報等(ファイル名・書類名)",
		"複製元(媒体等)/運搬元所在地", "複製先(媒体等)/運搬先所在地",
		"複製の量", "複製・運搬の目的(引き渡し先)", "作業者", "備考" };
	const struct entry *e, *pub;
	char fname[300], note[512], amount[128], rel[64], recips[1100];
	char rl[1024], ops[256], ops_l[512], what[400], rid[64], src[128];
	struct job j;
	size_t i, k;

	csv_row(fp, head, 8);
	for (i = 0; i < b->n; i++) {
		e = &b->e[i];
		if (!in_period(e->t, from, to))
			continue;
		note[0] = '\0';
		snprintf(amount, sizeof(amount), "%" PRIu64 " バイト", e->size);
		if (e->host == H_RECEIVER &&
		    strcmp(e->event, "upload.handed_over") == 0) {
			const struct entry *st = logbook_find(b, H_RECEIVER,
			    "upload.stored", e->object);
			char n[24];

			/* The receipt's records beside the bytes. */
			if (st != NULL && logbook_detail(st->detail, "rows", n,
			    sizeof(n)) == 0)
				snprintf(amount, sizeof(amount), "%" PRIu64
				    " バイト (%s 行、見出し行を含む)", e->size, n);
			receipt_name(v, e->object, fname, sizeof(fname), note,
			    sizeof(note));
			snprintf(what, sizeof(what), "%s", fname);
			snprintf(note + strlen(note), sizeof(note) -
			    strlen(note), "%s受払簿No. %s", note[0] ? "; " :
			    "", e->object);
			form10_row(fp, e->t, what, "受信サーバ (封かん保存)",
			    "保管庫 (封かん保存、TLS 1.3 相互認証で転送)",
			    amount, "匿名加工のため保管庫へ引渡し",
			    "保管庫(自動)", note);
		} else if (e->host == H_VAULT &&
		    strcmp(e->event, "release.published") == 0) {
			char n[24];

			if (logbook_detail(e->detail, "rows", n, sizeof(n)) == 0)
				snprintf(amount, sizeof(amount), "%" PRIu64
				    " バイト (%s 件、見出し行を除く)", e->size, n);
			logbook_detail(e->detail, "release", rel, sizeof(rel));
			logbook_detail(e->detail, "recipients", recips,
			    sizeof(recips));
			if (recips[0] == '\0' && job_load(v->jobs_fd,
			    e->object, &j) == 0) {
				const struct config_dataset *ds =
				    site_find_dataset(v->site, j.dataset);

				for (k = 0; ds != NULL && k < ds->nrecipients;
				    k++)
					snprintf(recips + strlen(recips),
					    sizeof(recips) - strlen(recips),
					    "%s%s", k ? "," : "",
					    ds->recipients[k]);
			}
			recipients_label(v, recips, rl, sizeof(rl));
			pub = logbook_find(b, H_VAULT, "release.approved", e->object);
			ops[0] = '\0';
			if (pub != NULL)
				logbook_detail(pub->detail, "operators", ops,
				    sizeof(ops));
			operators_label(v, ops, ops_l, sizeof(ops_l));
			snprintf(what, sizeof(what), "匿名加工情報 (受払簿No. "
			    "%.32s から作成)", e->object);
			snprintf(rid, sizeof(rid), "%s", rel);
			snprintf(note, sizeof(note), "提供 ID %s", rid);
			snprintf(recips, sizeof(recips), "提供: %s", rl);
			form10_row(fp, e->t, what, "保管庫", "送信サーバ "
			    "(封かん保存、TLS 1.3 相互認証で転送)", amount,
			    recips, ops_l[0] ? ops_l : "保管庫(自動)", note);
		} else if (e->host == H_SENDER &&
		    (strcmp(e->event, "download.completed") == 0 ||
		    strcmp(e->event, "release.delivered") == 0)) {
			const char *rc = strncmp(e->actor, "recip:", 6) == 0 ?
			    e->actor + 6 : e->actor;
			char complete[8];

			if (strcmp(e->event, "download.completed") == 0 &&
			    logbook_detail(e->detail, "complete", complete,
			    sizeof(complete)) == 0 && strcmp(complete, "1") !=
			    0)
				continue;	/* a part: the whole is a row */
			recipients_label(v, rc, rl, sizeof(rl));
			snprintf(what, sizeof(what), "匿名加工情報 (提供 ID "
			    "%.32s)", e->object);
			snprintf(src, sizeof(src), "%s",
			    strcmp(e->event, "release.delivered") == 0 ?
			    "提供先の受信口 (送信サーバから送付)" :
			    "提供先 (クライアント証明書で取得)");
			snprintf(recips, sizeof(recips), "提供: %s", rl);
			form10_row(fp, e->t, what, "送信サーバ", src, amount,
			    recips, strcmp(e->event, "release.delivered") ==
			    0 ? "送信サーバ(自動送付)" : rl, "");
		} else if (e->host == H_VAULT &&
		    strcmp(e->event, "backup.written") == 0) {
			const char *op = strncmp(e->actor, "operator:", 9) ==
			    0 ? e->actor + 9 : e->actor;

			operators_label(v, op, ops_l, sizeof(ops_l));
			logbook_detail(e->detail, "path", rl, sizeof(rl));
			snprintf(what, sizeof(what), "保管庫の保管領域一式 "
			    "(封かん)");
			snprintf(note, sizeof(note), "バックアップ %s",
			    e->object);
			form10_row(fp, e->t, what, "保管庫", rl, amount,
			    "バックアップ", ops_l, note);
		}
	}
}

/* ---- form 7: 特定個人情報事務取扱者名簿 ---- */

static const char *const form7_head[] = { "利用者名",
	"取扱う特定個人情報の範囲", "指定年月日", "解除年月日", "備考" };

/* One operator of a roster version, as a row of form 7. */
static void
form7_row(FILE *fp, const struct roster_entry *r, const char *version,
    int64_t recorded, int removed)
{
	char a[32], u[32], when[32], note[512];

	logbook_jst(r->valid_from - JST, 0, a, sizeof(a));
	logbook_jst(r->valid_until - 86400 - JST, 0, u, sizeof(u));
	logbook_jst(recorded, 0, when, sizeof(when));
	snprintf(note, sizeof(note), "操作者 ID %s; 名簿の版 %.12s (%s 記録)%s%s",
	    r->id, version, when, removed ? "; 後の版で名簿から外れた" : "",
	    r->scope[0] ? "" : "; 取扱う範囲が名簿にありません "
	    "(operators.scope)");
	{
		const char *cols[] = { r->name[0] ? r->name : r->id, r->scope,
			a, u, note };

		csv_row(fp, cols, SK_ARRAY_LEN(cols));
	}
}

static int
same_entry(const struct roster_entry *x, const struct roster_entry *y)
{
	return strcmp(x->id, y->id) == 0 && strcmp(x->name, y->name) == 0 &&
	    strcmp(x->scope, y->scope) == 0 && x->valid_from == y->valid_from &&
	    x->valid_until == y->valid_until;
}

/*
 * Form 7 from the roster's versions the vault recorded (roster.h): each
 * operator entry of every version in force at some time in the period, on
 * the roster at that time, once. -1 when the logs name no version (then
 * the site file in force now is printed).
 */
#define FORM7_ROWS_MAX 4096

static int
form7_history(struct vault *v, const struct book *b, int64_t from, int64_t to,
    FILE *fp)
{
	const struct entry *ev[256], *e;
	struct roster_entry *r, *last = NULL, *seen;
	size_t nv = 0, i, k, m, n, nlast = 0, nseen = 0;
	int64_t until;
	int removed;

	for (i = 0; i < b->n && nv < SK_ARRAY_LEN(ev); i++)
		if (b->e[i].host == H_VAULT &&
		    strcmp(b->e[i].event, "roster.changed") == 0)
			ev[nv++] = &b->e[i];
	if (nv == 0)
		return -1;
	if (nv == SK_ARRAY_LEN(ev))
		log_warnx("more than %zu versions of the roster in the logs: "
		    "form 7 reads the first %zu", nv, nv);
	if ((seen = calloc(FORM7_ROWS_MAX, sizeof(*seen))) == NULL)
		fatalx("out of memory");
	/* The latest version up to the period's end: who stayed on it. */
	for (i = nv; i-- > 0;)
		if (ev[i]->t < to && roster_read(v, ev[i]->object, &last,
		    &nlast) == 0)
			break;
	for (i = 0; i < nv; i++) {
		e = ev[i];
		until = i + 1 < nv ? ev[i + 1]->t : INT64_MAX;
		if (e->t >= to || until <= from)
			continue;
		if (roster_read(v, e->object, &r, &n) != 0) {
			log_warnx("the roster's version %.16s (recorded in the "
			    "vault's log) is not in %s/roster: left out",
			    e->object, v->local.data_dir);
			continue;
		}
		for (k = 0; k < n; k++) {
			if (r[k].valid_until <= from || r[k].valid_from >= to)
				continue;
			for (m = 0; m < nseen; m++)
				if (same_entry(&seen[m], &r[k]))
					break;
			if (m < nseen || nseen == FORM7_ROWS_MAX)
				continue;
			seen[nseen++] = r[k];
			for (m = 0, removed = 1; m < nlast; m++)
				if (strcmp(last[m].id, r[k].id) == 0)
					removed = 0;
			form7_row(fp, &r[k], e->object, e->t, removed);
		}
		free(r);
	}
	free(last);
	free(seen);
	return 0;
}

static void
form7(struct vault *v, const struct book *b, int64_t from, int64_t to,
    FILE *fp)
{
	const struct config_operator *o;
	char a[32], u[32], note[256];
	size_t i;

	csv_row(fp, form7_head, 5);
	if (form7_history(v, b, from, to, fp) == 0)
		return;
	for (i = 0; i < v->site->noperators; i++) {
		o = &v->site->operators[i];
		/* Those on the roster at some time in the period. */
		if ((int64_t)o->valid_until <= from || (int64_t)o->valid_from >=
		    to)
			continue;
		/* The roster's own dates, as written in the site file. */
		logbook_jst((int64_t)o->valid_from - JST, 0, a, sizeof(a));
		logbook_jst((int64_t)o->valid_until - 86400 - JST, 0, u, sizeof(u));
		snprintf(note, sizeof(note), "操作者 ID %s; 現在のサイト設定の名簿 "
		    "(版の記録を含むログなし)%s", o->id,
		    o->scope[0] ? "" : "; 取扱う範囲がサイト設定の名簿にあり"
		    "ません (operators.scope)");
		{
			const char *cols[] = { o->name[0] ? o->name : o->id,
				o->scope, a, u, note };

			csv_row(fp, cols, SK_ARRAY_LEN(cols));
		}
	}
}

int
console_ledger(struct vault *v, int argc, char **argv)
{
	struct sandbox_layers layers;
	struct book b = { 0 };
	const char *fromarg = NULL, *toarg = NULL;
	int64_t from, to;
	struct tm tm;
	time_t now;
	int i, form = 0, first_log = 0, logs = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--form") == 0 && i + 1 < argc)
			form = atoi(argv[++i]);
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			fromarg = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			toarg = argv[++i];
		else if (strcmp(argv[i], "--logs") == 0 && logs == 0) {
			first_log = i + 1;
			logs = logbook_arg_list(argc, argv, &i);
		} else
			return -1;
	}
	if (form < 7 || form > 10 || (form != 7 && logs == 0))
		return -1;
	logbook_load_args(&b, argv + first_log, logs);
	/* The period: last month (JST) unless given; --to is inclusive. */
	now = time(NULL) + JST;
	gmtime_r(&now, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	to = (int64_t)timegm(&tm) - JST;
	tm.tm_mon -= 1;
	from = (int64_t)timegm(&tm) - JST;
	if (fromarg != NULL && logbook_day(fromarg, &from) != 0)
		fatalx("--from %s: a date written YYYY-MM-DD", fromarg);
	if (toarg != NULL) {
		if (logbook_day(toarg, &to) != 0)
			fatalx("--to %s: a date written YYYY-MM-DD", toarg);
		to += 86400;
	}
	if (to <= from)
		fatalx("--to is before --from");
	if (form != 7 && (b.logs[H_RECEIVER] == 0 || b.logs[H_VAULT] == 0 ||
	    b.logs[H_SENDER] == 0))
		log_warnx("the logs given hold %u receiver, %u vault and %u "
		    "sender log(s): the ledger lacks what the missing ones "
		    "record", b.logs[H_RECEIVER], b.logs[H_VAULT],
		    b.logs[H_SENDER]);
	logbook_sort(&b);
	/* The sealed receipts need the master key (as root), then the
	 * vault's user reads its folders. */
	if (seal_master_load(v->local.master_key, &v->master) == 0)
		v->master_loaded = 1;
	else
		log_warnx("master key %s cannot be read: the file names stay "
		    "sealed", v->local.master_key);
	daemon_drop(&v->local, &layers);
	vault_open(v, 0);
	fputs("\xef\xbb\xbf", stdout);
	switch (form) {
	case 7:
		form7(v, &b, from, to, stdout);
		break;
	case 8:
		form8(v, &b, from, to, stdout);
		break;
	case 9:
		form9(v, &b, from, to, stdout);
		break;
	default:
		form10(v, &b, from, to, stdout);
	}
	if (v->master_loaded)
		seal_master_wipe(&v->master);
	logbook_free(&b);
	{
		char detail[96], a[32], z[32];

		logbook_jst(from, 0, a, sizeof(a));
		logbook_jst(to - 1, 0, z, sizeof(z));
		snprintf(detail, sizeof(detail), "form=%d from=%s to=%s", form,
		    a, z);
		console_note(v, "ledger", NULL, detail);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
