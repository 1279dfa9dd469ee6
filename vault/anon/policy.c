/*
 * policy.c: reading and checking an anonymization policy (see policy.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "csv.h"
#include "dict.h"
#include "model.h"
#include "search.h"
#include "policy.h"
#include "sk.h"

static const char *const action_names[] = {
	[ACT_DROP] = "drop", [ACT_KEEP] = "keep",
	[ACT_PSEUDONYMIZE] = "pseudonymize", [ACT_TRUNCATE] = "truncate",
	[ACT_BAND] = "band", [ACT_DATE] = "date", [ACT_AGE_BAND] = "age_band",
	[ACT_MAP] = "map", [ACT_HIERARCHY] = "hierarchy",
};

static const char *const role_names[] = {
	[COL_IDENTIFIER] = "identifier", [COL_QUASI] = "quasi",
	[COL_SENSITIVE] = "sensitive", [COL_OTHER] = "other",
};

const char *
policy_action_name(enum col_action a)
{
	return action_names[a];
}

const char *
policy_role_name(enum col_role r)
{
	return role_names[r];
}

static int
pick(struct config_ctx *cx, const config_setting_t *g, const char *name,
    const char *const *names, size_t n, int *out)
{
	char v[64];
	size_t i;
	int r;

	if ((r = config_string(cx, g, name, v, sizeof(v), 1)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return config_fail(cx, config_member(cx, g, name),
	    "unknown %s \"%s\"", name, v);
}

static int
get_double(struct config_ctx *cx, const config_setting_t *g, const char *name,
    int required, double *out, int *has)
{
	const config_setting_t *s = config_member(cx, g, name);

	if (has != NULL)
		*has = s != NULL;
	if (s == NULL)
		return required ? config_fail(cx, g, "missing setting '%s'",
		    name) : 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 0;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		if (isfinite(*out))
			return 0;
		break;
	}
	return config_fail(cx, s, "'%s' must be a number", name);
}

/* How reading a table ended: csv_read's last r, and whether it was empty. */
static int
table_read(struct config_ctx *cx, const config_setting_t *at,
    const char *path, struct csv_reader *rd, int r, int empty)
{
	if (r < 0)
		return config_fail(cx, at, "%s: %s", path, csv_reader_error(rd));
	if (empty)
		return config_fail(cx, at, "%s is empty", path);
	return 0;
}

/* Loads a lookup table: rows of (from, ..., to at column `to_col`). */
static int
load_table(struct config_ctx *cx, const config_setting_t *at,
    const char *path, char delim, unsigned to_col, struct policy_column *c)
{
	struct csv_reader *rd = NULL;
	char **f;
	uint32_t *lens, from, to;
	size_t n, cap = 0;
	int fd, r, added;
	void *p;

	snprintf(c->file, sizeof(c->file), "%s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return config_fail(cx, at, "cannot open table %s", path);
	if ((r = dict_new(&c->from)) != 0 || (r = dict_new(&c->to)) != 0 ||
	    (r = csv_reader_new(fd, CSV_UTF8, delim, &rd)) != 0)
		goto out;
	while ((r = csv_read(rd, &f, &lens, &n)) == 1) {
		if (n <= to_col) {
			r = config_fail(cx, at, "%s, line %llu: needs at least "
			    "%u columns", path,
			    (unsigned long long)csv_reader_line(rd), to_col + 1);
			goto out;
		}
		if ((r = dict_intern(c->from, f[0], lens[0], &from,
		    &added)) != 0)
			goto out;
		if (!added) {
			r = config_fail(cx, at, "%s, line %llu: a value is "
			    "listed twice", path,
			    (unsigned long long)csv_reader_line(rd));
			goto out;
		}
		if ((r = dict_intern(c->to, f[to_col], lens[to_col], &to,
		    &added)) != 0)
			goto out;
		if (from >= cap) {
			cap = cap ? cap * 2 : 256;
			if ((p = reallocarray(c->to_id, cap,
			    sizeof(*c->to_id))) == NULL) {
				r = SK_ENOMEM;
				goto out;
			}
			c->to_id = p;
		}
		c->to_id[from] = to;
	}
	r = table_read(cx, at, path, rd, r, dict_count(c->from) == 0);
out:
	csv_reader_free(rd);
	close(fd);
	return r;
}

/*
 * Loads every level of a hierarchy (load_table has read its values): the
 * label of each value at each level, how many values share it, and checks
 * that the levels nest (two values together at one level stay together
 * above it), which the search's pruning relies on.
 */
static int
load_levels(struct config_ctx *cx, const config_setting_t *at,
    const char *path, struct policy_column *c)
{
	struct csv_reader *rd = NULL;
	char **f;
	uint32_t *lens, rows = dict_count(c->from), row = 0, nl, *cnt = NULL;
	uint32_t *up = NULL, id;
	size_t n, lv;
	int fd, r, added;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return config_fail(cx, at, "cannot open table %s", path);
	if ((r = dict_new(&c->labels)) != 0 ||
	    (r = csv_reader_new(fd, CSV_UTF8, ';', &rd)) != 0)
		goto out;
	while ((r = csv_read(rd, &f, &lens, &n)) == 1 && row < rows) {
		if (row == 0) {
			if (n > 64) {
				r = config_fail(cx, at, "%s: more than 64 "
				    "levels", path);
				goto out;
			}
			c->nlevels = (unsigned)n;
			c->gen = calloc((size_t)rows * n, sizeof(*c->gen));
			c->leaves = calloc((size_t)rows * n,
			    sizeof(*c->leaves));
			if (c->gen == NULL || c->leaves == NULL) {
				r = SK_ENOMEM;
				goto out;
			}
		} else if (n != c->nlevels) {
			r = config_fail(cx, at, "%s, line %llu: %zu levels "
			    "where the first line has %u", path,
			    (unsigned long long)csv_reader_line(rd), n,
			    c->nlevels);
			goto out;
		}
		for (lv = 0; lv < n; lv++) {
			if ((r = dict_intern(c->labels, f[lv], lens[lv], &id,
			    &added)) != 0)
				goto out;
			c->gen[lv * rows + row] = id;
		}
		row++;
	}
	if (r < 0 || row != rows) {
		r = config_fail(cx, at, "%s: %s", path, r < 0 ?
		    csv_reader_error(rd) : "changed while it was read");
		goto out;
	}
	nl = dict_count(c->labels);
	cnt = calloc(nl, sizeof(*cnt));
	up = malloc((size_t)nl * sizeof(*up));
	if (cnt == NULL || up == NULL) {
		r = SK_ENOMEM;
		goto out;
	}
	for (lv = 0; lv < c->nlevels; lv++) {
		const uint32_t *g = c->gen + lv * rows;

		memset(cnt, 0, (size_t)nl * sizeof(*cnt));
		for (row = 0; row < rows; row++)
			cnt[g[row]]++;
		for (row = 0; row < rows; row++)
			c->leaves[lv * rows + row] = cnt[g[row]];
		if (lv == 0)
			continue;
		memset(up, 0xff, (size_t)nl * sizeof(*up));
		for (row = 0; row < rows; row++) {
			id = c->gen[(lv - 1) * rows + row];
			if (up[id] == UINT32_MAX)
				up[id] = g[row];
			else if (up[id] != g[row]) {
				r = config_fail(cx, at, "%s, line %u: level "
				    "%zu does not nest in level %zu (a label "
				    "of level %zu has two parents)", path,
				    row + 1, lv - 1, lv, lv - 1);
				goto out;
			}
		}
	}
	r = 0;
out:
	free(cnt);
	free(up);
	csv_reader_free(rd);
	close(fd);
	return r;
}

static int
parse_ref_date(const char *s, struct policy_column *c)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	char tail;

	if (sscanf(s, "%4d-%2d-%2d%c", &c->ref_y, &c->ref_m, &c->ref_d,
	    &tail) != 3 || strlen(s) != 10 || c->ref_m < 1 || c->ref_m > 12 ||
	    c->ref_d < 1 || c->ref_d > mdays[c->ref_m - 1])
		return SK_EFORMAT;
	return 0;
}

/*
 * The searched levels of a built-in generalization: a list of numbers
 * (widths, keeps) or of "month"/"year", finest first, each nesting in the
 * next. The first is the column's level 0.
 */
static int
load_steps(struct config_ctx *cx, const config_setting_t *e,
    struct policy_column *c)
{
	static const char *const names[] = {
		[ACT_TRUNCATE] = "keeps", [ACT_BAND] = "widths",
		[ACT_AGE_BAND] = "widths", [ACT_DATE] = "granularities",
	};
	const char *name = c->action < SK_ARRAY_LEN(names) ?
	    names[c->action] : NULL;
	const config_setting_t *l, *x;
	const char *str;
	unsigned i, n;
	double v;
	int r;

	if ((r = config_bool(cx, e, "search", 0, &c->search)) != 0)
		return r;
	l = name != NULL ? config_member(cx, e, name) : NULL;
	if (!c->search) {
		if (l != NULL)
			return config_fail(cx, l, "'%s' lists the search's "
			    "levels: set search = true", name);
		return 0;
	}
	if (name == NULL)
		return config_fail(cx, e, "only hierarchy, age_band, band, "
		    "truncate and date columns can be searched");
	if (c->role != COL_QUASI)
		return config_fail(cx, e, "only a quasi-identifier's level can "
		    "be searched");
	if (l == NULL || !config_setting_is_array(l) ||
	    (n = (unsigned)config_setting_length(l)) == 0 ||
	    n > SK_ARRAY_LEN(c->steps))
		return config_fail(cx, l != NULL ? l : e, "a searched %s needs "
		    "'%s', a list of 1 to %zu levels, finest first",
		    policy_action_name(c->action), name, SK_ARRAY_LEN(c->steps));
	for (i = 0; i < n; i++) {
		x = config_setting_get_elem(l, i);
		if (c->action == ACT_DATE) {
			str = config_setting_get_string(x);
			if (str == NULL || (strcmp(str, "month") != 0 &&
			    strcmp(str, "year") != 0) || (i > 0 &&
			    strcmp(str, "month") == 0))
				return config_fail(cx, l, "'granularities' "
				    "must be [\"month\", \"year\"] or "
				    "[\"year\"]");
			c->steps[i] = strcmp(str, "month") == 0;
			continue;
		}
		v = config_setting_type(x) == CONFIG_TYPE_FLOAT ?
		    config_setting_get_float(x) :
		    (double)config_setting_get_int64(x);
		if (!isfinite(v) || v <= 0 || (c->action == ACT_TRUNCATE &&
		    (v != floor(v) || v > 1000)))
			return config_fail(cx, l, "'%s' must list %s", name,
			    c->action == ACT_TRUNCATE ? "whole numbers of "
			    "characters, 1 to 1000" : "widths above zero");
		if (i > 0 && (c->action == ACT_TRUNCATE ? v >= c->steps[i - 1] :
		    v <= c->steps[i - 1] ||
		    fmod(v, c->steps[i - 1]) != 0))
			return config_fail(cx, l, "'%s' must go from finest to "
			    "coarsest, each %s", name, c->action ==
			    ACT_TRUNCATE ? "shorter than the one before" :
			    "a whole multiple of the one before, so that "
			    "each band lies in one band of the next");
		c->steps[i] = v;
	}
	c->nsteps = n;
	c->nlevels = n + 1;
	if ((r = config_unsigned(cx, e, "min_level", 0, 64, 0,
	    &c->min_level)) != 0 || (r = config_unsigned(cx, e, "max_level",
	    0, 64, n, &c->max_level)) != 0)
		return r;
	if (c->max_level > n)
		c->max_level = n;
	if (c->min_level > c->max_level)
		return config_fail(cx, e, "'min_level' is above 'max_level'");
	/* Level 0 is what the column's action releases as read. */
	switch (c->action) {
	case ACT_TRUNCATE:
		c->keep = (unsigned)c->steps[0];
		break;
	case ACT_DATE:
		c->month = c->steps[0] != 0;
		break;
	default:
		c->width = c->steps[0];
	}
	return 0;
}

static int
column_params(struct config_ctx *cx, const config_setting_t *e,
    struct policy_column *c)
{
	char v[PATH_MAX];
	unsigned level;
	int r;

	switch (c->action) {
	case ACT_TRUNCATE:
		if ((r = config_unsigned(cx, e, "keep", 1, 1000, 0,
		    &c->keep)) != 0 || (r = load_steps(cx, e, c)) != 0)
			return r;
		if (c->search && config_member(cx, e, "keep") != NULL)
			return config_fail(cx, e, "'keep' and 'search' exclude "
			    "each other: 'keeps' lists the levels");
		if (c->keep == 0)
			return config_fail(cx, e, "truncate needs 'keep' (the "
			    "characters to keep)");
		return 0;
	case ACT_AGE_BAND:
		if ((r = config_string(cx, e, "reference_date", v, sizeof(v),
		    1)) != 0)
			return r;
		if (parse_ref_date(v, c) != 0)
			return config_fail(cx, e, "'reference_date' must be a "
			    "date written YYYY-MM-DD");
		/* FALLTHROUGH */
	case ACT_BAND:
		if ((r = load_steps(cx, e, c)) != 0)
			return r;
		if (c->search && config_member(cx, e, "width") != NULL)
			return config_fail(cx, e, "'width' and 'search' exclude "
			    "each other: 'widths' lists the levels");
		if ((r = get_double(cx, e, "width", !c->search, &c->width,
		    NULL)) ||
		    (r = get_double(cx, e, "top", 0, &c->top, &c->has_top)) ||
		    (r = get_double(cx, e, "bottom", 0, &c->bottom,
		    &c->has_bottom)))
			return r;
		if (c->width <= 0)
			return config_fail(cx, e, "'width' must be above zero");
		if (c->has_top && c->has_bottom && c->top <= c->bottom)
			return config_fail(cx, e, "'top' must be above "
			    "'bottom'");
		return 0;
	case ACT_DATE:
		if ((r = load_steps(cx, e, c)) != 0)
			return r;
		if (c->search) {
			if (config_member(cx, e, "granularity") != NULL)
				return config_fail(cx, e, "'granularity' and "
				    "'search' exclude each other: "
				    "'granularities' lists the levels");
			return 0;
		}
		if ((r = config_string(cx, e, "granularity", v, sizeof(v), 1)))
			return r;
		if (strcmp(v, "year") != 0 && strcmp(v, "month") != 0)
			return config_fail(cx, e, "'granularity' must be "
			    "\"year\" or \"month\"");
		c->month = strcmp(v, "month") == 0;
		return 0;
	case ACT_MAP:
		if ((r = config_path(cx, e, "file", v, sizeof(v), 1)) ||
		    (r = config_string(cx, e, "default", c->default_value,
		    sizeof(c->default_value), 0)))
			return r;
		c->has_default = config_member(cx, e, "default") !=
		    NULL;
		return load_table(cx, e, v, ',', 1, c);
	case ACT_HIERARCHY:
		if ((r = config_path(cx, e, "file", v, sizeof(v), 1)) ||
		    (r = config_unsigned(cx, e, "level", 0, 64, 0, &level)) ||
		    (r = config_bool(cx, e, "search", 0, &c->search)) ||
		    (r = config_unsigned(cx, e, "min_level", 0, 64, 0,
		    &c->min_level)) ||
		    (r = config_unsigned(cx, e, "max_level", 0, 64, 64,
		    &c->max_level)))
			return r;
		if (c->search && config_member(cx, e, "level") != NULL)
			return config_fail(cx, e, "'level' and 'search' "
			    "exclude each other: fix the level or let the "
			    "search choose it");
		if (!c->search && (config_member(cx, e, "min_level") ||
		    config_member(cx, e, "max_level")))
			return config_fail(cx, e, "'min_level' and "
			    "'max_level' bound the search: set "
			    "search = true");
		if (c->search && c->role != COL_QUASI)
			return config_fail(cx, e, "only a quasi-identifier's "
			    "level can be searched");
		c->level = c->search ? 0 : level;
		/* A searched column holds its values as they are until the
		 * search has chosen their level. */
		if ((r = load_table(cx, e, v, ';', c->level, c)) != 0 ||
		    (r = load_levels(cx, e, v, c)) != 0)
			return r;
		if (c->max_level == 64 || c->max_level >= c->nlevels)
			c->max_level = c->nlevels - 1;
		if (c->search && c->min_level > c->max_level)
			return config_fail(cx, e, "'min_level' is above the "
			    "hierarchy's last level (%u)", c->nlevels - 1);
		return 0;
	default:
		return 0;
	}
}

static int
load_columns(struct config_ctx *cx, const config_setting_t *root,
    struct policy *p)
{
	const config_setting_t *list, *e;
	struct policy_column *c;
	size_t i, j, n;
	int r, v = 0;

	if ((list = config_list(cx, root, "columns", 1, &r)) == NULL)
		return r;
	n = (size_t)config_setting_length(list);
	if (n == 0 || n > CSV_FIELDS_MAX)
		return config_fail(cx, list, "'columns' must list 1 to %d "
		    "columns", CSV_FIELDS_MAX);
	if ((p->cols = calloc(n, sizeof(*p->cols))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		c = &p->cols[i];
		p->ncols++;
		if (!config_setting_is_group(e))
			return config_fail(cx, e, "each column must be a group");
		if ((r = config_string(cx, e, "name", c->name, sizeof(c->name),
		    1)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(p->cols[j].name, c->name) == 0)
				return config_fail(cx, e, "column \"%s\" is "
				    "listed twice", c->name);
		/* What the column holds, for the release's codebook: one
		 * line each, Japanese and English, never a value. */
		if ((r = config_string(cx, e, "description", c->description,
		    sizeof(c->description), 0)) != 0 ||
		    (r = config_string(cx, e, "description_en",
		    c->description_en, sizeof(c->description_en), 0)) != 0)
			return r;
		if ((r = pick(cx, e, "role", role_names,
		    SK_ARRAY_LEN(role_names), &v)) != 0)
			return r;
		c->role = (enum col_role)v;
		if ((r = pick(cx, e, "action", action_names,
		    SK_ARRAY_LEN(action_names), &v)) != 0)
			return r;
		c->action = (enum col_action)v;
		if (c->role == COL_IDENTIFIER && c->action != ACT_DROP &&
		    c->action != ACT_PSEUDONYMIZE)
			return config_fail(cx, e, "identifier column \"%s\" may "
			    "only be dropped or pseudonymized", c->name);
		if ((r = column_params(cx, e, c)) != 0)
			return r;
	}
	return 0;
}

/*
 * recoding = "local": the rows a search suppresses are searched again on
 * their own (search.h), for a searched policy scored by the loss;
 * "cells": the same, each of their columns kept or made "*".
 */
static int
load_recoding(struct config_ctx *cx, const config_setting_t *g,
    struct policy *p)
{
	const config_setting_t *at = config_member(cx, g, "recoding");
	char v[16];
	int r;

	if (at == NULL)
		return 0;
	if ((r = config_string(cx, g, "recoding", v, sizeof(v), 1)) != 0)
		return r;
	if (strcmp(v, "global") != 0 && strcmp(v, "local") != 0 &&
	    strcmp(v, "cells") != 0)
		return config_fail(cx, at, "'recoding' must be \"global\" "
		    "(one level per column, the default), \"local\" (the "
		    "rows that would be suppressed generalized further) or "
		    "\"cells\" (their offending cells suppressed)");
	p->local = strcmp(v, "local") == 0 ? RECODE_LOCAL :
	    strcmp(v, "cells") == 0 ? RECODE_CELLS : RECODE_GLOBAL;
	if (p->local && !p->search)
		return config_fail(cx, at, "%s needs a column whose "
		    "level is searched (search = true)", p->local ==
		    RECODE_CELLS ? "cell suppression" : "local recoding");
	if (p->local && p->metric != SEARCH_LOSS)
		return config_fail(cx, at, "%s is scored by the loss metric "
		    "only: leave 'metric' out or set \"loss\"", p->local ==
		    RECODE_CELLS ? "cell suppression" : "local recoding");
	return 0;
}

/*
 * population: a CSV (UTF-8, ",") whose header names quasi-identifier
 * columns and "count", one row per combination of their values with the
 * number of people in the population who have it. Which columns it must
 * name is the job's to check (it knows which are released).
 */
static int
load_population(struct config_ctx *cx, const config_setting_t *g,
    struct policy *p)
{
	const config_setting_t *at = config_member(cx, g, "population");
	struct csv_reader *rd = NULL;
	char **f, *end;
	uint32_t *lens, id;
	size_t n, i, cnt_col = SIZE_MAX, cap = 0, line;
	unsigned long long c;
	int fd, r, added;
	void *q;

	if (at == NULL)
		return 0;
	if ((r = config_path(cx, g, "population", p->pop_file,
	    sizeof(p->pop_file), 1)) != 0)
		return r;
	if ((fd = open(p->pop_file, O_RDONLY | O_CLOEXEC)) == -1)
		return config_fail(cx, at, "cannot open population %s",
		    p->pop_file);
	if ((r = csv_reader_new(fd, CSV_UTF8, ',', &rd)) != 0)
		goto out;
	if ((r = csv_read(rd, &f, &lens, &n)) != 1 || n < 2) {
		r = config_fail(cx, at, "%s: no header of columns and \"count\"",
		    p->pop_file);
		goto out;
	}
	p->pop_name = calloc(n, sizeof(*p->pop_name));
	p->pop_values = calloc(n, sizeof(*p->pop_values));
	if (p->pop_name == NULL || p->pop_values == NULL) {
		r = SK_ENOMEM;
		goto out;
	}
	p->pop_ncols = n - 1;
	for (i = 0; i < n; i++) {
		if (strcmp(f[i], "count") == 0 && cnt_col == SIZE_MAX) {
			cnt_col = i;
			continue;
		}
		if (lens[i] >= sizeof(p->pop_name[0])) {
			r = config_fail(cx, at, "%s: a column name is too long",
			    p->pop_file);
			goto out;
		}
		/* the columns in order, the count's left out */
		memcpy(p->pop_name[i - (cnt_col < i)], f[i], lens[i] + 1);
		if ((r = dict_new(&p->pop_values[i - (cnt_col < i)])) != 0)
			goto out;
	}
	if (cnt_col == SIZE_MAX) {
		r = config_fail(cx, at, "%s: the header has no \"count\" column",
		    p->pop_file);
		goto out;
	}
	while ((r = csv_read(rd, &f, &lens, &n)) == 1) {
		line = (size_t)csv_reader_line(rd);
		if (n != p->pop_ncols + 1) {
			r = config_fail(cx, at, "%s, line %zu: %zu fields where "
			    "the header has %zu", p->pop_file, line, n,
			    p->pop_ncols + 1);
			goto out;
		}
		errno = 0;
		c = strtoull(f[cnt_col], &end, 10);
		if (f[cnt_col][0] < '0' || f[cnt_col][0] > '9' || *end != '\0' ||
		    errno != 0 || c == 0) {
			r = config_fail(cx, at, "%s, line %zu: the count must be "
			    "a whole number above 0", p->pop_file, line);
			goto out;
		}
		if (p->npop == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((q = reallocarray(p->pop_ids, cap, (p->pop_ncols) *
			    sizeof(uint32_t))) == NULL) {
				r = SK_ENOMEM;
				goto out;
			}
			p->pop_ids = q;
			if ((q = reallocarray(p->pop_count, cap,
			    sizeof(uint64_t))) == NULL) {
				r = SK_ENOMEM;
				goto out;
			}
			p->pop_count = q;
		}
		for (i = 0; i < n; i++) {
			size_t col = i - (cnt_col < i);

			if (i == cnt_col)
				continue;
			if ((r = dict_intern(p->pop_values[col], f[i], lens[i],
			    &id, &added)) != 0)
				goto out;
			p->pop_ids[p->npop * p->pop_ncols + col] = id;
		}
		p->pop_count[p->npop++] = c;
	}
	r = table_read(cx, at, p->pop_file, rd, r, p->npop == 0);
out:
	csv_reader_free(rd);
	close(fd);
	return r;
}

/*
 * t_hierarchy: t-closeness by hierarchical ground distance, over the
 * sensitive column's released values in a hierarchy of ARX's format.
 */
static int
load_t_hierarchy(struct config_ctx *cx, const config_setting_t *g,
    struct policy *p)
{
	const config_setting_t *at = config_member(cx, g, "t_hierarchy");
	char path[PATH_MAX];
	int r;

	if (at == NULL)
		return 0;
	if (!(p->t > 0))
		return config_fail(cx, at, "'t_hierarchy' is for t_closeness: "
		    "it sets the distance between sensitive values");
	if ((r = config_path(cx, g, "t_hierarchy", path, sizeof(path), 1)) ||
	    (r = load_table(cx, at, path, ';', 0, &p->t_hier)) != 0 ||
	    (r = load_levels(cx, at, path, &p->t_hier)) != 0)
		return r;
	if (p->t_hier.nlevels < 2)
		return config_fail(cx, at, "%s: a hierarchy for t-closeness "
		    "needs two levels or more (the values, and what groups "
		    "them)", path);
	return 0;
}

/* l_model (distinct, entropy, recursive with c) and t_closeness. */
static int
load_models(struct config_ctx *cx, const config_setting_t *g,
    struct policy *p)
{
	static const char *const names[] = { [MODEL_L_DISTINCT] = "distinct",
		[MODEL_L_ENTROPY] = "entropy", [MODEL_L_RECURSIVE] = "recursive" };
	int r, has, v = MODEL_L_DISTINCT;

	if (config_member(cx, g, "l_model") != NULL &&
	    (r = pick(cx, g, "l_model", names, SK_ARRAY_LEN(names), &v)) != 0)
		return r;
	p->l_model = v;
	if ((r = get_double(cx, g, "c", 0, &p->c, &has)) != 0)
		return r;
	if (v != MODEL_L_DISTINCT && p->l < 2)
		return config_fail(cx, config_member(cx, g, "l_model"),
		    "'l_model' needs 'l_diversity' of 2 or more");
	if (v == MODEL_L_RECURSIVE && (!has || !(p->c > 0)))
		return config_fail(cx, g, "recursive (c,l)-diversity needs 'c' "
		    "above zero (the most frequent value must be rarer than c "
		    "times the l-th and rarer ones together)");
	if (v != MODEL_L_RECURSIVE && has)
		return config_fail(cx, config_member(cx, g, "c"), "'c' is for "
		    "l_model = \"recursive\"");
	if ((r = get_double(cx, g, "t_closeness", 0, &p->t, &has)) != 0)
		return r;
	if (has && !(p->t > 0 && p->t <= 1))
		return config_fail(cx, config_member(cx, g, "t_closeness"),
		    "'t_closeness' must be above 0 and at most 1 (the largest "
		    "distance of a class's sensitive values from the file's)");
	if ((r = load_t_hierarchy(cx, g, p)) != 0)
		return r;
	return load_population(cx, g, p);
}

static int
load_privacy(struct config_ctx *cx, const config_setting_t *root,
    struct policy *p)
{
	const config_setting_t *g;
	size_t i, nq = 0, ns = 0;
	char v[32];
	int r, has;

	if ((g = config_group(cx, root, "privacy", &r)) == NULL)
		return r;
	if ((r = config_unsigned(cx, g, "k", 1, 1000000, 0, &p->k)) ||
	    (r = config_unsigned(cx, g, "l_diversity", 0, 1000, 0, &p->l)) ||
	    (r = get_double(cx, g, "max_suppression", 0, &p->max_suppression,
	    &has)))
		return r;
	if (p->k == 0)
		return config_fail(cx, g, "missing setting 'k'");
	if ((r = config_string(cx, g, "suppressed", v, sizeof(v), 0)) != 0)
		return r;
	if (v[0] != '\0' && strcmp(v, "delete") != 0 && strcmp(v, "star") != 0)
		return config_fail(cx, config_member(cx, g, "suppressed"),
		    "'suppressed' must be \"delete\" (the rows are not "
		    "released) or \"star\" (released with every "
		    "quasi-identifier *)");
	p->star = strcmp(v, "star") == 0;
	if ((r = config_string(cx, g, "metric", v, sizeof(v), 0)) != 0)
		return r;
	if (v[0] == '\0' || strcmp(v, "loss") == 0)
		p->metric = SEARCH_LOSS;
	else if (strcmp(v, "discernibility") == 0)
		p->metric = SEARCH_DISCERNIBILITY;
	else if (strcmp(v, "precision") == 0)
		p->metric = SEARCH_PRECISION;
	else if (strcmp(v, "nonuniform_entropy") == 0)
		p->metric = SEARCH_ENTROPY;
	else
		return config_fail(cx, config_member(cx, g, "metric"),
		    "'metric' must be \"loss\" (ARX's loss metric, the "
		    "default), \"discernibility\", \"precision\" or "
		    "\"nonuniform_entropy\"");
	if (!has)
		p->max_suppression = 0.0;
	if (p->max_suppression < 0 || p->max_suppression > 1)
		return config_fail(cx, g, "'max_suppression' must be between "
		    "0 and 1 (a fraction of the rows)");
	if ((r = get_double(cx, g, "max_group_suppression", 0,
	    &p->max_group_suppression, &has)) != 0)
		return r;
	if (has && (p->max_group_suppression <= 0 ||
	    p->max_group_suppression > 1))
		return config_fail(cx, config_member(cx, g,
		    "max_group_suppression"), "'max_group_suppression' must be "
		    "above 0 and at most 1 (the largest share of one value's "
		    "rows that may be suppressed)");
	if ((r = get_double(cx, g, "risk_threshold", 0, &p->risk_threshold,
	    &has)) != 0)
		return r;
	if (!has)
		p->risk_threshold = 0.2;
	if (p->risk_threshold <= 0 || p->risk_threshold > 1)
		return config_fail(cx, config_member(cx, g, "risk_threshold"),
		    "'risk_threshold' must be above 0 and at most 1");
	for (i = 0; i < p->ncols; i++) {
		if (p->cols[i].role == COL_QUASI &&
		    p->cols[i].action != ACT_DROP)
			nq++;
		if (p->cols[i].role == COL_SENSITIVE &&
		    p->cols[i].action != ACT_DROP)
			ns++;
		if (p->cols[i].search)
			p->search = 1;
	}
	if (p->k > 1 && nq == 0)
		return config_fail(cx, g, "k-anonymity needs at least one "
		    "quasi-identifier column that is released");
	if (p->l > 1 && ns != 1)
		return config_fail(cx, g, "l_diversity needs exactly one "
		    "released sensitive column (found %zu)", ns);
	if ((r = load_recoding(cx, g, p)) != 0)
		return r;
	if ((r = load_models(cx, g, p)) != 0)
		return r;
	if (p->t > 0 && ns != 1)
		return config_fail(cx, g, "t_closeness needs exactly one "
		    "released sensitive column (found %zu)", ns);
	return 0;
}

static int
load_encoding(struct config_ctx *cx, const config_setting_t *g,
    enum csv_encoding *out)
{
	char v[32];
	int r;

	if ((r = config_string(cx, g, "encoding", v, sizeof(v), 0)) != 0)
		return r;
	if (v[0] == '\0' || strcmp(v, "utf-8") == 0)
		*out = CSV_UTF8;
	else if (strcmp(v, "cp932") == 0 || strcmp(v, "shift_jis") == 0)
		*out = CSV_CP932;
	else
		return config_fail(cx, config_member(cx, g,
		    "encoding"), "'encoding' must be \"utf-8\" or \"cp932\"");
	return 0;
}

static int
load_io(struct config_ctx *cx, const config_setting_t *root, struct policy *p)
{
	const config_setting_t *in, *out;
	char v[16];
	int r;

	if ((in = config_group(cx, root, "input", &r)) == NULL ||
	    (r = load_encoding(cx, in, &p->in_enc)) ||
	    (r = config_string(cx, in, "delimiter", v, sizeof(v), 0)))
		return r;
	if (v[0] != '\0' && (strlen(v) != 1 || strchr(",;\t|", v[0]) == NULL))
		return config_fail(cx, in, "'delimiter' must be one of , ; | "
		    "or a tab");
	p->delim = v[0] != '\0' ? v[0] : ',';
	if ((r = config_bool(cx, in, "header", 1, &p->header)) ||
	    (r = config_string(cx, in, "on_error", v, sizeof(v), 0)))
		return r;
	if (v[0] != '\0' && strcmp(v, "fail") != 0 && strcmp(v, "reject") != 0)
		return config_fail(cx, in, "'on_error' must be \"fail\" or "
		    "\"reject\"");
	p->reject_bad_rows = strcmp(v, "reject") == 0;
	p->out_enc = CSV_UTF8;
	p->shuffle = 1;
	p->guard_formulas = 1;
	if ((out = config_member(cx, root, "output")) == NULL)
		return 0;
	if ((r = load_encoding(cx, out, &p->out_enc)) ||
	    (r = config_bool(cx, out, "shuffle", 1, &p->shuffle)) ||
	    (r = config_bool(cx, out, "guard_formulas", 1,
	    &p->guard_formulas)) ||
	    (r = config_string(cx, out, "line_end", v, sizeof(v), 0)))
		return r;
	if (v[0] != '\0' && strcmp(v, "lf") != 0 && strcmp(v, "crlf") != 0)
		return config_fail(cx, out, "'line_end' must be \"lf\" or "
		    "\"crlf\"");
	/* Windows tools expect CRLF with CP932. */
	p->crlf = v[0] != '\0' ? strcmp(v, "crlf") == 0 :
	    p->out_enc == CSV_CP932;
	return 0;
}

static int
load_scan(struct config_ctx *cx, const config_setting_t *root,
    struct policy *p)
{
	const config_setting_t *g, *list, *e;
	char re[1024];
	size_t i, n;
	int r;

	if ((g = config_member(cx, root, "scan")) == NULL)
		return 0;
	if ((list = config_list(cx, g, "patterns", 0, &r)) == NULL)
		return r;
	n = (size_t)config_setting_length(list);
	if ((p->patterns = calloc(n + 1, sizeof(*p->patterns))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		if ((r = config_string(cx, e, "name", p->patterns[i].name,
		    sizeof(p->patterns[i].name), 1)) ||
		    (r = config_string(cx, e, "regex", re, sizeof(re), 1)))
			return r;
		if (regcomp(&p->patterns[i].re, re, REG_EXTENDED | REG_NOSUB) != 0)
			return config_fail(cx, e, "'regex' is not a valid POSIX "
			    "extended regular expression");
		p->npatterns++;
	}
	return 0;
}

static int
policy_parse(config_t *cfg, struct config_ctx *cx, void *arg)
{
	const config_setting_t *root = config_root_setting(cfg);
	struct policy *p = arg;
	int r;

	if ((r = load_io(cx, root, p)) != 0 ||
	    (r = load_columns(cx, root, p)) != 0 ||
	    (r = load_privacy(cx, root, p)) != 0)
		return r;
	return load_scan(cx, root, p);
}

/* Parses text (taken: kept in the policy, or freed) read from path. */
static int
load_taken(struct config_ctx *cx, const char *path, char *text, size_t len,
    struct policy **out)
{
	struct policy *p;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		free(text);
		return SK_ENOMEM;
	}
	snprintf(p->file, sizeof(p->file), "%s", path);
	p->text = text;
	p->textlen = len;
	r = config_parse_text(cx, text, len, p->digest, policy_parse, p);
	if (r != 0) {
		policy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
policy_load(const char *path, struct policy **out, struct config_error *err)
{
	struct config_ctx cx = { .name = path, .err = err };
	char *text;
	size_t len;
	int r;

	config_ctx_dir(&cx, path);
	if ((r = config_read_text(&cx, path, &text, &len)) != 0)
		return r;
	return load_taken(&cx, path, text, len, out);
}

int
policy_load_text(const char *path, const char *text, size_t len,
    struct policy **out, struct config_error *err)
{
	struct config_ctx cx = { .name = path, .err = err };
	char *copy;

	config_ctx_dir(&cx, path);
	if (memchr(text, '\0', len) != NULL || text[len] != '\0')
		return config_fail(&cx, NULL, "the text contains a NUL byte");
	if ((copy = malloc(len + 1)) == NULL)
		return SK_ENOMEM;
	memcpy(copy, text, len + 1);
	return load_taken(&cx, path, copy, len, out);
}

/* A column's tables (map, hierarchy), or t_hierarchy's. */
static void
column_free(struct policy_column *c)
{
	dict_free(c->from);
	dict_free(c->to);
	free(c->to_id);
	dict_free(c->labels);
	free(c->gen);
	free(c->leaves);
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ncols; i++)
		column_free(&p->cols[i]);
	column_free(&p->t_hier);
	/* one more than the columns: the count's, unless it was missing */
	for (i = 0; p->pop_values != NULL && i <= p->pop_ncols; i++)
		dict_free(p->pop_values[i]);
	free(p->pop_values);
	free(p->pop_name);
	free(p->pop_ids);
	free(p->pop_count);
	free(p->text);
	for (i = 0; i < p->npatterns; i++)
		regfree(&p->patterns[i].re);
	free(p->patterns);
	free(p->cols);
	free(p);
}
