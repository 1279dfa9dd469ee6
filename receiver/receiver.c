/*
 * sekisho-receiver: the receive-only server on the IP-VPN side (R02).
 *
 * What it does: accepts TLS 1.3 connections from municipalities that present
 * a certificate of the municipalities' CA, checks the peer's identity and
 * source network against the site configuration, and stores each uploaded
 * file sealed (encrypted under its own key) and durably before it answers
 * with a receipt; on its internal listener the vault alone lists, fetches
 * and acknowledges pending uploads. Every decision is written to the audit
 * log first.
 *
 * It runs as three processes (R17), each a fresh image (fork+exec):
 *   - this parent: checks the firewall and binds the listeners as root,
 *     starts the other two, gives up root and then only waits for them;
 *   - net (net.c): TLS, HTTP and authorization, with the sockets and the
 *     TLS key and nothing else: no master key, no audit key, no file;
 *   - store (store.c): the master key, the audit log and the data folder,
 *     and no socket but its channel to net.
 * If one ends, the others are stopped and the service manager restarts the
 * daemon.
 *
 * What it must never do: open a connection. There is no outbound code in
 * this program at all: `nm -D --undefined-only sekisho-receiver` shows no
 * connect(2). Plaintext of an upload never reaches the disk, and neither
 * file contents nor file names are ever logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "health.h"
#include "inspect.h"
#include "log.h"
#include "proc.h"
#include "receiver.h"
#include "util.h"

#define RECEIVER_STOP_GRACE_S 15	/* uploads in flight may finish */

static void
print_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sekisho-receiver -c LOCAL.conf run\n"
	    "       sekisho-receiver -c LOCAL.conf check-config\n"
	    "       sekisho-receiver -c LOCAL.conf show-config\n"
	    "       sekisho-receiver -c LOCAL.conf init\n"
	    "       sekisho-receiver -c LOCAL.conf inspect [--key KEY0]\n"
	    "       sekisho-receiver -c LOCAL.conf status [--json] "
	    "[--prometheus FILE]\n"
	    "       sekisho-receiver -c LOCAL.conf sandbox-check "
	    "[net|store|parent] CALL\n"
	    "       sekisho-receiver audit verify FILE [--key KEY0] "
	    "[--state STATE] [--witness LOG]\n"
	    "       sekisho-receiver audit events\n");
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
	exit(2);
}

/* `proc net|store`: a process the parent started, never a person. */
static int
cmd_proc(const char *part, struct local_config *local,
    struct site_config *site)
{
	static struct receiver rcv;

	if (strcmp(part, "store") == 0) {
		log_init("sekisho-receiver/store", local->use_syslog,
		    (enum log_level)local->log_level);
		return store_main(local, site, PROC_CHILD_FD);
	}
	if (strcmp(part, "net") != 0)
		usage();
	log_init("sekisho-receiver/net", local->use_syslog,
	    (enum log_level)local->log_level);
	rcv.local = *local;
	rcv.site = site;
	return net_main(&rcv);
}

/*
 * `status`: the host's health (health.h), and the receiver's own figures:
 * the uploads waiting for the vault, and how long the oldest has waited
 * (the vault takes them within seconds; an hour means it does not).
 */
static int
receiver_status(const struct local_config *local,
    const struct site_config *site, int argc, char **argv)
{
	const char *prom;
	struct health h;
	uint64_t n;
	int64_t oldest, age, now = (int64_t)time(NULL);
	int as_json;

	if (health_args(argc, argv, &as_json, &prom) != 0)
		usage();
	health_init(&h, "receiver");
	if (health_files(local->data_dir, "objects", &n, &oldest) != 0)
		health_add(&h, HEALTH_UNKNOWN, "pending_uploads", 0,
		    "受付済み / pending uploads: %s/objects cannot be read",
		    local->data_dir);
	else {
		age = oldest > 0 ? now - oldest : 0;
		health_add(&h, HEALTH_OK, "pending_uploads", (double)n,
		    "保管庫への引渡し待ち / waiting for the vault: %" PRIu64
		    " upload(s)", n);
		health_add(&h, age > 86400 ? HEALTH_CRITICAL : age > 3600 ?
		    HEALTH_WARNING : HEALTH_OK, "oldest_pending_seconds",
		    (double)age, "最も古い引渡し待ち / the oldest has waited "
		    "%" PRId64 " s%s", age, age > 3600 ? " (the vault does not "
		    "take them: is it running?)" : "");
	}
	health_add(&h, HEALTH_OK, "handed_over_24h", (double)
	    health_recent_events(local->audit_log, "upload.handed_over",
	    now - 86400), "24時間の引渡し / handed over in 24 h");
	health_common(&h, local, site, local->require_firewall);
	return health_report(&h, as_json, prom);
}

int
main(int argc, char **argv)
{
	static struct local_config local;
	struct site_config *site = NULL;
	const char *conf, *cmd;
	int r;

	/* Asked for: on stdout, exit 0 (a wrong call: stderr, exit 2). */
	if (util_cli_info(argc, argv, "sekisho-receiver", RECEIVER_VERSION, print_usage))
		return 0;
	log_init("sekisho-receiver", 0, LOG_LEVEL_INFO);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0)
		return daemon_audit_cmd(argc - 2, argv + 2, usage);
	if (argc < 4 || (argc > 6 && strcmp(argv[3], "status") != 0) ||
	    strcmp(argv[1], "-c") != 0)
		usage();
	conf = argv[2];
	cmd = argv[3];
	daemon_load_config(conf, ROLE_RECEIVER, &local, &site);
	if (argc == 4 && strcmp(cmd, "check-config") == 0) {
		if (daemon_check_credentials(&local, site,
		    local.expiry_warn_days) != 0)
			fatalx("%s: check-config failed", conf);
		(void)daemon_check_interfaces(&local, site);
		printf("%s: OK (site %s, digest %s, %zu municipalities, %zu "
		    "datasets)\n", conf, local.site_file, site->digest,
		    site->nmunicipalities, site->ndatasets);
		r = 0;
	} else if (argc == 4 && strcmp(cmd, "show-config") == 0)
		r = config_show(stdout, &local, site) == 0 ? 0 : 1;
	else if (argc == 4 && strcmp(cmd, "init") == 0)
		r = daemon_init(&local);
	else if (strcmp(cmd, "inspect") == 0) {
		if ((r = daemon_inspect(&local, site, argc - 4, argv + 4)) < 0)
			usage();
	} else if (strcmp(cmd, "status") == 0)
		r = receiver_status(&local, site, argc - 4, argv + 4);
	else if (argc == 4 && strcmp(cmd, "run") == 0)
		r = daemon_run_parent("sekisho-receiver", conf, &local, site,
		    &site->receiver.external, &site->receiver.internal,
		    RECEIVER_STOP_GRACE_S);
	else if (argc == 5 && strcmp(cmd, "proc") == 0)
		r = cmd_proc(argv[4], &local, site);
	/* The process that the network reaches, unless another is named. */
	else if (argc == 5 && strcmp(cmd, "sandbox-check") == 0)
		r = daemon_sandbox_check_part(&local, site, "net", argv[4],
		    usage);
	else if (argc == 6 && strcmp(cmd, "sandbox-check") == 0)
		r = daemon_sandbox_check_part(&local, site, argv[4], argv[5],
		    usage);
	else
		usage();
	site_config_free(site);
	return r;
}
