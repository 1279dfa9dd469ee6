/*
 * diff.h: a release against the previous release of its dataset: new and
 * vanished classes, and counts that changed by fewer than k (issue 20).
 */
#ifndef VAULT_DIFF_H
#define VAULT_DIFF_H

#include <stddef.h>

#include "job.h"

struct vault;

/* Prints the comparison (with the job with, or the previous release of
 * the dataset); 0 with no differencing risk, 1 with some. Needs the
 * master key loaded and the vault's folders open. */
int release_diff(struct vault *v, const struct job *j, const char *with);

/* The id of the previous release of j's dataset, for `release show`. */
int release_previous(struct vault *v, const struct job *j, char *id,
    size_t cap);

#endif
