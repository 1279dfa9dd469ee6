/*
 * daemon.h: what the daemons' main programs share: their data folders,
 * `init` (the master key) and `audit verify`.
 */
#ifndef SK_DAEMON_H
#define SK_DAEMON_H

#include "audit.h"
#include "config.h"
#include "sandbox.h"
#include "seal.h"

/* Loads the local file (which must be for role) and its site; exits with
 * file:line and a message on any error. */
void daemon_load_config(const char *path, enum config_role role,
    struct local_config *local, struct site_config **site);

/* The data folder, the master key, a clean tmp/ (its fd in *tmp_fd, the
 * leftovers removed in *removed) and the audit log with its start entry
 * (program, version, OpenSSL, the site's digest). Exits on failure. */
void daemon_open_storage(const char *program, const char *version,
    const struct local_config *local, const struct site_config *site,
    struct seal_master *master, int *tmp_fd, unsigned *removed,
    struct audit_log **audit);

/* Creates (0700) and opens base/name as a directory; exits on failure. */
int daemon_open_dir(const char *base, const char *name);

/*
 * As root, before anything is served: runs `sekisho-firewall -c SITE --role
 * ROLE verify` from this program's own folder (a daemon links no netlink
 * code) and exits unless the host's live ruleset is the site's.
 */
void daemon_require_firewall(const struct local_config *local);

/* TERM and INT call on_stop; SIGPIPE is ignored (a peer that leaves is an
 * error return, not a signal). */
void daemon_signals(void (*on_stop)(int));

/* `init`: the data folder and a new master key (kept if it exists). Run
 * as root, both are given to the service user, who writes in the folder
 * once the daemon has dropped root. */
int daemon_init(const struct local_config *local);

/* Gives up root for the local file's user (sandbox_drop); exits on
 * failure. */
void daemon_drop(const struct local_config *local,
    struct sandbox_layers *layers);

/* Enters the sandbox of the role's process kind (sandbox_enter) and logs its layers; exits on
 * failure. */
void daemon_sandbox(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind,
    struct sandbox_layers *layers);

/* `sandbox-check CALL`: drops root and enters the sandbox as `run` does,
 * then makes the call (sandbox_try_call, or the role's own probe, which
 * returns -2 for a name it does not know). A forbidden call never returns
 * (SIGSYS); otherwise prints what it returned and returns 0. */
int daemon_sandbox_check(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind, const char *call,
    long (*role_probe)(const char *call));

/* `audit verify FILE [--key KEY0] [--state STATE]`; usage() on bad args. */
int daemon_audit_verify(int argc, char **argv, void (*usage)(void));

#endif
