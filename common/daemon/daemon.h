/*
 * daemon.h: what the daemons' main programs share: their data folders,
 * `init` (the master key) and `audit verify`.
 */
#ifndef SK_DAEMON_H
#define SK_DAEMON_H

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "proc.h"
#include "sandbox.h"
#include "seal.h"
#include "tls.h"

struct srv_listener;

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

/* The audit log with its chain's marker (data_dir/audit.chain, under a key
 * derived from the master key): see audit_open_marked. */
int daemon_audit_open(const struct local_config *local,
    const struct seal_master *master, struct audit_log **audit);

/*
 * check-config's second half: every certificate, key, CA and CRL that
 * `run` loads for the role, each finding on stderr naming the setting and
 * the file. Errors: a file that cannot be read, a key that does not match
 * its certificate, a certificate not issued by the internal CA, one out of
 * date, a CRL past its next update. Warnings: an end within warn_days.
 * 0, or -1 if there was an error.
 */
int daemon_check_credentials(const struct local_config *local,
    const struct site_config *site, unsigned warn_days);
/* The same, with the counts of errors and warnings (for `status`). */
int daemon_check_credentials_counted(const struct local_config *local,
    const struct site_config *site, unsigned warn_days, unsigned *errors,
    unsigned *warnings);

/* check-config: each interface the site names for this host's role that
 * does not exist here is a warning on stderr, with the site file's line
 * (its firewall rules would match nothing). How many. */
unsigned daemon_check_interfaces(const struct local_config *local,
    const struct site_config *site);

/* 0 if this host's table is the role's generated ruleset (the firewall's
 * own verify, run as a program), 1 if not, -1 if it cannot be run. */
int daemon_firewall_verify(const struct local_config *local);

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
/* Set by SIGHUP in a process that called daemon_signals: a reload is
 * asked for (the parent passes it on to its first child). */
extern volatile sig_atomic_t daemon_reload;

/* `init`: the data folder and a new master key (kept if it exists). Run
 * as root, both are given to the service user, who writes in the folder
 * once the daemon has dropped root. */
int daemon_init(const struct local_config *local);

/* Gives up root for the local file's user (sandbox_drop); exits on
 * failure. */
void daemon_drop(const struct local_config *local,
    struct sandbox_layers *layers);

/* Enters the sandbox of the process kind (sandbox_enter) and logs its
 * layers; exits on failure. */
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

/*
 * `run` of a daemon made of a parent, a net process and a store process
 * (the receiver, the sender). As root: close what was inherited, the
 * firewall check, both listeners; then `PROGRAM -c CONF proc store` (its
 * channel on descriptor 3) and `PROGRAM -c CONF proc net` (the channel on
 * 3, the external and internal listeners on 4 and 5), each a fresh image;
 * the parent drops to the service user, enters its sandbox and only
 * supervises them (proc_supervise). Returns its exit status. In
 * daemon_parent.c, which alone links the listening calls.
 */
int daemon_run_parent(const char *program, const char *conf,
    const struct local_config *local, const struct site_config *site,
    const struct config_listener *external,
    const struct config_listener *internal, unsigned grace_s);

/* Its parts: `PROGRAM -c CONF proc PART`, fds[] on 3, 4, ... */
pid_t daemon_spawn(const char *program, const char *self, const char *conf,
    const char *part, const int *fds, size_t nfds);
/* A parent's TERM and INT: a stop for daemon_parent_wait. Set before the
 * children are started. */
void daemon_parent_signals(void);
/* The parent, after its children are started: drops, enters its sandbox,
 * logs their ids and supervises them (kids[0] is stopped first). */
int daemon_parent_wait(const struct local_config *local,
    const struct site_config *site, struct proc_child *kids, size_t n,
    unsigned grace_s);
/* A store's start: TERM and INT ignored (it ends with net's channel), the
 * drop, and death with the parent. */
void daemon_store_begin(const struct local_config *local,
    struct sandbox_layers *layers);

/* `sandbox-check [net|store|parent] CALL` of such a daemon; usage() for
 * another part. */
int daemon_sandbox_check_part(const struct local_config *local,
    const struct site_config *site, const char *part, const char *call,
    void (*usage)(void));

/*
 * A store process's loop: each request from net to the handler of its
 * type, until net's channel closes (returns). The store ends on an unknown
 * type or a descriptor from net. With tick, tick(arg) runs every tick_ms
 * between requests (the sender's expiry).
 */
struct daemon_handler {
	uint32_t type;
	void (*handle)(void *arg, struct proc_msg *req);
};

void daemon_store_serve(int chan, const struct daemon_handler *h, size_t nh,
    void *arg, unsigned tick_ms, void (*tick)(void *arg));

/*
 * The same with a second asker on chan2 (the sender's push process), with
 * its own handlers; *current is set to the channel a request came on
 * before its handler runs, for the reply. Returns when chan (net) ends;
 * chan2 ending is fatal.
 */
void daemon_store_serve2(int chan, const struct daemon_handler *h, size_t nh,
    int chan2, const struct daemon_handler *h2, size_t nh2, int *current,
    void *arg, unsigned tick_ms, void (*tick)(void *arg));

/*
 * The audit log across a separated daemon's channel: the store writes every
 * entry; its net process asks with DAEMON_MSG_AUDIT (str event, actor,
 * object; u32 has_size; u64 size; str sha256, detail: reply status 0, or
 * 503 when the log cannot be written) and DAEMON_MSG_AUDIT_STATE (reply:
 * u32 broken, R50). The types are the first two of every such daemon.
 */
#define DAEMON_MSG_AUDIT 1u
#define DAEMON_MSG_AUDIT_STATE 2u
/* ---- what is taken without a restart (reload.c, issue 15) ---- */

/* u32 listener (0 external, 1 internal), u64 the generation net has.
 * Reply: status 0, u64 generation and the descriptor of a new CRL that
 * the store has checked (signed by the listener's CA, not past its next
 * update); or 304 when there is none newer. */
#define DAEMON_MSG_CRL 0x100u
/* u64 the generation net has, u32 1 after SIGHUP (else 0). Reply: status
 * 0, u64 generation, bytes the certificate chain's PEM, bytes the key's
 * PEM, a pair the store has checked; or 304 when there is none newer. */
#define DAEMON_MSG_CRED 0x101u

/* A file as last looked at: a change in any of these is a new version. */
struct daemon_file_look {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/*
 * The store's watch on a listener's CRL file: when the file changes on
 * disk it is read and checked, recorded (crl.loaded or crl.refused, with
 * its digest), and offered to net, which swaps it in for new connections.
 * A bad file leaves the CRL in use as it is.
 */
struct daemon_crl_watch {
	const char *name;		/* "external", "internal" */
	const char *ca_file, *crl_file;
	struct daemon_file_look look;
	uint64_t gen;			/* checked versions so far */
	int fd;				/* the last good one, or -1 */
	int64_t end;			/* the in-use one's next update */
	int64_t ends_due;		/* daemon_store_warn_ends */
	uint64_t ends_gen;
	/* A watch that is not a listener's (the vault's): the name's key
	 * in the audit detail ("listener" when NULL) and what the log says
	 * becomes of a good new CRL. */
	const char *key, *offered_to;
};

void daemon_crl_watch_init(struct daemon_crl_watch *w, const char *name,
    const char *ca_file, const char *crl_file);
/* Looks at the file; a change is read, checked and recorded: 1 when a
 * new good one is the last good one, else 0 (nothing new, or refused). */
int daemon_crl_watch_refresh(struct daemon_crl_watch *w,
    struct audit_log *log);
/* The last good one's PEM (the caller frees it); SK_ENOTFOUND when the
 * file has not changed since the start. */
int daemon_crl_watch_pem(const struct daemon_crl_watch *w, char **pem,
    size_t *len);
void daemon_store_on_crl(int chan, struct audit_log *log,
    struct daemon_crl_watch *w, size_t n, struct proc_msg *req);

/*
 * The store's watch on the host's certificate and key (both listeners use
 * the one pair). A renewed pair is read once both files have held still
 * for one look, or at once after SIGHUP; it must match, be in date, chain
 * to the internal CA and name the same identity; it is recorded
 * (certificate.loaded with the fingerprint, serial and end date, or
 * certificate.refused with the reason) and offered to net. The key must
 * be the service user's (mode 0600) for the store to read it; a root key
 * is taken at a restart only, and the log says so at the start.
 */
struct daemon_cred_watch {
	const char *cert_file, *key_file, *ca_file;
	char identity[TLS_IDENTITY_MAX];	/* "": no renewal in place */
	struct daemon_file_look seen[2];	/* certificate, key */
	struct daemon_file_look used[2];	/* as last read */
	uint64_t gen;
	char *cert, *key;		/* the last good pair (key wiped) */
	size_t cert_len, key_len;
	int64_t end;			/* the in-use certificate's end */
	int64_t ends_due;		/* daemon_store_warn_ends */
	uint64_t ends_gen;
	const char *offered_to;		/* the log's words; NULL: listeners */
};

void daemon_cred_watch_init(struct daemon_cred_watch *w, const char *cert_file,
    const char *key_file, const char *ca_file);
void daemon_cred_watch_free(struct daemon_cred_watch *w);
/* Looks at both files (at once: now); 1 when a renewed pair, checked, is
 * the last good one (w->cert, w->key), else 0. */
int daemon_cred_watch_refresh(struct daemon_cred_watch *w,
    struct audit_log *log, int now);
void daemon_store_on_cred(int chan, struct audit_log *log,
    struct daemon_cred_watch *w, struct proc_msg *req);

/*
 * The store's sweep: a CRL in use within warn_days of its next update, or
 * past it, and the host's certificate within warn_days of its end, or
 * past it, each get a line in the log (warning; error once past), at the
 * start, when a new one is taken, and once a day after (issue 15).
 */
void daemon_store_warn_ends(struct daemon_crl_watch *ws, size_t n,
    struct daemon_cred_watch *cw, unsigned warn_days);

/* net's side: what it has, and when it asks next. */
struct daemon_reload_state {
	uint64_t crl_gens[2];		/* per listener */
	uint64_t cred_gen;
	uint64_t next_ms;
	/* the push process: per client context, its endpoint CRL's
	 * generation (the caller's array; NULL: none asked for) */
	uint64_t *client_crl_gens;
};
#define DAEMON_RELOAD_POLL_MS 5000
/* The listener tick: every DAEMON_RELOAD_POLL_MS, at once after SIGHUP
 * (daemon_reload), asks for each listener's CRL and for a renewed pair,
 * and swaps in what comes. */
void daemon_net_reload_tick(struct proc_chan *ch, struct srv_listener *ls,
    size_t n, struct daemon_reload_state *rs);

/* The push process's side: every DAEMON_RELOAD_POLL_MS, asks for each
 * context's CRL (DAEMON_MSG_CRL with the context's index: the store
 * watches the endpoint CRL of that recipient) and for a renewed pair,
 * and sets them on its client contexts (NULL ones skipped), for the
 * deliveries that start after. */
void daemon_client_reload_tick(struct proc_chan *ch, SSL_CTX **ctx,
    size_t n, struct daemon_reload_state *rs);

/* net's side: srv's audit_fn and broken_fn, given the channel. */
int daemon_net_audit(struct proc_chan *ch, const struct audit_event *ev);
int daemon_net_audit_broken(struct proc_chan *ch);

/* The store's side: writes an entry (and logs when it cannot, R50). */
int daemon_store_audit(struct audit_log *log, const char *event,
    const char *actor, const char *object, int has_size, uint64_t size,
    const char *sha256, const char *detail);
/* Answers DAEMON_MSG_AUDIT, ending the process on an event that is not in
 * events[] (what net may record: its refusals and transfers). */
void daemon_store_on_audit(int chan, struct audit_log *log,
    struct proc_msg *req, const char *const *events, size_t nevents);
void daemon_store_on_audit_state(int chan, struct audit_log *log,
    struct proc_msg *req);

/*
 * `audit verify FILE [--key KEY0] [--state STATE] [--witness LOG]` and
 * `audit events` (the events' schema as a Markdown table, the text of
 * docs/audit-events.md); usage() on bad args.
 */
int daemon_audit_cmd(int argc, char **argv, void (*usage)(void));

#endif
