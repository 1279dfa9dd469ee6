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

/* Returns 1 once an append has failed. */
int audit_broken(struct audit_log *a);

void audit_close(struct audit_log *a);

struct audit_verify_result {
	uint64_t entries;	/* entries that verified */
	uint64_t bad_line;	/* first failing line (1-based), 0 if none */
	char reason[160];	/* what failed */
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
