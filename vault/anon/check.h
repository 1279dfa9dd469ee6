/*
 * check.h: the checker, a second look at a release before anyone may
 * approve it (R06, R07, R17).
 *
 * The engine is the largest parser in the vault and the one fed by
 * municipalities; a bug in it must not be able to release what the policy
 * forbids. The checker is small and separate (its own process, see
 * engine.c): it reads the release back as the recipient would, with the
 * policy and the engine's report, and recounts what must hold:
 *
 *   - the header is exactly the policy's released columns, in order: no
 *     dropped column, no column the policy does not name;
 *   - every row has that many fields;
 *   - every equivalence class over the quasi-identifiers has at least k
 *     rows, and (with l-diversity) l distinct sensitive values;
 *   - no value looks like a My Number or matches a policy pattern;
 *   - the rows, the classes, the policy digest and the release digest are
 *     those the report states.
 *
 * It shares the CSV reader, the dictionary and the scan with the engine,
 * not the engine's logic: classes are keyed by the released text itself.
 */
#ifndef VAULT_CHECK_H
#define VAULT_CHECK_H

#include <stddef.h>

#include "policy.h"

/*
 * Reads the release from fd to its end. Returns 0 when every check holds;
 * otherwise non-zero with why saying which check failed and where (a line
 * number and a column name, never a value).
 */
int check_release(const struct policy *p, int fd, const char *report,
    size_t reportlen, char *why, size_t whycap);

#endif
