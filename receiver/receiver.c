/*
 * sekisho-receiver: the receive-only server on the IP-VPN side (R02).
 *
 * What it does: accepts TLS 1.3 connections from municipalities that present
 * a certificate of the municipalities' CA, checks the peer's identity and
 * source network against the site configuration, and stores each uploaded
 * file sealed (encrypted under its own key) and durably before it answers
 * with a receipt. Every decision is written to the audit log first.
 *
 * What it may touch: its listening socket, its data directory (objects/,
 * tmp/, the audit log), its keys and configuration.
 *
 * What it must never do: open a connection. There is no outbound code in
 * this program at all: `nm -D --undefined-only sekisho-receiver` shows no
 * connect(2). Plaintext of an upload never reaches the disk, and neither
 * file contents nor file names are ever logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "fwbatch.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "netaddr.h"
#include "receiver.h"
#include "server.h"
#include "seal.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define RECEIVER_VERSION "0.1.0"

static struct receiver *the_receiver;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: sekisho-receiver -c LOCAL.conf run\n"
	    "       sekisho-receiver -c LOCAL.conf check-config\n"
	    "       sekisho-receiver -c LOCAL.conf init\n"
	    "       sekisho-receiver -c LOCAL.conf sandbox-check CALL\n"
	    "       sekisho-receiver audit verify FILE [--key KEY0] "
	    "[--state STATE]\n");
	exit(2);
}

/* Identity from the certificate, then the source network (R01, R10). */
static int
conn_authorize(struct srv_conn *c)
{
	const struct config_municipality *muni;
	char identity[TLS_IDENTITY_MAX];

	if (tls_peer_identity(c->ssl, identity, sizeof(identity)) != 0) {
		srv_error(c, 403, "access.refused",
		    "the certificate names no identity", NULL);
		return -1;
	}
	muni = site_find_municipality_by_identity(RCV(c)->site, identity);
	if (muni == NULL) {
		srv_error(c, 403, "access.refused",
		    "this certificate is not a known municipality", NULL);
		return -1;
	}
	c->peer_cfg = muni;
	snprintf(c->actor, sizeof(c->actor), "muni:%s", muni->id);
	if (srv_peer_in(c, muni->networks, muni->nnetworks))
		return 0;
	srv_error(c, 403, "access.refused",
	    "source address is outside this municipality's networks", NULL);
	return -1;
}

/* The listener's serve function: one request per connection. */
static void
conn_dispatch(struct srv_conn *c)
{
	char segs[6][256];
	size_t nsegs;
	int r;

	if (srv_audit_ok(c) != 0 || conn_authorize(c) != 0 ||
	    srv_read_request(c, 0) != 0)
		return;
	r = http_split_path(c->req.target, segs, SK_ARRAY_LEN(segs), &nsegs);
	if (r == 0 && nsegs == 4 && strcmp(segs[0], "v1") == 0 &&
	    strcmp(segs[1], "uploads") == 0) {
		if (c->req.method != HTTP_PUT) {
			srv_error(c, 405, "request.refused",
			    "only PUT is allowed on /v1/uploads/", NULL);
			return;
		}
		upload_handle(c, segs, nsegs);
		return;
	}
	if (r == SK_EFORMAT || r == SK_ETOOBIG) {
		srv_error(c, 400, "request.refused", r == SK_ETOOBIG ?
		    "a path segment is longer than 255 bytes" :
		    "malformed path", NULL);
		return;
	}
	srv_error(c, 405, "request.refused",
	    "the only endpoint is PUT /v1/uploads/{dataset}/{filename}", NULL);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_receiver != NULL)
		the_receiver->stop = 1;
}

static void
derive_id_key(struct receiver *rcv)
{
	static const char label[] = "sekisho-receiver-object-id";
	struct iovec part = { .iov_base = (void *)(uintptr_t)label,
		.iov_len = sizeof(label) - 1 };

	if (util_hmac_sha256(rcv->master.key, SEAL_KEY_LEN, &part, 1,
	    rcv->id_key) != 0)
		fatalx("cannot derive the object id key");
}

static void
open_storage(struct receiver *rcv)
{
	unsigned removed = 0;

	daemon_open_storage("sekisho-receiver", RECEIVER_VERSION, &rcv->local,
	    rcv->site, &rcv->master, &rcv->tmp_fd, &removed, &rcv->audit);
	derive_id_key(rcv);
	rcv->objects_fd = daemon_open_dir(rcv->local.data_dir, "objects");
	rcv->handed_fd = daemon_open_dir(rcv->local.data_dir, "handed");
	if ((removed = handover_recover(rcv)) > 0)
		log_info("%u interrupted hand-over(s) finished", removed);
}

/* Both listeners: municipalities outside, the vault inside. */
static void
open_listeners(struct receiver *rcv)
{
	const struct config_listener *cl[2] = { &rcv->site->receiver.external,
		&rcv->site->receiver.internal };
	SSL_CTX **ctx[2] = { &rcv->tls_external, &rcv->tls_internal };
	static const char *const names[2] = { "external", "internal" };
	void (*serve[2])(struct srv_conn *) = { conn_dispatch, handover_serve };
	char why[512];
	int i;

	for (i = 0; i < 2; i++) {
		if (tls_server_new(rcv->local.certificate, rcv->local.key,
		    cl[i]->ca_file, cl[i]->crl_file, ctx[i], why,
		    sizeof(why)) != 0)
			fatalx("%s listener TLS: %s", names[i], why);
		rcv->listeners[i].name = names[i];
		rcv->listeners[i].tls = *ctx[i];
		rcv->listeners[i].max_connections = rcv->local.max_connections;
		rcv->listeners[i].read_timeout = rcv->local.read_timeout;
		rcv->listeners[i].serve = serve[i];
		rcv->listeners[i].arg = rcv;
		if (srv_listen(cl[i], &rcv->listeners[i].fd, why,
		    sizeof(why)) != 0)
			fatalx("%s listener: %s", names[i], why);
	}
}

static unsigned
active(struct receiver *rcv)
{
	return atomic_load(&rcv->listeners[0].active) +
	    atomic_load(&rcv->listeners[1].active);
}

static int
cmd_run(struct receiver *rcv)
{
	struct audit_event ev = { .event = "receiver.stop", .actor = "system" };
	struct sandbox_layers layers = { 0 };
	int i;

	log_init("sekisho-receiver", rcv->local.use_syslog,
	    (enum log_level)rcv->local.log_level);
	/* As root: the firewall check, the keys, the listening sockets. */
	if (rcv->local.require_firewall)
		fw_require(rcv->site, ROLE_RECEIVER, rcv->local.site_file);
	open_listeners(rcv);
	/* As the service user: the data, then the sandbox for good. */
	daemon_drop(&rcv->local, &layers);
	open_storage(rcv);
	rcv->listeners[0].audit = rcv->listeners[1].audit = rcv->audit;
	daemon_sandbox(&rcv->local, rcv->site, &layers);
	daemon_signals(on_signal);
	the_receiver = rcv;
	log_info("listening on %s port %u for %zu municipalities, and on %s "
	    "port %u for the vault", rcv->site->receiver.external.address,
	    rcv->site->receiver.external.port, rcv->site->nmunicipalities,
	    rcv->site->receiver.internal.address,
	    rcv->site->receiver.internal.port);
	srv_run(rcv->listeners, 2, &rcv->stop);
	close(rcv->listeners[0].fd);
	close(rcv->listeners[1].fd);
	/* Let uploads in progress finish, for a while. */
	for (i = 0; i < 100 && active(rcv) > 0; i++)
		usleep(100000);
	audit_append(rcv->audit, &ev);
	if (active(rcv) > 0) {
		/* Their threads still use what main() would free: leave now.
		 * Unfinished uploads were never acknowledged; their temporary
		 * files are removed at the next start. */
		log_warnx("stopped with %u upload(s) unfinished",
		    active(rcv));
		_exit(0);
	}
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static struct receiver rcv;
	const char *conf = NULL;
	int r;

	log_init("sekisho-receiver", 0, LOG_LEVEL_INFO);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0 &&
	    strcmp(argv[2], "verify") == 0)
		return daemon_audit_verify(argc - 3, argv + 3, usage);
	if (argc < 4 || argc > 5 || strcmp(argv[1], "-c") != 0 ||
	    (argc == 5) != (strcmp(argv[3], "sandbox-check") == 0))
		usage();
	conf = argv[2];
	rcv.listeners[0].fd = rcv.listeners[1].fd = -1;
	rcv.objects_fd = rcv.tmp_fd = rcv.handed_fd = -1;
	pthread_mutex_init(&rcv.handover_lock, NULL);
	daemon_load_config(conf, ROLE_RECEIVER, &rcv.local, &rcv.site);
	if (strcmp(argv[3], "check-config") == 0) {
		printf("%s: OK (site %s, digest %s, %zu municipalities, %zu "
		    "datasets)\n", conf, rcv.local.site_file, rcv.site->digest,
		    rcv.site->nmunicipalities, rcv.site->ndatasets);
		r = 0;
	} else if (strcmp(argv[3], "init") == 0)
		r = daemon_init(&rcv.local);
	else if (strcmp(argv[3], "sandbox-check") == 0)
		r = daemon_sandbox_check(&rcv.local, rcv.site, argv[4],
		    NULL);
	else if (strcmp(argv[3], "run") == 0)
		r = cmd_run(&rcv);
	else
		usage();
	seal_master_wipe(&rcv.master);
	sk_wipe(rcv.id_key, sizeof(rcv.id_key));
	audit_close(rcv.audit);
	SSL_CTX_free(rcv.tls_external);
	SSL_CTX_free(rcv.tls_internal);
	site_config_free(rcv.site);
	return r;
}
