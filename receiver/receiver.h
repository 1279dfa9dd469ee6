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

#define RECEIVER_REJECTERS_MAX 8	/* threads answering 503 when full */
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
	int listen_fd;
	atomic_uint active;		/* connections being served */
	atomic_uint rejecting;		/* connections being answered 503 */
	volatile sig_atomic_t stop;
};

struct conn {
	struct receiver *rcv;
	int fd;
	struct sockaddr_storage peer;
	char peer_str[64];
	SSL *ssl;
	const struct config_municipality *muni;
	char actor[32];			/* "muni:<code>" once known */
	uint8_t head[HTTP_HEAD_MAX];
	size_t head_len;		/* bytes read into head so far */
	struct http_request req;
	int responded;
};

/* receiver.c */
void conn_respond(struct conn *c, int status, const char *body,
    const char *extra_headers);
void conn_error(struct conn *c, int status, const char *event,
    const char *reason);
int conn_audit(struct conn *c, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail);

/* upload.c */
void upload_handle(struct conn *c, char segs[][256], size_t nsegs);

#endif
