/*
 * audit.h: the tamper-evident audit log every host keeps (R15, R30, R50).
 *
 * One JSON object per line: seq, time, event, actor, and optionally object,
 * size, sha256 and detail, then mac. Entry i is MACed with key K_i over the
 * previous entry's mac and the entry's own text; after each entry the key
 * evolves one way (K_{i+1} = SHA-256("sekisho-audit-evolve" || K_i)) and the
 * old key is erased. Only the first key K_1, kept apart (the auditor's copy,
 * FILE.key0), can recompute the chain, so an intruder who takes the host
 * later cannot rewrite entries written before the break-in.
 *
 * The writer keeps its position in FILE.state (next seq, current key, last
 * mac); a log that is shorter than its state says has been truncated, and
 * the writer refuses to continue it. Entries never contain personal data.
 */
#ifndef SK_AUDIT_H
#define SK_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_LINE_MAX 2048

struct audit_event {
	const char *event;	/* "upload.stored", "conn.refused", ... */
	const char *actor;	/* "muni:131156", "vault", "system", an address */
	const char *object;	/* object id, or NULL */
	int has_size;
	uint64_t size;
	const char *sha256;	/* hex digest, or NULL */
	const char *detail;	/* short non-personal detail, or NULL */
};

struct audit_log;

/*
 * Opens (or creates, with a fresh first key at key0_path, mode 0600) the
 * log at path. Returns SK_EAUTH if the log and its state disagree.
 */
int audit_open(const char *path, const char *key0_path,
    struct audit_log **out);

/*
 * Appends one entry and makes it durable (fdatasync) before returning.
 * Thread-safe. Any failure is returned and the log is marked broken, and
 * every later append fails too: the caller must stop accepting work (R50).
 */
int audit_append(struct audit_log *a, const struct audit_event *ev);

/*
 * Returns 1 while the log cannot be written: once an append has failed,
 * and until a retry (at most once a second, made here and in
 * audit_append) writes an `audit.resumed` entry that records the gap:
 * since when, the error, the entries that were not written (R50).
 */
int audit_broken(struct audit_log *a);

struct audit_health {
	int broken;
	int64_t since;		/* unwritable since (unix time), or 0 */
	int error;		/* the errno of the failure */
	uint64_t lost;		/* entries not written since */
	uint64_t reserve;	/* bytes held for the log */
	int reserve_short;	/* the reserve could not be renewed */
};

void audit_health(struct audit_log *a, struct audit_health *h);

/*
 * The chain's head: the last entry's seq (0 for none) and mac, which the
 * next host records (R47: logs that witness each other), so that a log
 * rewritten or replaced later no longer matches what was witnessed.
 */
void audit_head(struct audit_log *a, uint64_t *seq, char mac_hex[65]);

/* The oldest file of a log: its first rotated segment, or the log. */
void audit_oldest_file(const char *path, char *out, size_t cap);

/*
 * Checks a log against the heads another host's log recorded of it: each
 * witness entry (event "witness.ROLE", detail "seq=N mac=HEX") of the
 * other log must match the entry of that seq in this log. *checked and
 * *bad count them; the first mismatch is described in why.
 */
int audit_verify_witness(const char *path, const char *role,
    const char *witness_path, uint64_t *checked, uint64_t *bad, char *why,
    size_t whycap);

/*
 * Holds `bytes` of disk allocated past the log's end (fallocate with
 * FALLOC_FL_KEEP_SIZE), renewed when half is used, so that uploads that
 * fill the disk cannot take the log's space. 0: none.
 */
void audit_set_reserve(struct audit_log *a, uint64_t bytes);

/*
 * Rotation (issue 16, R47): once the log holds `bytes` (0: never), it is
 * moved aside as a read-only segment FILE.FIRST-LAST (seqs, 12 digits) and
 * the chain goes on in a new FILE, whose first entry (audit.rotated) names
 * the segment and its SHA-256. Retention: segments whose last entry is
 * older than `days` (0: keep all) are removed, oldest first, each after an
 * audit.segment_disposed entry with its last seq and mac. audit_verify
 * reads the segments beside FILE before FILE.
 */
void audit_set_rotation(struct audit_log *a, uint64_t bytes, unsigned days);

/*
 * Rotation by month (on: 1): the first entry of a month (in Japan's time,
 * as the ledgers and the review count months) moves the log aside as a
 * segment first, as rotation by size does, so that each segment holds one
 * month at most. Both may be on.
 */
void audit_set_monthly(struct audit_log *a, int on);

/* The retention's step itself: every oldest segment whose last entry is
 * before cutoff (unix time) goes, on record. */
void audit_dispose_segments_before(struct audit_log *a, int64_t cutoff);

/*
 * audit_open with the chain's marker: a small file kept apart from the log
 * (in the daemon's data folder) under a MAC of marker_key, recording when
 * the chain began and its first entry. A log and state that are gone while
 * the marker is there, or a log that another chain replaced, are not begun
 * again silently: the chain records an `audit.break` entry, which
 * audit_verify counts.
 */
int audit_open_marked(const char *path, const char *key0_path,
    const char *marker_path, const uint8_t marker_key[32],
    struct audit_log **out);

void audit_close(struct audit_log *a);

struct audit_verify_result {
	uint64_t entries;	/* entries that verified */
	uint64_t bad_line;	/* first failing line (1-based), 0 if none */
	char reason[160];	/* what failed */
	uint64_t breaks;	/* audit.break entries: evidence lost before */
	uint64_t first_break;	/* the line of the first, 0 if none */
	uint64_t gaps;		/* audit.resumed entries: entries not written */
	uint64_t segments;	/* rotated segments read before the log */
	/* Entries whose detail does not follow their event's schema
	 * (audit_schema.h): not a break of the chain, but a writer that
	 * left the contract; the first one's line and why. */
	uint64_t off_schema;
	uint64_t first_off_schema;
	char off_schema_why[200];
};

/*
 * Verifies a log with its first key. If state_path is given (may be NULL)
 * the log must also end exactly where the state says, which detects removed
 * trailing entries. Returns 0 if every entry verifies, SK_EAUTH otherwise
 * (res says where and why), or another error if a file cannot be read.
 */
int audit_verify(const char *path, const char *key0_path,
    const char *state_path, struct audit_verify_result *res);

#endif
