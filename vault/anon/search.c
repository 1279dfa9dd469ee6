/*
 * search.c: the optimal generalization search (see search.h).
 *
 * Every node of the lattice gets a lower bound on its loss first: the loss
 * it would have if no row were suppressed, which depends on each
 * dimension's level alone and so costs a table lookup per dimension. The
 * nodes are then visited in order of that bound; a node's classes are
 * counted only while its bound can still beat the best node found, so the
 * search stops at the first node whose bound exceeds the best loss.
 * k-anonymity and l-diversity are monotone (a generalization of a node
 * that meets them meets them too, a specialization of one that fails
 * fails), so a node below one known to fail is skipped uncounted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "search.h"
#include "sk.h"

/*
 * The classes of one node: open addressing, one slot per class, all of a
 * slot in one cache line's reach.
 */
struct slot {
	uint64_t key;		/* exact mixed-radix key, or a hash */
	uint64_t rows;
	uint32_t stamp;		/* the evaluation that last used the slot */
	uint32_t rep;		/* a tuple of the class */
};

struct classes {
	size_t mask;		/* of this evaluation: sized to its items */
	size_t cap;
	struct slot *slot;
	uint32_t *distinct;	/* sensitive values seen, per slot */
	uint8_t *ok;		/* the model's verdict, per slot */
	uint32_t *used;		/* the slots taken, in order */
	size_t nused;
};

/* (class slot, sensitive value) pairs seen, for l-diversity, with their
 * rows and, in order of first sight, which entries are in use. */
struct pairs {
	size_t mask;
	uint32_t *stamp;
	uint64_t *key;
	uint64_t *rows;
	uint32_t *used;
	size_t nused;
};

/*
 * The classes of a node already counted: a later node above it (in every
 * dimension) merges them instead of counting every tuple again, since
 * the hierarchies nest. With exact keys a class's key moves to the new
 * node by the dimensions whose level changed only.
 */
#define SEARCH_SNAPS 1024
#define SEARCH_SNAP_ITEMS (4u << 20)

/*
 * The rows a node must suppress are at least those that two of its
 * dimensions alone would: a class of the node lies inside a class of any
 * two of its columns. Counted once per pair and pair of levels, this
 * bounds a node's suppression, and so its loss, before its classes are.
 */
#define SEARCH_PAIRS 120		/* all pairs of 16 dimensions */
#define SEARCH_PAIR_CELLS (1u << 20)

struct snap {
	uint8_t lv[SEARCH_MAX_DIMS];
	uint32_t n;		/* classes; 0: the entry is free */
	size_t cap;		/* room for, reused by the next node kept */
	uint32_t *rep;
	uint64_t *rows;
	uint64_t *key;
};

struct search {
	const struct search_problem *sp;
	uint64_t rows, limit;
	uint32_t stamp;
	int exact;				/* keys are mixed-radix numbers */
	uint64_t mult[SEARCH_MAX_DIMS];		/* ... with these weights */
	const uint32_t *gen[SEARCH_MAX_DIMS];	/* at the node's levels */
	const uint32_t *leaves[SEARCH_MAX_DIMS];
	uint32_t *slot_of;			/* per tuple */
	uint32_t *all;				/* 0, 1, ... ntuples - 1 */
	struct classes c;
	struct pairs p;
	struct snap snap[SEARCH_SNAPS];
	size_t snap_next;
	size_t snap_items;			/* classes held in the cache */
	/* max_group_suppression and non-uniform entropy: rows per (level,
	 * label), and the rows of the labels the node suppresses, reset
	 * after each node */
	int capped;				/* max_group_suppression set */
	uint64_t base[SEARCH_MAX_DIMS];
	uint64_t *gtot[SEARCH_MAX_DIMS], *gsup[SEARCH_MAX_DIMS];
	uint32_t *gtouched[SEARCH_MAX_DIMS];
	size_t ntouched[SEARCH_MAX_DIMS];
	/* bound[d][level]: dimension d's loss at level without suppression */
	double bound[SEARCH_MAX_DIMS][SEARCH_MAX_LEVELS];
	double braw[SEARCH_MAX_DIMS][SEARCH_MAX_LEVELS];	/* before normalizing */
	double maxshare[SEARCH_MAX_DIMS][SEARCH_MAX_LEVELS];
	/* nue[d][level]: non-uniform entropy of d at level, in bits, with
	 * nothing suppressed */
	double nue[SEARCH_MAX_DIMS][SEARCH_MAX_LEVELS];
	/* pair[p][la * nlevels_e + lb]: rows suppressed by k-anonymity over
	 * the two dimensions of pair p alone at levels la and lb */
	uint64_t *pair[SEARCH_PAIRS];
	uint8_t pair_d[SEARCH_PAIRS], pair_e[SEARCH_PAIRS];
	size_t npairs;
};

static size_t
table_size(size_t n)
{
	size_t s = 64;

	while (s < 2 * n)
		s *= 2;
	return s;
}

static void
search_free(struct search *s)
{
	size_t i;

	for (i = 0; i < SEARCH_SNAPS; i++) {
		free(s->snap[i].rep);
		free(s->snap[i].rows);
		free(s->snap[i].key);
	}
	for (i = 0; i < s->npairs; i++)
		free(s->pair[i]);
	for (i = 0; i < SEARCH_MAX_DIMS; i++) {
		free(s->gtot[i]);
		free(s->gsup[i]);
		free(s->gtouched[i]);
	}
	free(s->all);
	free(s->slot_of);
	free(s->c.slot);
	free(s->c.distinct);
	free(s->c.used);
	free(s->p.stamp);
	free(s->p.key);
	free(s->p.rows);
	free(s->p.used);
	free(s->c.ok);
}

/* ARX's normalization of one dimension's aggregate, cut to 10 decimals. */
static double
normalize(uint64_t rows, double agg, uint32_t domain)
{
	double min = (double)rows / (double)domain, max = (double)rows;
	double r;

	if (domain <= 1 || max <= min)
		return 0.0;
	r = (agg - min) / (max - min);
	if (!(r >= 0.0))
		r = 0.0;
	return floor(r * 1e10) / 1e10;
}

static double
aggregate(const double *v, size_t n)
{
	double r = 1.0;
	size_t i;

	for (i = 0; i < n; i++)
		r *= pow(v[i] + 1.0, 1.0 / (double)n);
	return r - 1.0;
}

static int
check_problem(const struct search_problem *sp)
{
	size_t d, t;

	if (sp->ndims == 0 || sp->ndims > SEARCH_MAX_DIMS || sp->k == 0 ||
	    sp->ntuples >= UINT32_MAX / 2)
		return sp->ndims > SEARCH_MAX_DIMS ? SK_ETOOBIG : SK_EINVAL;
	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		if (dm->nlevels == 0 || dm->nlevels > SEARCH_MAX_LEVELS ||
		    dm->min_level > dm->max_level ||
		    dm->max_level >= dm->nlevels || dm->domain == 0)
			return SK_EINVAL;
	}
	for (t = 0; t < sp->ntuples; t++)
		for (d = 0; d < sp->ndims; d++)
			if (sp->tuples[t * sp->ndims + d] >=
			    sp->dims[d].nvalues)
				return SK_EINVAL;
	return 0;
}

/* Each dimension's weight in the exact key, if the keys fit 64 bits. */
static void
key_weights(struct search *s)
{
	const struct search_problem *sp = s->sp;
	uint64_t m = 1, base;
	size_t d, i, n;

	s->exact = 1;
	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		base = 1;
		n = (size_t)dm->nlevels * dm->nvalues;
		for (i = 0; i < n; i++)
			if (dm->gen[i] >= base)
				base = (uint64_t)dm->gen[i] + 1;
		s->mult[d] = m;
		s->base[d] = base;
		if (__builtin_mul_overflow(m, base, &m))
			s->exact = 0;
	}
}

/*
 * Each dimension's non-uniform entropy at each level with nothing
 * suppressed: every row costs log2 of its label's rows over its value's.
 */
static int
entropy_init(struct search *s)
{
	const struct search_problem *sp = s->sp;
	uint64_t *nv;
	size_t d, t;
	unsigned lv;
	uint32_t v;

	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		if ((nv = calloc((size_t)dm->nvalues + 1, sizeof(*nv))) == NULL)
			return SK_ENOMEM;
		for (t = 0; t < sp->ntuples; t++)
			nv[sp->tuples[t * sp->ndims + d]] += sp->count[t];
		for (lv = 0; lv < dm->nlevels; lv++) {
			const uint64_t *tot = s->gtot[d] + lv * s->base[d];
			double e = 0;

			for (v = 0; v < dm->nvalues; v++)
				if (nv[v] != 0)
					e += (double)nv[v] * log2((double)tot[
					    dm->gen[(size_t)lv * dm->nvalues + v]] /
					    (double)nv[v]);
			s->nue[d][lv] = e;
		}
		free(nv);
	}
	return 0;
}

static int
groups_init(struct search *s)
{
	const struct search_problem *sp = s->sp;
	size_t d, t;
	unsigned lv;

	s->capped = sp->max_group_suppression > 0 &&
	    sp->max_group_suppression < 1;
	if (!s->capped && sp->metric != SEARCH_ENTROPY)
		return 0;
	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		s->gtot[d] = calloc((size_t)dm->nlevels * s->base[d],
		    sizeof(uint64_t));
		s->gsup[d] = calloc(s->base[d], sizeof(uint64_t));
		s->gtouched[d] = calloc(s->base[d], sizeof(uint32_t));
		if (s->gtot[d] == NULL || s->gsup[d] == NULL ||
		    s->gtouched[d] == NULL)
			return SK_ENOMEM;
		for (lv = 0; lv < dm->nlevels; lv++)
			for (t = 0; t < sp->ntuples; t++)
				s->gtot[d][lv * s->base[d] + dm->gen[(size_t)lv *
				    dm->nvalues + sp->tuples[t * sp->ndims +
				    d]]] += sp->count[t];
	}
	return sp->metric == SEARCH_ENTROPY ? entropy_init(s) : 0;
}

/* Counts rows suppressed under the labels of tuple t at the levels set. */
static void
groups_add(struct search *s, uint32_t t, uint64_t rows)
{
	const struct search_problem *sp = s->sp;
	const uint32_t *tu = sp->tuples + (size_t)t * sp->ndims;
	size_t d;
	uint32_t id;

	if (s->gsup[0] == NULL)
		return;
	for (d = 0; d < sp->ndims; d++) {
		id = s->gen[d][tu[d]];
		if (s->gsup[d][id] == 0)
			s->gtouched[d][s->ntouched[d]++] = id;
		s->gsup[d][id] += rows;
	}
}

/*
 * The worst group's share suppressed, and with non-uniform entropy the
 * suppressed rows' part (each costs log2 of the suppressed rows over
 * those under its label, per dimension) added to the score; resets the
 * counts for the next node.
 */
static void
groups_check(struct search *s, const unsigned *levels, uint64_t out,
    struct search_result *r)
{
	const struct search_problem *sp = s->sp;
	size_t d, i;
	uint64_t tot, sup;
	uint32_t id;
	double rate, e = 0;

	r->group_capped = 0;
	r->group_worst = 0;
	r->group_dim = 0;
	if (s->gsup[0] == NULL)
		return;
	for (d = 0; d < sp->ndims; d++) {
		for (i = 0; i < s->ntouched[d]; i++) {
			id = s->gtouched[d][i];
			tot = s->gtot[d][levels[d] * s->base[d] + id];
			sup = s->gsup[d][id];
			rate = tot > 0 ? (double)sup / (double)tot : 0;
			if (tot >= sp->k && rate > r->group_worst) {
				r->group_worst = rate;
				r->group_dim = d;
			}
			if (sup > 0)
				e += (double)sup * log2((double)out /
				    (double)sup);
			s->gsup[d][id] = 0;
		}
		s->ntouched[d] = 0;
	}
	if (sp->metric == SEARCH_ENTROPY)
		r->score += e;
	/* Only a node that meets the monotone model can fail the cap. */
	if (s->capped && r->found &&
	    r->group_worst > sp->max_group_suppression) {
		r->group_capped = 1;
		r->found = 0;
	}
}

/* Rows in classes below k over dimensions d and e alone, at each pair of
 * levels. Skipped (no bound) where the labels are too many to tabulate. */
static int
pair_count(struct search *s, size_t d, size_t e, uint64_t *out)
{
	const struct search_problem *sp = s->sp;
	const struct search_dim *a = &sp->dims[d], *b = &sp->dims[e];
	uint64_t *cell;
	uint32_t na = 0, nb = 0, la, lb, va, vb;
	size_t t, n, i;

	for (i = 0; i < (size_t)a->nlevels * a->nvalues; i++)
		na = a->gen[i] >= na ? a->gen[i] + 1 : na;
	for (i = 0; i < (size_t)b->nlevels * b->nvalues; i++)
		nb = b->gen[i] >= nb ? b->gen[i] + 1 : nb;
	if ((uint64_t)na * nb > SEARCH_PAIR_CELLS ||
	    (uint64_t)a->nvalues * b->nvalues > SEARCH_PAIR_CELLS)
		return 1;
	n = (size_t)na * nb;
	if ((cell = calloc(n + (size_t)a->nvalues * b->nvalues,
	    sizeof(*cell))) == NULL)
		return SK_ENOMEM;
	/* The joint counts at level 0, then each pair of levels from them. */
	{
		uint64_t *joint = cell + n;

		for (t = 0; t < sp->ntuples; t++)
			joint[(size_t)sp->tuples[t * sp->ndims + d] *
			    b->nvalues + sp->tuples[t * sp->ndims + e]] +=
			    sp->count[t];
		for (la = 0; la < a->nlevels; la++)
			for (lb = 0; lb < b->nlevels; lb++) {
				uint64_t o = 0;

				memset(cell, 0, n * sizeof(*cell));
				for (va = 0; va < a->nvalues; va++)
					for (vb = 0; vb < b->nvalues; vb++) {
						uint64_t c = joint[(size_t)va *
						    b->nvalues + vb];

						if (c != 0)
							cell[(size_t)a->gen[
							    la * a->nvalues +
							    va] * nb + b->gen[
							    lb * b->nvalues +
							    vb]] += c;
					}
				for (i = 0; i < n; i++)
					if (cell[i] != 0 && cell[i] < sp->k)
						o += cell[i];
				out[la * b->nlevels + lb] = o;
			}
	}
	free(cell);
	return 0;
}

static int
pairs_count(struct search *s)
{
	const struct search_problem *sp = s->sp;
	size_t d, e;
	int r;

	if (sp->ndims > 16)
		return 0;
	for (d = 0; d < sp->ndims; d++)
		for (e = d + 1; e < sp->ndims; e++) {
			uint64_t *o = calloc((size_t)sp->dims[d].nlevels *
			    sp->dims[e].nlevels, sizeof(*o));

			if (o == NULL)
				return SK_ENOMEM;
			if ((r = pair_count(s, d, e, o)) != 0) {
				free(o);
				if (r < 0)
					return r;
				continue;
			}
			s->pair[s->npairs] = o;
			s->pair_d[s->npairs] = (uint8_t)d;
			s->pair_e[s->npairs++] = (uint8_t)e;
		}
	return 0;
}

/*
 * The rows the node must suppress at least, and a lower bound on its loss
 * from them: each of those rows costs 1 instead of its share.
 */
static double
pair_bound(const struct search *s, const unsigned *levels, uint64_t *least)
{
	const struct search_problem *sp = s->sp;
	double v[SEARCH_MAX_DIMS];
	uint64_t o = 0, x;
	size_t p, d;

	for (p = 0; p < s->npairs; p++) {
		d = s->pair_d[p];
		x = s->pair[p][levels[d] * sp->dims[s->pair_e[p]].nlevels +
		    levels[s->pair_e[p]]];
		if (x > o)
			o = x;
	}
	*least = o;
	for (d = 0; d < sp->ndims; d++)
		v[d] = normalize(s->rows, s->braw[d][levels[d]] + (double)o *
		    (1.0 - s->maxshare[d][levels[d]]), sp->dims[d].domain);
	return aggregate(v, sp->ndims);
}

static int
search_init(struct search *s, const struct search_problem *sp)
{
	size_t d, t, n;
	unsigned lv;
	int r;

	memset(s, 0, sizeof(*s));
	s->sp = sp;
	if ((r = check_problem(sp)) != 0)
		return r;
	for (t = 0; t < sp->ntuples; t++)
		s->rows += sp->count[t];
	s->limit = (uint64_t)floor(sp->max_suppression * (double)s->rows);
	key_weights(s);
	n = table_size(sp->ntuples);
	s->c.cap = n;
	s->c.mask = n - 1;
	s->c.slot = calloc(n, sizeof(*s->c.slot));
	s->c.distinct = calloc(n, sizeof(*s->c.distinct));
	s->c.used = calloc(sp->ntuples + 1, sizeof(*s->c.used));
	s->slot_of = calloc(sp->ntuples + 1, sizeof(*s->slot_of));
	s->all = calloc(sp->ntuples + 1, sizeof(*s->all));
	if (s->c.slot == NULL || s->c.distinct == NULL || s->c.used == NULL ||
	    s->slot_of == NULL || s->all == NULL)
		return SK_ENOMEM;
	for (t = 0; t < sp->ntuples; t++)
		s->all[t] = (uint32_t)t;
	if (sp->sens != NULL && (sp->l > 1 || sp->model != NULL)) {
		s->p.mask = n - 1;
		s->p.stamp = calloc(n, sizeof(*s->p.stamp));
		s->p.key = calloc(n, sizeof(*s->p.key));
		s->p.rows = calloc(n, sizeof(*s->p.rows));
		s->p.used = calloc(n, sizeof(*s->p.used));
		s->c.ok = calloc(n, sizeof(*s->c.ok));
		if (s->p.stamp == NULL || s->p.key == NULL ||
		    s->p.rows == NULL || s->p.used == NULL || s->c.ok == NULL)
			return SK_ENOMEM;
	}
	/* The bound of each dimension at each level: every row released. */
	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		for (lv = 0; lv < dm->nlevels; lv++) {
			unsigned __int128 num = 0;
			const uint32_t *lf = dm->leaves +
			    (size_t)lv * dm->nvalues;

			for (t = 0; t < sp->ntuples; t++)
				num += (unsigned __int128)sp->count[t] *
				    lf[sp->tuples[t * sp->ndims + d]];
			s->braw[d][lv] = (double)num / (double)dm->domain;
			s->bound[d][lv] = normalize(s->rows, s->braw[d][lv],
			    dm->domain);
			s->maxshare[d][lv] = 0;
			for (t = 0; t < sp->ntuples; t++) {
				double sh = (double)lf[sp->tuples[t *
				    sp->ndims + d]] / (double)dm->domain;

				if (sh > s->maxshare[d][lv])
					s->maxshare[d][lv] = sh;
			}
		}
	}
	if ((r = groups_init(s)) != 0)
		return r;
	return pairs_count(s);
}

/* Starts counting the classes of a node from n items (tuples or classes). */
static void
set_levels(struct search *s, const unsigned *levels, size_t n)
{
	const struct search_problem *sp = s->sp;
	size_t d;

	/* A table no larger than the items need stays in the cache. */
	s->c.mask = table_size(n) - 1;
	if (++s->stamp == 0) {		/* wrapped: forget every slot */
		for (d = 0; d < s->c.cap; d++)
			s->c.slot[d].stamp = 0;
		if (s->p.stamp != NULL)
			memset(s->p.stamp, 0, (s->p.mask + 1) *
			    sizeof(uint32_t));
		s->stamp = 1;
	}
	s->c.nused = 0;
	s->p.nused = 0;
	for (d = 0; d < sp->ndims; d++) {
		s->gen[d] = sp->dims[d].gen +
		    (size_t)levels[d] * sp->dims[d].nvalues;
		s->leaves[d] = sp->dims[d].leaves +
		    (size_t)levels[d] * sp->dims[d].nvalues;
	}
}

/* The key of tuple t's class at the levels set. */
static uint64_t
tuple_key(const struct search *s, uint32_t t)
{
	const struct search_problem *sp = s->sp;
	const uint32_t *tu = sp->tuples + (size_t)t * sp->ndims;
	uint64_t key = s->exact ? 0 : sp->seed;
	size_t d;

	for (d = 0; d < sp->ndims; d++)
		key = s->exact ? key + (uint64_t)s->gen[d][tu[d]] * s->mult[d] :
		    dict_mix(key ^ s->gen[d][tu[d]]);
	return key;
}

/* The generalized tuple t at the levels set equals the one of u. */
static int
same_class(const struct search *s, uint32_t t, uint32_t u)
{
	const struct search_problem *sp = s->sp;
	const uint32_t *a = sp->tuples + (size_t)t * sp->ndims;
	const uint32_t *b = sp->tuples + (size_t)u * sp->ndims;
	size_t d;

	for (d = 0; d < sp->ndims; d++)
		if (s->gen[d][a[d]] != s->gen[d][b[d]])
			return 0;
	return 1;
}

/* Adds rows of tuple t (of class key) to its class; returns its slot. */
static uint32_t
add_rows(struct search *s, uint64_t key, uint32_t t, uint64_t rows)
{
	size_t i = (size_t)dict_mix(key ^ s->sp->seed) & s->c.mask;
	struct slot *sl;

	for (;;) {
		sl = &s->c.slot[i];
		if (sl->stamp != s->stamp) {
			sl->stamp = s->stamp;
			sl->key = key;
			sl->rep = t;
			sl->rows = 0;
			s->c.distinct[i] = 0;
			s->c.used[s->c.nused++] = (uint32_t)i;
			break;
		}
		if (sl->key == key && (s->exact || same_class(s, sl->rep, t)))
			break;
		i = (i + 1) & s->c.mask;
	}
	sl->rows += rows;
	return (uint32_t)i;
}

static void
count_pair(struct search *s, uint32_t slot, uint32_t sens, uint64_t rows)
{
	uint64_t key = (uint64_t)slot << 32 | sens;
	size_t i = (size_t)dict_mix(key ^ s->sp->seed) & s->p.mask;

	while (s->p.stamp[i] == s->stamp) {
		if (s->p.key[i] == key) {
			s->p.rows[i] += rows;
			return;
		}
		i = (i + 1) & s->p.mask;
	}
	s->p.stamp[i] = s->stamp;
	s->p.key[i] = key;
	s->p.rows[i] = rows;
	s->p.used[s->p.nused++] = (uint32_t)i;
	s->c.distinct[slot]++;
}

static int
pair_cmp(const void *a, const void *b, void *arg)
{
	const struct pairs *p = arg;
	uint64_t x = p->key[*(const uint32_t *)a];
	uint64_t y = p->key[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

/* The model's verdict on every class counted, from its pairs' rows. */
static int
model_verdicts(struct search *s)
{
	const struct search_problem *sp = s->sp;
	uint32_t *ids;
	uint64_t *cnt;
	size_t i, j, n = s->p.nused;

	if (sp->model == NULL)
		return 0;
	if ((ids = malloc((n + 1) * sizeof(*ids))) == NULL ||
	    (cnt = malloc((n + 1) * sizeof(*cnt))) == NULL) {
		free(ids);
		return SK_ENOMEM;
	}
	qsort_r(s->p.used, n, sizeof(*s->p.used), pair_cmp, &s->p);
	for (i = 0; i < n; i = j) {
		uint32_t slot = (uint32_t)(s->p.key[s->p.used[i]] >> 32);

		for (j = i; j < n && (uint32_t)(s->p.key[s->p.used[j]] >> 32) ==
		    slot; j++) {
			ids[j - i] = (uint32_t)s->p.key[s->p.used[j]];
			cnt[j - i] = s->p.rows[s->p.used[j]];
		}
		s->c.ok[slot] = (uint8_t)model_class_ok(sp->model, ids, cnt,
		    j - i, s->c.slot[slot].rows);
	}
	free(ids);
	free(cnt);
	return 0;
}

/* The node's result from its loss numerators and suppressed rows. */
static void
finish(struct search *s, const unsigned *levels,
    const unsigned __int128 *num, uint64_t out, unsigned __int128 sq,
    struct search_result *r)
{
	const struct search_problem *sp = s->sp;
	double n = (double)s->rows, prec = 0;
	size_t d;

	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];

		r->loss_dim[d] = normalize(s->rows, (double)num[d] /
		    (double)dm->domain + (double)out, dm->domain);
		r->level[d] = levels[d];
	}
	r->loss = aggregate(r->loss_dim, sp->ndims);
	switch (sp->metric) {
	case SEARCH_DISCERNIBILITY:
		r->score = n > 0 ? ((double)sq + (double)out * n) / (n * n) : 0;
		break;
	case SEARCH_PRECISION:
		for (d = 0; d < sp->ndims; d++)
			if (sp->dims[d].nlevels > 1)
				prec += (n - (double)out) * levels[d] /
				    (double)(sp->dims[d].nlevels - 1);
		prec += (double)out * (double)sp->ndims;
		r->score = n > 0 && sp->ndims > 0 ? prec / (n *
		    (double)sp->ndims) : 0;
		break;
	case SEARCH_ENTROPY:	/* groups_check adds the suppressed part */
		r->score = 0;
		for (d = 0; d < sp->ndims; d++)
			r->score += s->nue[d][levels[d]];
		break;
	default:
		r->score = r->loss;
	}
	r->suppressed = out;
	r->found = out <= s->limit && out < s->rows;
	groups_check(s, levels, out, r);
}

/* Whether the class in slot i meets the model. */
static int
class_kept(const struct search *s, uint32_t i)
{
	const struct search_problem *sp = s->sp;

	return s->c.slot[i].rows >= sp->k && (s->p.stamp == NULL ||
	    s->c.distinct[i] >= sp->l) && (sp->model == NULL || s->c.ok[i]);
}

/*
 * The loss and the suppressed rows at the levels set, over the classes
 * counted: a class is released if keep says so (keep != NULL: the
 * engine's own decision per tuple), else if it meets the model.
 */
static void
score(struct search *s, const unsigned *levels, const uint8_t *keep,
    struct search_result *r)
{
	const struct search_problem *sp = s->sp;
	unsigned __int128 num[SEARCH_MAX_DIMS] = { 0 }, dm = 0;
	uint64_t out = 0;
	size_t d, t;

	for (t = 0; t < sp->ntuples; t++) {
		const uint32_t *tu = sp->tuples + t * sp->ndims;
		uint32_t i = s->slot_of[t];
		int kept = keep != NULL ? keep[t] != 0 : class_kept(s, i);

		if (!kept) {
			out += sp->count[t];
			groups_add(s, (uint32_t)t, sp->count[t]);
			continue;
		}
		/* Each row of a class of n counts n: the class counts n². */
		dm += (unsigned __int128)sp->count[t] * s->c.slot[i].rows;
		for (d = 0; d < sp->ndims; d++)
			num[d] += (unsigned __int128)sp->count[t] *
			    s->leaves[d][tu[d]];
	}
	finish(s, levels, num, out, dm, r);
}

/* Counts the node's classes tuple by tuple (l-diversity needs them). */
static void
evaluate(struct search *s, const unsigned *levels, struct search_result *r)
{
	const struct search_problem *sp = s->sp;
	size_t t;

	set_levels(s, levels, sp->ntuples);
	for (t = 0; t < sp->ntuples; t++) {
		uint32_t i = add_rows(s, tuple_key(s, (uint32_t)t),
		    (uint32_t)t, sp->count[t]);

		s->slot_of[t] = i;
		if (s->p.stamp != NULL)
			count_pair(s, i, sp->sens[t], sp->count[t]);
	}
	if (model_verdicts(s) != 0)
		memset(s->c.ok, 0, s->c.cap);	/* out of memory: refuse all */
	score(s, levels, NULL, r);
}

/* The counted node of fewest classes at or below levels, or NULL. */
static const struct snap *
snap_find(const struct search *s, const unsigned *levels)
{
	const struct snap *best = NULL;
	size_t i, d, nd = s->sp->ndims;

	for (i = 0; i < SEARCH_SNAPS; i++) {
		const struct snap *sn = &s->snap[i];

		if (sn->n == 0 || (best != NULL && sn->n >= best->n))
			continue;
		for (d = 0; d < nd && sn->lv[d] <= levels[d]; d++)
			;
		if (d == nd)
			best = sn;
	}
	return best;
}

/* Keeps the classes just counted, if they are few enough to be worth it. */
static void
snap_keep(struct search *s, const unsigned *levels)
{
	struct snap *sn = &s->snap[s->snap_next];
	size_t d, u, n = s->c.nused;

	/* The cache holds at most SEARCH_SNAP_ITEMS classes (20 bytes each)
	 * and four times the tuples: a file of many distinct combinations
	 * does not make it grow past a bound. */
	if (n == 0 || n > s->sp->ntuples / 8 * 7 || n - (size_t)sn->n +
	    s->snap_items > SEARCH_SNAP_ITEMS + 4 * s->sp->ntuples)
		return;
	s->snap_items -= sn->n;
	sn->n = 0;
	if (n > sn->cap) {
		free(sn->rep);
		free(sn->rows);
		free(sn->key);
		sn->cap = 0;
		sn->rep = malloc(n * sizeof(*sn->rep));
		sn->rows = malloc(n * sizeof(*sn->rows));
		sn->key = malloc(n * sizeof(*sn->key));
		if (sn->rep == NULL || sn->rows == NULL || sn->key == NULL)
			return;		/* a cache: doing without is fine */
		sn->cap = n;
	}
	for (u = 0; u < n; u++) {
		const struct slot *sl = &s->c.slot[s->c.used[u]];

		sn->rep[u] = sl->rep;
		sn->rows[u] = sl->rows;
		sn->key[u] = sl->key;
	}
	for (d = 0; d < s->sp->ndims; d++)
		sn->lv[d] = (uint8_t)levels[d];
	sn->n = (uint32_t)n;
	s->snap_items += n;
	s->snap_next = (s->snap_next + 1) % SEARCH_SNAPS;
}

/*
 * k-anonymity alone: merges the classes of a counted node below (or else
 * the tuples). With exact keys, a class's key at the new node is its old
 * key moved by the dimensions whose level differs.
 */
static void
rollup(struct search *s, const unsigned *levels, struct search_result *r)
{
	const struct search_problem *sp = s->sp;
	const struct snap *sn = snap_find(s, levels);
	unsigned __int128 num[SEARCH_MAX_DIMS] = { 0 }, dm = 0;
	size_t diff[SEARCH_MAX_DIMS], ndiff = 0, d, j, u;
	const uint32_t *old[SEARCH_MAX_DIMS];
	uint64_t out = 0;

	set_levels(s, levels, sn != NULL ? sn->n : sp->ntuples);
	if (sn == NULL) {
		for (j = 0; j < sp->ntuples; j++)
			(void)add_rows(s, tuple_key(s, (uint32_t)j),
			    (uint32_t)j, sp->count[j]);
	} else if (!s->exact) {
		for (j = 0; j < sn->n; j++)
			(void)add_rows(s, tuple_key(s, sn->rep[j]),
			    sn->rep[j], sn->rows[j]);
	} else {
		for (d = 0; d < sp->ndims; d++)
			if (sn->lv[d] != levels[d]) {
				old[ndiff] = sp->dims[d].gen +
				    (size_t)sn->lv[d] * sp->dims[d].nvalues;
				diff[ndiff++] = d;
			}
		for (j = 0; j < sn->n; j++) {
			const uint32_t *tu = sp->tuples +
			    (size_t)sn->rep[j] * sp->ndims;
			uint64_t key = sn->key[j];

			for (u = 0; u < ndiff; u++) {
				d = diff[u];
				key += ((uint64_t)s->gen[d][tu[d]] -
				    old[u][tu[d]]) * s->mult[d];
			}
			(void)add_rows(s, key, sn->rep[j], sn->rows[j]);
		}
	}
	for (u = 0; u < s->c.nused; u++) {
		const struct slot *sl = &s->c.slot[s->c.used[u]];
		const uint32_t *tu = sp->tuples + (size_t)sl->rep * sp->ndims;

		if (sl->rows < sp->k) {
			out += sl->rows;
			groups_add(s, sl->rep, sl->rows);
			continue;
		}
		dm += (unsigned __int128)sl->rows * sl->rows;
		for (d = 0; d < sp->ndims; d++)
			num[d] += (unsigned __int128)sl->rows *
			    s->leaves[d][tu[d]];
	}
	finish(s, levels, num, out, dm, r);
	snap_keep(s, levels);
}

static int
check_levels(const struct search_problem *sp, const unsigned *levels)
{
	size_t d;

	for (d = 0; d < sp->ndims; d++)
		if (levels[d] >= sp->dims[d].nlevels)
			return SK_EINVAL;
	return 0;
}

int
search_eval(const struct search_problem *sp, const unsigned *levels,
    const uint8_t *keep, struct search_result *res)
{
	struct search *s;
	int r;

	if ((s = malloc(sizeof(*s))) == NULL)
		return SK_ENOMEM;
	if ((r = search_init(s, sp)) == 0 &&
	    (r = check_levels(sp, levels)) == 0) {
		memset(res, 0, sizeof(*res));
		if (keep != NULL) {
			set_levels(s, levels, sp->ntuples);
			score(s, levels, keep, res);
		} else
			evaluate(s, levels, res);
		res->nodes = res->checked = 1;
	}
	search_free(s);
	free(s);
	return r;
}

/* The lattice's nodes, with their bounds, in the order they are tried. */
struct node {
	double bound;
	uint32_t sum;		/* of the levels */
	uint32_t index;
};

static int
node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	if (x->bound != y->bound)
		return x->bound < y->bound ? -1 : 1;
	if (x->sum != y->sum)
		return x->sum < y->sum ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void
node_levels(const struct search_problem *sp, uint32_t index,
    unsigned *levels)
{
	size_t d;

	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];
		unsigned span = dm->max_level - dm->min_level + 1;

		levels[d] = dm->min_level + index % span;
		index /= span;
	}
}

/*
 * The maximal nodes known to fail the model. A node at or below one of
 * them (in every dimension) fails too.
 */
struct failed {
	uint8_t *lv;		/* n x ndims */
	size_t n, cap, ndims;
};

static int
below(const uint8_t *a, const unsigned *b, size_t n)
{
	size_t d;

	for (d = 0; d < n; d++)
		if (b[d] > a[d])
			return 0;
	return 1;
}

static int
failed_covers(const struct failed *f, const unsigned *levels)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (below(f->lv + i * f->ndims, levels, f->ndims))
			return 1;
	return 0;
}

static int
failed_add(struct failed *f, const unsigned *levels)
{
	size_t i, d, o = 0;
	void *p;

	/* Drop the ones the new node is above: they add nothing. */
	for (i = 0; i < f->n; i++) {
		const uint8_t *a = f->lv + i * f->ndims;

		for (d = 0; d < f->ndims && a[d] <= levels[d]; d++)
			;
		if (d == f->ndims)
			continue;
		if (o != i)
			memmove(f->lv + o * f->ndims, a, f->ndims);
		o++;
	}
	f->n = o;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		if ((p = reallocarray(f->lv, f->cap, f->ndims)) == NULL)
			return SK_ENOMEM;
		f->lv = p;
	}
	for (d = 0; d < f->ndims; d++)
		f->lv[f->n * f->ndims + d] = (uint8_t)levels[d];
	f->n++;
	return 0;
}

const char *
search_metric_name(enum search_metric m)
{
	switch (m) {
	case SEARCH_DISCERNIBILITY:
		return "discernibility";
	case SEARCH_PRECISION:
		return "precision";
	case SEARCH_ENTROPY:
		return "nonuniform_entropy";
	default:
		return "loss";
	}
}

int
search_run(const struct search_problem *sp, struct search_result *res)
{
	struct search *s;
	struct search_result cur;
	struct failed fl = { .ndims = sp->ndims };
	struct node *nodes = NULL;
	unsigned levels[SEARCH_MAX_DIMS], best_sum = 0;
	uint64_t n = 1, i;
	size_t d;
	int r, bounded = sp->metric == SEARCH_LOSS ||
	    sp->metric == SEARCH_ENTROPY;

	memset(res, 0, sizeof(*res));
	if ((s = malloc(sizeof(*s))) == NULL)
		return SK_ENOMEM;
	if ((r = search_init(s, sp)) != 0)
		goto out;
	for (d = 0; d < sp->ndims; d++) {
		n *= sp->dims[d].max_level - sp->dims[d].min_level + 1;
		if (n > SEARCH_MAX_NODES) {
			r = SK_ETOOBIG;
			goto out;
		}
	}
	res->nodes = n;
	if ((nodes = calloc(n, sizeof(*nodes))) == NULL) {
		r = SK_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		double b[SEARCH_MAX_DIMS];

		node_levels(sp, (uint32_t)i, levels);
		nodes[i].sum = 0;
		nodes[i].bound = 0;
		for (d = 0; d < sp->ndims; d++) {
			b[d] = s->bound[d][levels[d]];
			nodes[i].sum += levels[d];
			/* in the order finish() sums them: equal to the
			 * score of a node that suppresses nothing */
			nodes[i].bound += s->nue[d][levels[d]];
		}
		if (sp->metric != SEARCH_ENTROPY)
			nodes[i].bound = aggregate(b, sp->ndims);
		nodes[i].index = (uint32_t)i;
	}
	qsort(nodes, n, sizeof(*nodes), node_cmp);
	for (i = 0; i < n; i++) {
		/* Nothing further on can be better than the best found
		 * (the bounds are the loss's or the entropy's: the other
		 * metrics have none). */
		if (bounded && res->found && nodes[i].bound > res->score)
			break;
		if (bounded && res->found && nodes[i].bound == res->score &&
		    nodes[i].sum >= best_sum)
			continue;
		node_levels(sp, nodes[i].index, levels);
		if (failed_covers(&fl, levels))
			continue;
		if (s->npairs > 0) {
			uint64_t least;
			double lb = pair_bound(s, levels, &least);

			if (least > s->limit || least >= s->rows)
				continue;	/* cannot meet the model */
			if (sp->metric == SEARCH_LOSS && res->found &&
			    (lb > res->loss ||
			    (lb == res->loss && nodes[i].sum >= best_sum)))
				continue;
		}
		if (s->p.stamp != NULL)
			evaluate(s, levels, &cur);
		else
			rollup(s, levels, &cur);
		res->checked++;
		if (!cur.found) {
			/* Only the suppression limit is monotone, and only
			 * for k and distinct l (or with nothing suppressed:
			 * a union of classes that meet entropy or recursive
			 * l or t meets them too). */
			if (!cur.group_capped && (sp->model == NULL ||
			    sp->max_suppression == 0) &&
			    (r = failed_add(&fl, levels)) != 0)
				goto out;
			continue;
		}
		if (!res->found || cur.score < res->score ||
		    (cur.score == res->score && nodes[i].sum < best_sum)) {
			uint64_t nn = res->nodes, ck = res->checked;

			*res = cur;
			res->nodes = nn;
			res->checked = ck;
			best_sum = nodes[i].sum;
		}
	}
	r = 0;
out:
	free(nodes);
	free(fl.lv);
	search_free(s);
	free(s);
	return r;
}

/* Which tuples the node releases (kept[t] = 1), as search_eval counts. */
static int
released_at(const struct search_problem *sp, const unsigned *levels,
    uint8_t *kept)
{
	struct search *s;
	struct search_result r;
	size_t t;
	int e;

	if ((s = malloc(sizeof(*s))) == NULL)
		return SK_ENOMEM;
	if ((e = search_init(s, sp)) == 0 &&
	    (e = check_levels(sp, levels)) == 0) {
		evaluate(s, levels, &r);
		for (t = 0; t < sp->ntuples; t++)
			kept[t] = (uint8_t)class_kept(s, s->slot_of[t]);
	}
	search_free(s);
	free(s);
	return e;
}

/* The rows of tuples not yet released, as a problem of their own. */
struct rest {
	struct search_problem sp;
	uint32_t *tuples, *sens, *orig;
	uint64_t *count, rows;
	size_t n;
	/* cells: each dimension either at the first round's level or at
	 * its top (two levels made here), and which level each is */
	struct search_dim dim[SEARCH_MAX_DIMS];
	uint32_t *two;			/* gen and leaves of those, per dim */
	unsigned real[SEARCH_MAX_DIMS][2];
};

/*
 * Cell suppression after the first round: a dimension may stay at the
 * first round's level or go to its top (normally "*"), nothing between.
 */
static void
rest_cells(const struct search_problem *sp, const unsigned *first,
    struct rest *rs)
{
	size_t d, v, off = 0;

	for (d = 0; d < sp->ndims; d++) {
		const struct search_dim *dm = &sp->dims[d];
		unsigned top = dm->nlevels - 1, lv[2] = { first[d], top };
		uint32_t *g = rs->two + off, *lf = g + 2 * (size_t)dm->nvalues;
		unsigned x;

		off += 4 * (size_t)dm->nvalues;
		rs->dim[d] = *dm;
		rs->real[d][0] = rs->real[d][1] = first[d];
		if (first[d] >= top) {
			rs->dim[d].nlevels = 1;
			rs->dim[d].min_level = rs->dim[d].max_level = 0;
			rs->dim[d].gen = dm->gen + (size_t)first[d] * dm->nvalues;
			rs->dim[d].leaves = dm->leaves +
			    (size_t)first[d] * dm->nvalues;
			continue;
		}
		for (x = 0; x < 2; x++)
			for (v = 0; v < dm->nvalues; v++) {
				g[x * dm->nvalues + v] = dm->gen[(size_t)lv[x] *
				    dm->nvalues + v];
				lf[x * dm->nvalues + v] = dm->leaves[(size_t)lv[x] *
				    dm->nvalues + v];
			}
		rs->dim[d].nlevels = 2;
		rs->dim[d].min_level = 0;
		rs->dim[d].max_level = 1;
		rs->dim[d].gen = g;
		rs->dim[d].leaves = lf;
		rs->real[d][1] = top;
	}
	rs->sp.dims = rs->dim;
}

static void
rest_take(const struct search_problem *sp, const uint8_t *round_of,
    struct rest *rs)
{
	size_t t;

	rs->n = 0;
	rs->rows = 0;
	for (t = 0; t < sp->ntuples; t++) {
		if (round_of[t] != SEARCH_UNRELEASED)
			continue;
		memcpy(rs->tuples + rs->n * sp->ndims, sp->tuples +
		    t * sp->ndims, sp->ndims * sizeof(uint32_t));
		rs->count[rs->n] = sp->count[t];
		if (sp->sens != NULL)
			rs->sens[rs->n] = sp->sens[t];
		rs->orig[rs->n++] = (uint32_t)t;
		rs->rows += sp->count[t];
	}
	rs->sp = *sp;
	rs->sp.ntuples = rs->n;
	rs->sp.tuples = rs->tuples;
	rs->sp.count = rs->count;
	rs->sp.sens = sp->sens != NULL ? rs->sens : NULL;
	/* Each round may suppress anything: what it leaves, the next one
	 * takes; the policy's limit holds for what is left at the end. */
	rs->sp.max_suppression = 1.0;
	rs->sp.max_group_suppression = 0;
}

int
search_local(const struct search_problem *sp, struct search_local *lr)
{
	struct rest rs = { 0 };
	struct search_result res;
	uint8_t *kept = NULL;
	size_t t, n = sp->ntuples + 1, cells = 0;
	int r = SK_ENOMEM;

	memset(lr->level, 0, sizeof(lr->level));
	memset(lr->rows, 0, sizeof(lr->rows));
	lr->rounds = 0;
	lr->nodes = lr->checked = 0;
	memset(lr->round_of, SEARCH_UNRELEASED, sp->ntuples);
	if (sp->metric != SEARCH_LOSS)
		return SK_EINVAL;
	for (t = 0, cells = 0; lr->cells && t < sp->ndims; t++)
		cells += 4 * (size_t)sp->dims[t].nvalues;
	rs.tuples = malloc(n * (sp->ndims > 0 ? sp->ndims : 1) *
	    sizeof(uint32_t));
	rs.sens = malloc(n * sizeof(uint32_t));
	rs.orig = malloc(n * sizeof(uint32_t));
	rs.count = malloc(n * sizeof(uint64_t));
	kept = malloc(n);
	rs.two = malloc((cells + 1) * sizeof(uint32_t));
	if (rs.tuples == NULL || rs.sens == NULL || rs.orig == NULL ||
	    rs.count == NULL || kept == NULL || rs.two == NULL)
		goto out;
	r = 0;
	while (lr->rounds < SEARCH_LOCAL_ROUNDS) {
		rest_take(sp, lr->round_of, &rs);
		if (rs.n == 0 || rs.rows < sp->k)
			break;
		if (lr->cells && lr->rounds > 0)
			rest_cells(sp, lr->level[0], &rs);
		if ((r = search_run(&rs.sp, &res)) != 0)
			goto out;
		if (lr->rounds == 0) {
			lr->nodes = res.nodes;
			lr->checked = res.checked;
		}
		if (!res.found)
			break;
		if ((r = released_at(&rs.sp, res.level, kept)) != 0)
			goto out;
		for (t = 0; t < rs.n; t++)
			if (kept[t]) {
				lr->round_of[rs.orig[t]] = (uint8_t)lr->rounds;
				lr->rows[lr->rounds] += rs.count[t];
			}
		for (t = 0; t < sp->ndims; t++)
			lr->level[lr->rounds][t] = lr->cells && lr->rounds > 0 ?
			    rs.real[t][res.level[t]] : res.level[t];
		if (lr->rows[lr->rounds++] == 0)
			break;		/* cannot happen: found releases rows */
	}
out:
	free(rs.tuples);
	free(rs.sens);
	free(rs.orig);
	free(rs.count);
	free(rs.two);
	free(kept);
	return r;
}

/*
 * The worst group's share suppressed in a release of mixed levels: the
 * rows are grouped by each quasi-identifier's value as it came in (a
 * tuple's own levels differ from round to round), the groups of at least
 * k rows counted, as groups_check counts a node's.
 */
static int
mixed_groups(const struct search_problem *sp, const uint8_t *keep,
    struct search_result *res)
{
	uint64_t *tot, *sup;
	size_t d, t, v, n = 0;
	double rate;

	for (d = 0; d < sp->ndims; d++)
		if (sp->dims[d].nvalues > n)
			n = sp->dims[d].nvalues;
	tot = calloc(n + 1, sizeof(*tot));
	sup = calloc(n + 1, sizeof(*sup));
	if (tot == NULL || sup == NULL) {
		free(tot);
		free(sup);
		return SK_ENOMEM;
	}
	/* The tuples' values are below nvalues: check_problem has seen. */
	for (d = 0; d < sp->ndims; d++) {
		n = sp->dims[d].nvalues;
		memset(tot, 0, n * sizeof(*tot));
		memset(sup, 0, n * sizeof(*sup));
		for (t = 0; t < sp->ntuples; t++) {
			v = sp->tuples[t * sp->ndims + d];
			tot[v] += sp->count[t];
			if (!keep[t])
				sup[v] += sp->count[t];
		}
		for (v = 0; v < n; v++) {
			rate = tot[v] > 0 ? (double)sup[v] / (double)tot[v] : 0;
			if (tot[v] >= sp->k && rate > res->group_worst) {
				res->group_worst = rate;
				res->group_dim = d;
			}
		}
	}
	free(tot);
	free(sup);
	return 0;
}

int
search_eval_mixed(const struct search_problem *sp, const unsigned *levels,
    const uint8_t *keep, struct search_result *res)
{
	unsigned __int128 num[SEARCH_MAX_DIMS] = { 0 };
	uint64_t rows = 0, out = 0;
	size_t d, t;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = check_problem(sp)) != 0)
		return r;
	for (t = 0; t < sp->ntuples; t++) {
		const uint32_t *tu = sp->tuples + t * sp->ndims;
		const unsigned *lv = levels + t * sp->ndims;

		rows += sp->count[t];
		if (!keep[t]) {
			out += sp->count[t];
			continue;
		}
		for (d = 0; d < sp->ndims; d++) {
			const struct search_dim *dm = &sp->dims[d];

			if (lv[d] >= dm->nlevels)
				return SK_EINVAL;
			num[d] += (unsigned __int128)sp->count[t] *
			    dm->leaves[(size_t)lv[d] * dm->nvalues + tu[d]];
		}
	}
	for (d = 0; d < sp->ndims; d++)
		res->loss_dim[d] = normalize(rows, (double)num[d] /
		    (double)sp->dims[d].domain + (double)out,
		    sp->dims[d].domain);
	res->loss = res->score = aggregate(res->loss_dim, sp->ndims);
	res->suppressed = out;
	res->found = out < rows;
	res->nodes = res->checked = 1;
	return out > 0 ? mixed_groups(sp, keep, res) : 0;
}
