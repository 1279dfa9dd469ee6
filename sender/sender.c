/*
 * sekisho-sender: the send-only server on the recipients' side (R03).
 *
 * What it does: on its internal listener it takes releases from the vault
 * (internal CA, the vault's identity and address only) and keeps them
 * sealed; on its external listener recipients of the recipients' CA list
 * and download the releases addressed to them, with Range for resuming.
 * Downloads are accounted per recipient in a sliding window, with an alert
 * past a warning threshold and 429 past the limit (R16). Expired and
 * withdrawn releases are disposed of by crypto-shredding, with a record,
 * also when the sender was down at the moment of expiry (R33).
 *
 * What it may touch: its two listening sockets, its data directory
 * (objects/, tmp/, state/, gone/, accounting/, the audit log), its keys
 * and configuration.
 *
 * What it must never do: accept data from outside. The external listener
 * refuses any request body before reading it. In pull mode it never opens
 * a connection: `nm -D --undefined-only sekisho-sender` shows no connect(2).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "seal.h"
#include "sender.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define SENDER_VERSION "0.1.0"
#define SWEEP_INTERVAL_S 30

static struct sender *the_sender;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: sekisho-sender -c LOCAL.conf run\n"
	    "       sekisho-sender -c LOCAL.conf check-config\n"
	    "       sekisho-sender -c LOCAL.conf init\n"
	    "       sekisho-sender -c LOCAL.conf sandbox-check CALL\n"
	    "       sekisho-sender audit verify FILE [--key KEY0] "
	    "[--state STATE]\n");
	exit(2);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_sender != NULL)
		the_sender->stop = 1;
}

static void
open_storage(struct sender *s)
{
	unsigned removed = 0, loaded = 0, expired;
	int r;

	daemon_open_storage("sekisho-sender", SENDER_VERSION, &s->local,
	    s->site, &s->master, &s->tmp_fd, &removed, &s->audit);
	s->objects_fd = daemon_open_dir(s->local.data_dir, "objects");
	s->state_fd = daemon_open_dir(s->local.data_dir, "state");
	s->gone_fd = daemon_open_dir(s->local.data_dir, "gone");
	s->acct_fd = daemon_open_dir(s->local.data_dir, "accounting");
	if ((r = store_load(s, &loaded)) != 0 || (r = acct_load(s)) != 0)
		fatalx("cannot load the releases: %s", sk_strerror(r));
	/* What expired while we were down goes now (R33). */
	expired = store_sweep(s, (int64_t)time(NULL));
	log_info("%u release(s) held, %u expired and disposed of", loaded,
	    expired);
}

static void
open_listeners(struct sender *s)
{
	const struct config_listener *ext = &s->site->sender.external;
	const struct config_listener *in = &s->site->sender.internal;
	char why[512];
	int i;

	if (tls_server_new(s->local.certificate, s->local.key, ext->ca_file,
	    ext->crl_file, &s->tls_external, why, sizeof(why)) != 0)
		fatalx("external listener TLS: %s", why);
	if (tls_server_new(s->local.certificate, s->local.key, in->ca_file,
	    in->crl_file, &s->tls_internal, why, sizeof(why)) != 0)
		fatalx("internal listener TLS: %s", why);
	s->listeners[0].name = "external";
	s->listeners[0].tls = s->tls_external;
	s->listeners[0].authorize = download_authorize;
	s->listeners[0].serve = download_serve;
	s->listeners[1].name = "internal";
	s->listeners[1].tls = s->tls_internal;
	s->listeners[1].authorize = publish_authorize;
	s->listeners[1].serve = publish_serve;
	for (i = 0; i < 2; i++) {
		srv_listener_limits(&s->listeners[i], &s->local);
		s->listeners[i].arg = s;
		if (srv_listen(i == 0 ? ext : in, &s->listeners[i].fd, why,
		    sizeof(why)) != 0)
			fatalx("%s listener: %s", s->listeners[i].name, why);
	}
}

/* Disposes of releases as they expire, while running. */
static void *
sweeper(void *arg)
{
	struct sender *s = arg;
	unsigned i;

	while (!s->stop) {
		for (i = 0; i < SWEEP_INTERVAL_S * 10 && !s->stop; i++)
			usleep(100000);
		pthread_mutex_lock(&s->lock);
		store_sweep(s, (int64_t)time(NULL));
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static int
active(struct sender *s)
{
	return (int)(atomic_load(&s->listeners[0].active) +
	    atomic_load(&s->listeners[1].active));
}

static int
cmd_run(struct sender *s)
{
	struct audit_event ev = { .event = "sender.stop", .actor = "system" };
	struct sandbox_layers layers = { 0 };
	pthread_t sweep;
	int i;

	log_init("sekisho-sender", s->local.use_syslog,
	    (enum log_level)s->local.log_level);
	/* As root: the firewall check, the keys, the listening sockets. */
	if (s->local.require_firewall)
		daemon_require_firewall(&s->local);
	open_listeners(s);
	/* As the service user: the data, then the sandbox for good. */
	daemon_drop(&s->local, &layers);
	open_storage(s);
	s->listeners[0].audit = s->listeners[1].audit = s->audit;
	daemon_sandbox(&s->local, s->site, SANDBOX_ALONE, &layers);
	daemon_signals(on_signal);
	the_sender = s;
	if (pthread_create(&sweep, NULL, sweeper, s) != 0)
		fatalx("cannot start the expiry thread");
	log_info("listening on %s port %u for %zu recipients, and on %s port "
	    "%u for the vault", s->site->sender.external.address,
	    s->site->sender.external.port, s->site->nrecipients,
	    s->site->sender.internal.address, s->site->sender.internal.port);
	srv_run(s->listeners, 2, -1, &s->stop);
	close(s->listeners[0].fd);
	close(s->listeners[1].fd);
	pthread_join(sweep, NULL);
	for (i = 0; i < 100 && active(s) > 0; i++)
		usleep(100000);
	audit_append(s->audit, &ev);
	if (active(s) > 0) {
		/* Their threads still use what main() would free. */
		log_warnx("stopped with %d transfer(s) unfinished", active(s));
		_exit(0);
	}
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static struct sender s;
	const char *conf;
	size_t i;
	int r;

	log_init("sekisho-sender", 0, LOG_LEVEL_INFO);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0 &&
	    strcmp(argv[2], "verify") == 0)
		return daemon_audit_verify(argc - 3, argv + 3, usage);
	if (argc < 4 || argc > 5 || strcmp(argv[1], "-c") != 0 ||
	    (argc == 5) != (strcmp(argv[3], "sandbox-check") == 0))
		usage();
	conf = argv[2];
	s.objects_fd = s.tmp_fd = s.state_fd = s.gone_fd = s.acct_fd = -1;
	pthread_mutex_init(&s.lock, NULL);
	daemon_load_config(conf, ROLE_SENDER, &s.local, &s.site);
	if (strcmp(argv[3], "check-config") == 0) {
		printf("%s: OK (site %s, digest %s, %zu recipients)\n", conf,
		    s.local.site_file, s.site->digest, s.site->nrecipients);
		r = 0;
	} else if (strcmp(argv[3], "init") == 0)
		r = daemon_init(&s.local);
	else if (strcmp(argv[3], "sandbox-check") == 0)
		r = daemon_sandbox_check(&s.local, s.site, SANDBOX_ALONE, argv[4],
		    NULL);
	else if (strcmp(argv[3], "run") == 0)
		r = cmd_run(&s);
	else
		usage();
	seal_master_wipe(&s.master);
	audit_close(s.audit);
	SSL_CTX_free(s.tls_external);
	SSL_CTX_free(s.tls_internal);
	for (i = 0; i < s.nreleases; i++)
		free(s.releases[i]);
	free(s.releases);
	if (s.accts != NULL)
		for (i = 0; i < s.site->nrecipients; i++)
			free(s.accts[i].b);
	free(s.accts);
	site_config_free(s.site);
	return r;
}
