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
		/* 0.5 * sum |p - q| over every value; a value absent from
		 * the class adds its global share q. */
		double absent = 1.0;

		for (i = 0; i < n; i++) {
			p = (double)counts[i] / (double)total;
			emd += fabs(p - m->global[ids[i]]);
			absent -= m->global[ids[i]];
		}
		emd = 0.5 * (emd + (absent > 0 ? absent : 0));
		/* a hair of rounding must not refuse an exact t */
		if (emd > m->t + 1e-12)
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
