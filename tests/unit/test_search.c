/*
 * test_search.c: the generalization search of vault/anon/search.c (R07)
 * against a brute force written here from the metric's definition: on
 * random small problems, every node of the lattice is counted the slow
 * way, and the search must return a node of the same least loss and the
 * same sum of levels, with the same rows suppressed, whichever of its
 * key paths (exact or hashed) and prunings it takes.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "search.h"
#include "sk.h"

#define MAXD 5
#define MAXV 16
#define MAXL 5
#define MAXT 400

/*
 * How many random problems a test tries: n, or SK_TEST_SCALE percent of it
 * (the suite runs this program under ASan in full and again under valgrind
 * at a quarter, where each problem costs thirty times as much).
 */
static int
trials(int n)
{
	const char *e = getenv("SK_TEST_SCALE");
	long pct = e != NULL ? strtol(e, NULL, 10) : 100;

	if (pct < 1 || pct > 100)
		pct = 100;
	return n * (int)pct / 100 > 0 ? n * (int)pct / 100 : 1;
}

struct prob {
	struct search_dim dim[MAXD];
	uint32_t gen[MAXD][MAXL * MAXV], leaves[MAXD][MAXL * MAXV];
	uint32_t tuples[MAXT * MAXD], sens[MAXT];
	uint64_t count[MAXT];
	struct search_problem sp;
};

static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/*
 * A random problem: dimension d has nv values; level l groups values in
 * blocks of 2^l (a tree, so levels nest); its top level is one label.
 * Label ids are global per dimension (offset by level), plus off.
 */
static void
make(struct prob *p, size_t nd, size_t nt, unsigned k, double supp,
    unsigned l, uint32_t off)
{
	size_t d, t, lv, v;

	memset(p, 0, sizeof(*p));
	for (d = 0; d < nd; d++) {
		uint32_t nv = 4 + rnd(MAXV - 3), nl = 2 + rnd(MAXL - 1);

		for (lv = 0; lv < nl; lv++)
			for (v = 0; v < nv; v++) {
				uint32_t blk = lv + 1 == nl ? nv : 1u << lv;
				uint32_t lab = (uint32_t)v / blk, n = 0, w;

				for (w = 0; w < nv; w++)
					n += w / blk == lab;
				p->gen[d][lv * nv + v] = off +
				    (uint32_t)lv * MAXV + lab;
				p->leaves[d][lv * nv + v] = n;
			}
		p->dim[d] = (struct search_dim){ .nvalues = nv, .nlevels = nl,
		    .min_level = 0, .max_level = nl - 1, .gen = p->gen[d],
		    .leaves = p->leaves[d], .domain = nv };
	}
	for (t = 0; t < nt; t++) {
		for (d = 0; d < nd; d++)
			/* Skewed, so some classes are small and some large. */
			p->tuples[t * nd + d] = rnd(2) ? rnd(2) :
			    rnd(p->dim[d].nvalues);
		p->count[t] = 1 + rnd(3);
		p->sens[t] = rnd(3);
	}
	p->sp = (struct search_problem){ .ndims = nd, .dims = p->dim,
	    .ntuples = nt, .tuples = p->tuples, .count = p->count,
	    .sens = l > 1 ? p->sens : NULL, .k = k, .l = l,
	    .max_suppression = supp, .seed = 42 };
}

/*
 * The hierarchy of the hierarchical t-closeness trials: values 0 and 1
 * under one label, 2 and 3 under another, both under the root (height
 * 2: a move within a pair costs 1/2, across pairs 1).
 */
static const uint32_t tree_gen[3 * 4] = { 0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6 };

/*
 * Its earth mover's distance as a flow on the tree: every edge costs
 * 1/4 (half a level over a height of 2) and carries the surplus of the
 * values under it, class share less file share.
 */
static double
tree_emd(const double *c4, double n, const double *all, double tot)
{
	double d[4], e = 0;
	int x;

	for (x = 0; x < 4; x++) {
		d[x] = c4[x] / n - all[x] / tot;
		e += fabs(d[x]);
	}
	e += fabs(d[0] + d[1]) + fabs(d[2] + d[3]);
	return e / 4;
}

/* The brute force: one node, by the definition. */
static int
brute_node(const struct prob *p, const unsigned *lv, double *loss,
    uint64_t *out, double *score)
{
	const struct search_problem *sp = &p->sp;
	size_t nd = sp->ndims, t, u, d;
	uint64_t rows = 0, size[MAXT];
	unsigned distinct[MAXT];
	int model_ok[MAXT];
	size_t cls[MAXT];
	double v[MAXD], r = 1.0;

	*out = 0;
	for (t = 0; t < sp->ntuples; t++) {
		rows += sp->count[t];
		/* Its class: the first tuple with the same labels. */
		for (u = 0; u <= t; u++) {
			for (d = 0; d < nd; d++)
				if (p->gen[d][lv[d] * p->dim[d].nvalues +
				    sp->tuples[u * nd + d]] !=
				    p->gen[d][lv[d] * p->dim[d].nvalues +
				    sp->tuples[t * nd + d]])
					break;
			if (d == nd)
				break;
		}
		cls[t] = u;
	}
	for (t = 0; t < sp->ntuples; t++) {
		size[t] = 0;
		distinct[t] = 0;
		model_ok[t] = 1;
	}
	for (t = 0; t < sp->ntuples; t++) {
		size[cls[t]] += sp->count[t];
		if (sp->sens == NULL)
			continue;
		for (u = 0; u < t; u++)
			if (cls[u] == cls[t] && sp->sens[u] == sp->sens[t])
				break;
		if (u == t)
			distinct[cls[t]]++;
	}
	/* The other models, by their definitions, over the 4 values. */
	if (sp->model != NULL)
		for (t = 0; t < sp->ntuples; t++) {
			double c4[4] = { 0 }, all[4] = { 0 }, n = 0, h = 0, e = 0;
			double sorted[4], tail = 0, tot = 0;
			int x, w, m = 0;

			if (cls[t] != t)
				continue;	/* judged at its first tuple */
			for (u = 0; u < sp->ntuples; u++) {
				all[sp->sens[u]] += (double)sp->count[u];
				tot += (double)sp->count[u];
				if (cls[u] == t) {
					c4[sp->sens[u]] += (double)sp->count[u];
					n += (double)sp->count[u];
				}
			}
			for (x = 0; x < 4; x++) {
				if (c4[x] > 0) {
					h -= c4[x] / n * log(c4[x] / n);
					sorted[m++] = c4[x];
				}
				e += fabs(c4[x] / n - all[x] / tot);
			}
			for (x = 0; x < m; x++)	/* largest first */
				for (w = x + 1; w < m; w++)
					if (sorted[w] > sorted[x]) {
						double y = sorted[x];

						sorted[x] = sorted[w];
						sorted[w] = y;
					}
			for (x = sp->model->l > 0 ? (int)sp->model->l - 1 : m;
			    x < m; x++)
				tail += sorted[x];
			if (sp->model->l > 1 && (unsigned)m < sp->model->l)
				model_ok[t] = 0;
			else if (sp->model->t > 0 && sp->model->t_gen == NULL &&
			    e / 2 > sp->model->t + 1e-12)
				model_ok[t] = 0;
			else if (sp->model->t > 0 && sp->model->t_gen != NULL &&
			    tree_emd(c4, n, all, tot) > sp->model->t + 1e-12)
				model_ok[t] = 0;
			else if (sp->model->l > 1 &&
			    sp->model->kind == MODEL_L_ENTROPY &&
			    h + 1e-12 < log((double)sp->model->l))
				model_ok[t] = 0;
			else if (sp->model->l > 1 &&
			    sp->model->kind == MODEL_L_RECURSIVE &&
			    !(sorted[0] < sp->model->c * tail))
				model_ok[t] = 0;
		}
	/* Released rows cost their label's share of the domain (summed as
	 * whole numbers of leaves), suppressed ones cost 1. */
	{
		uint64_t num[MAXD] = { 0 };

		for (t = 0; t < sp->ntuples; t++) {
			int kept = size[cls[t]] >= sp->k &&
			    (sp->sens == NULL || distinct[cls[t]] >= sp->l) &&
			    model_ok[cls[t]];

			if (!kept) {
				*out += sp->count[t];
				continue;
			}
			for (d = 0; d < nd; d++)
				num[d] += sp->count[t] * p->leaves[d][lv[d] *
				    p->dim[d].nvalues + sp->tuples[t * nd + d]];
		}
		for (d = 0; d < nd; d++)
			v[d] = (double)num[d] / (double)p->dim[d].domain +
			    (double)*out;
	}
	for (d = 0; d < nd; d++) {
		double min = (double)rows / p->dim[d].domain;
		double x = (v[d] - min) / ((double)rows - min);

		x = x >= 0 ? x : 0;
		x = floor(x * 1e10) / 1e10;
		r *= pow(x + 1.0, 1.0 / (double)nd);
	}
	*loss = r - 1.0;
	/* The other metrics, by their definitions. Discernibility: each
	 * released class its size squared, each suppressed row the number of
	 * rows; over rows squared. Precision: each released row's level over
	 * its hierarchy's highest, per quasi-identifier, a suppressed row 1;
	 * the mean over rows and quasi-identifiers. */
	if (score != NULL && sp->metric == SEARCH_DISCERNIBILITY) {
		double sum = (double)*out * (double)rows;

		for (t = 0; t < sp->ntuples; t++)
			if (cls[t] == t && size[t] >= sp->k &&
			    (sp->sens == NULL || distinct[t] >= sp->l) &&
			    model_ok[t])
				sum += (double)size[t] * (double)size[t];
		*score = sum / ((double)rows * (double)rows);
	} else if (score != NULL && sp->metric == SEARCH_PRECISION) {
		double sum = 0;

		for (t = 0; t < sp->ntuples; t++) {
			int kept = size[cls[t]] >= sp->k &&
			    (sp->sens == NULL || distinct[cls[t]] >= sp->l) &&
			    model_ok[cls[t]];

			for (d = 0; d < nd; d++)
				sum += (double)sp->count[t] * (!kept ? 1.0 :
				    (double)lv[d] / (double)(p->dim[d].nlevels - 1));
		}
		*score = sum / ((double)rows * (double)nd);
	} else if (score != NULL && sp->metric == SEARCH_ENTROPY) {
		/* Non-uniform entropy: each row, per quasi-identifier,
		 * log2(rows of the file under its label / rows with its
		 * value); each suppressed row also log2(suppressed rows /
		 * suppressed rows under its label). */
		double sum = 0;
		int kept[MAXT];

		for (t = 0; t < sp->ntuples; t++)
			kept[t] = size[cls[t]] >= sp->k && (sp->sens == NULL ||
			    distinct[cls[t]] >= sp->l) && model_ok[cls[t]];
		for (d = 0; d < nd; d++) {
			/* rows per value, per label, suppressed per label (the
			 * labels of a dimension are base .. base + MAXL*MAXV) */
			double nval[MAXV] = { 0 }, nlab[MAXL * MAXV] = { 0 };
			double slab[MAXL * MAXV] = { 0 };
			uint32_t nvl = p->dim[d].nvalues, base = UINT32_MAX;

			for (u = 0; u < (size_t)p->dim[d].nlevels * nvl; u++)
				base = p->gen[d][u] < base ? p->gen[d][u] : base;
			for (t = 0; t < sp->ntuples; t++) {
				uint32_t val = sp->tuples[t * nd + d];
				uint32_t lab = p->gen[d][lv[d] * nvl + val] - base;

				nval[val] += (double)sp->count[t];
				nlab[lab] += (double)sp->count[t];
				slab[lab] += kept[t] ? 0 : (double)sp->count[t];
			}
			for (t = 0; t < sp->ntuples; t++) {
				uint32_t val = sp->tuples[t * nd + d];
				uint32_t lab = p->gen[d][lv[d] * nvl + val] - base;

				sum += (double)sp->count[t] * log2(nlab[lab] /
				    nval[val]);
				if (!kept[t])
					sum += (double)sp->count[t] *
					    log2((double)*out / slab[lab]);
			}
		}
		*score = sum;
	} else if (score != NULL)
		*score = *loss;
	if (!(*out <= (uint64_t)floor(sp->max_suppression * (double)rows) &&
	    *out < rows))
		return 0;
	/* max_group_suppression: each label of each dimension with k rows
	 * or more loses at most that share. */
	if (sp->max_group_suppression > 0)
		for (d = 0; d < nd; d++)
			for (t = 0; t < sp->ntuples; t++) {
				uint32_t lab = p->gen[d][lv[d] *
				    p->dim[d].nvalues + sp->tuples[t * nd + d]];
				uint64_t tot = 0, sup = 0;

				for (u = 0; u < sp->ntuples; u++) {
					if (p->gen[d][lv[d] * p->dim[d].nvalues +
					    sp->tuples[u * nd + d]] != lab)
						continue;
					tot += sp->count[u];
					if (size[cls[u]] < sp->k ||
					    (sp->sens != NULL &&
					    distinct[cls[u]] < sp->l) ||
					    !model_ok[cls[u]])
						sup += sp->count[u];
				}
				if (tot >= sp->k && (double)sup / (double)tot >
				    sp->max_group_suppression)
					return 0;
			}
	return 1;
}

static int
brute(const struct prob *p, double *best, unsigned *best_sum,
    uint64_t *best_out)
{
	const struct search_problem *sp = &p->sp;
	unsigned lv[MAXD] = { 0 }, sum;
	size_t d;
	int found = 0;
	double loss, score;
	uint64_t out;

	for (;;) {
		if (brute_node(p, lv, &loss, &out, &score)) {
			for (sum = 0, d = 0; d < sp->ndims; d++)
				sum += lv[d];
			/* Exact comparisons, as ARX compares its scores (the
			 * other metrics: within rounding, relative for the
			 * entropy, a sum of logarithms in bits). */
			double eps = sp->metric == SEARCH_LOSS ? 0 :
			    sp->metric == SEARCH_ENTROPY ? 1e-12 *
			    (fabs(score) + 1) : 1e-12;

			if (!found || score < *best - eps ||
			    (fabs(score - *best) <= eps && sum < *best_sum)) {
				*best = score;
				*best_sum = sum;
				*best_out = out;
				found = 1;
			}
		}
		for (d = 0; d < sp->ndims; d++) {
			if (++lv[d] < p->dim[d].nlevels)
				break;
			lv[d] = 0;
		}
		if (d == sp->ndims)
			return found;
	}
}

static void
compare(struct prob *p)
{
	struct search_result res;
	double best = 0;
	unsigned best_sum = 0, sum = 0;
	uint64_t best_out = 0;
	size_t d;
	int found = brute(p, &best, &best_sum, &best_out);

	assert_int_equal(search_run(&p->sp, &res), 0);
	assert_int_equal(res.found, found);
	if (!found)
		return;
	for (d = 0; d < p->sp.ndims; d++)
		sum += res.level[d];
	assert_true(fabs(res.score - best) <= 1e-12 * (p->sp.metric ==
	    SEARCH_ENTROPY ? fabs(best) + 1 : 1));
	assert_int_equal(sum, best_sum);
	/* Equal loss and levels' sum may still differ in what they
	 * suppress only if two nodes tie exactly; re-count the chosen one. */
	{
		double l2, s2;
		uint64_t o2;

		assert_true(brute_node(p, res.level, &l2, &o2, &s2));
		assert_int_equal(o2, res.suppressed);
		assert_true(fabs(l2 - res.loss) <= 1e-12);
		assert_true(fabs(s2 - res.score) <= 1e-12 * (p->sp.metric ==
		    SEARCH_ENTROPY ? fabs(s2) + 1 : 1));
	}
	assert_true(res.checked <= res.nodes);
}

static void
test_r07_search_equals_brute_force_k_anonymity(void **state)
{
	static struct prob p;
	static const double supp[] = { 0.0, 0.05, 0.3, 1.0 };
	int i;

	(void)state;
	for (i = 0; i < trials(120); i++) {
		make(&p, 2 + (size_t)rnd(MAXD - 1), 20 + (size_t)rnd(MAXT - 20),
		    2 + rnd(6), supp[i % 4], 0, 0);
		compare(&p);
	}
}

static void
test_r07_search_equals_brute_force_l_diversity(void **state)
{
	static struct prob p;
	static const double supp[] = { 0.0, 0.1, 1.0 };
	int i;

	(void)state;
	for (i = 0; i < trials(60); i++) {
		make(&p, 2 + (size_t)rnd(MAXD - 1), 20 + (size_t)rnd(MAXT - 20),
		    2 + rnd(4), supp[i % 3], 2 + rnd(2), 0);
		compare(&p);
	}
}

/* A cap on any one value's share suppressed (not monotone: the search
 * must not prune below a node that fails only the cap). */
static void
test_r07_search_equals_brute_force_with_group_cap(void **state)
{
	static struct prob p;
	int i;

	(void)state;
	for (i = 0; i < trials(60); i++) {
		make(&p, 2 + (size_t)rnd(MAXD - 1), 20 + (size_t)rnd(150),
		    2 + rnd(4), i % 2 ? 1.0 : 0.3, i % 3 == 0 ? 2 : 0, 0);
		p.sp.max_group_suppression = 0.2 + 0.1 * (i % 4);
		compare(&p);
	}
}

/* Entropy and recursive l-diversity and t-closeness: not monotone with
 * suppression, so the search may not prune on them; the brute force
 * judges every class by the definitions. */
static void
test_r07_search_equals_brute_force_other_models(void **state)
{
	static struct prob p;
	static double global[4];
	struct model m;
	size_t t;
	double tot;
	int i;

	(void)state;
	for (i = 0; i < trials(90); i++) {
		make(&p, 2 + (size_t)rnd(3), 20 + (size_t)rnd(200), 2 + rnd(3),
		    i % 3 == 0 ? 0.0 : i % 3 == 1 ? 0.2 : 1.0, 2, 0);
		tot = 0;
		memset(global, 0, sizeof(global));
		for (t = 0; t < p.sp.ntuples; t++) {
			global[p.sens[t]] += (double)p.count[t];
			tot += (double)p.count[t];
		}
		for (t = 0; t < 4; t++)
			global[t] /= tot;
		m = (struct model){ .l = 2, .kind = (enum model_l)(i % 2 ?
		    MODEL_L_ENTROPY : MODEL_L_RECURSIVE), .c = 1.5,
		    .t = i % 5 == 0 ? 0.3 : 0, .global = global };
		if (m.kind == MODEL_L_ENTROPY)
			m.l = 1 + (unsigned)(i % 2);	/* entropy of l = 2 */
		p.sp.model = &m;
		compare(&p);
		/* t-closeness alone. */
		m = (struct model){ .l = 0, .t = 0.15 + 0.05 * (i % 4),
		    .global = global };
		p.sp.l = 0;
		compare(&p);
		/* ... by hierarchical ground distance (every other trial:
		 * the brute force is the suite's slowest test). */
		if (i % 2 != 0)
			continue;
		m.t_gen = tree_gen;
		m.t_nvalues = 4;
		m.t_nlabels = 7;
		m.t_height = 2;
		compare(&p);
	}
}

/* Label ids too large for an exact 64-bit key take the hashed path. */
/* Discernibility and precision (issue 19): the search, without the
 * loss's bounds, still returns the node of least value, with and without
 * l-diversity, over every suppression limit; non-uniform entropy, with
 * its own bounds, the same. */
static void
test_r07_search_equals_brute_force_other_metrics(void **state)
{
	static struct prob p;
	static const double supp[] = { 0.0, 0.05, 0.3, 1.0 };
	int i;

	(void)state;
	for (i = 0; i < trials(90); i++) {
		make(&p, 2 + (size_t)rnd(MAXD - 1), 20 + (size_t)rnd(MAXT - 20),
		    2 + rnd(6), supp[i % 4], i / 3 % 2 == 0 ? 2 : 0, 0);
		p.sp.metric = i % 3 == 0 ? SEARCH_DISCERNIBILITY : i % 3 == 1 ?
		    SEARCH_PRECISION : SEARCH_ENTROPY;
		compare(&p);
	}
}

/*
 * Local recoding (issue 19): each round's released tuples, at that
 * round's levels, form classes of k rows or more (with l distinct
 * sensitive values) among themselves; the first round is the search with
 * any share suppressed; what no round released is fewer than k rows or
 * has no node of its own; and the loss of a release at one level counts
 * as the brute force counts it.
 */
static void
test_r07_local_recoding_rounds_meet_the_model(void **state)
{
	static struct prob p;
	static uint8_t round_of[MAXT], keep[MAXT];
	static unsigned lvs[MAXT * MAXD];
	struct search_local lr = { .round_of = round_of };
	struct search_problem sp1;
	struct search_result res;
	uint64_t left, rows, out;
	unsigned x;
	size_t t, u, d, nd;
	double loss;
	int i;

	(void)state;
	for (i = 0; i < trials(40); i++) {
		make(&p, 2 + (size_t)rnd(MAXD - 1), 20 + (size_t)rnd(180),
		    2 + rnd(6), 0.0, i % 3 == 0 ? 2 : 0, 0);
		nd = p.sp.ndims;
		/* every other trial: cell suppression, later rounds at the
		 * first round's level or the top */
		lr.cells = i % 2;
		assert_int_equal(search_local(&p.sp, &lr), 0);
		for (x = 1; lr.cells && x < lr.rounds; x++)
			for (d = 0; d < nd; d++)
				assert_true(lr.level[x][d] == lr.level[0][d] ||
				    lr.level[x][d] == p.dim[d].nlevels - 1);
		sp1 = p.sp;
		sp1.max_suppression = 1.0;
		assert_int_equal(search_run(&sp1, &res), 0);
		assert_int_equal(lr.rounds > 0, res.found);
		for (d = 0; res.found && d < nd; d++)
			assert_int_equal(lr.level[0][d], res.level[d]);
		for (x = 0; x < lr.rounds; x++) {
			rows = 0;
			for (t = 0; t < p.sp.ntuples; t++) {
				uint64_t size = 0;
				unsigned seen = 0;

				if (round_of[t] != x)
					continue;
				rows += p.sp.count[t];
				for (u = 0; u < p.sp.ntuples; u++) {
					if (round_of[u] != x)
						continue;
					for (d = 0; d < nd; d++)
						if (p.gen[d][lr.level[x][d] *
						    p.dim[d].nvalues + p.tuples[t *
						    nd + d]] != p.gen[d][lr.level[x][d] *
						    p.dim[d].nvalues + p.tuples[u * nd + d]])
							break;
					if (d < nd)
						continue;
					size += p.count[u];
					seen |= 1u << p.sens[u];
				}
				assert_true(size >= p.sp.k);
				if (p.sp.l > 1)
					assert_true((unsigned)__builtin_popcount(
					    seen) >= p.sp.l);
			}
			assert_int_equal(rows, lr.rows[x]);
		}
		left = 0;
		for (t = 0; t < p.sp.ntuples; t++)
			left += round_of[t] == SEARCH_UNRELEASED ? p.count[t] : 0;
		if (left >= p.sp.k && lr.rounds < SEARCH_LOCAL_ROUNDS &&
		    !lr.cells) {
			/* the rest alone has no node that releases a row */
			static struct prob q;
			size_t n = 0;

			q = p;
			for (t = 0; t < p.sp.ntuples; t++)
				if (round_of[t] == SEARCH_UNRELEASED) {
					memcpy(q.tuples + n * nd, p.tuples + t *
					    nd, nd * sizeof(uint32_t));
					q.count[n] = p.count[t];
					q.sens[n++] = p.sens[t];
				}
			q.sp.dims = q.dim;
			q.sp.tuples = q.tuples;
			q.sp.count = q.count;
			q.sp.sens = p.sp.sens != NULL ? q.sens : NULL;
			q.sp.ntuples = n;
			q.sp.max_suppression = 1.0;
			assert_int_equal(search_run(&q.sp, &res), 0);
			assert_false(res.found);
		}
		/* One level for all, released as the brute force decides. */
		for (t = 0; t < p.sp.ntuples * nd; t++)
			lvs[t] = lr.level[0][t % nd];
		if (lr.rounds > 0) {
			static struct prob b;

			b = p;
			b.sp.dims = b.dim;
			for (t = 0; t < p.sp.ntuples; t++) {
				/* kept: its class at those levels has k rows */
				uint64_t size = 0;

				for (u = 0; u < p.sp.ntuples; u++) {
					for (d = 0; d < nd; d++)
						if (p.gen[d][lr.level[0][d] *
						    p.dim[d].nvalues + p.tuples[t *
						    nd + d]] != p.gen[d][lr.level[0][d] *
						    p.dim[d].nvalues + p.tuples[u * nd + d]])
							break;
					size += d == nd ? p.count[u] : 0;
				}
				keep[t] = size >= p.sp.k;
			}
			b.sp.sens = NULL;
			b.sp.l = 0;
			b.sp.max_suppression = 1.0;
			(void)brute_node(&b, lr.level[0], &loss, &out, NULL);
			assert_int_equal(search_eval_mixed(&b.sp, lvs, keep,
			    &res), 0);
			assert_int_equal(res.suppressed, out);
			assert_true(fabs(res.loss - loss) <= 1e-12);
		}
	}
	/* Not for another metric. */
	p.sp.metric = SEARCH_PRECISION;
	assert_int_equal(search_local(&p.sp, &lr), SK_EINVAL);
}

static void
test_search_hashed_keys_agree(void **state)
{
	static struct prob p;
	int i;

	(void)state;
	for (i = 0; i < trials(40); i++) {
		make(&p, 5, 50 + (size_t)rnd(MAXT - 50), 3, i % 2 ? 1.0 : 0.1,
		    0, 0x7fff0000u);
		compare(&p);
	}
}

/* One node evaluated alone gives what the brute force gives. */
static void
test_search_eval_one_node(void **state)
{
	static struct prob p;
	struct search_result res;
	unsigned lv[MAXD];
	double loss;
	uint64_t out;
	size_t d;
	int i, ok;

	(void)state;
	for (i = 0; i < trials(50); i++) {
		make(&p, 4, 200, 3, 0.2, i % 2 ? 2 : 0, 0);
		for (d = 0; d < 4; d++)
			lv[d] = rnd(p.dim[d].nlevels);
		ok = brute_node(&p, lv, &loss, &out, NULL);
		assert_int_equal(search_eval(&p.sp, lv, NULL, &res), 0);
		assert_int_equal(res.found, ok);
		assert_int_equal(res.suppressed, out);
		assert_true(fabs(res.loss - loss) <= 1e-12);
	}
	lv[0] = p.dim[0].nlevels;
	assert_int_equal(search_eval(&p.sp, lv, NULL, &res), SK_EINVAL);
}

static void
test_search_refuses_a_huge_lattice_and_bad_ids(void **state)
{
	static struct prob p;
	static uint32_t gen[64], leaves[64];
	struct search_dim dim[4];
	struct search_result res;
	uint32_t tuple[4] = { 0, 0, 0, 0 };
	uint64_t count = 1;
	size_t d;

	(void)state;
	for (d = 0; d < 64; d++) {
		gen[d] = (uint32_t)d;
		leaves[d] = 1;
	}
	for (d = 0; d < 4; d++)
		dim[d] = (struct search_dim){ .nvalues = 1, .nlevels = 64,
		    .max_level = 63, .gen = gen, .leaves = leaves,
		    .domain = 1 };
	p.sp = (struct search_problem){ .ndims = 4, .dims = dim, .ntuples = 1,
	    .tuples = tuple, .count = &count, .k = 1 };
	/* 64^4 nodes is past SEARCH_MAX_NODES. */
	assert_int_equal(search_run(&p.sp, &res), SK_ETOOBIG);
	tuple[2] = 1;			/* no such value */
	assert_int_equal(search_run(&p.sp, &res), SK_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r07_search_equals_brute_force_k_anonymity),
		cmocka_unit_test(test_r07_search_equals_brute_force_l_diversity),
		cmocka_unit_test(test_r07_search_equals_brute_force_with_group_cap),
		cmocka_unit_test(test_r07_search_equals_brute_force_other_models),
		cmocka_unit_test(test_r07_search_equals_brute_force_other_metrics),
		cmocka_unit_test(test_r07_local_recoding_rounds_meet_the_model),
		cmocka_unit_test(test_search_hashed_keys_agree),
		cmocka_unit_test(test_search_eval_one_node),
		cmocka_unit_test(test_search_refuses_a_huge_lattice_and_bad_ids),
	};

	if (getenv("SK_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("SK_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
