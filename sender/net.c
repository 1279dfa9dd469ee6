/*
 * net.c: the sender's net process (privilege separation, R17).
 *
 * What it does: both TLS listeners (recipients outside, the vault inside),
 * the strict HTTP parser, and authorization by certificate and source
 * network (R03, R10). A download's bytes are decrypted here on their way
 * into TLS, from a descriptor and that one object's key that the store
 * hands over; a publication's bytes are hashed and sealed here as they
 * arrive, into a file the store created. What the store answers decides
 * every reply.
 *
 * What it may touch: the listening sockets it was given, the connections
 * it accepts, the descriptors the store hands it, its channel to the store.
 *
 * What it must never hold: the master key, the audit key, or a file of its
 * own (seccomp kills it on open(2), socket(2) and connect(2); Landlock
 * gives it no path). Its TLS private key stays here, for the handshake.
 */
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "sender.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

static struct snet *the_net;

void
net_call(struct snet *n, struct proc_msg *req, int fd, struct proc_reply *rep)
{
	proc_call(&n->chan, req, fd, rep);
}

void
net_reply_end(struct snet *n, struct proc_reply *rep)
{
	proc_reply_end(&n->chan, rep);
}

static int
net_audit(void *arg, const struct audit_event *ev)
{
	return daemon_net_audit(&((struct snet *)arg)->chan, ev);
}

static int
net_audit_broken(void *arg)
{
	return daemon_net_audit_broken(&((struct snet *)arg)->chan);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_net != NULL)
		the_net->stop = 1;
}

/* A CRL or the host's pair renewed on disk is taken every few seconds, at
 * once on SIGHUP. */
static void
net_tick(void *arg)
{
	struct snet *n = arg;

	daemon_net_reload_tick(&n->chan, n->listeners, 2, &n->reload);
}

/* The listeners the parent bound, with their TLS contexts. */
static void
net_listeners(struct snet *n)
{
	const struct config_listener *cl[2] = { &n->site->sender.external,
		&n->site->sender.internal };
	SSL_CTX **ctx[2] = { &n->tls_external, &n->tls_internal };
	static const char *const names[2] = { "external", "internal" };
	void (*serve[2])(struct srv_conn *) = { download_serve,
		publish_serve };
	int (*authorize[2])(struct srv_conn *) = { download_authorize,
		publish_authorize };
	char why[512];
	int i, o = 0;

	/* Every recipient pushed to: no external listener at all (R03). */
	n->nlisteners = 0;
	for (i = sender_pull_recipients(n->site) ? 0 : 1; i < 2; i++, o++) {
		struct srv_listener *l = &n->listeners[o];

		if (tls_server_new(n->local.certificate, n->local.key,
		    cl[i]->ca_file, cl[i]->crl_file, ctx[i], why,
		    sizeof(why)) != 0)
			fatalx("%s listener TLS: %s", names[i], why);
		l->name = names[i];
		l->tls = *ctx[i];
		l->fd = PROC_CHILD_FD + 1 + o;
		srv_listener_limits(l, &n->local);
		l->authorize = authorize[i];
		l->serve = serve[i];
		l->arg = n;
		l->audit_fn = net_audit;
		l->broken_fn = net_audit_broken;
		l->tick = i == 0 ? download_tick : net_tick;
		if (tls_trust_new(*ctx[i], &l->trust) != 0)
			fatalx("out of memory");
		n->nlisteners++;
	}
}

static unsigned
active(struct snet *n)
{
	unsigned a = 0;
	size_t i;

	for (i = 0; i < n->nlisteners; i++)
		a += atomic_load(&n->listeners[i].active);
	return a;
}

int
net_main(struct snet *n)
{
	struct sandbox_layers layers = { 0 };
	int i;

	proc_chan_init(&n->chan, PROC_CHILD_FD, "the store process");
	the_net = n;
	/* One malloc arena for every thread: glibc opens a /proc file the
	 * first time it shrinks a thread arena's heap, and this process has
	 * no open(2). */
#ifndef SK_SANITIZER_BUILD
	if (mallopt(M_ARENA_MAX, 1) != 1)
		fatalx("mallopt(M_ARENA_MAX) failed");
#else
	(void)mallopt(M_ARENA_MAX, 1);
#endif
	/* As root still: the TLS key. Then nothing but what is open. */
	net_listeners(n);
	daemon_drop(&n->local, &layers);
	proc_die_with_parent();
	daemon_sandbox(&n->local, n->site, SANDBOX_NET, &layers);
	daemon_signals(on_signal);
	if (n->nlisteners == 2)
		log_info("listening on %s port %u for %zu recipients, and on %s "
		    "port %u for the vault", n->site->sender.external.address,
		    n->site->sender.external.port,
		    sender_pull_recipients(n->site),
		    n->site->sender.internal.address,
		    n->site->sender.internal.port);
	else
		log_info("listening on %s port %u for the vault; no external "
		    "listener (every recipient is pushed to)",
		    n->site->sender.internal.address,
		    n->site->sender.internal.port);
	srv_run(n->listeners, n->nlisteners, n->chan.fd, &n->stop);
	for (i = 0; i < (int)n->nlisteners; i++)
		close(n->listeners[i].fd);
	for (i = 0; i < 100 && active(n) > 0; i++)
		usleep(100000);
	if (active(n) > 0) {
		/* Their threads still use what main() would free. */
		log_warnx("stopped with %u transfer(s) unfinished", active(n));
		_exit(0);
	}
	SSL_CTX_free(n->tls_external);
	SSL_CTX_free(n->tls_internal);
	log_info("stopped");
	return 0;
}
