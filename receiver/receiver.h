/*
 * receiver.h: sekisho-receiver's structures, grouped by file.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "http.h"
#include "seal.h"
#include "server.h"

#define RECEIVER_BODY_BUF (64u << 10)	/* body read buffer per connection */

struct receiver {
	struct local_config local;
	struct site_config *site;
	SSL_CTX *tls_external;
	struct seal_master master;
	uint8_t id_key[32];		/* derives object ids; from the master */
	struct audit_log *audit;
	int objects_fd;			/* data_dir/objects */
	int tmp_fd;			/* data_dir/tmp: writes in progress */
	int handed_fd;			/* data_dir/handed: receipts of what
					 * the vault took (sealed, no data) */
	pthread_mutex_t handover_lock;	/* a commit against a hand-over */
	SSL_CTX *tls_internal;
	struct srv_listener listeners[2];	/* municipalities, the vault */
	volatile sig_atomic_t stop;
};

/* A connection's receiver, and its municipality once authorized. */
#define RCV(c) ((struct receiver *)(c)->l->arg)
#define MUNI(c) ((const struct config_municipality *)(c)->peer_cfg)

/* handover.c */
void handover_serve(struct srv_conn *c);
/* Finishes hand-overs a crash interrupted; returns how many. */
unsigned handover_recover(struct receiver *rcv);

/* upload.c */
void upload_handle(struct srv_conn *c, char segs[][256], size_t nsegs);

#endif
