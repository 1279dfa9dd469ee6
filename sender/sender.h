/*
 * sender.h: sekisho-sender's structures, grouped by file.
 */
#ifndef SENDER_H
#define SENDER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "seal.h"
#include "server.h"

#define RELEASE_ID_MAX 64
#define RELEASE_RECIPIENTS_MAX 32
#define RELEASE_FILENAME_MAX 128

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
	int busy;			/* downloads in progress */
	int gone;			/* disposed of: being removed */
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

struct sender {
	struct local_config local;
	struct site_config *site;
	SSL_CTX *tls_external, *tls_internal;
	struct seal_master master;
	struct audit_log *audit;
	int objects_fd;			/* data_dir/objects: sealed releases */
	int tmp_fd;			/* data_dir/tmp: writes in progress */
	int state_fd;			/* data_dir/state: bytes served */
	int gone_fd;			/* data_dir/gone: tombstones */
	int acct_fd;			/* data_dir/accounting: windows */
	struct srv_listener listeners[2];	/* external, internal */
	pthread_mutex_t lock;		/* releases, accounts, files above */
	struct release **releases;
	size_t nreleases;
	struct acct *accts;		/* one per recipient of the site */
	volatile sig_atomic_t stop;
};

/* store.c: the releases, their state and their disposal */
int store_load(struct sender *s, unsigned *loaded);
struct release *store_find(struct sender *s, const char *id);
int store_recipient_index(const struct release *r, const char *recipient);
int store_save_state(struct sender *s, const struct release *r);
int store_meta_format(const struct release *r, char *buf, size_t cap);
int store_meta_parse(const char *text, size_t len, struct release *r);
int store_meta_parse_recipients(const char *v, struct release *r);
int store_add(struct sender *s, struct release *r);
/* Disposes of a release (crypto-shredding), leaves a tombstone, audits.
 * Called with the lock held. */
int store_dispose(struct sender *s, struct release *r, const char *why,
    const char *actor);
/* Which recipients a tombstone names, or SK_ENOTFOUND. */
int store_tombstone(struct sender *s, const char *id, const char *recipient,
    char *reason, size_t cap);
/* Disposes of every expired release; returns how many. */
unsigned store_sweep(struct sender *s, int64_t now);
int store_id_valid(const char *id);
int store_write_file(int dirfd, const char *name, const char *buf,
    size_t len);

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

/* publish.c: the vault's side */
/* Only the vault (srv authorize). */
int publish_authorize(struct srv_conn *c);
void publish_serve(struct srv_conn *c);

#endif
