/*
 * search.h: the search for the best generalization. Given the distinct
 * quasi-identifier tuples of a file (each with its row count) and, per
 * quasi-identifier, a generalization hierarchy, finds the combination of
 * levels (the lattice node) of least information loss whose equivalence
 * classes meet k-anonymity (and distinct l-diversity) once the rows of
 * the classes that do not are suppressed, within the suppression limit.
 *
 * The loss is ARX's default quality model, "Loss" (Iyengar's generalized
 * loss metric, generalization and suppression weighted equally, the
 * dimensions aggregated by their geometric mean): a released value that
 * stands for n of the hierarchy's d leaves costs (n / d) per row, a
 * suppressed row costs 1, each dimension is normalized to [0, 1] and the
 * result is prod(1 + loss_i)^(1/D) - 1, cut to 10 decimals. Ties go to the
 * node of the smaller sum of levels, as in ARX.
 *
 * Pure: arrays in, levels out. Memory: the tuples, the lattice's nodes
 * (SEARCH_MAX_NODES at most) and two hash tables sized to the tuples.
 */
#ifndef VAULT_SEARCH_H
#define VAULT_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define SEARCH_MAX_NODES	(1u << 21)
#define SEARCH_MAX_DIMS		128
#define SEARCH_MAX_LEVELS	64

/* One quasi-identifier. Its level-0 values are the ids 0 .. nvalues-1. */
struct search_dim {
	uint32_t nvalues;
	unsigned nlevels;		/* levels in the hierarchy (>= 1) */
	unsigned min_level, max_level;	/* the levels the search may take */
	/* gen[level * nvalues + v]: the id of v's label at that level */
	const uint32_t *gen;
	/* leaves[level * nvalues + v]: hierarchy rows under that label */
	const uint32_t *leaves;
	uint32_t domain;		/* rows of the hierarchy */
};

/*
 * What the search minimizes (issue 19). The loss (above) is ARX's default;
 * discernibility (Bayardo and Agrawal) is the sum over released classes of
 * their size squared plus, for each suppressed row, the number of rows,
 * divided here by rows squared (0 to 1); precision (Sweeney) is the mean,
 * over rows and quasi-identifiers, of level / highest level of the
 * hierarchy, a suppressed row counting 1. Neither has the loss's lower
 * bounds: the search counts every node the model's monotony leaves.
 * Non-uniform entropy (ARX's default entropy metric, its non-monotonic
 * variant, generalization and suppression weighted equally) is, summed
 * over quasi-identifiers, the bits the release lacks to tell each row's
 * value: every row costs log2(rows of its label / rows of its value), over
 * the whole file, and each suppressed row log2(suppressed rows / those of
 * them under its label) more. Its first part depends on the levels alone
 * and bounds the whole, as the loss's does.
 */
enum search_metric {
	SEARCH_LOSS, SEARCH_DISCERNIBILITY, SEARCH_PRECISION, SEARCH_ENTROPY,
	SEARCH_NMETRICS
};

struct search_problem {
	enum search_metric metric;	/* 0: the loss */
	size_t ndims;
	const struct search_dim *dims;
	size_t ntuples;
	const uint32_t *tuples;		/* ntuples x ndims level-0 ids */
	const uint64_t *count;		/* rows of each tuple */
	const uint32_t *sens;		/* sensitive value per tuple, or NULL */
	unsigned k, l;			/* l <= 1: no l-diversity */
	double max_suppression;		/* fraction of the rows */
	/* A group is the rows of one label of one dimension at the node's
	 * level, counted if it has at least k rows; none may lose more than
	 * this fraction to suppression (0: no limit). Not monotone. */
	double max_group_suppression;
	uint64_t seed;			/* of the hash: random per job */
	/* entropy or recursive l-diversity, t-closeness (model.h) over the
	 * tuples' sensitive values, or NULL. Not monotone with
	 * suppression: only the k and distinct-l verdicts prune then. */
	const struct model *model;
};

struct search_result {
	unsigned level[SEARCH_MAX_DIMS];	/* per dimension */
	double loss;			/* of the chosen node */
	double score;			/* its metric's value (loss: the loss) */
	double loss_dim[SEARCH_MAX_DIMS];	/* each dimension's, 0..1 */
	uint64_t suppressed;		/* rows the chosen node suppresses */
	uint64_t nodes;			/* in the lattice */
	uint64_t checked;		/* nodes whose classes were counted */
	int found;			/* 0: no node meets the model */
	int group_capped;		/* found = 0 for max_group_suppression */
	double group_worst;		/* the largest group's suppressed share */
	size_t group_dim;		/* ... and its dimension */
};

/* The metric's name, as a policy writes it. */
const char *search_metric_name(enum search_metric m);

/*
 * Runs the search. Returns 0 with *res filled (res->found says whether a
 * node meets the model), SK_ETOOBIG if the lattice has more than
 * SEARCH_MAX_NODES nodes or more than SEARCH_MAX_DIMS dimensions,
 * SK_EINVAL for an inconsistent problem, SK_ENOMEM.
 */
int search_run(const struct search_problem *sp, struct search_result *res);

/*
 * Evaluates one node (levels per dimension): fills res->loss, loss_dim
 * and suppressed as search_run would for it, and res->found with whether
 * it meets the model. keep, if not NULL, decides instead which tuples are
 * released (keep[t] != 0): the loss of a release the engine has already
 * made at fixed levels, l-diversity and all.
 */
int search_eval(const struct search_problem *sp, const unsigned *levels,
    const uint8_t *keep, struct search_result *res);

/*
 * Local recoding (issue 19): generalizes only the rows that need it. The
 * first round is the search over every row, as search_run, but with any
 * share suppressed; the rows it suppresses are searched again alone, at
 * levels of their own, and so on, until a round releases nothing, fewer
 * than k rows are left or SEARCH_LOCAL_ROUNDS have run. Each round's
 * classes meet the model among themselves, so the union does (classes of
 * two rounds with the same labels merge, which k, distinct and entropy l
 * and t-closeness survive). The loss metric only (else SK_EINVAL). Like
 * max_suppression, max_group_suppression binds no round: it holds for the
 * rows left at the end, which the caller checks (search_eval_mixed).
 *
 * Cell suppression (cells set) is the same with the later rounds held to
 * two choices per dimension: the first round's level, or the top of its
 * hierarchy ("*" in ARX's and the built-in ones): a row keeps every cell
 * it can and loses the others, instead of being deleted whole.
 */
#define SEARCH_LOCAL_ROUNDS	16
#define SEARCH_UNRELEASED	0xff

struct search_local {
	int cells;		/* in: cell suppression (below) */
	unsigned rounds;
	unsigned level[SEARCH_LOCAL_ROUNDS][SEARCH_MAX_DIMS];
	uint64_t rows[SEARCH_LOCAL_ROUNDS];	/* released by each round */
	uint64_t nodes, checked;		/* of the first round's search */
	uint8_t *round_of;	/* caller's, ntuples: round, or UNRELEASED */
};

int search_local(const struct search_problem *sp, struct search_local *lr);

/*
 * The loss of a release whose tuples have levels of their own
 * (levels[t * ndims + d]) and are released where keep[t] != 0, and its
 * worst group's share suppressed (group_worst, group_dim), the groups
 * being each dimension's values as they came in.
 */
int search_eval_mixed(const struct search_problem *sp,
    const unsigned *levels, const uint8_t *keep, struct search_result *res);

#endif
