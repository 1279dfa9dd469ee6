/*
 * action.h: what each column action does to one value, and the safety
 * scan of every value that is written out. Pure functions: strings in,
 * strings out, no files.
 */
#ifndef VAULT_ACTION_H
#define VAULT_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define ACTION_OUT_MAX 512	/* longest value an action produces */

/*
 * Applies the column's action to in (UTF-8, len bytes) and writes the
 * result, NUL-terminated, into out (ACTION_OUT_MAX bytes). key is the job's
 * pseudonymization key. Returns the result's length, or SK_EFORMAT with
 * *why saying, without the value, why the value cannot be processed.
 * An empty value stays empty (a missing value is released as missing).
 */
int action_apply(const struct policy_column *c, const uint8_t key[32],
    const char *in, uint32_t len, char *out, const char **why);

/*
 * The same at one of a searched column's levels (0 .. nsteps - 1: its
 * steps; nsteps: "*", everything in one).
 */
int action_apply_level(const struct policy_column *c, unsigned level,
    const char *in, uint32_t len, char *out, const char **why);

/*
 * Returns NULL if the value may be released, else the name of what it
 * looks like ("My Number", or a policy pattern's name).
 */
const char *action_scan(const struct policy *p, const char *s, uint32_t len);

/* 1 if the value holds a run of 12 digits (separators allowed) with a
 * valid My Number check digit. */
int action_has_mynumber(const char *s, uint32_t len);

/* Checks the 12th digit of a My Number (個人番号). d holds 12 digits 0-9. */
int action_mynumber_valid(const uint8_t d[12]);

#endif
