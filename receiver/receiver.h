/*
 * receiver.h: sekisho-receiver's processes, the messages between them, and
 * its functions grouped by file.
 *
 *   parent (receiver.c)  binds the listeners as root, starts the other two,
 *                        then holds nothing and only waits for them.
 *   net    (net.c, upload.c, handover.c)
 *                        TLS, HTTP, authorization; the TLS key and the
 *                        listening sockets; no master key, no audit key,
 *                        no file (seccomp kills open).
 *   store  (store.c)     the master key, the audit log, the data folder;
 *                        no socket but its channel to net.
 *
 * net asks, store answers: every request below has exactly one reply of
 * the same type with RMSG_REPLY set. A reply starts with a status (0: go
 * on; otherwise the HTTP status for net to answer) and a reason.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "proc.h"
#include "plausible.h"
#include "seal.h"
#include "server.h"
#include "version.h"

#define RECEIVER_VERSION SK_VERSION
#define RECEIVER_BODY_BUF (16u << 10)	/* body read buffer per connection:
					 * one TLS record's plaintext */
#define RECEIVER_REASON_MAX PROC_REASON_MAX
#define RECEIVER_ID_HEX 33		/* an object id: 32 hex digits */

enum rmsg_type {
	/* An audit entry of net's (a refusal, a fetch): str event, actor,
	 * object; u32 has_size; u64 size; str sha256, detail. Only the
	 * events in store.c's list are net's to record. */
	RMSG_AUDIT = DAEMON_MSG_AUDIT,
	/* Reply: u32 broken (the log cannot be written, R50). */
	RMSG_AUDIT_STATE = DAEMON_MSG_AUDIT_STATE,
	/* str municipality id, str dataset id, u64 length, str the receipt
	 * id it corrects ("" for none). Reply (status 0): u64 token, the
	 * seal_handoff, and the temporary file's write descriptor; or 409
	 * when the corrected upload is not this municipality's to this
	 * dataset. */
	RMSG_UPLOAD_BEGIN,
	/* u64 token, str filename, 32 bytes sha-256, u32 has_rows, u64
	 * rows. Reply: status 0 and the receipt to seal as the object's
	 * metadata, or 200 and the receipt of the same upload taken before. */
	RMSG_UPLOAD_FINISH,
	/* u64 token: the sealed file is finished. Reply: 201 (or 200 for a
	 * repeat) and the receipt. */
	RMSG_UPLOAD_COMMIT,
	/* u64 token: the upload failed; the temporary file goes. */
	RMSG_UPLOAD_ABORT,
	/* Reply: 200 and the listing's JSON. */
	RMSG_PENDING_LIST,
	/* str id. Reply (status 0): u64 size, str sha256, the object key,
	 * and the object's read descriptor. */
	RMSG_PENDING_OPEN,
	/* str id, str the vault's sha-256. Reply: the status and JSON. */
	RMSG_PENDING_ACK,
	/* Reply: u64 how many uploads were stored since the store started
	 * (a long-poll waits for it to change). */
	RMSG_PENDING_GEN,
	/* str id, str state, str reason ("" none), u64 line (0 none), str
	 * the day the vault's copies went and str the sender's (YYYY-MM-DD,
	 * "" none; with "disposed" only): the vault's report of what became
	 * of a handed-over upload (issue 18), checked by net against the
	 * vocabulary. Reply: 200, or 404, 400, 409 with the reason. */
	RMSG_STATUS_PUT,
	/* str municipality id, str id. Reply: 200 and the JSON of the
	 * upload's receipt and status, or 404 (not there, or another's). */
	RMSG_STATUS_GET,
	/* str municipality id, str since (RFC 3339). Reply: 200 and the
	 * JSON list of its uploads received since then, at most 500. */
	RMSG_STATUS_LIST,
	/* str municipality id, str dataset id, str file name ("" for any):
	 * for PROPFIND (dav.c). Reply: 200, u32 n (at most DAV_LIST_MAX),
	 * then n times str file name, str id, u64 size, str received
	 * (RFC 3339), str state: the latest upload of each name, newest
	 * first. The state is the vault's report only where the site takes
	 * them; otherwise received or handed_over. */
	RMSG_DAV_LIST,
};

#define DAV_LIST_MAX 500	/* uploads in one PROPFIND answer */

/* The net process. */
struct receiver {
	struct local_config local;
	struct site_config *site;
	SSL_CTX *tls_external;
	SSL_CTX *tls_internal;
	struct srv_listener listeners[2];	/* municipalities, the vault */
	struct proc_chan chan;		/* to the store */
	struct daemon_reload_state reload;	/* CRLs and pair in use */
	/* Per dataset: the header row its uploads must have, in their
	 * encoding (made before the sandbox: CP932 needs iconv's tables). */
	struct plausible_header *headers;
	volatile sig_atomic_t stop;
};

/* A connection's receiver, and its municipality once authorized. */
#define RCV(c) ((struct receiver *)(c)->l->arg)
#define MUNI(c) ((const struct config_municipality *)(c)->peer_cfg)

/* net.c */
int net_main(struct receiver *rcv);
/*
 * Sends req (and fd, unless -1) to the store and receives its reply, whose
 * status and reason are read; the caller reads the rest and calls
 * net_reply_end. A broken channel or malformed reply ends the process.
 */
void net_call(struct receiver *rcv, struct proc_msg *req, int fd,
    struct proc_reply *rep);
/* Checks that the reply was read to its end (or ends the process), and
 * frees it. */
void net_reply_end(struct proc_reply *rep);

/* upload.c */
void upload_handle(struct srv_conn *c, char segs[][256], size_t nsegs);
/* HEAD on an upload's path: how much of a cut one is held for resuming. */
void upload_head(struct srv_conn *c, char segs[][256], size_t nsegs);
/* Drops the cut uploads whose resume_seconds have passed (net's tick). */
void upload_held_tick(struct receiver *rcv);
/* The expected header rows, before the sandbox; ends the process on a
 * column CP932 cannot write. */
void upload_prepare(struct receiver *rcv);

/* dav.c */
/* OPTIONS, PROPFIND and MKCOL on the uploads' paths; 1 when c was one of
 * them (and is answered), 0 otherwise. */
int dav_handle(struct srv_conn *c);

/* handover.c */
/* Only the vault's certificate from the vault's address (srv authorize). */
int handover_authorize(struct srv_conn *c);
void handover_serve(struct srv_conn *c);

/* store.c */
int store_main(const struct local_config *local, struct site_config *site,
    int chan);

#endif
