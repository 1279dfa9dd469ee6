/*
 * model.h: the privacy models over a class's sensitive values, beyond
 * distinct l-diversity (which the engine counts itself):
 *
 *   entropy l-diversity    the entropy of the class's sensitive values is
 *                          at least log(l)
 *   recursive (c,l)        with the values' counts r1 >= r2 >= ... >= rm:
 *                          m >= l and r1 < c * (r_l + ... + r_m)
 *   t-closeness            the distance between the class's distribution
 *                          and the whole file's is at most t: the earth
 *                          mover's distance with equal ground distance
 *                          (half the L1 distance), or with hierarchical
 *                          ground distance (Li, Li and Venkatasubramanian,
 *                          2007, as ARX's HierarchicalDistanceTCloseness):
 *                          two values are as far apart as the level of
 *                          their lowest common label in the sensitive
 *                          column's hierarchy, over its height
 *
 * Pure: counts in, a verdict out. The engine, its checker and the search
 * all judge a class here.
 */
#ifndef VAULT_MODEL_H
#define VAULT_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum model_l { MODEL_L_DISTINCT, MODEL_L_ENTROPY, MODEL_L_RECURSIVE };

struct model {
	unsigned l;			/* 0 or 1: no l-diversity */
	enum model_l kind;
	double c;			/* recursive (c,l) */
	double t;			/* 0: no t-closeness */
	const double *global;		/* t: each sensitive value's share of
					 * all rows, by its id */
	/* hierarchical ground distance, if t_gen is set: the label of each
	 * sensitive id at each level 0 .. t_height (label ids below
	 * t_nlabels; level 0 tells the ids apart) */
	const uint32_t *t_gen;		/* [level * t_nvalues + id] */
	uint32_t t_nvalues, t_nlabels;
	unsigned t_height;		/* >= 1 */
};

/* Whether the model asks more than counting distinct values. */
int model_needs_counts(const struct model *m);

/*
 * The earth mover's distance of a class (n distinct sensitive values,
 * ids[i] with counts[i], over total rows) from the whole file, by the
 * model's ground distance; -1 if out of memory.
 */
double model_emd(const struct model *m, const uint32_t *ids,
    const uint64_t *counts, size_t n, uint64_t total);

/*
 * Judges one class: n distinct sensitive values (ids[i], counts[i]) over
 * total rows. counts may be reordered. Returns 1 if the class may be
 * released.
 */
int model_class_ok(const struct model *m, const uint32_t *ids,
    uint64_t *counts, size_t n, uint64_t total);

#endif
