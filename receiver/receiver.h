/*
 * receiver.h: sekisho-receiver's structures, grouped by file.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

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
	struct srv_listener listener;	/* the municipalities' side */
	volatile sig_atomic_t stop;
};

/* A connection's receiver, and its municipality once authorized. */
#define RCV(c) ((struct receiver *)(c)->l->arg)
#define MUNI(c) ((const struct config_municipality *)(c)->peer_cfg)

/* upload.c */
void upload_handle(struct srv_conn *c, char segs[][256], size_t nsegs);

#endif
