/*
 * check.c: the checker (see check.h).
 *
 * One pass over the release. Each row's quasi-identifier values, each with
 * its length in front, are one class key in a dictionary; a second
 * dictionary holds (class, sensitive value) pairs for l-diversity. Memory
 * grows with the distinct classes and pairs, not with the rows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "check.h"
#include "csv.h"
#include "dict.h"
#include "jsonr.h"
#include "model.h"
#include "sk.h"

#define KEY_MAX (CSV_RECORD_MAX + 4 * CSV_FIELDS_MAX)

struct checker {
	const struct policy *p;
	size_t col_of[CSV_FIELDS_MAX];	/* release column -> policy column */
	size_t ncols;
	size_t qi[CSV_FIELDS_MAX], nqi;	/* release columns that are QIs */
	long sens;			/* release column for l, or -1 */
	size_t sensitive[CSV_FIELDS_MAX], nsensitive;	/* every one */
	uint64_t star_rows, star_open;	/* rows all * in their QIs; of them,
					 * with a sensitive value not * */
	struct dict *classes, *pairs;
	uint32_t *size, *distinct;	/* per class */
	/* entropy or recursive l: each pair's class and rows */
	uint32_t *pair_class;
	uint64_t *pair_rows;
	size_t pair_cap;
	size_t cap;
	uint8_t *key;			/* KEY_MAX: a class or pair key */
	uint64_t rows;
	char *why;
	size_t whycap;
};

static int __attribute__((format(printf, 2, 3)))
refuse(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->whycap, fmt, ap);
	va_end(ap);
	return SK_EFORMAT;
}

/* The header must name the released columns of the policy, in its order. */
static int
check_header(struct checker *c, char **f, const uint32_t *lens, size_t n)
{
	const struct policy *p = c->p;
	size_t i, j, o = 0;

	for (i = 0; i < n; i++)
		for (j = 0; j < p->ncols; j++)
			if (p->cols[j].action == ACT_DROP &&
			    strcmp(f[i], p->cols[j].name) == 0)
				return refuse(c, "column %zu of the release is "
				    "\"%s\", which the policy drops", i + 1,
				    p->cols[j].name);
	c->sens = -1;
	for (j = 0; j < p->ncols; j++) {
		if (p->cols[j].action == ACT_DROP)
			continue;
		if (o >= n || lens[o] != strlen(p->cols[j].name) ||
		    memcmp(f[o], p->cols[j].name, lens[o]) != 0)
			return refuse(c, "column %zu of the release is not "
			    "\"%s\" as the policy says", o + 1, p->cols[j].name);
		c->col_of[o] = j;
		if (p->cols[j].role == COL_QUASI)
			c->qi[c->nqi++] = o;
		if (p->cols[j].role == COL_SENSITIVE && p->l > 1)
			c->sens = (long)o;
		if (p->cols[j].role == COL_SENSITIVE)
			c->sensitive[c->nsensitive++] = o;
		o++;
	}
	if (o != n)
		return refuse(c, "the release has %zu columns, the policy "
		    "releases %zu", n, o);
	c->ncols = o;
	return 0;
}

/* Appends one value, its length first, to a key being built. */
static int
key_add(struct checker *c, size_t *len, const char *v, uint32_t n)
{
	if (*len + 4 + n > KEY_MAX)
		return SK_ETOOBIG;
	sk_put_be32(c->key + *len, n);
	memcpy(c->key + *len + 4, v, n);
	*len += 4 + n;
	return 0;
}

static int
grow(struct checker *c, uint32_t id)
{
	size_t n = c->cap ? c->cap : 1024;
	uint32_t *s, *d;

	if (id < c->cap)
		return 0;
	while (n <= id)
		n *= 2;
	if ((s = reallocarray(c->size, n, sizeof(*s))) == NULL)
		return SK_ENOMEM;
	c->size = s;
	if ((d = reallocarray(c->distinct, n, sizeof(*d))) == NULL)
		return SK_ENOMEM;
	c->distinct = d;
	memset(c->size + c->cap, 0, (n - c->cap) * sizeof(*s));
	memset(c->distinct + c->cap, 0, (n - c->cap) * sizeof(*d));
	c->cap = n;
	return 0;
}

static int
check_row(struct checker *c, char **f, const uint32_t *lens, size_t n,
    uint64_t line)
{
	const char *what;
	size_t i, len = 0;
	uint32_t cid, pid;
	int added, r;

	if (n != c->ncols)
		return refuse(c, "line %llu of the release has %zu fields, "
		    "not %zu", (unsigned long long)line, n, c->ncols);
	for (i = 0; i < n; i++)
		if ((what = action_scan(c->p, f[i], lens[i])) != NULL)
			return refuse(c, "line %llu, column \"%s\": a value "
			    "that looks like %s", (unsigned long long)line,
			    c->p->cols[c->col_of[i]].name, what);
	for (i = 0; i < c->nqi; i++)
		if (lens[c->qi[i]] != 1 || f[c->qi[i]][0] != '*')
			break;
	if (i == c->nqi && c->nqi > 0) {
		c->star_rows++;
		for (i = 0; i < c->nsensitive; i++)
			if (lens[c->sensitive[i]] != 1 ||
			    f[c->sensitive[i]][0] != '*') {
				c->star_open++;
				break;
			}
	}
	for (i = 0; i < c->nqi; i++)
		if ((r = key_add(c, &len, f[c->qi[i]], lens[c->qi[i]])) != 0)
			return r;
	if ((r = dict_intern(c->classes, c->key, (uint32_t)len, &cid,
	    &added)) != 0 || (r = grow(c, cid)) != 0)
		return r;
	c->size[cid]++;
	if (c->sens >= 0) {
		len = 0;
		sk_put_be32(c->key, cid);
		len = 4;
		if ((r = key_add(c, &len, f[c->sens], lens[c->sens])) != 0 ||
		    (r = dict_intern(c->pairs, c->key, (uint32_t)len, &pid,
		    &added)) != 0)
			return r;
		if (added)
			c->distinct[cid]++;
		if (c->p->l > 1 && c->p->l_model != MODEL_L_DISTINCT) {
			if (pid >= c->pair_cap) {
				size_t cap = c->pair_cap ? c->pair_cap * 2 :
				    1024;
				uint32_t *pc;
				uint64_t *pr;

				while (cap <= pid)
					cap *= 2;
				if ((pc = reallocarray(c->pair_class, cap,
				    sizeof(*pc))) == NULL)
					return SK_ENOMEM;
				c->pair_class = pc;
				if ((pr = reallocarray(c->pair_rows, cap,
				    sizeof(*pr))) == NULL)
					return SK_ENOMEM;
				c->pair_rows = pr;
				memset(pr + c->pair_cap, 0, (cap - c->pair_cap) *
				    sizeof(*pr));
				c->pair_cap = cap;
			}
			c->pair_class[pid] = cid;
			c->pair_rows[pid]++;
		}
	}
	c->rows++;
	return 0;
}

/*
 * Entropy or recursive l-diversity, recounted from the release: the first
 * class that fails, or UINT32_MAX. (t-closeness is measured against the
 * source's distribution, which the checker never sees: not recounted.)
 */
static uint32_t
check_models(struct checker *c, uint32_t skip)
{
	struct model m = { .l = c->p->l, .kind = (enum model_l)c->p->l_model,
		.c = c->p->c };
	uint32_t ncl = dict_count(c->classes), np = dict_count(c->pairs), i;
	uint32_t *first = NULL, *next = NULL, bad = UINT32_MAX, p;
	uint64_t *cnt = NULL;
	size_t n;

	if (c->sens < 0 || c->p->l < 2 || c->p->l_model == MODEL_L_DISTINCT)
		return UINT32_MAX;
	first = malloc(((size_t)ncl + 1) * sizeof(*first));
	next = malloc(((size_t)np + 1) * sizeof(*next));
	cnt = malloc(((size_t)np + 1) * sizeof(*cnt));
	if (first == NULL || next == NULL || cnt == NULL) {
		bad = 0;		/* cannot check: refuse */
		goto out;
	}
	memset(first, 0xff, ((size_t)ncl + 1) * sizeof(*first));
	for (p = 0; p < np; p++) {
		next[p] = first[c->pair_class[p]];
		first[c->pair_class[p]] = p;
	}
	for (i = 0; i < ncl && bad == UINT32_MAX; i++) {
		if (i == skip)
			continue;
		for (n = 0, p = first[i]; p != UINT32_MAX; p = next[p])
			cnt[n++] = c->pair_rows[p];
		if (!model_class_ok(&m, NULL, cnt, n, c->size[i]))
			bad = i;
	}
out:
	free(first);
	free(next);
	free(cnt);
	return bad;
}

/* The classes, and what the report says against what was counted. */
static int
check_totals(struct checker *c, const uint8_t digest[32], const char *report,
    size_t reportlen)
{
	struct jsonr doc = { report, reportlen };
	uint64_t rows, classes, k;
	char sha[65], policy_sha[65], hex[65];
	uint32_t i, n = dict_count(c->classes), star = UINT32_MAX;
	size_t len = 0, q;

	/* suppressed = "star": the class of rows with every quasi-identifier
	 * * may be small, but then shows no sensitive value either. */
	for (q = 0; q < c->nqi; q++)
		if (key_add(c, &len, "*", 1) != 0)
			return SK_ETOOBIG;
	if (c->p->star && c->nqi > 0 &&
	    dict_find(c->classes, c->key, (uint32_t)len, &star) == 0 &&
	    (c->size[star] < c->p->k || (c->sens >= 0 &&
	    c->distinct[star] < c->p->l)) && c->star_open > 0)
		return refuse(c, "the class of rows with every "
		    "quasi-identifier * has %u rows (k = %u) and shows "
		    "sensitive values", c->size[star], c->p->k);
	for (i = 0; i < n; i++) {
		if (i == star)
			continue;
		if (c->size[i] < c->p->k)
			return refuse(c, "an equivalence class of the release "
			    "has %u rows, fewer than k = %u", c->size[i],
			    c->p->k);
		if (c->sens >= 0 && c->distinct[i] < c->p->l)
			return refuse(c, "an equivalence class of the release "
			    "has %u distinct values of \"%s\", fewer than "
			    "l = %u", c->distinct[i],
			    c->p->cols[c->col_of[c->sens]].name, c->p->l);
	}
	if ((i = check_models(c, star)) != UINT32_MAX)
		return refuse(c, "an equivalence class of the release (%u rows) "
		    "does not meet %s l-diversity with l = %u", c->size[i],
		    c->p->l_model == MODEL_L_ENTROPY ? "entropy" : "recursive",
		    c->p->l);
	if (c->rows == 0)
		return refuse(c, "the release has no rows");
	if (jsonr_valid(report, reportlen) != 0 ||
	    jsonr_get_u64(doc, "rows_out", &rows) != 0 ||
	    jsonr_get_u64(doc, "equivalence_classes", &classes) != 0 ||
	    jsonr_get_u64(doc, "k", &k) != 0 ||
	    jsonr_get_string(doc, "output_sha256", sha, sizeof(sha)) != 0 ||
	    jsonr_get_string(doc, "policy_sha256", policy_sha,
	    sizeof(policy_sha)) != 0)
		return refuse(c, "the report is not the engine's JSON");
	if (rows != c->rows)
		return refuse(c, "the report says %llu rows, the release has "
		    "%llu", (unsigned long long)rows,
		    (unsigned long long)c->rows);
	if (classes != n)
		return refuse(c, "the report says %llu equivalence classes, "
		    "the release has %u", (unsigned long long)classes, n);
	if (k != c->p->k || strcmp(policy_sha, c->p->digest) != 0)
		return refuse(c, "the report was made under another policy");
	sk_hex(digest, 32, hex);
	if (strcmp(sha, hex) != 0)
		return refuse(c, "the release is not the file the report "
		    "describes (SHA-256 differs)");
	return 0;
}

int
check_release(const struct policy *p, int fd, const char *report,
    size_t reportlen, char *why, size_t whycap)
{
	struct checker c = { .p = p, .why = why, .whycap = whycap };
	struct csv_reader *rd = NULL;
	uint8_t digest[32];
	uint32_t *lens;
	char **f;
	size_t n;
	int r;

	why[0] = '\0';
	if ((c.key = malloc(KEY_MAX)) == NULL ||
	    (r = dict_new(&c.classes)) != 0 || (r = dict_new(&c.pairs)) != 0 ||
	    (r = csv_reader_new(fd, p->out_enc, ',', &rd)) != 0) {
		r = SK_ENOMEM;
		goto out;
	}
	if ((r = csv_read(rd, &f, &lens, &n)) != 1) {
		r = refuse(&c, "the release has no header: %s", r == 0 ?
		    "it is empty" : csv_reader_error(rd));
		goto out;
	}
	if ((r = check_header(&c, f, lens, n)) != 0)
		goto out;
	while ((r = csv_read(rd, &f, &lens, &n)) == 1)
		if ((r = check_row(&c, f, lens, n, csv_reader_line(rd))) != 0)
			goto out;
	if (r != 0) {
		r = refuse(&c, "the release is not valid CSV: %s",
		    csv_reader_error(rd));
		goto out;
	}
	csv_reader_digest(rd, digest);
	r = check_totals(&c, digest, report, reportlen);
out:
	if (r != 0 && why[0] == '\0')
		snprintf(why, whycap, "the release cannot be checked: %s",
		    sk_strerror(r));
	csv_reader_free(rd);
	dict_free(c.classes);
	dict_free(c.pairs);
	if (c.key != NULL)
		sk_wipe(c.key, KEY_MAX);
	free(c.key);
	free(c.size);
	free(c.distinct);
	free(c.pair_class);
	free(c.pair_rows);
	return r;
}
