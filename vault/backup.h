/*
 * backup.h: the vault's backups and their register (R22, R52, R13).
 *
 * A backup is one sealed object (seal.h) under the vault's master key,
 * written outside the data folder, holding a copy of the store: the job
 * records and approvals, the sealed sources and releases (sealed a second
 * time), the reports, the register of earlier backups, the audit chain's
 * marker and a copy of the audit log. It never holds the master key, which
 * is escrowed apart, sealed with CMS to a backup officer's certificate.
 *
 * Every backup, escrow, disposal of a backup and restore is signed at the
 * console by an operator on the roster and recorded in data_dir/backups/
 * (ID.pending); the daemon checks the signature, writes the audit entry
 * (the audit log keeps one writer) and renames the record to ID.json.
 */
#ifndef VAULT_BACKUP_H
#define VAULT_BACKUP_H

struct vault;

/* `backup ...` at the console; -1 for a wrong call (usage). */
int console_backup(struct vault *v, int argc, char **argv);

/*
 * An operator's signed record of a console action on a file (action
 * "reviewed": the monthly review), written to the register for the daemon
 * to verify and audit. Exits on failure.
 */
void console_signed_record(struct vault *v, const char *action,
    const char *name, const char *sha, const char *path, const char *op,
    const char *keyfile, const char *note);

/*
 * R30: a note of the console's use (a view of a report or a preview, a
 * ledger printed), written to data_dir/console/ for the daemon to audit
 * as console.used, with the user who ran it (SUDO_USER, else the real
 * user, captured before the privilege drop by console_user_capture).
 */
void console_user_capture(struct vault *v);
void console_note(struct vault *v, const char *command, const char *object,
    const char *detail);

/* `restore --from FILE --operator OP --key KEY` at the console. */
int console_restore(struct vault *v, int argc, char **argv);

/*
 * The daemon: opens the store lock, which it holds shared while it changes
 * the store, so that a backup (which takes it exclusively) sees the store
 * between two steps; and the daemon lock, held for its lifetime, so that a
 * restore cannot run under it. Before the sandbox.
 */
void vault_backup_open(struct vault *v);
void vault_store_hold(struct vault *v);
void vault_store_release(struct vault *v);

/* The daemon: audits the register's new records (a few per round). */
void vault_backup_audit(struct vault *v);

#endif
