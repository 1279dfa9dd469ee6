/*
 * sender.h: sekisho-sender's processes, the messages between them, and its
 * functions grouped by file.
 *
 *   parent (sender.c)    binds both listeners as root, starts the other
 *                        two, then holds nothing and only waits.
 *   net    (net.c, download.c, publish.c)
 *                        TLS, HTTP, authorization of recipients and of
 *                        the vault; the TLS key and the listening sockets;
 *                        no master key, no audit key, no file.
 *   store  (keeper.c, store.c, acct.c)
 *                        the master key, the audit log, the releases,
 *                        the download accounts and expiry; no socket but
 *                        its channel to net.
 *
 * net asks, the store answers (proc.h): one reply per request, of the same
 * type with PROC_REPLY set, starting with a status (0: go on, else the
 * HTTP status for net to answer) and a reason.
 */
#ifndef SENDER_H
#define SENDER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "version.h"
#include "config.h"
#include "daemon.h"
#include "proc.h"
#include "seal.h"
#include "server.h"

#define RELEASE_ID_MAX 64
#define RELEASE_RECIPIENTS_MAX 32
#define RELEASE_FILENAME_MAX 128
#define SENDER_VERSION SK_VERSION
#define SENDER_STOP_GRACE_S 15

enum smsg_type {
	SMSG_AUDIT = DAEMON_MSG_AUDIT,
	SMSG_AUDIT_STATE = DAEMON_MSG_AUDIT_STATE,
	/* str recipient id. Reply: 200 and the JSON listing (the store
	 * records release.listed). */
	SMSG_LIST,
	/* str release id, str recipient id. Reply (status 0): u64 size,
	 * str sha256, str filename, u32 envelope, i64 expires, the object
	 * key, and the object's read descriptor; or 404, or 410 with the
	 * reason. */
	SMSG_OPEN,
	/* str release id, str recipient id, u64 bytes about to be sent.
	 * Reply: 0 (reserved in the accounts), or 429 / 403 / 404 with the
	 * reason and (u32 after the reason) seconds for Retry-After. */
	SMSG_ADMIT,
	/* str release id, str recipient id, u64 first, last, reserved,
	 * sent: the transfer ended; the store gives back what was not sent
	 * and records the download. Reply: 0. */
	SMSG_SETTLE,
	/* What the vault's request says (str id, dataset, recipients
	 * (comma separated), filename; u64 expires, size; u32
	 * max_downloads, u32 package follows (0 or 1); 32 bytes of the
	 * Content-Digest; str the witness). Reply: 0, u64
	 * token, u32 envelope required, the seal_handoff and the temporary
	 * file's write descriptor; or 200 and the record (the same
	 * release again); or 400, 409, 507 with the reason. */
	SMSG_PUBLISH_BEGIN,
	/* u64 token, 32 bytes sha-256 of what came, u32 it is CMS.
	 * Reply: 0 and the metadata record to seal; or 400. */
	SMSG_PUBLISH_FINISH,
	/* u64 token: sealed and synced. Reply: 201 and the record. */
	SMSG_PUBLISH_COMMIT,
	/* u64 token: the transfer failed; the temporary file goes. */
	SMSG_PUBLISH_ABORT,
	/* str id. Reply: 200, or 404, or 410. */
	SMSG_WITHDRAW,
	/* str release id, bytes the package (JSON, proto.h). Reply: 201
	 * (kept, replacing an earlier one), or 400, 404, 410, 507. */
	SMSG_PACKAGE_PUT,
	/* str release id, str recipient id, str file (one of proto.h's
	 * PROTO_PKG_*). Reply: 200 and bytes the file; or 403, 404, 410. */
	SMSG_PACKAGE_GET,
	/* Reply: 200 and every release with bytes served (JSON). */
	SMSG_LIST_ALL,
	/* From the push process: the next delivery due (a release whose
	 * package is to come waits for it). Reply: 0, str release id, str
	 * recipient id, u64 size, str sha256, str filename, u32 envelope,
	 * u32 n package files (0 or 4), n times str name and bytes the
	 * file, the object key and the object's read descriptor; or 204
	 * and u32 seconds until one may be due. */
	SMSG_PUSH_NEXT,
	/* str release id, str recipient id, u32 the endpoint's HTTP status
	 * (0: no answer), str why, u64 bytes sent, u64 milliseconds it
	 * took. Reply: 0. */
	SMSG_PUSH_DONE,
	/* From the push process, every second of a transfer: str release
	 * id, str recipient id. Reply: 0 while it is still to be delivered,
	 * 410 once it was withdrawn or expired (the transfer stops, R33). */
	SMSG_PUSH_ALIVE,
};

/* A push recipient's delivery of one release. */
enum push_state { PUSH_NONE, PUSH_PENDING, PUSH_DELIVERED };

/* A release as the sender holds it: sealed content plus what the vault
 * said of it. Only ids, sizes, digests and times: no personal data. */
struct release {
	char id[RELEASE_ID_MAX];
	char dataset[CONFIG_ID_MAX];
	char filename[RELEASE_FILENAME_MAX];
	char recipients[RELEASE_RECIPIENTS_MAX][CONFIG_ID_MAX];
	size_t nrecipients;
	uint64_t served[RELEASE_RECIPIENTS_MAX];	/* bytes, per recipient */
	int64_t published, expires;	/* unix seconds */
	unsigned max_downloads;		/* per recipient; 0: no limit */
	uint64_t size;
	char sha256[65];
	int envelope;			/* content is a CMS envelope */
	int package;			/* the vault sends its package: a push
					 * waits for it (PROTO_H_PACKAGE) */
	int busy;			/* downloads in progress */
	int gone;			/* disposed of: being removed */
	/* delivery to push recipients: state, attempts, next try (unix
	 * seconds), a delivery in the push process's hands */
	uint8_t push[RELEASE_RECIPIENTS_MAX];
	uint32_t push_attempts[RELEASE_RECIPIENTS_MAX];
	int64_t push_next[RELEASE_RECIPIENTS_MAX];
	uint8_t push_busy[RELEASE_RECIPIENTS_MAX];
};

/* One minute's downloads of a recipient, for the sliding window. */
struct acct_bucket {
	int64_t minute;
	uint64_t bytes, files;
};

struct acct {
	char recipient[CONFIG_ID_MAX];
	struct acct_bucket *b;
	size_t n, cap;
};

/* The net process. */
struct snet {
	struct local_config local;
	struct site_config *site;
	SSL_CTX *tls_external, *tls_internal;
	struct srv_listener listeners[2];	/* external (if any), internal */
	size_t nlisteners;
	struct proc_chan chan;			/* to the store */
	struct daemon_reload_state reload;	/* CRLs and pair in use */
	volatile sig_atomic_t stop;
};

#define SNET(c) ((struct snet *)(c)->l->arg)

/* The store process. */
struct sender {
	const struct local_config *local;
	struct site_config *site;
	int chan;			/* the one the request came on */
	int net_chan, push_chan;	/* push: -1 in a pull-only site */
	struct seal_master master;
	struct audit_log *audit;
	struct daemon_crl_watch crl[2];	/* the listeners' CRLs on disk */
	/* the push recipients' endpoint CRLs, by recipient index (a watch
	 * without a file for the others) */
	struct daemon_crl_watch *ecrl;
	struct daemon_cred_watch cred;	/* the host's pair on disk */
	int objects_fd;			/* data_dir/objects: sealed releases */
	int packages_fd;		/* data_dir/packages: their codebooks
					 * and manifests, sealed (ID.pkg) */
	int tmp_fd;			/* data_dir/tmp: writes in progress */
	int state_fd;			/* data_dir/state: bytes served */
	int gone_fd;			/* data_dir/gone: tombstones */
	int acct_fd;			/* data_dir/accounting: windows */
	struct release **releases;
	size_t nreleases;
	struct acct *accts;		/* one per recipient of the site */
	struct keeper_publish *pubs;	/* one per publication in flight */
	size_t npubs;
	uint64_t next_token;
};

/* sender.c */
/* Recipients that download (pull mode); none: no external listener. */
size_t sender_pull_recipients(const struct site_config *site);

/* keeper.c: the store process */
int keeper_main(const struct local_config *local, struct site_config *site,
    int chan, int push_chan);

/* pusher.c (sekisho-pusher): the push process */
int pusher_main(const struct local_config *local, struct site_config *site,
    int chan);

/* net.c: the net process */
int net_main(struct snet *n);
void net_call(struct snet *n, struct proc_msg *req, int fd,
    struct proc_reply *rep);
void net_reply_end(struct snet *n, struct proc_reply *rep);

/* store.c: the releases, their state and their disposal */
int store_load(struct sender *s, unsigned *loaded);
struct release *store_find(struct sender *s, const char *id);
int store_recipient_index(const struct release *r, const char *recipient);
int store_save_state(struct sender *s, const struct release *r);
int store_meta_format(const struct release *r, char *buf, size_t cap);
int store_meta_parse(const char *text, size_t len, struct release *r);
int store_meta_parse_recipients(const char *v, struct release *r);
int store_add(struct sender *s, struct release *r);
/* Disposes of a release (crypto-shredding), leaves a tombstone, audits. */
int store_dispose(struct sender *s, struct release *r, const char *why,
    const char *actor);
/* Which recipients a tombstone names, or SK_ENOTFOUND. */
int store_tombstone(struct sender *s, const char *id, const char *recipient,
    char *reason, size_t cap);
/* Disposes of every expired release; returns how many. */
unsigned store_sweep(struct sender *s, int64_t now);
int store_id_valid(const char *id);

/* acct.c: download accounting per recipient (R16) */
int acct_load(struct sender *s);
struct acct *acct_find(struct sender *s, const char *recipient);
void acct_usage(struct acct *a, int64_t now, unsigned window,
    uint64_t *bytes, uint64_t *files);
/* Seconds until `bytes` more and one more file fit under the limits. */
int64_t acct_retry_after(struct acct *a, int64_t now,
    const struct config_downloads *d, uint64_t bytes);
int acct_add(struct acct *a, int64_t now, int64_t bytes, int64_t files);
int acct_save(struct sender *s, struct acct *a);

/* download.c: the recipients' side */
/* A known recipient from its networks (srv authorize). */
int download_authorize(struct srv_conn *c);
void download_serve(struct srv_conn *c);
/* Cuts every download of release id in progress (after its withdrawal);
 * returns how many. */
unsigned download_cut(const char *id, const char *why);
/* Run by the listener's loop: cuts the downloads of expired releases. */
void download_tick(void *arg);

/* publish.c: the vault's side */
/* Only the vault (srv authorize). */
int publish_authorize(struct srv_conn *c);
void publish_serve(struct srv_conn *c);

#endif
