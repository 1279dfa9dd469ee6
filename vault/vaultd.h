/*
 * vaultd.h: sekisho-vault's daemon and console commands.
 */
#ifndef VAULT_VAULTD_H
#define VAULT_VAULTD_H

#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdatomic.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "job.h"
#include "version.h"
#include "policy.h"
#include "hclient.h"
#include "seal.h"

struct vault {
	struct local_config local;
	struct site_config *site;
	/* Loaded at start-up, before the sandbox closes the filesystem: */
	struct policy **policies;	/* per dataset (NULL: none) */
	EVP_PKEY **op_keys;		/* per operator on the roster */
	X509 **recip_certs;		/* per recipient (NULL: none) */
	X509_STORE *muni_store;		/* checks municipalities' signatures */
	/* The pair that signs each release's manifest (NULL: none given,
	 * releases go without a package). */
	X509 *sign_cert;
	EVP_PKEY *sign_key;
	/* Handed to each engine, which reads no file: the envelope pair
	 * (the key is wiped at exit) and the municipalities' CA and CRL. */
	uint8_t *env_cert, *env_key, *muni_ca, *muni_crl;
	size_t env_certlen, env_keylen, muni_calen, muni_crllen;
	int spawner;			/* channel to the spawner */
	SSL_CTX *tls;			/* client: internal CA both ways */
	struct seal_master master;
	int master_loaded;		/* the console: for release show */
	struct audit_log *audit;
	int tmp_fd;			/* data_dir/tmp */
	int jobs_fd;			/* data_dir/jobs: records, approvals */
	int sources_fd;			/* data_dir/sources: uploads, sealed */
	int releases_fd;		/* data_dir/releases: sealed */
	int reports_fd;			/* data_dir/reports: JSON, no data */
	int watch_fd;			/* inotify on jobs/, or -1 */
	int backups_fd;			/* data_dir/backups: the register */
	int console_fd;			/* data_dir/console: notes of use */
	char console_user[64];		/* who runs the console (R30) */
	int store_lock_fd;		/* shared while a step changes the store */
	int daemon_lock_fd;		/* held for the daemon's lifetime */
	/* The long-poll: a thread waits at the receiver for uploads and
	 * wakes the loop through the pipe the moment one is stored. */
	int wake[2];
	pthread_t waiter;
	int waiting;			/* the thread runs */
	_Atomic int waiter_fd;		/* its connection, to cut at a stop */
	unsigned recv_backoff, send_backoff;	/* seconds, 0: none */
	int64_t next_poll, next_send;
	int audit_paused;		/* R50: the log cannot be written */
	uint64_t witnessed_receiver;	/* R47: the receiver's head, last seen */
	/* Taken without a restart (issue 15): the host's pair, for the next
	 * connections, and the municipalities' CRL, for the next engines. */
	struct daemon_cred_watch cred;
	struct daemon_crl_watch muni_crl_watch;
	/* Per dataset: what the policy in use was read from (its file and
	 * tables, by inode, size and times), and what was last refused. */
	uint8_t (*policy_seen)[32], (*policy_refused)[32];
	/* The same for the site file and the operators' keys: the roster. */
	uint8_t roster_seen[32], roster_refused[32];
	uint64_t reload_next_ms;
	volatile sig_atomic_t stop;
};

#define VAULT_VERSION SK_VERSION
#define LIST_MAX (16u << 20)		/* a listing from the receiver */
#define IO_BUF (64u << 10)
#define BACKOFF_MAX 300			/* seconds */
#define NET_TIMEOUT 30			/* seconds without a byte */
#define LONGPOLL_S 20			/* under NET_TIMEOUT */

/* vaultd.c */
/* An audit entry of the vault's (logged when it cannot be written). */
int vault_audit(struct vault *v, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail);
/* R50: 1 while the audit log cannot be written, when nothing is taken,
 * processed, approved or published; said in the log and in data/status
 * (`sekisho-vault status`) when it begins and ends. */
int vault_audit_paused(struct vault *v);
/* `status`: what data/status says, in Japanese and English; 0 if the vault
 * works, 1 if it is paused, 2 if it cannot tell. */
int vault_status(struct vault *v, int argc, char **argv);
/* Tells the receiver what became of each upload, in the closed
 * vocabulary, for the city to read (issue 18); a few per round. */
void vault_report_status(struct vault *v);
/* A TLS connection to the receiver's or the sender's internal listener. */
int vault_connect(struct vault *v, const struct config_host *h,
    struct hc_conn *c, char *why, size_t whycap);
/* Saves a job under the lock; its new state, recorded and audited. */
int vault_save(struct vault *v, struct job *j);
void vault_set_state(struct vault *v, struct job *j, enum job_state s,
    const char *why);
/* Disposes of a sealed object and records it once done; a failure is
 * recorded and returned, and nothing is marked disposed. */
int vault_dispose(struct vault *v, int dirfd, const char *id,
    const char *what, const char *why);
/* `run`: the parent, which starts main and the spawner and waits. */
int vault_parent(const char *conf, struct vault *v);
/* `proc main`: the pipeline. */
int vault_run(struct vault *v);
/* Opens the data folders; for the daemon, the storage and audit log too. */
void vault_open(struct vault *v, int for_daemon);
/* Loads every dataset's policy (exits with file:line on an error). */
void vault_load_policies(struct vault *v);
void vault_free_policies(struct vault *v);
/*
 * A policy changed on disk (the policy file or a table it names): read,
 * checked, recorded (policy.changed with the new and the previous
 * digest) and taken for the next jobs; one that does not load is
 * refused (policy.refused with its file and line) and the one in use
 * stays. Dataset index ds only, or every dataset (ds < 0). After the
 * sandbox: main reads the folders sandbox_read_also() was given.
 */
void vault_policies_refresh(struct vault *v, int ds);
/*
 * The roster taken without a restart: vault_roster_watch (at start-up,
 * before the sandbox) notes the site file and the operators' keys;
 * vault_roster_refresh, when either changed on disk, loads and checks the
 * whole site file and the keys it names and takes its operators and
 * their keys (recorded by roster_record as roster.changed), or refuses it
 * (roster.refused with the line) and keeps the roster in use. The rest
 * of the site is taken at a restart.
 */
void vault_roster_watch(struct vault *v);
void vault_roster_refresh(struct vault *v);
/* show-config's part: each dataset's policy as it runs (policy_show). */
int vault_show_policies(struct vault *v, FILE *f);
/* Loads the operators' keys, the recipients' certificates and the
 * municipalities' CA and CRL (exits on an error). */
void vault_load_trust(struct vault *v);
/* The signing pair alone (local `signing`), for the console; none when
 * the file names none. Ends the process when it does not load. */
void vault_load_signing(struct vault *v);
void vault_free_trust(struct vault *v);

/* pull.c */
int vault_poll_receiver(struct vault *v, char *why, size_t whycap);
void vault_pause(struct vault *v, unsigned s);
void vault_waiter_start(struct vault *v);
void vault_waiter_stop(struct vault *v);

/* process.c */
void vault_process(struct vault *v, struct job *j);

/* publish.c */
void vault_decide(struct vault *v, struct job *j);
int vault_publish(struct vault *v, struct job *j, char *why, size_t whycap);
int vault_withdraw_at_sender(struct vault *v, struct job *j, char *why,
    size_t whycap);
void vault_sender_trouble(struct vault *v, const char *id, const char *why);

/* console.c */
int console_release(struct vault *v, int argc, char **argv);
/* `report REPORT.json [--html PAGE]`, outside any vault: 2 on a wrong call. */
int console_report(int argc, char **argv);
/* Gives up root for the vault's user before `status`. */
void console_status_open(struct vault *v);

#endif
