/*
 * job.h: the vault's jobs, one per upload taken from the receiver, and
 * their durable states (R11, R20, R30, R41).
 *
 *   received -> processing -> awaiting_approval -> approved -> published
 *                          \-> failed            \-> rejected
 *   (an upload that cannot be opened or whose signature fails: rejected)
 *   published -> withdrawing -> withdrawn
 *   (received, processing or awaiting past the dataset's retention_days:
 *   expired; corrected by the municipality before a decision: replaced)
 *
 * data_dir/jobs/ID holds the record as "key=value" lines: ids, sizes,
 * digests, times and states only, never a value from the data. It is
 * rewritten whole (temporary name, sync, rename) under jobs/.lock, which the
 * daemon and the console commands share.
 */
#ifndef VAULT_JOB_H
#define VAULT_JOB_H

#include <stdint.h>

#include "config.h"

#define JOB_ID_MAX 65

enum job_state {
	JOB_RECEIVED, JOB_PROCESSING, JOB_AWAITING, JOB_APPROVED,
	JOB_PUBLISHED, JOB_REJECTED, JOB_FAILED, JOB_WITHDRAWING,
	JOB_WITHDRAWN, JOB_EXPIRED, JOB_REPLACED, JOB_NSTATES
};

struct job {
	char id[JOB_ID_MAX];		/* the receiver's upload id */
	char municipality[CONFIG_ID_MAX];
	char dataset[CONFIG_ID_MAX];
	uint64_t size;			/* the upload as received */
	char sha256[65];
	int64_t received;		/* when the vault took it */
	enum job_state state;
	char reason[256];		/* why rejected or failed */
	uint64_t out_size;		/* the release */
	uint64_t rows_out;		/* its records, as its report says */
	char out_sha256[65];
	/* The release's id at the sender: fresh and random, so that nothing
	 * outside the vault can tie it to the upload, its receipt or another
	 * release of the same source (R07); made when the release is
	 * accepted, with its codebook, "" before. */
	char release_id[33];
	char report_sha256[65];
	/* What the operators sign beside the release and the report (issue
	 * 20): the recipients it is made for (comma separated), whether it
	 * goes sealed to their certificates, and the digests of the codebook
	 * written at acceptance (reports/ID.datapackage.json, ID.codebook.md),
	 * which publication sends as they are. */
	char recipients[CONFIG_DATASETS_MAX * (CONFIG_ID_MAX + 1)];
	int sealed;
	char datapackage_sha256[65];
	char codebook_sha256[65];
	int64_t decided, published, expires;
	int source_disposed;
	int64_t updated;
	/* R12: the upload this one corrects, and the one that corrected it
	 * ("" for none). */
	char replaces[JOB_ID_MAX];
	char replaced_by[JOB_ID_MAX];
	/* The state the receiver was last told, for the city (issue 18). */
	char reported[16];
	/* When the vault's last copy (source and release) went, and the
	 * sender's (its withdrawal or expiry); 0: not yet, or never there.
	 * The city's disposal notice says the days (R45). */
	int64_t vault_gone, sender_gone;
};

const char *job_state_name(enum job_state s);

/* Takes and releases the jobs lock (flock on jobs/.lock). */
int job_lock(int jobs_fd);
void job_unlock(int fd);

int job_load(int jobs_fd, const char *id, struct job *j);
int job_save(int jobs_fd, struct job *j);
int job_exists(int jobs_fd, const char *id);

/* The ids of every job, sorted; the caller frees each and the array. */
int job_list(int jobs_fd, char ***ids, size_t *n);

int job_id_valid(const char *id);

#endif
