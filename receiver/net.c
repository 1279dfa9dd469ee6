/*
 * net.c: the receiver's net process (privilege separation, R17).
 *
 * What it does: both TLS listeners (municipalities outside, the vault
 * inside), the strict HTTP parser, and authorization by certificate and
 * source network (R01, R10). An upload's bytes are hashed and sealed here
 * as they arrive, into a file the store created and under that one file's
 * key, which the store hands over with the file's descriptor; what the store
 * answers decides the reply.
 *
 * What it may touch: the listening sockets it was given, the connections
 * it accepts, the descriptors the store hands it, its channel to the store.
 *
 * What it must never hold: the master key, the id key, the audit key, or a
 * file of its own. seccomp kills it on open(2) (there is no file call in its
 * allow-list) and on socket(2) and connect(2); Landlock gives it no path.
 * Its TLS private key stays here (the handshake needs it): a compromise of
 * this process can impersonate the receiver to a peer, but not read what was
 * stored, forge the log, or reach what it is not carrying.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "http.h"
#include "log.h"
#include "proto.h"
#include "receiver.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

static struct receiver *the_receiver;

void
net_call(struct receiver *rcv, struct proc_msg *req, int fd,
    struct proc_reply *rep)
{
	proc_call(&rcv->chan, req, fd, rep);
}

void
net_reply_end(struct proc_reply *rep)
{
	proc_reply_end(&the_receiver->chan, rep);
}

/* srv's audit hooks: entries are the store's to write. */
static int
net_audit(void *arg, const struct audit_event *ev)
{
	return daemon_net_audit(&((struct receiver *)arg)->chan, ev);
}

static int
net_audit_broken(void *arg)
{
	return daemon_net_audit_broken(&((struct receiver *)arg)->chan);
}

/* Identity from the certificate, then the source network (R01, R10):
 * until both are accepted the connection holds no slot. */
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

/* Asks the store (req) and answers its JSON (at most cap bytes) as it is,
 * or its refusal. */
static void
answer_json(struct srv_conn *c, struct proc_msg *req, size_t cap)
{
	struct proc_reply rep;
	char *body;

	net_call(c->l->arg, req, -1, &rep);
	if (rep.status != 200) {
		net_reply_end(&rep);
		srv_error(c, (int)rep.status, "request.refused", rep.reason,
		    NULL);
		return;
	}
	if ((body = malloc(cap)) == NULL)
		fatalx("out of memory");
	proc_get_str(&rep.msg, body, cap);
	net_reply_end(&rep);
	srv_respond_json(c, 200, body, NULL);
	free(body);
}

#define STATUS_LIST_BODY_MAX (512u << 10)

/* GET /v1/uploads?since=YYYY-MM-DD: the city's uploads since that day. */
static void
status_list(struct srv_conn *c)
{
	static const char prefix[] = PROTO_UPLOADS "?since=";
	const char *d = c->req.target + sizeof(prefix) - 1;
	char since[32];
	struct proc_msg req;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strncmp(c->req.target, prefix, sizeof(prefix) - 1) != 0 ||
	    strlen(d) != 10 || strptime(d, "%Y-%m-%d", &tm) != d + 10) {
		srv_error(c, 400, "request.refused", "the list takes "
		    "?since=YYYY-MM-DD", NULL);
		return;
	}
	snprintf(since, sizeof(since), "%.10sT00:00:00Z", d);
	proc_msg_init(&req, RMSG_STATUS_LIST);
	proc_put_str(&req, MUNI(c)->id);
	proc_put_str(&req, since);
	answer_json(c, &req, STATUS_LIST_BODY_MAX);
}

#define STATUS_BODY_MAX 16384	/* the store's answer is at most 8 KiB */

/* GET /v1/uploads/{id}: the city's own upload, its receipt and what
 * became of it (issue 18); another city's is not there. */
static void
status_get(struct srv_conn *c, char segs[][256], size_t nsegs)
{
	struct proc_msg req;

	(void)nsegs;
	proc_msg_init(&req, RMSG_STATUS_GET);
	proc_put_str(&req, MUNI(c)->id);
	proc_put_str(&req, segs[2]);
	answer_json(c, &req, STATUS_BODY_MAX);
}

/* The external listener's serve function: one request per connection. */
static void
conn_dispatch(struct srv_conn *c)
{
	static const struct srv_route routes[] = {
		{ HTTP_PUT, PROTO_UPLOADS "/{dataset}/{filename}", upload_handle },
		{ HTTP_HEAD, PROTO_UPLOADS "/{dataset}/{filename}", upload_head },
		{ HTTP_GET, PROTO_UPLOADS "/{id}", status_get },
	};

	if (srv_audit_ok(c) != 0 || srv_read_request(c, 0) != 0)
		return;
	/* What WebDAV clients ask before they PUT (dav.c). */
	if (dav_handle(c))
		return;
	/* The list is the uploads path with a query: the only one. */
	if (c->req.method == HTTP_GET && strncmp(c->req.target, PROTO_UPLOADS
	    "?", sizeof(PROTO_UPLOADS)) == 0) {
		status_list(c);
		return;
	}
	srv_dispatch(c, routes, SK_ARRAY_LEN(routes), "request.refused");
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_receiver != NULL)
		the_receiver->stop = 1;
}

/* A CRL or the host's pair renewed on disk is taken every few seconds, at
 * once on SIGHUP; cut uploads past their time to resume are dropped. */
static void
net_tick(void *arg)
{
	struct receiver *rcv = arg;

	daemon_net_reload_tick(&rcv->chan, rcv->listeners, 2, &rcv->reload);
	upload_held_tick(rcv);
}

/* The listeners the parent bound, with their TLS contexts. */
static void
net_listeners(struct receiver *rcv)
{
	const struct config_listener *cl[2] = { &rcv->site->receiver.external,
		&rcv->site->receiver.internal };
	SSL_CTX **ctx[2] = { &rcv->tls_external, &rcv->tls_internal };
	static const char *const names[2] = { "external", "internal" };
	void (*serve[2])(struct srv_conn *) = { conn_dispatch, handover_serve };
	int (*authorize[2])(struct srv_conn *) = { conn_authorize,
		handover_authorize };
	char why[512];
	int i;

	for (i = 0; i < 2; i++) {
		if (tls_server_new(rcv->local.certificate, rcv->local.key,
		    cl[i]->ca_file, cl[i]->crl_file, ctx[i], why,
		    sizeof(why)) != 0)
			fatalx("%s listener TLS: %s", names[i], why);
		if (cl[i]->tls12) {
			if (tls_server_allow_tls12(*ctx[i], why,
			    sizeof(why)) != 0)
				fatalx("%s listener TLS: %s", names[i], why);
			log_warnx("%s listener: TLS 1.2 is allowed too (tls12 = "
			    "true), for municipalities whose Windows has no TLS "
			    "1.3", names[i]);
		}
		rcv->listeners[i].name = names[i];
		rcv->listeners[i].tls = *ctx[i];
		rcv->listeners[i].fd = PROC_CHILD_FD + 1 + i;
		srv_listener_limits(&rcv->listeners[i], &rcv->local);
		rcv->listeners[i].authorize = authorize[i];
		rcv->listeners[i].serve = serve[i];
		rcv->listeners[i].arg = rcv;
		rcv->listeners[i].audit_fn = net_audit;
		rcv->listeners[i].broken_fn = net_audit_broken;
		if (tls_trust_new(*ctx[i], &rcv->listeners[i].trust) != 0)
			fatalx("out of memory");
	}
	rcv->listeners[1].tick = net_tick;
}

static unsigned
active(struct receiver *rcv)
{
	return atomic_load(&rcv->listeners[0].active) +
	    atomic_load(&rcv->listeners[1].active);
}

int
net_main(struct receiver *rcv)
{
	struct sandbox_layers layers = { 0 };
	int i;

	proc_chan_init(&rcv->chan, PROC_CHILD_FD, "the store process");
	the_receiver = rcv;
	/* One malloc arena for every thread: glibc opens a /proc file the
	 * first time it shrinks a thread arena's heap, and this process has
	 * no open(2). (It also keeps memory low with many connections.) */
#ifndef SK_SANITIZER_BUILD
	if (mallopt(M_ARENA_MAX, 1) != 1)
		fatalx("mallopt(M_ARENA_MAX) failed");
#else
	(void)mallopt(M_ARENA_MAX, 1);	/* the sanitizers' allocator has
					 * no arenas, and says no */
#endif
	/* As root still: the TLS key. Then nothing but what is open. */
	net_listeners(rcv);
	upload_prepare(rcv);
	daemon_drop(&rcv->local, &layers);
	proc_die_with_parent();
	daemon_sandbox(&rcv->local, rcv->site, SANDBOX_NET, &layers);
	daemon_signals(on_signal);
	log_info("listening on %s port %u for %zu municipalities, and on %s "
	    "port %u for the vault", rcv->site->receiver.external.address,
	    rcv->site->receiver.external.port, rcv->site->nmunicipalities,
	    rcv->site->receiver.internal.address,
	    rcv->site->receiver.internal.port);
	srv_run(rcv->listeners, 2, rcv->chan.fd, &rcv->stop);
	close(rcv->listeners[0].fd);
	close(rcv->listeners[1].fd);
	/* Let uploads in progress finish, for a while. */
	for (i = 0; i < 100 && active(rcv) > 0; i++)
		usleep(100000);
	if (active(rcv) > 0) {
		/* Their threads still use what main() would free: leave now.
		 * Unfinished uploads were never acknowledged; the store
		 * removes their temporary files when the channel closes. */
		log_warnx("stopped with %u upload(s) unfinished",
		    active(rcv));
		_exit(0);
	}
	SSL_CTX_free(rcv->tls_external);
	SSL_CTX_free(rcv->tls_internal);
	log_info("stopped");
	return 0;
}
