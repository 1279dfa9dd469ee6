/*
 * report_html.c: the report as an HTML page (report_html.h). Everything
 * that comes from the policy (column names) is escaped; numbers are
 * written as the report has them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonr.h"
#include "report_html.h"
#include "sk.h"
#include "text.h"

#define BAR_COLOR "#2a6ebb"
#define CHART_W 640

/* Text for an element or an attribute: & < > " ' escaped. */
static void
esc(struct text *t, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': text_add(t, "&amp;"); break;
		case '<': text_add(t, "&lt;"); break;
		case '>': text_add(t, "&gt;"); break;
		case '"': text_add(t, "&quot;"); break;
		case '\'': text_add(t, "&#39;"); break;
		default: text_add(t, "%c", *s);
		}
}

static uint64_t
num(struct jsonr doc, const char *key)
{
	uint64_t v = 0;

	jsonr_get_u64(doc, key, &v);
	return v;
}

static double
fraction(struct jsonr doc, const char *key)
{
	char b[32];
	const char *s = jsonr_get_scalar(doc, key, b, sizeof(b));
	char *end;
	double d;

	d = strtod(s, &end);
	if (end == s || *end != '\0')
		return -1;	/* absent, or not a number */
	return d < 0 ? 0 : d > 1 ? 1 : d;
}

static void
row(struct text *t, const char *ja, const char *en, const char *value)
{
	text_add(t, "<tr><th>%s<br><span class=\"en\">%s</span></th><td>", ja,
	    en);
	esc(t, value);
	text_add(t, "</td></tr>\n");
}

/* One round of local recoding: its rows, and each searched column's level
 * by the names of the report's columns. */
static void
more_round(struct jsonr doc, struct jsonr round, size_t n, report_emit_fn emit,
    void *arg)
{
	struct jsonr cols, col, levels;
	char ja[32], en[32], line[1024], name[128];
	uint64_t level;
	size_t pos = 0, o;

	o = (size_t)snprintf(line, sizeof(line), "%" PRIu64 " 行 / rows:",
	    num(round, "rows"));
	if (jsonr_member(round, "levels", &levels) == 0 &&
	    jsonr_member(doc, "columns", &cols) == 0)
		while (jsonr_next(cols, &pos, &col) == 0 && o < sizeof(line))
			if (jsonr_get_string(col, "name", name,
			    sizeof(name)) == 0 &&
			    jsonr_get_u64(levels, name, &level) == 0)
				o += (size_t)snprintf(line + o, sizeof(line) - o,
				    " %s=%" PRIu64, name, level);
	snprintf(ja, sizeof(ja), "第 %zu 回", n);
	snprintf(en, sizeof(en), "round %zu", n);
	emit(arg, ja, en, line);
}

void
report_more(const char *json, size_t len, report_emit_fn emit, void *arg)
{
	static const char *const metrics[] = { "loss", "discernibility",
		"precision", "nonuniform_entropy" };
	struct jsonr doc = { json, len }, list, round;
	char a[32], b[32], c[32], line[512];
	size_t i, o, pos = 0, n = 0;
	uint64_t people;

	if (jsonr_valid(json, len) != 0)
		return;
	if (fraction(doc, "t_closeness") > 0) {
		snprintf(line, sizeof(line), "t = %s (%s)", jsonr_get_scalar(doc,
		    "t_closeness", a, sizeof(a)), strcmp(jsonr_get_scalar(doc,
		    "t_distance", b, sizeof(b)), "hierarchical") == 0 ?
		    "階層の距離 / hierarchical distance" :
		    "等距離 / equal distance");
		emit(arg, "t 近接性", "t-closeness", line);
	}
	if (jsonr_get_u64(doc, "population_people", &people) == 0) {
		snprintf(line, sizeof(line), "%" PRIu64 " 人 / people", people);
		emit(arg, "母集団", "population", line);
		snprintf(line, sizeof(line), "最大 / highest %s, 平均 / average "
		    "%s", jsonr_get_scalar(doc, "risk_journalist_highest", a,
		    sizeof(a)), jsonr_get_scalar(doc, "risk_journalist_average",
		    b, sizeof(b)));
		emit(arg, "母集団に対するリスク", "journalist risk", line);
		snprintf(line, sizeof(line), "%" PRIu64 " 行 / rows (> %s); 母集団"
		    "で一意 / population-unique %" PRIu64 " 行 / rows",
		    num(doc, "rows_at_journalist_risk"), jsonr_get_scalar(doc,
		    "risk_threshold", c, sizeof(c)),
		    num(doc, "population_unique_rows"));
		emit(arg, "母集団で閾値超", "rows at journalist risk", line);
	}
	if (strcmp(jsonr_get_scalar(doc, "risk_marketer", a, sizeof(a)),
	    "?") != 0)
		emit(arg, "マーケター・リスク", "marketer risk", a);
	if (jsonr_member(doc, "metrics", &list) == 0) {
		o = 0;
		line[0] = '\0';
		for (i = 0; i < SK_ARRAY_LEN(metrics) && o < sizeof(line); i++)
			if (strcmp(jsonr_get_scalar(list, metrics[i], a,
			    sizeof(a)), "?") != 0)
				o += (size_t)snprintf(line + o, sizeof(line) - o,
				    "%s%s %s", o > 0 ? ", " : "", metrics[i], a);
		if (o > 0)
			emit(arg, "損失の指標", "loss metrics", line);
	}
	if (jsonr_get_string(doc, "recoding", a, sizeof(a)) == 0 &&
	    strcmp(a, "global") != 0) {
		if (jsonr_member(doc, "local_rounds", &list) == 0)
			while (jsonr_next(list, &pos, &round) == 0)
				n++;
		o = (size_t)snprintf(line, sizeof(line), "%s",
		    strcmp(a, "cells") == 0 ? "セル抑制 / cell suppression" :
		    "局所再符号化 / local recoding");
		if (n > 0)
			snprintf(line + o, sizeof(line) - o, ", %zu 回 / rounds", n);
		emit(arg, "再符号化", "recoding", line);
		for (pos = 0, i = 1; jsonr_member(doc, "local_rounds",
		    &list) == 0 && jsonr_next(list, &pos, &round) == 0; i++)
			more_round(doc, round, i, emit, arg);
	}
}

static void
more_row(void *arg, const char *ja, const char *en, const char *value)
{
	row(arg, ja, en, value);
}

/* Vertical bars, one per bucket of class sizes: the rows in it. */
static void
chart_classes(struct text *t, struct jsonr doc)
{
	struct jsonr list, b;
	uint64_t max = 0, rows;
	size_t pos = 0, n = 0, i = 0;
	unsigned h = 180, bw, x;

	if (jsonr_member(doc, "class_sizes", &list) != 0)
		return;
	while (jsonr_next(list, &pos, &b) == 0)
		if (num(b, "classes") > 0) {
			n++;
			if ((rows = num(b, "rows")) > max)
				max = rows;
		}
	if (n == 0 || max == 0)
		return;
	bw = (CHART_W - 60) / (unsigned)n;
	if (bw > 80)
		bw = 80;
	text_add(t, "<h2>クラスの大きさ<span class=\"en\"> / class sizes "
	    "(rows in classes of each size)</span></h2>\n<svg id=\"classes\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
	    "role=\"img\" aria-label=\"class sizes\">\n", CHART_W, h + 50);
	text_add(t, "<line x1=\"50\" y1=\"%u\" x2=\"%u\" y2=\"%u\" "
	    "stroke=\"#555\"/>\n", h + 10, CHART_W - 5, h + 10);
	pos = 0;
	while (jsonr_next(list, &pos, &b) == 0) {
		uint64_t classes = num(b, "classes");
		unsigned bh;

		if (classes == 0)
			continue;
		rows = num(b, "rows");
		bh = (unsigned)(rows * h / max);
		if (bh == 0)
			bh = 1;
		x = 55 + (unsigned)i * bw;
		text_add(t, "<rect class=\"bar\" x=\"%u\" y=\"%u\" width=\"%u\" "
		    "height=\"%u\" fill=\"" BAR_COLOR "\"><title>%" PRIu64 "-%"
		    PRIu64 ": %" PRIu64 " classes, %" PRIu64 " rows</title>"
		    "</rect>\n", x, h + 10 - bh, bw > 6 ? bw - 4 : bw, bh,
		    num(b, "from"), num(b, "to"), classes, rows);
		text_add(t, "<text x=\"%u\" y=\"%u\" font-size=\"11\">%" PRIu64
		    "-%" PRIu64 "</text>\n", x, h + 26, num(b, "from"),
		    num(b, "to"));
		text_add(t, "<text x=\"%u\" y=\"%u\" font-size=\"10\">%" PRIu64
		    "</text>\n", x, h + 6 - bh, rows);
		i++;
	}
	text_add(t, "<text x=\"2\" y=\"14\" font-size=\"11\">rows</text>\n"
	    "</svg>\n");
}

/* Horizontal bars, one per column, of a fraction in [0, 1]. */
static void
chart_fraction_bar(struct text *t, unsigned y, const char *name, double f,
    const char *label)
{
	unsigned w = (unsigned)(f * (CHART_W - 260));

	text_add(t, "<text x=\"4\" y=\"%u\" font-size=\"12\">", y + 13);
	esc(t, name);
	text_add(t, "</text>\n<rect class=\"bar\" x=\"180\" y=\"%u\" "
	    "width=\"%u\" height=\"16\" fill=\"" BAR_COLOR "\"/>\n"
	    "<text x=\"%u\" y=\"%u\" font-size=\"11\">%s</text>\n", y,
	    w > 0 ? w : 1, 186 + w, y + 13, label);
}

/* Whom suppression removes: each column's largest share of one value's
 * rows (the report names no value). */
static void
chart_groups(struct text *t, struct jsonr doc)
{
	struct jsonr groups, cols, col, list, first;
	char name[256], share[32];
	size_t pos = 0, p2, n = 0;
	unsigned y;

	if (jsonr_member(doc, "suppression_by_value", &groups) != 0 ||
	    jsonr_member(doc, "columns", &cols) != 0)
		return;
	while (jsonr_next(cols, &pos, &col) == 0) {
		p2 = 0;
		if (jsonr_get_string(col, "name", name, sizeof(name)) == 0 &&
		    jsonr_member(groups, name, &list) == 0 &&
		    jsonr_next(list, &p2, &first) == 0 &&
		    fraction(first, "share") >= 0)
			n++;
	}
	if (n == 0)
		return;
	text_add(t, "<h2>値ごとの削除<span class=\"en\"> / suppression by "
	    "value (the largest share of one value's rows)</span></h2>\n"
	    "<svg id=\"groups\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%u\" height=\"%zu\" role=\"img\" aria-label=\"suppression "
	    "by value\">\n", CHART_W, n * 24 + 8);
	pos = 0;
	y = 4;
	while (jsonr_next(cols, &pos, &col) == 0) {
		char label[96];

		p2 = 0;
		if (jsonr_get_string(col, "name", name, sizeof(name)) != 0 ||
		    jsonr_member(groups, name, &list) != 0 ||
		    jsonr_next(list, &p2, &first) != 0 ||
		    fraction(first, "share") < 0)
			continue;
		snprintf(label, sizeof(label), "%s (%" PRIu64 " / %" PRIu64 ")",
		    jsonr_get_scalar(first, "share", share, sizeof(share)),
		    num(first, "suppressed"), num(first, "rows"));
		chart_fraction_bar(t, y, name, fraction(first, "share"), label);
		y += 24;
	}
	text_add(t, "</svg>\n");
}

/* The information loss of each column that has one. */
static void
chart_loss(struct text *t, struct jsonr doc)
{
	struct jsonr cols, col;
	char name[256], loss[32];
	size_t pos = 0, n = 0;
	unsigned y = 4;

	if (jsonr_member(doc, "columns", &cols) != 0)
		return;
	while (jsonr_next(cols, &pos, &col) == 0)
		if (fraction(col, "information_loss") >= 0)
			n++;
	if (n == 0)
		return;
	text_add(t, "<h2>列ごとの情報損失<span class=\"en\"> / information "
	    "loss per column (0 = none, 1 = all)</span></h2>\n<svg id=\"loss\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%zu\" "
	    "role=\"img\" aria-label=\"information loss\">\n", CHART_W,
	    n * 24 + 8);
	pos = 0;
	while (jsonr_next(cols, &pos, &col) == 0) {
		if (jsonr_get_string(col, "name", name, sizeof(name)) != 0 ||
		    fraction(col, "information_loss") < 0)
			continue;
		chart_fraction_bar(t, y, name, fraction(col,
		    "information_loss"), jsonr_get_scalar(col, "information_loss", loss,
		    sizeof(loss)));
		y += 24;
	}
	text_add(t, "</svg>\n");
}

static void
columns_table(struct text *t, struct jsonr doc)
{
	struct jsonr cols, col;
	char name[256], role[32], action[32], b[32];
	uint64_t level;
	size_t pos = 0;

	if (jsonr_member(doc, "columns", &cols) != 0)
		return;
	text_add(t, "<h2>列<span class=\"en\"> / columns</span></h2>\n<table>"
	    "<tr><th>列 / column</th><th>役割 / role</th><th>処理 / action"
	    "</th><th>段階 / level</th><th>値の数 / values</th></tr>\n");
	while (jsonr_next(cols, &pos, &col) == 0) {
		if (jsonr_get_string(col, "name", name, sizeof(name)) != 0 ||
		    jsonr_get_string(col, "role", role, sizeof(role)) != 0 ||
		    jsonr_get_string(col, "action", action, sizeof(action)) != 0)
			continue;
		text_add(t, "<tr><td>");
		esc(t, name);
		text_add(t, "</td><td>");
		esc(t, role);
		text_add(t, "</td><td>");
		esc(t, action);
		text_add(t, "</td><td>");
		if (jsonr_get_u64(col, "level", &level) == 0)
			text_add(t, "%" PRIu64 "%s", level, strcmp(jsonr_get_scalar(col,
			    "level_searched", b, sizeof(b)), "true") == 0 ?
			    " (探索 / searched)" : "");
		text_add(t, "</td><td>%s</td></tr>\n", strcmp(action, "drop") ==
		    0 ? "出力しない / not released" : jsonr_get_scalar(col,
		    "distinct_values_out", b, sizeof(b)));
	}
	text_add(t, "</table>\n");
}

/* A job whose privacy model could not be met: why, and the column that
 * drives it, first (issue 20). */
static void
failure(struct text *t, struct jsonr doc)
{
	char what[512], col[256], o[16];

	if (jsonr_get_string(doc, "outcome", o, sizeof(o)) != 0 ||
	    strcmp(o, "failed") != 0)
		return;
	if (jsonr_get_string(doc, "failure", what, sizeof(what)) != 0)
		snprintf(what, sizeof(what), "-");
	text_add(t, "<p class=\"fails\">加工できませんでした（何も出力していません）"
	    "<br><span class=\"en\">not released: the privacy model could not "
	    "be met</span></p>\n<p>");
	esc(t, what);
	text_add(t, "</p>\n");
	if (jsonr_get_string(doc, "failed_on", col, sizeof(col)) == 0) {
		text_add(t, "<p>原因の列 / the column that drives it: <b>");
		esc(t, col);
		text_add(t, "</b>（さらに一般化してください / generalize it "
		    "further）</p>\n");
	}
}

int
report_html(const char *json, size_t len, const char *job_id, char **out)
{
	struct jsonr doc = { json, len };
	struct text t = { .max = 8u << 20 };
	char a[32], b[32], line[256];
	uint64_t k, smallest, rows_out;

	if (jsonr_valid(json, len) != 0)
		return SK_EFORMAT;
	k = num(doc, "k");
	smallest = num(doc, "smallest_class");
	rows_out = num(doc, "rows_out");
	text_add(&t, "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    /* Nothing may be fetched: no script, image, font or frame. */
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	    "'none'; style-src 'unsafe-inline'\">\n<title>匿名加工の報告 / "
	    "Anonymization report ");
	esc(&t, job_id);
	text_add(&t, "</title>\n<style>\nbody { font-family: sans-serif; "
	    "margin: 2em; color: #222; max-width: 60em; }\n"
	    "table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n"
	    "th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; "
	    "text-align: left; vertical-align: top; }\nth { background: "
	    "#eef2f7; font-weight: normal; }\n.en { color: #666; font-size: "
	    "0.85em; }\n.holds { color: #1a7f37; }\n.fails { color: #c62828; "
	    "font-weight: bold; }\nsvg { display: block; margin-bottom: "
	    "1.5em; }\n</style>\n</head>\n<body>\n<h1>匿名加工の報告<span "
	    "class=\"en\"> / anonymization report</span></h1>\n<p>");
	esc(&t, job_id);
	text_add(&t, "</p>\n");
	failure(&t, doc);
	text_add(&t, "<table>\n");
	snprintf(line, sizeof(line), "%" PRIu64, num(doc, "rows_in"));
	row(&t, "入力行数", "rows in", line);
	snprintf(line, sizeof(line), "%" PRIu64, rows_out);
	row(&t, "出力行数", "rows out", line);
	snprintf(line, sizeof(line), "%" PRIu64, num(doc, "rows_rejected"));
	row(&t, "形式不正", "rows rejected", line);
	snprintf(line, sizeof(line), "%" PRIu64 " (k: %" PRIu64 ", l: %" PRIu64
	    "; 上限 / limit %s)", num(doc, "rows_suppressed"),
	    num(doc, "rows_suppressed_k"), num(doc, "rows_suppressed_l"),
	    jsonr_get_scalar(doc, "max_suppression", a, sizeof(a)));
	row(&t, "削除行数", "rows suppressed", line);
	text_add(&t, "<tr><th>モデル<br><span class=\"en\">privacy model"
	    "</span></th><td>k = %" PRIu64 ", l = %s: <span class=\"%s\">%s"
	    "</span></td></tr>\n", k, jsonr_get_scalar(doc, "l_diversity", b, sizeof(b)),
	    rows_out > 0 && smallest >= k ? "holds" : "fails",
	    rows_out == 0 ? "出力なし / nothing released" : smallest >= k ?
	    "満たす / holds" : "満たさない / DOES NOT HOLD");
	snprintf(line, sizeof(line), "%" PRIu64 " (最小 / smallest %" PRIu64
	    ")", num(doc, "equivalence_classes"), smallest);
	row(&t, "同値クラス", "classes", line);
	snprintf(line, sizeof(line), "最大 / highest %s, 平均 / average %s",
	    jsonr_get_scalar(doc, "risk_highest", a, sizeof(a)), jsonr_get_scalar(doc, "risk_average", b,
	    sizeof(b)));
	row(&t, "再識別リスク", "re-identification risk", line);
	snprintf(line, sizeof(line), "%" PRIu64 " (1 / class size > %s)",
	    num(doc, "rows_at_risk"), jsonr_get_scalar(doc, "risk_threshold", a, sizeof(a)));
	row(&t, "閾値超のリスク", "rows at risk", line);
	if (strcmp(jsonr_get_scalar(doc, "information_loss", a, sizeof(a)), "?") != 0) {
		snprintf(line, sizeof(line), "%s (ARX loss metric)", a);
		row(&t, "情報損失", "information loss", line);
	}
	report_more(json, len, more_row, &t);
	text_add(&t, "</table>\n");
	chart_classes(&t, doc);
	chart_groups(&t, doc);
	chart_loss(&t, doc);
	columns_table(&t, doc);
	text_add(&t, "</body>\n</html>\n");
	if ((*out = text_take(&t)) == NULL)
		return SK_ENOMEM;
	return 0;
}
