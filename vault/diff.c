/*
 * diff.c: `release diff ID [--with ID2]` at the vault's console (issue 20):
 * a release against the previous release of the same dataset (to the same
 * recipients, who are the dataset's): the equivalence classes new in it,
 * vanished from it, and those whose count changed by less than k. A class
 * that grew by 2 between two releases lets whoever holds both single out
 * those 2 records, whatever k each release has on its own: the
 * differencing risk the operators weigh before they approve.
 *
 * A class is the released values of the quasi-identifiers (the report's
 * columns with role "quasi" that are released); the counts are recounted
 * here from both sealed releases, not taken from the reports.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "csv.h"
#include "daemon.h"
#include "dict.h"
#include "diff.h"
#include "jsonr.h"
#include "log.h"
#include "seal.h"
#include "sk.h"
#include "vaultd.h"

#define QI_MAX 32
#define REPORT_MAX (1u << 20)
#define CLASSES_SHOWN 20

struct counted {
	struct dict *classes;		/* the class keys */
	uint64_t *n;			/* rows per class id */
	size_t cap;
	uint64_t rows;
	char qi[QI_MAX][128];
	size_t nqi;
	unsigned k;
};

/* The released quasi-identifiers and k, from the job's report. */
static int
report_qis(struct vault *v, const struct job *j, struct counted *c,
    enum csv_encoding *enc)
{
	char name[JOB_ID_MAX + 8], *buf, role[32], action[32], encname[16];
	struct jsonr doc, cols, col;
	uint64_t k = 0;
	size_t pos = 0;
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "%s.json", j->id);
	if ((fd = openat(v->reports_fd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return SK_ENOTFOUND;
	if ((buf = malloc(REPORT_MAX)) == NULL) {
		close(fd);
		return SK_ENOMEM;
	}
	n = read(fd, buf, REPORT_MAX - 1);
	close(fd);
	if (n <= 0) {
		free(buf);
		return SK_EFORMAT;
	}
	doc.p = buf;
	doc.n = (size_t)n;
	*enc = CSV_UTF8;
	if (jsonr_get_string(doc, "output_encoding", encname,
	    sizeof(encname)) == 0 && strcmp(encname, "cp932") == 0)
		*enc = CSV_CP932;
	if (jsonr_valid(buf, (size_t)n) != 0 ||
	    jsonr_member(doc, "columns", &cols) != 0 ||
	    jsonr_get_u64(doc, "k", &k) != 0) {
		free(buf);
		return SK_EFORMAT;
	}
	c->k = (unsigned)k;
	while (jsonr_next(cols, &pos, &col) == 0 && c->nqi < QI_MAX)
		if (jsonr_get_string(col, "role", role, sizeof(role)) == 0 &&
		    strcmp(role, "quasi") == 0 &&
		    jsonr_get_string(col, "action", action, sizeof(action)) ==
		    0 && strcmp(action, "drop") != 0 &&
		    jsonr_get_string(col, "name", c->qi[c->nqi],
		    sizeof(c->qi[0])) == 0)
			c->nqi++;
	free(buf);
	return c->nqi > 0 ? 0 : SK_EFORMAT;
}

/* Counts the rows of each class in the job's sealed release. */
static int
count_release(struct vault *v, const struct job *j, struct counted *c,
    enum csv_encoding enc, char *why, size_t whycap)
{
	struct seal_reader *rd = NULL;
	struct csv_reader *cr = NULL;
	uint8_t *buf = NULL;
	char key[4096], **f;
	uint32_t *lens, id;
	size_t got = 0, nf, i, q, col[QI_MAX], o;
	uint64_t *p;
	int added, r, e = 0;

	if ((e = seal_reader_open(&v->master, v->releases_fd, j->id, &rd)) !=
	    0) {
		snprintf(why, whycap, "its release is not held any more (%s)",
		    sk_strerror(e));
		return e;
	}
	if (j->out_size > (1ull << 32) || (buf = malloc(j->out_size + 1)) ==
	    NULL || (e = seal_reader_read(rd, buf, j->out_size, &got)) != 0 ||
	    got != j->out_size || (e = csv_reader_new_mem(buf, got, enc, ',',
	    &cr)) != 0 || (e = dict_new(&c->classes)) != 0) {
		snprintf(why, whycap, "its release cannot be read");
		e = e != 0 ? e : SK_EFORMAT;
		goto out;
	}
	if (csv_read(cr, &f, &lens, &nf) != 1) {
		snprintf(why, whycap, "its release has no header");
		e = SK_EFORMAT;
		goto out;
	}
	for (q = 0; q < c->nqi; q++) {
		for (i = 0; i < nf && strcmp(f[i], c->qi[q]) != 0; i++)
			;
		if (i == nf) {
			snprintf(why, whycap, "its release lacks the column "
			    "\"%.64s\"", c->qi[q]);
			e = SK_EFORMAT;
			goto out;
		}
		col[q] = i;
	}
	while ((r = csv_read(cr, &f, &lens, &nf)) == 1) {
		for (q = 0, o = 0; q < c->nqi && col[q] < nf; q++)
			o += (size_t)snprintf(key + o, o < sizeof(key) ?
			    sizeof(key) - o : 0, "%s%s", q ? ", " : "",
			    f[col[q]]);
		if (o >= sizeof(key) || q < c->nqi)
			continue;	/* a row the checker would refuse */
		if ((e = dict_intern(c->classes, key, (uint32_t)o, &id,
		    &added)) != 0)
			goto out;
		if (id >= c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1024;

			while (cap <= id)
				cap *= 2;
			if ((p = reallocarray(c->n, cap, sizeof(*p))) == NULL) {
				e = SK_ENOMEM;
				goto out;
			}
			memset(p + c->cap, 0, (cap - c->cap) * sizeof(*p));
			c->n = p;
			c->cap = cap;
		}
		c->n[id]++;
		c->rows++;
	}
	if (r < 0) {
		snprintf(why, whycap, "its release does not parse");
		e = SK_EFORMAT;
	}
out:
	csv_reader_free(cr);
	seal_reader_free(rd);
	if (buf != NULL) {
		sk_wipe(buf, j->out_size);
		free(buf);
	}
	return e;
}

static void
counted_free(struct counted *c)
{
	dict_free(c->classes);
	free(c->n);
}

/* The latest other job of the dataset whose release went out. */
static int
previous_of(struct vault *v, const struct job *j, struct job *prev)
{
	char **ids = NULL;
	struct job x;
	size_t n = 0, i;
	int found = 0;

	if (job_list(v->jobs_fd, &ids, &n) != 0)
		return SK_ESYS;
	for (i = 0; i < n; i++) {
		if (strcmp(ids[i], j->id) != 0 &&
		    job_load(v->jobs_fd, ids[i], &x) == 0 &&
		    strcmp(x.dataset, j->dataset) == 0 && x.published > 0 &&
		    x.received <= j->received &&
		    (!found || x.published > prev->published)) {
			*prev = x;
			found = 1;
		}
		free(ids[i]);
	}
	free(ids);
	return found ? 0 : SK_ENOTFOUND;
}

int
release_previous(struct vault *v, const struct job *j, char *id,
    size_t cap)
{
	struct job prev;

	if (previous_of(v, j, &prev) != 0)
		return SK_ENOTFOUND;
	snprintf(id, cap, "%s", prev.id);
	return 0;
}

int
release_diff(struct vault *v, const struct job *j, const char *with)
{
	struct counted a = { 0 }, b = { 0 };
	enum csv_encoding ea, eb;
	struct job prev;
	const char *key;
	char why[256], when[32];
	uint32_t i, id, len;
	uint64_t na, nb, newc = 0, gone = 0, both = 0, risky = 0, shown = 0;
	int e;

	if (with != NULL) {
		if (job_load(v->jobs_fd, with, &prev) != 0)
			fatalx("no job %s", with);
	} else if (previous_of(v, j, &prev) != 0) {
		printf("前回の提供なし / no earlier release of dataset %s went "
		    "out: there is nothing to compare with\n", j->dataset);
		return 0;
	}
	if (strcmp(prev.dataset, j->dataset) != 0)
		fatalx("job %s is of dataset %s, not %s", prev.id, prev.dataset,
		    j->dataset);
	if ((e = report_qis(v, j, &a, &ea)) != 0 ||
	    (e = report_qis(v, &prev, &b, &eb)) != 0)
		fatalx("the reports of %s and %s do not name the released "
		    "quasi-identifiers: %s", j->id, prev.id, sk_strerror(e));
	if (count_release(v, j, &a, ea, why, sizeof(why)) != 0)
		fatalx("release %s: %s", j->id, why);
	if (count_release(v, &prev, &b, eb, why, sizeof(why)) != 0)
		fatalx("the previous release %s: %s: it cannot be compared",
		    prev.id, why);
	sk_time_format(prev.published, when, sizeof(when));
	printf("差分 / release diff: %s (%" PRIu64 " rows) against the "
	    "previous release %s of dataset %s (%" PRIu64 " rows, published "
	    "%s), k = %u\nclass: %s\n", j->id, a.rows, prev.id, j->dataset,
	    b.rows, when, a.k, "the released values of the quasi-identifiers");
	for (i = 0; i < dict_count(a.classes); i++) {
		key = dict_key(a.classes, i, &len);
		na = a.n[i];
		nb = dict_find(b.classes, key, len, &id) == 0 ? b.n[id] : 0;
		if (nb == 0)
			newc++;
		else
			both++;
		/* Present in both and changed by fewer than k records: the
		 * change itself is a group smaller than k. */
		if (nb > 0 && na != nb && (na > nb ? na - nb : nb - na) < a.k) {
			risky++;
			if (shown++ < CLASSES_SHOWN)
				printf("  ! (%.*s): %" PRIu64 " -> %" PRIu64
				    " (%+" PRId64 ")\n", (int)len, key, nb, na,
				    (int64_t)na - (int64_t)nb);
		}
	}
	for (i = 0; i < dict_count(b.classes); i++) {
		key = dict_key(b.classes, i, &len);
		if (dict_find(a.classes, key, len, &id) != 0)
			gone++;
	}
	if (shown > CLASSES_SHOWN)
		printf("  ... and %" PRIu64 " more\n", shown - CLASSES_SHOWN);
	printf("classes: %" PRIu64 " in both, %" PRIu64 " new, %" PRIu64
	    " vanished\n", both, newc, gone);
	printf("結果 / result: %s\n", risky == 0 ?
	    "差分による特定の危険なし / no class changed by fewer than k" :
	    "差分による特定の危険あり / classes changed by fewer than k: "
	    "whoever holds both releases can single those records out");
	if (risky > 0)
		printf("  %" PRIu64 " class(es) marked ! above\n", risky);
	counted_free(&a);
	counted_free(&b);
	console_note(v, "release-diff", j->id, prev.id);
	return risky == 0 ? 0 : 1;
}
