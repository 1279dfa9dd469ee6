/*
 * anon.h: the anonymization engine. Reads a CSV under a policy, applies
 * each column's action, enforces k-anonymity (and l-diversity) over the
 * quasi-identifiers by suppressing the rows of too-small classes, scans
 * every released value, and writes the shuffled release and its report.
 *
 * Memory: the rows are held dictionary-encoded, 4 bytes per released cell
 * plus 8 per row, and each column keeps one copy of each distinct value it
 * saw and produced. The raw text of a row is never kept past that row.
 */
#ifndef VAULT_ANON_H
#define VAULT_ANON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct anon_result {
	uint64_t rows_in;		/* data rows read (header excluded) */
	uint64_t rows_rejected;		/* malformed rows, on_error = reject */
	uint64_t rows_suppressed_k;	/* in classes smaller than k */
	uint64_t rows_suppressed_l;	/* in classes with < l sensitive values */
	uint64_t rows_out;		/* with the starred ones */
	uint64_t rows_starred;		/* suppressed, released as * rows */
	int star_sensitive;		/* ... their sensitive values * too */
	uint64_t classes;		/* equivalence classes released */
	uint64_t smallest_class;
	double risk_max, risk_avg;	/* re-identification risk, 1/class size */
	uint64_t rows_at_risk;		/* released rows above risk_threshold */
	uint8_t in_sha256[32], out_sha256[32];
	size_t memory_bytes;		/* held by the encoded rows and tables */
	char error[256];		/* why the job failed: no data values */
	/* The rows read so far, every 4,096, for a progress line that
	 * another thread keeps while the job runs. */
	atomic_uint_fast64_t rows_read;
};

/*
 * Runs the job from in_fd to out_fd. On success returns 0, fills res and
 * puts the JSON report (NUL-terminated, no data values, no key) in *report,
 * which the caller frees. On failure returns non-zero with res->error set;
 * out_fd may hold a partial file, which the caller must discard.
 */
/* The error of a job whose input holds a My Number its dataset may not
 * carry (R29): the vault refuses the upload and disposes of it at once. */
#define ANON_MY_NUMBER_FORBIDDEN "a My Number, which this dataset may not " \
	"carry (my_numbers = false)"

int anon_run(const struct policy *p, int in_fd, int out_fd,
    struct anon_result *res, char **report);

/*
 * The same, and *values gets the suppression by value with each value
 * named (the report counts them without their text): for an operator
 * tuning a policy at the console, never stored by the daemon.
 */
int anon_run_values(const struct policy *p, int in_fd, int out_fd,
    struct anon_result *res, char **report, char **values);

/* The same from len bytes in memory (an envelope's plaintext). */
int anon_run_mem(const struct policy *p, const uint8_t *in, size_t len,
    int out_fd, struct anon_result *res, char **report);

#endif
