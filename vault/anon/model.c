/*
 * model.c: entropy and recursive l-diversity, t-closeness (see model.h).
 */
#include <math.h>
#include <stdlib.h>

#include "model.h"

int
model_needs_counts(const struct model *m)
{
	return m != NULL && ((m->l > 1 && m->kind != MODEL_L_DISTINCT) ||
	    m->t > 0);
}

static int
desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Hierarchical ground distance: bottom up, each label of level j gathers
 * its children's surplus (class share over file share) and moves what it
 * can between them, min(surplus, deficit), at cost j / height; what is
 * left goes up to its parent.
 */
static double
emd_tree(const struct model *m, const uint32_t *ids, const uint64_t *counts,
    size_t n, uint64_t total)
{
	size_t nv = m->t_nvalues, nl = m->t_nlabels, w = nv > nl ? nv : nl;
	size_t i, cur = nv, nxt;
	double *ext, *pos, *neg, *sum, cost = 0;
	uint32_t *rep, *lrep, *list;
	uint8_t *seen;
	unsigned j;
	void *mem;

	if ((mem = calloc(1, w * 2 * sizeof(double) + nl * 3 *
	    sizeof(double) + (w + nl * 2) * sizeof(uint32_t) + nl)) == NULL)
		return -1;
	ext = mem;			/* the nodes of the level below */
	pos = ext + w;
	neg = pos + nl;
	sum = neg + nl;
	rep = (uint32_t *)(sum + nl);	/* a sensitive id under each node */
	lrep = rep + w;
	list = lrep + nl;
	seen = (uint8_t *)(list + nl);
	/* Level 0: each value's class share less its file share. */
	for (i = 0; i < nv; i++) {
		ext[i] = -m->global[i];
		rep[i] = (uint32_t)i;
	}
	for (i = 0; i < n; i++)
		if (ids[i] < nv)
			ext[ids[i]] += (double)counts[i] / (double)total;
	for (j = 1; j <= m->t_height; j++) {
		const uint32_t *g = m->t_gen + (size_t)j * nv;
		double moved = 0;

		for (nxt = 0, i = 0; i < cur; i++) {
			uint32_t lab = g[rep[i]];

			if (lab >= nl)
				continue;	/* the caller's tables are bad */
			if (!seen[lab]) {
				seen[lab] = 1;
				pos[lab] = neg[lab] = sum[lab] = 0;
				lrep[lab] = rep[i];
				list[nxt++] = lab;
			}
			if (ext[i] > 0)
				pos[lab] += ext[i];
			else
				neg[lab] -= ext[i];
			sum[lab] += ext[i];
		}
		for (i = 0; i < nxt; i++) {
			uint32_t lab = list[i];

			moved += pos[lab] < neg[lab] ? pos[lab] : neg[lab];
			ext[i] = sum[lab];
			rep[i] = lrep[lab];
			seen[lab] = 0;
		}
		cost += (double)j / (double)m->t_height * moved;
		cur = nxt;
	}
	free(mem);
	return cost;
}

double
model_emd(const struct model *m, const uint32_t *ids, const uint64_t *counts,
    size_t n, uint64_t total)
{
	/* 0.5 * sum |p - q| over every value; a value absent from the
	 * class adds its global share q. */
	double absent = 1.0, emd = 0, p;
	size_t i;

	if (total == 0)
		return 1;
	if (m->t_gen != NULL)
		return emd_tree(m, ids, counts, n, total);
	for (i = 0; i < n; i++) {
		p = (double)counts[i] / (double)total;
		emd += fabs(p - m->global[ids[i]]);
		absent -= m->global[ids[i]];
	}
	return 0.5 * (emd + (absent > 0 ? absent : 0));
}

int
model_class_ok(const struct model *m, const uint32_t *ids,
    uint64_t *counts, size_t n, uint64_t total)
{
	double h = 0, p, emd = 0;
	uint64_t tail = 0;
	size_t i;

	if (total == 0)
		return 0;
	if (m->l > 1 && n < m->l)
		return 0;		/* every model needs l distinct values */
	if (m->t > 0) {
		emd = model_emd(m, ids, counts, n, total);
		/* a hair of rounding must not refuse an exact t */
		if (emd < 0 || emd > m->t + 1e-12)
			return 0;
	}
	if (m->l <= 1)
		return 1;
	switch (m->kind) {
	case MODEL_L_DISTINCT:
		return 1;
	case MODEL_L_ENTROPY:
		for (i = 0; i < n; i++) {
			p = (double)counts[i] / (double)total;
			h -= p * log(p);
		}
		return h + 1e-12 >= log((double)m->l);
	case MODEL_L_RECURSIVE:
		qsort(counts, n, sizeof(*counts), desc);
		for (i = m->l - 1; i < n; i++)
			tail += counts[i];
		return (double)counts[0] < m->c * (double)tail;
	}
	return 0;
}
