/*
 * daemon.c: the daemons' shared commands and folders (see daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "proc.h"
#include "seal.h"
#include "sk.h"
#include "util.h"

int
daemon_open_dir(const char *base, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", base, name) >=
	    (int)sizeof(path))
		fatalx("data_dir path too long");
	if (util_mkdir(path, 0700) != 0)
		fatalx("%s: %s", path, strerror(errno));
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatalx("%s: %s", path, strerror(errno));
	return fd;
}

void
daemon_load_config(const char *path, enum config_role role,
    struct local_config *local, struct site_config **site)
{
	struct config_error err;

	memset(&err, 0, sizeof(err));
	if (local_config_load(path, local, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if (local->role != role)
		fatalx("%s: role is \"%s\", not \"%s\"", path,
		    config_role_name(local->role), config_role_name(role));
	if (site_config_load(local->site_file, site, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
}

void
daemon_open_storage(const char *program, const char *version,
    const struct local_config *local, const struct site_config *site,
    struct seal_master *master, int *tmp_fd, unsigned *removed,
    struct audit_log **audit)
{
	char event[64], detail[256];
	struct audit_event ev = { .event = event, .actor = "system",
		.detail = detail };
	int r;

	if (util_mkdir(local->data_dir, 0700) != 0)
		fatalx("%s: %s", local->data_dir, strerror(errno));
	/* After the drop: the folder must be the service user's. */
	if (access(local->data_dir, R_OK | W_OK | X_OK) != 0)
		fatalx("data_dir %s: %s for uid %u: run '%s -c %s init' as "
		    "root, which gives it to %s", local->data_dir,
		    strerror(errno), (unsigned)geteuid(), program, local->file,
		    local->user);
	if ((r = seal_master_load(local->master_key, master)) != 0)
		fatalx("master key %s: %s%s%s", local->master_key,
		    sk_strerror(r), r == SK_ESYS ? ": " : "",
		    r == SK_ESYS ? strerror(errno) : "");
	*tmp_fd = daemon_open_dir(local->data_dir, "tmp");
	if ((r = seal_cleanup_dir(*tmp_fd, removed)) != 0)
		fatalx("cannot clean %s/tmp: %s", local->data_dir,
		    sk_strerror(r));
	if ((r = audit_open(local->audit_log, local->audit_key, audit)) != 0)
		fatalx("audit log %s: %s", local->audit_log,
		    r == SK_EAUTH ? "does not match its state file: it was "
		    "truncated or replaced; refusing to continue it" :
		    sk_strerror(r));
	/* "sekisho-receiver" starts as "receiver.start" */
	snprintf(event, sizeof(event), "%s.start",
	    strncmp(program, "sekisho-", 8) == 0 ? program + 8 : program);
	snprintf(detail, sizeof(detail), "version=%s openssl=%s site=%s "
	    "leftovers_removed=%u", version,
	    OpenSSL_version(OPENSSL_VERSION_STRING), site->digest, *removed);
	if (audit_append(*audit, &ev) != 0)
		fatalx("cannot write the audit log (R50)");
	log_info("%s %s, %s, site digest %s, %u leftover temporary file(s) "
	    "removed", program, version, OpenSSL_version(OPENSSL_VERSION),
	    site->digest, *removed);
}

void
daemon_require_firewall(const struct local_config *local)
{
	const char *role = config_role_name(local->role);
	char self[PATH_MAX], fw[PATH_MAX], *slash;
	char *argv[] = { "sekisho-firewall", "-c",
		(char *)(uintptr_t)local->site_file, "--role",
		(char *)(uintptr_t)role, "verify", NULL };
	int status = 0;
	pid_t pid;

	if (proc_self_path(self, sizeof(self)) != 0 ||
	    (slash = strrchr(self, '/')) == NULL)
		fatalx("cannot find this program: %s", strerror(errno));
	*slash = '\0';
	if (snprintf(fw, sizeof(fw), "%s/sekisho-firewall", self) >=
	    (int)sizeof(fw))
		fatalx("path too long");
	if (proc_spawn(fw, argv, NULL, 0, &pid) != 0)
		fatalx("cannot run %s: %s", fw, strerror(errno));
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatalx("waitpid: %s", strerror(errno));
	/* The network layer of one-way must be in place before we serve. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fatalx("this host's firewall is not the %s ruleset of %s; "
		    "apply it with 'sekisho-firewall -c %s --role %s apply' "
		    "(or set require_firewall = false); refusing to serve",
		    role, local->site_file, local->site_file, role);
	log_info("firewall verified: table inet sekisho is the %s ruleset of "
	    "the site", role);
}

void
daemon_signals(void (*on_stop)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Run as root: the data folder and master key belong to the service user. */
static void
give_to_user(const struct local_config *local)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(local->user)) == NULL)
		fatalx("user %s does not exist (create it, see "
		    "deploy/sysusers.d/sekisho.conf)", local->user);
	if (chown(local->data_dir, pw->pw_uid, pw->pw_gid) != 0 ||
	    chmod(local->data_dir, 0700) != 0 ||
	    chown(local->master_key, pw->pw_uid, pw->pw_gid) != 0)
		fatalx("cannot give %s to %s: %s", local->data_dir, local->user,
		    strerror(errno));
	printf("%s and its master key belong to %s\n", local->data_dir,
	    local->user);
}

int
daemon_init(const struct local_config *local)
{
	int r;

	if (util_mkdir(local->data_dir, 0700) != 0)
		fatalx("%s: %s", local->data_dir, strerror(errno));
	r = seal_master_create(local->master_key);
	if (r == SK_EEXIST)
		printf("master key %s exists; left as it is\n",
		    local->master_key);
	else if (r != 0)
		fatalx("cannot create master key %s: %s", local->master_key,
		    strerror(errno));
	else
		printf("created master key %s\n", local->master_key);
	give_to_user(local);
	return 0;
}

void
daemon_drop(const struct local_config *local, struct sandbox_layers *layers)
{
	char why[256];

	if (sandbox_drop(local->user, layers, why, sizeof(why)) != 0)
		fatalx("privilege drop: %s", why);
}

void
daemon_sandbox(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind,
    struct sandbox_layers *layers)
{
	struct sandbox_spec spec;
	char why[256], line[320];

	sandbox_spec_for(local, site, kind, &spec);
	if (sandbox_enter(&spec, layers, why, sizeof(why)) != 0)
		fatalx("sandbox: %s", why);
	sandbox_describe(layers, line, sizeof(line));
	log_info("%s", line);
}

int
daemon_sandbox_check(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind, const char *call,
    long (*role_probe)(const char *call))
{
	struct sandbox_layers layers;
	long r;

	memset(&layers, 0, sizeof(layers));
	daemon_drop(local, &layers);
	daemon_sandbox(local, site, kind, &layers);
	/* stdout is flushed now: after the call there may be nothing left. */
	printf("trying %s inside the %s sandbox\n", call,
	    config_role_name(local->role));
	fflush(stdout);
	r = role_probe != NULL ? role_probe(call) : -2;
	if (r == -2 && (r = sandbox_try_call(call)) == -2)
		fatalx("unknown call %s", call);
	printf("%s was not killed: it returned %ld (%s)\n", call, r,
	    r == -1 ? strerror(errno) : "no error");
	return 0;
}

int
daemon_audit_verify(int argc, char **argv, void (*usage)(void))
{
	struct audit_verify_result res;
	char key[PATH_MAX], state[PATH_MAX];
	const char *file, *statep = NULL;
	int i, r;

	if (argc < 1)
		usage();
	file = argv[0];
	snprintf(key, sizeof(key), "%s.key0", file);
	snprintf(state, sizeof(state), "%s.state", file);
	if (access(state, R_OK) == 0)
		statep = state;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			snprintf(key, sizeof(key), "%s", argv[++i]);
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			snprintf(state, sizeof(state), "%s", argv[++i]);
			statep = state;
		} else
			usage();
	}
	r = audit_verify(file, key, statep, &res);
	if (r == 0) {
		printf("%s: OK, %llu entries verified%s\n", file,
		    (unsigned long long)res.entries,
		    statep != NULL ? ", ends where its state says" : "");
		return 0;
	}
	if (r == SK_EAUTH)
		printf("%s: FAILED at line %llu: %s\n", file,
		    (unsigned long long)res.bad_line, res.reason);
	else
		printf("%s: cannot verify: %s (%s)\n", file, sk_strerror(r),
		    strerror(errno));
	return 1;
}
