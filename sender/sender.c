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
 * Three processes (sender.h): this parent, which binds the listeners and
 * then only waits; net (net.c, download.c, publish.c), which speaks TLS
 * and HTTP and holds no master or audit key and no file; the store
 * (keeper.c, store.c, acct.c), which holds the keys, the releases, the
 * accounts and the audit log and has no socket.
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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "health.h"
#include "inspect.h"
#include "log.h"
#include "proc.h"
#include "sender.h"
#include "util.h"

static void
print_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sekisho-sender -c LOCAL.conf run\n"
	    "       sekisho-sender -c LOCAL.conf check-config\n"
	    "       sekisho-sender -c LOCAL.conf show-config\n"
	    "       sekisho-sender -c LOCAL.conf init\n"
	    "       sekisho-sender -c LOCAL.conf inspect [--key KEY0]\n"
	    "       sekisho-sender -c LOCAL.conf status [--json] "
	    "[--prometheus FILE]\n"
	    "       sekisho-sender -c LOCAL.conf sandbox-check "
	    "[net|store|parent] CALL\n"
	    "       sekisho-sender audit verify FILE [--key KEY0] "
	    "[--state STATE] [--witness LOG]\n"
	    "       sekisho-sender audit events\n");
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
	static struct snet n;

	if (strcmp(part, "store") == 0) {
		log_init("sekisho-sender/store", local->use_syslog,
		    (enum log_level)local->log_level);
		/* Its channel to the push process, if the site has one. */
		return keeper_main(local, site, PROC_CHILD_FD,
		    site_push_recipients(site) > 0 ? PROC_CHILD_FD + 1 : -1);
	}
	if (strcmp(part, "net") != 0)
		usage();
	log_init("sekisho-sender/net", local->use_syslog,
	    (enum log_level)local->log_level);
	n.local = *local;
	n.site = site;
	return net_main(&n);
}

size_t
sender_pull_recipients(const struct site_config *site)
{
	return site->nrecipients - site_push_recipients(site);
}

/*
 * run: the listeners are bound here as root (the external one only if a
 * recipient pulls), then the store, net and, if a recipient is pushed to,
 * the push process (sekisho-pusher, beside this program: the only one of
 * the sender's programs with code that opens connections).
 */
static int
run_parent(const char *conf, const struct local_config *local,
    const struct site_config *site)
{
	struct proc_child kids[3] = { { .name = "net" }, { .name = "store" },
		{ .name = "push" } };
	char self[4096], pusher[4096 + 32], why[512], *slash;
	int lfd[2] = { -1, -1 }, sp[2], pp[2] = { -1, -1 }, fds[3], nl = 0;
	int push = site_push_recipients(site) > 0;
	size_t nkids = 2;

	if (close_range(3, ~0u, 0) != 0)
		fatalx("close_range: %s", strerror(errno));
	log_init("sekisho-sender", local->use_syslog,
	    (enum log_level)local->log_level);
	if (local->require_firewall)
		daemon_require_firewall(local);
	if ((sender_pull_recipients(site) > 0 &&
	    srv_listen(&site->sender.external, &lfd[0], why,
	    sizeof(why)) != 0) ||
	    srv_listen(&site->sender.internal, &lfd[1], why, sizeof(why)) != 0)
		fatalx("listener: %s", why);
	if (proc_self_path(self, sizeof(self)) != 0)
		fatalx("cannot find this program: %s", strerror(errno));
	snprintf(pusher, sizeof(pusher), "%s", self);
	if ((slash = strrchr(pusher, '/')) != NULL)
		snprintf(slash + 1, sizeof(pusher) - (size_t)(slash + 1 -
		    pusher), "sekisho-pusher");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 ||
	    (push && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    pp) != 0))
		fatalx("socketpair: %s", strerror(errno));
	daemon_parent_signals();
	fds[0] = sp[1];
	fds[1] = pp[1];
	kids[1].pid = daemon_spawn("sekisho-sender", self, conf, "store", fds,
	    push ? 2 : 1);
	fds[nl++] = sp[0];
	if (lfd[0] != -1)
		fds[nl++] = lfd[0];
	fds[nl++] = lfd[1];
	kids[0].pid = daemon_spawn("sekisho-sender", self, conf, "net", fds,
	    (size_t)nl);
	if (push) {
		kids[2].pid = daemon_spawn("sekisho-pusher", pusher, conf,
		    "push", &pp[0], 1);
		nkids = 3;
		close(pp[0]);
		close(pp[1]);
	}
	close(sp[0]);
	close(sp[1]);
	if (lfd[0] != -1)
		close(lfd[0]);
	close(lfd[1]);
	return daemon_parent_wait(local, site, kids, nkids, SENDER_STOP_GRACE_S);
}

/* `status`: the host's health, and the releases held, the downloads and
 * the download alerts of the last day (R16). */
static int
sender_status(const struct local_config *local,
    const struct site_config *site, int argc, char **argv)
{
	const char *prom;
	struct health h;
	uint64_t n, alerts;
	int64_t oldest, now = (int64_t)time(NULL);
	int as_json;

	if (health_args(argc, argv, &as_json, &prom) != 0)
		usage();
	health_init(&h, "sender");
	if (health_files(local->data_dir, "objects", &n, &oldest) != 0)
		health_add(&h, HEALTH_UNKNOWN, "releases", 0,
		    "提供データ / releases: %s/objects cannot be read",
		    local->data_dir);
	else
		health_add(&h, HEALTH_OK, "releases", (double)n,
		    "提供中 / releases held: %" PRIu64, n);
	health_add(&h, HEALTH_OK, "downloads_24h", (double)
	    health_recent_events(local->audit_log, "download.completed",
	    now - 86400), "24時間のダウンロード / downloads in 24 h");
	alerts = health_recent_events(local->audit_log, "download.alert",
	    now - 86400);
	health_add(&h, alerts > 0 ? HEALTH_WARNING : HEALTH_OK,
	    "download_alerts_24h", (double)alerts, "ダウンロード警告 / "
	    "download alerts in 24 h: %" PRIu64 "%s", alerts, alerts > 0 ?
	    " (see the audit log, download.alert)" : "");
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
	if (util_cli_info(argc, argv, "sekisho-sender", SENDER_VERSION, print_usage))
		return 0;
	log_init("sekisho-sender", 0, LOG_LEVEL_INFO);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0)
		return daemon_audit_cmd(argc - 2, argv + 2, usage);
	if (argc < 4 || (argc > 6 && strcmp(argv[3], "status") != 0) ||
	    strcmp(argv[1], "-c") != 0)
		usage();
	conf = argv[2];
	cmd = argv[3];
	daemon_load_config(conf, ROLE_SENDER, &local, &site);
	if (argc == 4 && strcmp(cmd, "check-config") == 0) {
		if (daemon_check_credentials(&local, site,
		    local.expiry_warn_days) != 0)
			fatalx("%s: check-config failed", conf);
		(void)daemon_check_interfaces(&local, site);
		printf("%s: OK (site %s, digest %s, %zu recipients)\n", conf,
		    local.site_file, site->digest, site->nrecipients);
		r = 0;
	} else if (argc == 4 && strcmp(cmd, "show-config") == 0)
		r = config_show(stdout, &local, site) == 0 ? 0 : 1;
	else if (strcmp(cmd, "inspect") == 0) {
		if ((r = daemon_inspect(&local, site, argc - 4, argv + 4)) < 0)
			usage();
	} else if (strcmp(cmd, "status") == 0)
		r = sender_status(&local, site, argc - 4, argv + 4);
	else if (argc == 4 && strcmp(cmd, "init") == 0)
		r = daemon_init(&local);
	else if (argc == 4 && strcmp(cmd, "run") == 0)
		r = run_parent(conf, &local, site);
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
