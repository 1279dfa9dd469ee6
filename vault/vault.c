/*
 * sekisho-vault: the isolated processing host (R05, R06, R07).
 *
 * What it does: `run` is the daemon (vaultd.c): it pulls uploads from the
 * receiver, processes them, and after operators approve publishes the
 * releases to the sender. `release ...` are the operators' commands at the
 * console (console.c). `anonymize` runs the same engine on a file under a
 * dataset's policy, so that operators can try a policy on sample data; the
 * release and its report are renamed into place only when the job
 * succeeded.
 *
 * What it must never do: listen. There is no bind(2), listen(2) or
 * accept(2) in this program. The pseudonymization key lives only in memory
 * for one job and is wiped; no mapping table is ever written (R07).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "anon.h"
#include "backup.h"
#include "ledger.h"
#include "review.h"
#include "route.h"
#include "check.h"
#include "config.h"
#include "daemon.h"
#include "engine.h"
#include "inspect.h"
#include "log.h"
#include "policy.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

static void
print_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sekisho-vault -c LOCAL.conf run|init|check-config|show-config\n"
	    "       sekisho-vault -c LOCAL.conf inspect [--key KEY0]\n"
	    "       sekisho-vault -c LOCAL.conf status [--json] "
	    "[--prometheus FILE]\n"
	    "       sekisho-vault -c LOCAL.conf sandbox-check "
	    "[main|engine|checker|spawner|parent] CALL\n"
	    "       sekisho-vault -c LOCAL.conf release list [--state STATE] "
	    "[--json]\n"
	    "       sekisho-vault -c LOCAL.conf release show ID [--preview N] [--html FILE]\n"
	    "       sekisho-vault -c LOCAL.conf release diff ID [--with ID2]\n"
	    "       sekisho-vault -c LOCAL.conf release approve ID "
	    "--operator OP --key KEY [--yes]\n"
	    "       sekisho-vault -c LOCAL.conf release reject ID "
	    "--operator OP --key KEY --reason TEXT [--yes]\n"
	    "       sekisho-vault -c LOCAL.conf release withdraw ID "
	    "--operator OP --key KEY [--yes]\n"
	    "       sekisho-vault -c LOCAL.conf backup --to DIR "
	    "--operator OP --key KEY\n"
	    "       sekisho-vault -c LOCAL.conf backup --escrow-key CERT "
	    "--to DIR --operator OP --key KEY\n"
	    "       sekisho-vault -c LOCAL.conf backup list [--json]\n"
	    "       sekisho-vault -c LOCAL.conf backup check FILE\n"
	    "       sekisho-vault -c LOCAL.conf backup dispose NAME "
	    "--file FILE --operator OP --key KEY\n"
	    "       sekisho-vault -c LOCAL.conf ledger --form 7|8|9|10 "
	    "[--from DAY] [--to DAY] --logs DIR|FILE...\n"
	    "       sekisho-vault -c LOCAL.conf review --month YYYY-MM "
	    "--logs DIR|FILE... [--out FILE [--sign --operator OP --key "
	    "KEY]]\n"
	    "       sekisho-vault -c LOCAL.conf disposal-report "
	    "--municipality CODE [--from DAY] [--to DAY] [--signed FILE] "
	    "--logs DIR|FILE...\n"
	    "       sekisho-vault -c LOCAL.conf damage-scope --from WHEN "
	    "--to WHEN --logs DIR|FILE...\n"
	    "       sekisho-vault -c LOCAL.conf inspect-data --logs "
	    "DIR|FILE...\n"
	    "       sekisho-vault -c LOCAL.conf restore --from FILE "
	    "--operator OP --key KEY\n"
	    "       sekisho-vault site-part SITE.conf --role receiver|sender\n"
	    "       sekisho-vault anonymize --policy FILE --in IN.csv "
	    "--out OUT.csv --report REPORT.json [--values VALUES.json]\n"
	    "       sekisho-vault report REPORT.json [--html PAGE.html]\n"
	    "       sekisho-vault check-release --policy FILE --release "
	    "REL.csv --report REPORT.json\n"
	    "       sekisho-vault audit verify FILE [--key KEY0] "
	    "[--state STATE] [--witness LOG]\n"
	    "       sekisho-vault audit events\n");
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
	exit(2);
}

/* Opens a fresh temporary file next to path. */
static int
open_temp(const char *path, char *tmp, size_t cap)
{
	int fd;

	if (snprintf(tmp, cap, "%s.tmp-XXXXXX", path) >= (int)cap)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	fchmod(fd, 0600);
	return fd;
}

static int
commit(int fd, const char *tmp, const char *path)
{
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1)
		return -1;
	return 0;
}

/*
 * A progress line on a terminal (issue 20): how far the engine has read
 * its input, MB/s and the time left, every half second on stderr; nothing
 * at all when stderr is not a terminal (a pipe, a log).
 */
struct progress {
	int fd;			/* the input, read in order by the engine */
	uint64_t total;
	atomic_int done;
	atomic_uint_fast64_t *rows;	/* the engine's count so far */
};

static void *
progress_line(void *arg)
{
	struct progress *pg = arg;
	uint64_t t0 = util_now_ms(), now;
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	off_t at;
	int shown = 0;

	while (!atomic_load(&pg->done)) {
		nanosleep(&ts, NULL);
		if (atomic_load(&pg->done))
			break;
		if ((at = lseek(pg->fd, 0, SEEK_CUR)) < 0)
			continue;
		now = util_now_ms();
		if (now - t0 < 1000)
			continue;	/* a short job says nothing */
		{
			double mbs = (double)at / 1e6 / ((double)(now - t0) /
			    1e3);

			uint64_t rows = atomic_load_explicit(pg->rows,
			    memory_order_relaxed);

			if ((uint64_t)at < pg->total && mbs > 0)
				fprintf(stderr, "\r  %" PRIu64 " rows, %.0f / %.0f "
				    "MB (%d%%), %.1f MB/s, about %.0f s to go   ",
				    rows, (double)at / 1e6, (double)pg->total /
				    1e6, (int)((uint64_t)at * 100 / pg->total), mbs,
				    (double)(pg->total - (uint64_t)at) / 1e6 / mbs);
			else
				fprintf(stderr, "\r  %.0f MB read, processing "
				    "(%.0f s) / 加工中                        ",
				    (double)at / 1e6, (double)(now - t0) / 1e3);
			shown = 1;
		}
	}
	if (shown)
		fprintf(stderr, "\r%79s\r", "");
	return NULL;
}

static int
cmd_anonymize(int argc, char **argv)
{
	const char *policy_path = NULL, *in = NULL, *out = NULL, *rep = NULL;
	const char *vals = NULL;
	char out_tmp[PATH_MAX], rep_tmp[PATH_MAX], *report = NULL;
	char vals_tmp[PATH_MAX], *values = NULL;
	struct config_error err;
	struct anon_result res;
	struct policy *p;
	int i, in_fd, out_fd, rep_fd, r;

	for (i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--policy") == 0)
			policy_path = argv[i + 1];
		else if (strcmp(argv[i], "--in") == 0)
			in = argv[i + 1];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[i + 1];
		else if (strcmp(argv[i], "--report") == 0)
			rep = argv[i + 1];
		else if (strcmp(argv[i], "--values") == 0)
			vals = argv[i + 1];
		else
			usage();
	}
	if (i != argc || policy_path == NULL || in == NULL || out == NULL ||
	    rep == NULL)
		usage();
	memset(&err, 0, sizeof(err));
	if (policy_load(policy_path, &p, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if ((in_fd = open(in, O_RDONLY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", in, strerror(errno));
	if ((out_fd = open_temp(out, out_tmp, sizeof(out_tmp))) == -1)
		fatalx("%s: cannot create: %s", out, strerror(errno));
	{
		struct progress pg = { .fd = in_fd, .rows = &res.rows_read };
		struct stat st;
		pthread_t pt;
		int on = isatty(STDERR_FILENO) && fstat(in_fd, &st) == 0 &&
		    S_ISREG(st.st_mode);

		pg.total = on ? (uint64_t)st.st_size : 0;
		atomic_init(&pg.done, 0);
		if (on && pthread_create(&pt, NULL, progress_line, &pg) != 0)
			on = 0;
		r = anon_run_values(p, in_fd, out_fd, &res, &report,
		    vals != NULL ? &values : NULL);
		if (on) {
			atomic_store(&pg.done, 1);
			pthread_join(pt, NULL);
		}
	}
	close(in_fd);
	if (r != 0) {
		close(out_fd);
		unlink(out_tmp);
		policy_free(p);
		fprintf(stderr, "sekisho-vault: anonymize: %s\n", res.error);
		fprintf(stderr, "sekisho-vault: nothing was released\n");
		/* The privacy model not met: its report still says which
		 * column drives it. */
		if (report != NULL) {
			if ((rep_fd = open_temp(rep, rep_tmp,
			    sizeof(rep_tmp))) == -1)
				fprintf(stderr, "sekisho-vault: %s: %s\n", rep,
				    strerror(errno));
			else if (util_write_all(rep_fd, report,
			    strlen(report)) != 0 ||
			    util_write_all(rep_fd, "\n", 1) != 0 ||
			    commit(rep_fd, rep_tmp, rep) != 0) {
				close(rep_fd);
				unlink(rep_tmp);
			} else
				fprintf(stderr, "sekisho-vault: the report of "
				    "the failure: %s\n", rep);
			free(report);
		}
		return 1;
	}
	if ((rep_fd = open_temp(rep, rep_tmp, sizeof(rep_tmp))) == -1 ||
	    util_write_all(rep_fd, report, strlen(report)) != 0 ||
	    util_write_all(rep_fd, "\n", 1) != 0 ||
	    commit(rep_fd, rep_tmp, rep) != 0 ||
	    commit(out_fd, out_tmp, out) != 0) {
		unlink(rep_tmp);
		unlink(out_tmp);
		fatalx("cannot write %s or %s: %s", out, rep, strerror(errno));
	}
	/* Released values by how much suppression took from each: for the
	 * operator's eyes, in a file of their choosing (mode 0600). */
	if (vals != NULL && ((rep_fd = open_temp(vals, vals_tmp,
	    sizeof(vals_tmp))) == -1 ||
	    util_write_all(rep_fd, values, strlen(values)) != 0 ||
	    util_write_all(rep_fd, "\n", 1) != 0 ||
	    commit(rep_fd, vals_tmp, vals) != 0)) {
		unlink(vals_tmp);
		fatalx("cannot write %s: %s", vals, strerror(errno));
	}
	if (values != NULL) {
		sk_wipe(values, strlen(values));
		free(values);
	}
	printf("released %llu of %llu rows (%llu suppressed, %llu rejected) "
	    "in %llu classes, smallest %llu; report %s\n",
	    (unsigned long long)res.rows_out, (unsigned long long)res.rows_in,
	    (unsigned long long)(res.rows_suppressed_k + res.rows_suppressed_l),
	    (unsigned long long)res.rows_rejected,
	    (unsigned long long)res.classes,
	    (unsigned long long)res.smallest_class, rep);
	free(report);
	policy_free(p);
	return 0;
}

/*
 * check-release: the checker's recount (check.h) on a release file and its
 * report, as the vault runs it before any approval; for an operator or a
 * recipient who wants to see it hold again.
 */
static int
cmd_check_release(int argc, char **argv)
{
	const char *policy_path = NULL, *rel = NULL, *rep = NULL;
	struct config_error err;
	struct policy *p;
	char why[256], *report;
	ssize_t n;
	int i, fd, r;

	for (i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--policy") == 0)
			policy_path = argv[i + 1];
		else if (strcmp(argv[i], "--release") == 0)
			rel = argv[i + 1];
		else if (strcmp(argv[i], "--report") == 0)
			rep = argv[i + 1];
		else
			usage();
	}
	if (i != argc || policy_path == NULL || rel == NULL || rep == NULL)
		usage();
	memset(&err, 0, sizeof(err));
	if (policy_load(policy_path, &p, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if ((report = malloc(1u << 20)) == NULL)
		fatalx("out of memory");
	if ((fd = open(rep, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (n = read(fd, report, (1u << 20) - 1)) < 0)
		fatalx("%s: %s", rep, strerror(errno));
	close(fd);
	report[n] = '\0';
	while (n > 0 && (report[n - 1] == '\n' || report[n - 1] == '\r'))
		report[--n] = '\0';
	if ((fd = open(rel, O_RDONLY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", rel, strerror(errno));
	r = check_release(p, fd, report, (size_t)n, why, sizeof(why));
	close(fd);
	if (r == 0)
		printf("%s: OK: columns, k, l, scan and counts hold "
		    "(検査に合格しました)\n", rel);
	else
		fprintf(stderr, "sekisho-vault: %s: refused (検査で不合格): "
		    "%s\n", rel, why);
	free(report);
	policy_free(p);
	return r == 0 ? 0 : 1;
}

/* sandbox-check tcp-connect: a TCP connection to 127.0.0.1 port 9, which
 * is neither internal listener: Landlock refuses it (EACCES). */
static long
vault_probe(const char *call)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long r;
	int fd, e;

	if (strcmp(call, "tcp-connect") != 0)
		return -2;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static struct vault *the_vault;

static void
on_signal(int sig)
{
	(void)sig;
	if (the_vault != NULL)
		the_vault->stop = 1;
}

static void
vault_check_roster(struct vault *v)
{
	struct config_error err;

	memset(&err, 0, sizeof(err));
	if (site_check_approvals(v->site, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
}

/* `proc PART`: a process the vault's parent or spawner started. */
static int
cmd_proc(const char *conf, struct vault *v, const char *part,
    const char *policy)
{
	char name[48];

	snprintf(name, sizeof(name), "sekisho-vault/%s", part);
	if (strcmp(part, "main") == 0 && policy == NULL) {
		log_init(name, v->local.use_syslog,
		    (enum log_level)v->local.log_level);
		daemon_signals(on_signal);
		the_vault = v;
		return vault_run(v);
	}
	if (strcmp(part, "spawner") == 0 && policy == NULL) {
		log_init(name, v->local.use_syslog,
		    (enum log_level)v->local.log_level);
		return spawner_main(conf, &v->local, v->site);
	}
	/* No syslog: its socket is outside the sandbox. stderr goes to the
	 * journal with the service's. */
	log_init(name, 0, (enum log_level)v->local.log_level);
	if (strcmp(part, "engine") == 0 && policy != NULL)
		return engine_main(&v->local, v->site, policy);
	if (strcmp(part, "checker") == 0 && policy != NULL)
		return checker_main(&v->local, v->site, policy);
	usage();
}

/* sandbox-check engine|checker|spawner|parent CALL */
static int
sandbox_check_kind(struct vault *v, const char *kind, const char *call)
{
	static const struct {
		const char *name;
		enum sandbox_kind kind;
	} kinds[] = {
		{ "main", SANDBOX_ALONE },
		{ "engine", SANDBOX_ENGINE },
		{ "checker", SANDBOX_CHECKER },
		{ "spawner", SANDBOX_SPAWNER },
		{ "parent", SANDBOX_PARENT },
	};
	size_t i;

	for (i = 0; i < SK_ARRAY_LEN(kinds); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			return daemon_sandbox_check(&v->local, v->site,
			    kinds[i].kind, call, kinds[i].kind ==
			    SANDBOX_ALONE ? vault_probe : NULL);
	usage();
}

/*
 * R27: the part of the site file a DMZ host gets, on stdout. The full file,
 * with the roster, the policies and the registers, stays with the vault
 * and the administrators.
 */
static int
cmd_site_part(const char *site, const char *role)
{
	struct config_error err;
	enum config_role r;
	char *text;

	if (strcmp(role, "receiver") == 0)
		r = ROLE_RECEIVER;
	else if (strcmp(role, "sender") == 0)
		r = ROLE_SENDER;
	else
		usage();
	memset(&err, 0, sizeof(err));
	if (site_part(site, r, &text, &err) != 0)
		fatalx("%s:%d: %s", err.file[0] ? err.file : site, err.line,
		    err.message[0] ? err.message : "cannot write its part");
	fputs(text, stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static struct vault v;
	const char *conf;
	int r;

	/* Asked for: on stdout, exit 0 (a wrong call: stderr, exit 2). */
	if (util_cli_info(argc, argv, "sekisho-vault", VAULT_VERSION, print_usage))
		return 0;
	log_init("sekisho-vault", 0, LOG_LEVEL_INFO);
	if (argc >= 2 && strcmp(argv[1], "anonymize") == 0)
		return cmd_anonymize(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "check-release") == 0)
		return cmd_check_release(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "report") == 0 &&
	    (r = console_report(argc - 2, argv + 2)) != 2)
		return r;
	if (argc == 5 && strcmp(argv[1], "site-part") == 0 &&
	    strcmp(argv[3], "--role") == 0)
		return cmd_site_part(argv[2], argv[4]);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0)
		return daemon_audit_cmd(argc - 2, argv + 2, usage);
	if (argc < 4 || strcmp(argv[1], "-c") != 0)
		usage();
	conf = argv[2];
	v.tmp_fd = v.jobs_fd = v.sources_fd = v.releases_fd = -1;
	v.reports_fd = v.watch_fd = -1;
	v.backups_fd = v.store_lock_fd = v.daemon_lock_fd = -1;
	v.console_fd = -1;
	console_user_capture(&v);
	daemon_load_config(conf, ROLE_VAULT, &v.local, &v.site);
	/* What the vault will decide on, and what it checks for an admin:
	 * approvals its roster can give (R41). */
	if (argc == 4 && (strcmp(argv[3], "run") == 0 ||
	    strcmp(argv[3], "check-config") == 0))
		vault_check_roster(&v);
	if (argc == 4 && strcmp(argv[3], "check-config") == 0) {
		if (daemon_check_credentials(&v.local, v.site,
		    v.local.expiry_warn_days) != 0)
			fatalx("%s: check-config failed", conf);
		(void)daemon_check_interfaces(&v.local, v.site);
		vault_load_policies(&v);
		vault_load_trust(&v);
		printf("%s: OK (site %s, digest %s, %zu datasets, %zu "
		    "operators)\n", conf, v.local.site_file, v.site->digest,
		    v.site->ndatasets, v.site->noperators);
		r = 0;
	} else if (argc == 4 && strcmp(argv[3], "show-config") == 0) {
		r = config_show(stdout, &v.local, v.site) == 0 ? 0 : 1;
		/* And each dataset's policy as the engines run it. */
		if (r == 0)
			r = vault_show_policies(&v, stdout);
	}
	else if (argc == 4 && strcmp(argv[3], "init") == 0)
		r = daemon_init(&v.local);
	else if (argc >= 4 && strcmp(argv[3], "inspect") == 0) {
		if ((r = daemon_inspect(&v.local, v.site, argc - 4,
		    argv + 4)) < 0)
			usage();
	} else if (argc >= 4 && strcmp(argv[3], "status") == 0) {
		/* As root: the firewall's verify needs it; nothing is
		 * written. */
		if ((r = vault_status(&v, argc - 4, argv + 4)) < 0)
			usage();
	}
	else if (argc == 5 && strcmp(argv[3], "sandbox-check") == 0)
		r = daemon_sandbox_check(&v.local, v.site, SANDBOX_ALONE, argv[4],
		    vault_probe);
	else if (argc == 6 && strcmp(argv[3], "sandbox-check") == 0)
		r = sandbox_check_kind(&v, argv[4], argv[5]);
	else if (argc == 4 && strcmp(argv[3], "run") == 0)
		r = vault_parent(conf, &v);
	else if (argc >= 5 && argc <= 6 && strcmp(argv[3], "proc") == 0)
		r = cmd_proc(conf, &v, argv[4], argc == 6 ? argv[5] : NULL);
	else if (argc >= 5 && strcmp(argv[3], "release") == 0) {
		vault_load_trust(&v);
		if ((r = console_release(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "backup") == 0) {
		vault_load_trust(&v);
		if ((r = console_backup(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "review") == 0) {
		vault_load_trust(&v);
		if ((r = console_review(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "disposal-report") == 0) {
		if ((r = console_disposal_report(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "damage-scope") == 0) {
		if ((r = console_damage_scope(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "inspect-data") == 0) {
		if ((r = console_inspect_data(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "ledger") == 0) {
		if ((r = console_ledger(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else if (argc >= 5 && strcmp(argv[3], "restore") == 0) {
		vault_load_trust(&v);
		if ((r = console_restore(&v, argc - 4, argv + 4)) < 0)
			usage();
	} else
		usage();
	vault_free_policies(&v);
	vault_free_trust(&v);
	seal_master_wipe(&v.master);
	audit_close(v.audit);
	SSL_CTX_free(v.tls);
	site_config_free(v.site);
	return r;
}
