/*
 * codebook.c: the researcher's package of a release (see codebook.h).
 *
 * datapackage.json is a Frictionless Tabular Data Package: one resource,
 * the release, with its Table Schema (every column a string, since bands
 * and prefixes are text) and, under "sekisho", the privacy model, the
 * counts and the terms. codebook.md says the same for people, in Japanese
 * and then in English. The manifest lists the release file and both
 * codebook files as sha256sum prints them, so that `sha256sum -c manifest`
 * checks them all once `openssl cms -verify` has checked the manifest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "codebook.h"
#include "envelope.h"
#include "jsonr.h"
#include "sk.h"
#include "text.h"
#include "util.h"

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
add_json(struct text *t, const char *s)
{
	text_add(t, "\"");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			text_add(t, "\\%c", ch);
		else if (ch == '\n')
			text_add(t, "\\n");
		else if (ch < 0x20)
			text_add(t, "\\u%04x", ch);
		else
			text_add(t, "%c", ch);
	}
	text_add(t, "\"");
}

/* A Markdown table cell: a | or a line break would end it. */
static void
add_cell(struct text *t, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|')
			text_add(t, "\\|");
		else if (*s == '\n' || *s == '\r')
			text_add(t, " ");
		else
			text_add(t, "%c", *s);
}

/* The same, "-" for a register entry the site file leaves empty. */
static void
add_cell_or_dash(struct text *t, const char *s)
{
	add_cell(t, s[0] != '\0' ? s : "-");
}

/* ---- what the report says ---- */

struct figures {
	uint64_t rows_in, rows_out, rows_suppressed, rows_rejected, classes,
	    smallest, k, l;
	char l_model[16], t_distance[16], recoding[16], t[24], max_suppression[24], risk_highest[24],
	    risk_average[24], suppressed[16], encoding[16];
};

/* A string member, or dflt when the report has none. */
static void
string_or(struct jsonr doc, const char *key, char *out, size_t cap,
    const char *dflt)
{
	if (jsonr_get_string(doc, key, out, cap) != 0)
		snprintf(out, cap, "%s", dflt);
}

/* A number member as the report wrote it (digits, '.', 'e', '-'). */
static void
raw_number(struct jsonr doc, const char *key, char *out, size_t cap)
{
	struct jsonr v;
	size_t i;

	snprintf(out, cap, "-");
	if (jsonr_member(doc, key, &v) != 0 || v.n == 0 || v.n >= cap)
		return;
	for (i = 0; i < v.n; i++)
		if (strchr("0123456789.eE+-", v.p[i]) == NULL)
			return;
	memcpy(out, v.p, v.n);
	out[v.n] = '\0';
}

static int
figures_read(const char *report, struct figures *f)
{
	struct jsonr doc = { report, strlen(report) };

	memset(f, 0, sizeof(*f));
	if (jsonr_valid(doc.p, doc.n) != 0 ||
	    jsonr_get_u64(doc, "rows_in", &f->rows_in) != 0 ||
	    jsonr_get_u64(doc, "rows_out", &f->rows_out) != 0 ||
	    jsonr_get_u64(doc, "rows_suppressed", &f->rows_suppressed) != 0 ||
	    jsonr_get_u64(doc, "rows_rejected", &f->rows_rejected) != 0 ||
	    jsonr_get_u64(doc, "equivalence_classes", &f->classes) != 0 ||
	    jsonr_get_u64(doc, "smallest_class", &f->smallest) != 0 ||
	    jsonr_get_u64(doc, "k", &f->k) != 0)
		return SK_EFORMAT;
	if (jsonr_get_u64(doc, "l_diversity", &f->l) != 0)
		f->l = 0;
	string_or(doc, "l_model", f->l_model, sizeof(f->l_model), "distinct");
	string_or(doc, "suppressed_rows", f->suppressed, sizeof(f->suppressed),
	    "delete");
	string_or(doc, "output_encoding", f->encoding, sizeof(f->encoding),
	    "utf-8");
	raw_number(doc, "t_closeness", f->t, sizeof(f->t));
	string_or(doc, "recoding", f->recoding, sizeof(f->recoding), "global");
	string_or(doc, "t_distance", f->t_distance, sizeof(f->t_distance),
	    "equal");
	raw_number(doc, "max_suppression", f->max_suppression,
	    sizeof(f->max_suppression));
	raw_number(doc, "risk_highest", f->risk_highest,
	    sizeof(f->risk_highest));
	raw_number(doc, "risk_average", f->risk_average,
	    sizeof(f->risk_average));
	return 0;
}

/* The level the engine chose for a column (searched), or its own. */
static unsigned
level_of(const char *report, const struct policy_column *pc)
{
	struct jsonr doc = { report, strlen(report) }, cols, e;
	char name[256];
	uint64_t lv;
	size_t pos = 0;

	if (!pc->search)
		return pc->action == ACT_HIERARCHY ? pc->level : 0;
	if (jsonr_member(doc, "columns", &cols) != 0)
		return 0;
	while (jsonr_next(cols, &pos, &e) == 0)
		if (jsonr_get_string(e, "name", name, sizeof(name)) == 0 &&
		    strcmp(name, pc->name) == 0 &&
		    jsonr_get_u64(e, "level", &lv) == 0)
			return (unsigned)lv;
	return 0;
}

/* ---- what was done to each column, in both languages ---- */

static void
describe(const struct policy_column *pc, unsigned level, char *ja,
    size_t jacap, char *en, size_t encap)
{
	char topja[96] = "", topen[96] = "";
	double width = pc->width;
	unsigned keep = pc->keep;
	int month = pc->month;

	if (pc->search && pc->nsteps > 0 && level >= pc->nsteps) {
		snprintf(ja, jacap, "すべて「*」（この列は値を出さない）");
		snprintf(en, encap, "every value \"*\" (the column shows "
		    "nothing)");
		return;
	}
	if (pc->search && level < pc->nsteps) {
		width = pc->steps[level];
		keep = (unsigned)pc->steps[level];
		month = pc->steps[level] != 0;
	}
	if (pc->has_top) {
		snprintf(topja, sizeof(topja), "、%g以上は「%g+」", pc->top,
		    pc->top);
		snprintf(topen, sizeof(topen), "; %g and above as \"%g+\"",
		    pc->top, pc->top);
	}
	if (pc->has_bottom) {
		size_t a = strlen(topja), b = strlen(topen);

		snprintf(topja + a, sizeof(topja) - a, "、%g未満は「<%g」",
		    pc->bottom, pc->bottom);
		snprintf(topen + b, sizeof(topen) - b, "; below %g as "
		    "\"<%g\"", pc->bottom, pc->bottom);
	}
	switch (pc->action) {
	case ACT_KEEP:
		snprintf(ja, jacap, "受け取ったままの値");
		snprintf(en, encap, "as received");
		break;
	case ACT_PSEUDONYMIZE:
		snprintf(ja, jacap, "仮名（このリリースのためだけに作り、作成後に"
		    "消した鍵による鍵付きハッシュ。他のリリースとは照合できない）");
		snprintf(en, encap, "a pseudonym: a keyed hash under a key made "
		    "for this release alone and destroyed after it; it cannot "
		    "be matched with any other release");
		break;
	case ACT_TRUNCATE:
		snprintf(ja, jacap, "先頭%u文字だけ（残りは削除）", keep);
		snprintf(en, encap, "the first %u characters only", keep);
		break;
	case ACT_BAND:
		snprintf(ja, jacap, "幅%gの区間（例「150-154」）%s", width, topja);
		snprintf(en, encap, "bands %g wide (e.g. \"150-154\")%s", width,
		    topen);
		break;
	case ACT_AGE_BAND:
		snprintf(ja, jacap, "%04d-%02d-%02d時点の年齢を%g歳幅の区間に"
		    "（例「60-64」）%s", pc->ref_y, pc->ref_m, pc->ref_d, width,
		    topja);
		snprintf(en, encap, "the age on %04d-%02d-%02d in bands of %g "
		    "years (e.g. \"60-64\")%s", pc->ref_y, pc->ref_m, pc->ref_d,
		    width, topen);
		break;
	case ACT_DATE:
		snprintf(ja, jacap, month ? "年月（YYYY-MM）まで" :
		    "年（YYYY）まで");
		snprintf(en, encap, month ? "to the month (YYYY-MM)" :
		    "to the year (YYYY)");
		break;
	case ACT_MAP:
		snprintf(ja, jacap, "ポリシーの対応表による置き換え");
		snprintf(en, encap, "replaced by the policy's table");
		break;
	case ACT_HIERARCHY:
		snprintf(ja, jacap, "階層による一般化（レベル%u）", level);
		snprintf(en, encap, "generalized by its hierarchy (level %u)",
		    level);
		break;
	case ACT_DROP:
		snprintf(ja, jacap, "削除");
		snprintf(en, encap, "dropped");
		break;
	}
}

static const char *
role_ja(enum col_role r)
{
	switch (r) {
	case COL_IDENTIFIER:
		return "識別子";
	case COL_QUASI:
		return "準識別子";
	case COL_SENSITIVE:
		return "機微な属性";
	default:
		return "その他";
	}
}

static void
day(int64_t t, char *out, size_t cap)
{
	char stamp[32];

	if (t <= 0 || sk_time_format(t, stamp, sizeof(stamp)) != 0) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "%.10s", stamp);
}

/* ---- datapackage.json ---- */

static char *
make_json(const struct policy *p, const char *report,
    const struct codebook_release *r, const struct figures *f)
{
	const struct job *j = r->job;
	struct text t = { .max = CODEBOOK_MAX };
	char ja[512], en[512], created[32], from[16], until[16], file[96];
	size_t i, n = 0;

	sk_time_format(r->created, created, sizeof(created));
	codebook_filename(r->dataset->id, j->release_id, r->cms, file,
	    sizeof(file));
	text_add(&t, "{\n  \"profile\": \"tabular-data-package\",\n  \"name\": ");
	text_add(&t, "\"%s-%.16s\",\n  \"title\": ", r->dataset->id,
	    j->release_id);
	text_add(&t, "\"%s (release %.16s)\",\n  \"created\": \"%s\",\n",
	    r->dataset->id, j->release_id, created);
	text_add(&t, "  \"resources\": [ {\n    \"name\": \"release\",\n"
	    "    \"profile\": \"tabular-data-resource\",\n    \"path\": ");
	add_json(&t, file);
	text_add(&t, ",\n    \"format\": \"csv\",\n    \"mediatype\": %s,\n"
	    "    \"encoding\": \"%s\",\n", r->cms ? "\"application/pkcs7-mime\""
	    : "\"text/csv\"", f->encoding);
	/* The hash of the table itself: after decryption for an envelope. */
	text_add(&t, "    \"hash\": \"sha256:%s\",\n", j->out_sha256);
	if (!r->cms)
		text_add(&t, "    \"bytes\": %llu,\n", (unsigned long long)r->size);
	text_add(&t, "    \"dialect\": { \"delimiter\": \",\", \"header\": true, "
	    "\"lineTerminator\": \"%s\" },\n", p->crlf ? "\\r\\n" : "\\n");
	text_add(&t, "    \"schema\": { \"fields\": [\n");
	for (i = 0; i < p->ncols; i++) {
		const struct policy_column *pc = &p->cols[i];

		if (pc->action == ACT_DROP)
			continue;
		describe(pc, level_of(report, pc), ja, sizeof(ja), en,
		    sizeof(en));
		text_add(&t, "%s      { \"name\": ", n++ ? ",\n" : "");
		add_json(&t, pc->name);
		text_add(&t, ", \"type\": \"string\", \"description\": ");
		add_json(&t, pc->description_en[0] != '\0' ?
		    pc->description_en : pc->description);
		text_add(&t, ", \"sekisho:description_ja\": ");
		add_json(&t, pc->description);
		text_add(&t, ", \"sekisho:role\": \"%s\", \"sekisho:action\": \"%s\", "
		    "\"sekisho:processing\": { \"ja\": ",
		    policy_role_name(pc->role), policy_action_name(pc->action));
		add_json(&t, ja);
		text_add(&t, ", \"en\": ");
		add_json(&t, en);
		text_add(&t, " } }");
	}
	text_add(&t, "\n    ] }\n  } ],\n");
	text_add(&t, "  \"sekisho\": {\n    \"release_id\": \"%s\",\n"
	    "    \"dataset\": ", j->release_id);
	add_json(&t, r->dataset->id);
	text_add(&t, ",\n    \"purpose\": ");
	add_json(&t, r->dataset->purpose);
	text_add(&t, ",\n    \"approved_sha256\": \"%s\",\n    \"report_sha256\": "
	    "\"%s\",\n    \"policy_sha256\": \"%s\",\n", j->out_sha256,
	    j->report_sha256, p->digest);
	text_add(&t, "    \"privacy\": { \"k\": %llu, \"l\": %llu, \"l_model\": \"%s\", "
	    "\"t\": %s, \"t_distance\": \"%s\", \"max_suppression\": %s, "
	    "\"suppressed_rows\": \"%s\", \"recoding\": \"%s\" },\n",
	    (unsigned long long)f->k, (unsigned long long)f->l, f->l_model,
	    f->t, f->t_distance, f->max_suppression, f->suppressed,
	    f->recoding);
	text_add(&t, "    \"counts\": { \"rows_in\": %llu, \"rows_rejected\": %llu, "
	    "\"rows_suppressed\": %llu, \"rows_out\": %llu, "
	    "\"equivalence_classes\": %llu, \"smallest_class\": %llu },\n",
	    (unsigned long long)f->rows_in, (unsigned long long)f->rows_rejected,
	    (unsigned long long)f->rows_suppressed,
	    (unsigned long long)f->rows_out, (unsigned long long)f->classes,
	    (unsigned long long)f->smallest);
	text_add(&t, "    \"risk\": { \"highest\": %s, \"average\": %s },\n",
	    f->risk_highest, f->risk_average);
	/* Made before the operators decide: the days from publication,
	 * which the sender's record of the release turns into a date. */
	text_add(&t, "    \"available_days\": %u,\n    \"terms\": { \"ja\": ",
	    r->dataset->release_days);
	add_json(&t, "受領者は、このデータから個人を識別してはならない"
	    "（他の情報との照合を含む）。契約に定める目的以外に使ってはならない。");
	text_add(&t, ", \"en\": ");
	add_json(&t, "The recipient shall not identify any person from this "
	    "data, by matching it with other information or otherwise, and "
	    "shall use it only for the purpose its contract states.");
	text_add(&t, " },\n    \"recipients\": [");
	for (i = 0; i < r->nto; i++) {
		const struct config_recipient *rc = r->to[i];

		day(rc->valid_from, from, sizeof(from));
		day(rc->valid_until, until, sizeof(until));
		text_add(&t, "%s\n      { \"id\": ", i ? "," : "");
		add_json(&t, rc->id);
		text_add(&t, ", \"contract\": ");
		add_json(&t, rc->contract);
		text_add(&t, ", \"purpose\": ");
		add_json(&t, rc->purpose);
		text_add(&t, ", \"legal_basis\": ");
		add_json(&t, rc->legal_basis);
		text_add(&t, ", \"valid_from\": \"%s\", \"valid_until\": \"%s\" }",
		    from, until);
	}
	text_add(&t, "\n    ]\n  }\n}\n");
	return text_take(&t);
}

/* ---- codebook.md ---- */

static void
md_recipients(struct text *t, const struct codebook_release *r, int en)
{
	char from[16], until[16];
	size_t i;

	text_add(t, en ? "| recipient | contract | purpose | legal basis | valid "
	    "|\n|---|---|---|---|---|\n" : "| 提供先 | 契約番号 | 利用目的 | "
	    "提供の根拠 | 有効期間 |\n|---|---|---|---|---|\n");
	for (i = 0; i < r->nto; i++) {
		day(r->to[i]->valid_from, from, sizeof(from));
		day(r->to[i]->valid_until, until, sizeof(until));
		text_add(t, "| ");
		add_cell(t, r->to[i]->id);
		text_add(t, " | ");
		add_cell_or_dash(t, r->to[i]->contract);
		text_add(t, " | ");
		add_cell_or_dash(t, r->to[i]->purpose);
		text_add(t, " | ");
		add_cell_or_dash(t, r->to[i]->legal_basis);
		text_add(t, " | %s – %s |\n", from, until);
	}
}

static char *
make_md(const struct policy *p, const char *report,
    const struct codebook_release *r, const struct figures *f)
{
	const struct job *j = r->job;
	struct text t = { .max = CODEBOOK_MAX };
	char ja[512], en[512], created[32], file[96];
	size_t i;
	int lang;

	sk_time_format(r->created, created, sizeof(created));
	codebook_filename(r->dataset->id, j->release_id, r->cms, file,
	    sizeof(file));
	text_add(&t, "# コードブック / Codebook: %s (release %.16s)\n\n",
	    r->dataset->id, j->release_id);
	for (lang = 0; lang < 2; lang++) {
		text_add(&t, lang ? "## English\n\n" : "## 日本語\n\n");
		text_add(&t, lang ? "- file: `%s`%s\n- made: %s; available for "
		    "%u days from its publication\n" : "- ファイル: `%s`%s\n- "
		    "作成: %s、提供期間: 公表から %u 日\n", file,
		    r->cms ? (lang ? " (a CMS envelope to your certificate: "
		    "`openssl cms -decrypt`)" : "（受領者の証明書あての CMS "
		    "暗号化。`openssl cms -decrypt` で復号）") : "", created,
		    r->dataset->release_days);
		text_add(&t, lang ? "- purpose of the data: " : "- 利用目的: ");
		add_cell_or_dash(&t, r->dataset->purpose);
		text_add(&t, lang ? "\n- SHA-256 of the table the two operators "
		    "approved: `%s`\n\n" : "\n- 2名の操作者が承認した表の SHA-256: "
		    "`%s`\n\n", j->out_sha256);
		text_add(&t, lang ? "### Privacy model\n\n" : "### 匿名化の基準\n\n");
		text_add(&t, lang ? "- k-anonymity: every combination of the "
		    "quasi-identifiers occurs at least k = %llu times\n" :
		    "- k-匿名性: 準識別子の組み合わせはどれも k = %llu 件以上\n",
		    (unsigned long long)f->k);
		if (f->l > 0)
			text_add(&t, lang ? "- l-diversity (%s): l = %llu\n" :
			    "- l-多様性（%s）: l = %llu\n", f->l_model,
			    (unsigned long long)f->l);
		if (strcmp(f->recoding, "cells") == 0)
			text_add(&t, lang ? "- cell suppression: in rows that "
			    "would have been suppressed, only the cells that "
			    "single them out are * (the report's local_rounds); "
			    "a column's level below is the first round's\n" :
			    "- セル単位の秘匿: 抑制されるはずだった行は、特定に"
			    "つながるセルだけを * として提供（報告書の "
			    "local_rounds）。下の各列の段階は最初の回のもの\n");
		else if (strcmp(f->recoding, "local") == 0)
			text_add(&t, lang ? "- local recoding: rows that would "
			    "have been suppressed are generalized further, by "
			    "levels of their own (the report's local_rounds); a "
			    "column's level below is the first round's\n" :
			    "- 局所再符号化: 抑制されるはずだった行を、別の段階で"
			    "さらに一般化して提供（報告書の local_rounds）。下の"
			    "各列の段階は最初の回のもの\n");
		if (strcmp(f->t, "0") != 0 && strcmp(f->t, "-") != 0)
			text_add(&t, lang ? "- t-closeness (%s ground distance): "
			    "t = %s\n" : "- t-近接性（%s）: t = %s\n", lang ?
			    f->t_distance : strcmp(f->t_distance,
			    "hierarchical") == 0 ? "階層距離" : "等距離", f->t);
		text_add(&t, lang ? "- rows received %llu, rejected %llu, suppressed "
		    "%llu (%s; at most %s), released %llu in %llu classes, the "
		    "smallest of %llu\n- re-identification risk (prosecutor): "
		    "highest %s, average %s\n\n" : "- 受領 %llu 行、不正 %llu "
		    "行、抑制 %llu 行（%s、上限 %s）、提供 %llu 行（%llu 群、"
		    "最小 %llu 行）\n- 再識別リスク（prosecutor）: 最大 %s、平均 "
		    "%s\n\n", (unsigned long long)f->rows_in,
		    (unsigned long long)f->rows_rejected,
		    (unsigned long long)f->rows_suppressed, f->suppressed,
		    f->max_suppression, (unsigned long long)f->rows_out,
		    (unsigned long long)f->classes,
		    (unsigned long long)f->smallest, f->risk_highest,
		    f->risk_average);
		text_add(&t, lang ? "### Columns\n\n| column | meaning | role | "
		    "processing |\n|---|---|---|---|\n" : "### 列\n\n| 列 | 内容 "
		    "| 種類 | 加工 |\n|---|---|---|---|\n");
		for (i = 0; i < p->ncols; i++) {
			const struct policy_column *pc = &p->cols[i];
			const char *d = lang && pc->description_en[0] != '\0' ?
			    pc->description_en : pc->description;

			if (pc->action == ACT_DROP)
				continue;
			describe(pc, level_of(report, pc), ja, sizeof(ja), en,
			    sizeof(en));
			text_add(&t, "| ");
			add_cell(&t, pc->name);
			text_add(&t, " | ");
			add_cell_or_dash(&t, d);
			text_add(&t, " | %s | ", lang ? policy_role_name(pc->role) :
			    role_ja(pc->role));
			add_cell(&t, lang ? en : ja);
			text_add(&t, " |\n");
		}
		text_add(&t, lang ? "\nColumns dropped: " : "\n削除した列: ");
		for (i = 0; i < p->ncols; i++)
			if (p->cols[i].action == ACT_DROP) {
				add_cell(&t, p->cols[i].name);
				text_add(&t, " ");
			}
		text_add(&t, lang ? "\n\n### Terms\n\nThe recipient shall not "
		    "identify any person from this data, by matching it with "
		    "other information or otherwise, and shall use it only for "
		    "the purpose its contract states.\n\n" : "\n\n### 利用条件"
		    "\n\n受領者は、このデータから個人を識別してはならない（他の情報"
		    "との照合を含む）。契約に定める目的以外に使ってはならない。\n\n");
		md_recipients(&t, r, lang);
		text_add(&t, lang ? "\n### Checking the files\n\n```\nopenssl cms "
		    "-verify -binary -inform DER -in manifest.p7s -content "
		    "manifest -CAfile internal-ca.crt -out /dev/null\nsha256sum "
		    "-c manifest\n```\n\n" : "\n### ファイルの確かめ方\n\n```\n"
		    "openssl cms -verify -binary -inform DER -in manifest.p7s "
		    "-content manifest -CAfile internal-ca.crt -out /dev/null\n"
		    "sha256sum -c manifest\n```\n\n");
	}
	return text_take(&t);
}

/* ---- the manifest and its signature ---- */


void
codebook_filename(const char *dataset, const char *release_id, int cms,
    char *out, size_t cap)
{
	snprintf(out, cap, "%s-%.16s.csv%s", dataset, release_id,
	    cms ? ".cms" : "");
}

int
codebook_make(const struct policy *p, const char *report,
    const struct codebook_release *r, struct codebook *out, char *why,
    size_t whycap)
{
	struct figures f;

	memset(out, 0, sizeof(*out));
	if (figures_read(report, &f) != 0) {
		snprintf(why, whycap, "the release's report cannot be read "
		    "for its codebook");
		return SK_EFORMAT;
	}
	if ((out->json = make_json(p, report, r, &f)) == NULL ||
	    (out->md = make_md(p, report, r, &f)) == NULL) {
		snprintf(why, whycap, "the codebook is larger than %u bytes "
		    "or memory ran out", CODEBOOK_MAX);
		codebook_free(out);
		return SK_ETOOBIG;
	}
	return 0;
}

int
codebook_sign(struct codebook *cb, const char *filename, const char *sha256,
    X509 *cert, EVP_PKEY *key, char *why, size_t whycap)
{
	struct text m = { .max = CODEBOOK_MAX };
	char hj[65], hm[65];

	util_sha256_hex(cb->json, strlen(cb->json), hj);
	util_sha256_hex(cb->md, strlen(cb->md), hm);
	text_add(&m, "%s  %s\n%s  %s\n%s  %s\n", sha256, filename, hj,
	    CODEBOOK_JSON, hm, CODEBOOK_MD);
	free(cb->manifest);
	free(cb->sig);
	cb->sig = NULL;
	if ((cb->manifest = text_take(&m)) == NULL ||
	    envelope_sign(cb->manifest, strlen(cb->manifest), cert, key, 1,
	    &cb->sig, &cb->siglen) != 0) {
		snprintf(why, whycap, "the manifest cannot be signed");
		return SK_ECRYPTO;
	}
	return 0;
}

char *
codebook_bundle(const struct codebook *cb)
{
	struct text t = { .max = CODEBOOK_MAX };
	char *b64;

	if ((b64 = malloc(4 * ((cb->siglen + 2) / 3) + 1)) == NULL)
		return NULL;
	sk_base64_encode(cb->sig, cb->siglen, b64);
	text_add(&t, "{\"" CODEBOOK_JSON "\":");
	add_json(&t, cb->json);
	text_add(&t, ",\"" CODEBOOK_MD "\":");
	add_json(&t, cb->md);
	text_add(&t, ",\"" CODEBOOK_MANIFEST "\":");
	add_json(&t, cb->manifest);
	text_add(&t, ",\"" CODEBOOK_SIGNATURE "\":\"%s\"}", b64);
	free(b64);
	return text_take(&t);
}

void
codebook_free(struct codebook *cb)
{
	free(cb->json);
	free(cb->md);
	free(cb->manifest);
	free(cb->sig);
	memset(cb, 0, sizeof(*cb));
}
