/*
 * daemon.c: the daemons' shared commands and folders (see daemon.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/err.h>

#include "audit.h"
#include "audit_schema.h"
#include "daemon.h"
#include "log.h"
#include "proc.h"
#include "seal.h"
#include "server.h"
#include "sk.h"
#include "tls.h"
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
	size_t i;

	memset(&err, 0, sizeof(err));
	if (local_config_load(path, local, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if (local->role != role)
		fatalx("%s: role is \"%s\", not \"%s\"", path,
		    config_role_name(local->role), config_role_name(role));
	if (site_config_load(local->site_file, site, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	for (i = 0; i < (*site)->nwarnings; i++)
		log_warnx("%s", (*site)->warnings[i]);
}

/*
 * The daemon's audit log with its chain's marker, data_dir/audit.chain,
 * under a key derived from the master key: a log and state removed
 * together are noticed at the next start (audit.break).
 */
int
daemon_audit_open(const struct local_config *local,
    const struct seal_master *master, struct audit_log **audit)
{
	static const char label[] = "sekisho-audit-chain-marker";
	struct iovec part = { .iov_base = (void *)(uintptr_t)label,
		.iov_len = sizeof(label) - 1 };
	char marker[PATH_MAX];
	uint8_t key[32];
	int r;

	if (snprintf(marker, sizeof(marker), "%s/audit.chain",
	    local->data_dir) >= (int)sizeof(marker))
		return SK_EINVAL;
	if ((r = util_hmac_sha256(master->key, sizeof(master->key), &part, 1,
	    key)) != 0)
		return r;
	r = audit_open_marked(local->audit_log, local->audit_key, marker, key,
	    audit);
	sk_wipe(key, sizeof(key));
	return r;
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
	if ((r = daemon_audit_open(local, master, audit)) != 0)
		fatalx("audit log %s: %s", local->audit_log,
		    r == SK_EAUTH ? "does not match its state file: it was "
		    "truncated or replaced; refusing to continue it" :
		    sk_strerror(r));
	audit_set_reserve(*audit, local->audit_reserve);
	audit_set_rotation(*audit, local->audit_rotate_bytes,
	    local->audit_retention_days);
	audit_set_monthly(*audit, local->audit_rotate_monthly);
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

int
daemon_firewall_verify(const struct local_config *local)
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
		return -1;
	*slash = '\0';
	if (snprintf(fw, sizeof(fw), "%s/sekisho-firewall", self) >=
	    (int)sizeof(fw) || proc_spawn(fw, argv, NULL, 0, &pid) != 0)
		return -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

void
daemon_require_firewall(const struct local_config *local)
{
	const char *role = config_role_name(local->role);
	int r = daemon_firewall_verify(local);

	if (r < 0)
		fatalx("cannot run sekisho-firewall beside this program: %s",
		    strerror(errno));
	/* The network layer of one-way must be in place before we serve. */
	if (r != 0)
		fatalx("this host's firewall is not the %s ruleset of %s; "
		    "apply it with 'sekisho-firewall -c %s --role %s apply' "
		    "(or set require_firewall = false); refusing to serve",
		    role, local->site_file, local->site_file, role);
	log_info("firewall verified: table inet sekisho is the %s ruleset of "
	    "the site", role);
}

volatile sig_atomic_t daemon_reload;

static void
on_hup(int sig)
{
	(void)sig;
	daemon_reload = 1;
}

void
daemon_signals(void (*on_stop)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* SIGHUP (systemctl reload) asks for a reload: it never ends a
	 * process (its default would, and systemd would count that as a
	 * clean exit). */
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_flags = 0;
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

/* Whose log it is: the role of its first ROLE.start entry, or "". */
static void
log_role(const char *file, char *role, size_t cap)
{
	static const char *const roles[] = { "receiver", "vault", "sender" };
	char line[AUDIT_LINE_MAX + 2], want[40], oldest[PATH_MAX + 64];
	size_t i;
	FILE *fp;

	role[0] = '\0';
	/* Its start entry is in its oldest file, after a rotation. */
	audit_oldest_file(file, oldest, sizeof(oldest));
	if ((fp = fopen(oldest, "r")) == NULL)
		return;
	while (role[0] == '\0' && fgets(line, sizeof(line), fp) != NULL)
		for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
			snprintf(want, sizeof(want), "\"event\":\"%s.start\"",
			    roles[i]);
			if (strstr(line, want) != NULL) {
				snprintf(role, cap, "%s", roles[i]);
				break;
			}
		}
	fclose(fp);
}

/*
 * R47: the log against the heads another host's log recorded of it (the
 * vault's witnesses the receiver's, the sender's the vault's).
 */
static int
verify_witness(const char *file, const char *witness)
{
	char role[16], why[256];
	uint64_t checked, bad;
	int r;

	log_role(file, role, sizeof(role));
	if (role[0] == '\0') {
		printf("%s: no start entry says whose log it is: it cannot be "
		    "checked against a witness\n", file);
		return 1;
	}
	r = audit_verify_witness(file, role, witness, &checked, &bad, why,
	    sizeof(why));
	if (r == 0 && checked > 0) {
		printf("%s: OK against %s: %llu head(s) of this %s log "
		    "witnessed there match\n", file, witness,
		    (unsigned long long)checked, role);
		return 0;
	}
	if (r == 0)
		printf("%s: %s recorded no head of a %s log: nothing to "
		    "check\n", file, witness, role);
	else if (r == SK_EAUTH)
		printf("%s: WITNESS FAILED: %llu of %llu head(s) recorded in %s "
		    "do not match: %s\n%s: 証人記録と一致しません: ログが改ざん・"
		    "削除・差し替えされた可能性があります\n", file,
		    (unsigned long long)bad, (unsigned long long)checked,
		    witness, why, file);
	else
		printf("%s: cannot check against %s: %s\n", file, witness,
		    sk_strerror(r));
	return 1;
}

static int
audit_verify_cmd(int argc, char **argv, void (*usage)(void))
{
	struct audit_verify_result res;
	char key[PATH_MAX], state[PATH_MAX];
	const char *file, *statep = NULL, *witness = NULL;
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
		} else if (strcmp(argv[i], "--witness") == 0 && i + 1 < argc)
			witness = argv[++i];
		else
			usage();
	}
	/* Against the witness first: a log cut short and its state removed
	 * still verifies on its own, but not against what was seen of it. */
	if (witness != NULL && verify_witness(file, witness) != 0)
		return 1;
	r = audit_verify(file, key, statep, &res);
	if (r == 0 && res.gaps > 0)
		printf("%s: %llu time(s) the log could not be written for a "
		    "while (audit.resumed entries say how long and how many "
		    "entries were not written)\n"
		    "%s: 監査ログに書けなかった期間が %llu 回あります "
		    "(audit.resumed の記録を参照)\n", file,
		    (unsigned long long)res.gaps, file,
		    (unsigned long long)res.gaps);
	if (r == 0 && res.off_schema > 0)
		printf("%s: SCHEMA: %llu entries do not follow their event's "
		    "schema (docs/audit-events.md), the first at line %llu: "
		    "%s; the chain is not affected\n"
		    "%s: 形式: %llu 件の記録がイベントの定める項目に従って"
		    "いません (最初は %llu 行目)。連鎖の検証には影響しません\n",
		    file, (unsigned long long)res.off_schema,
		    (unsigned long long)res.first_off_schema,
		    res.off_schema_why, file,
		    (unsigned long long)res.off_schema,
		    (unsigned long long)res.first_off_schema);
	if (r == 0 && res.breaks > 0) {
		printf("%s: BREAK: the entries verify, but the chain records "
		    "%llu break(s), the first at line %llu: an earlier log "
		    "was removed or replaced (audit.break)\n"
		    "%s: 断絶: 各記録は検証できますが、以前のログが削除または"
		    "差し替えられた記録が %llu 件あります (最初は %llu 行目)\n",
		    file, (unsigned long long)res.breaks,
		    (unsigned long long)res.first_break, file,
		    (unsigned long long)res.breaks,
		    (unsigned long long)res.first_break);
		return 1;
	}
	if (r == 0) {
		printf("%s: OK, %llu entries verified%s%s\n", file,
		    (unsigned long long)res.entries,
		    statep != NULL ? ", ends where its state says" : "",
		    res.segments > 0 ? ", its rotated segments first" : "");
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

/* ---- the audit log across a channel ---- */

int
daemon_net_audit(struct proc_chan *ch, const struct audit_event *ev)
{
	struct proc_msg req;
	struct proc_reply rep;

	proc_msg_init(&req, DAEMON_MSG_AUDIT);
	proc_put_str(&req, ev->event);
	proc_put_str(&req, ev->actor);
	proc_put_str(&req, ev->object);
	proc_put_u32(&req, ev->has_size ? 1 : 0);
	proc_put_u64(&req, ev->size);
	proc_put_str(&req, ev->sha256);
	proc_put_str(&req, ev->detail);
	proc_call(ch, &req, -1, &rep);
	proc_reply_end(ch, &rep);
	return rep.status == 0 ? 0 : SK_ESYS;
}

int
daemon_net_audit_broken(struct proc_chan *ch)
{
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t broken = 1;

	proc_msg_init(&req, DAEMON_MSG_AUDIT_STATE);
	proc_call(ch, &req, -1, &rep);
	proc_get_u32(&rep.msg, &broken);
	proc_reply_end(ch, &rep);
	return broken != 0;
}

int
daemon_store_audit(struct audit_log *log, const char *event,
    const char *actor, const char *object, int has_size, uint64_t size,
    const char *sha256, const char *detail)
{
	struct audit_event ev = { .event = event, .actor = actor,
		.object = object, .has_size = has_size, .size = size,
		.sha256 = sha256, .detail = detail };
	int r;

	if ((r = audit_append(log, &ev)) != 0)
		log_errorx("audit log write failed (%s): refusing all work "
		    "from now on (R50)", sk_strerror(r));
	return r;
}

void
daemon_store_on_audit(int chan, struct audit_log *log, struct proc_msg *req,
    const char *const *events, size_t nevents)
{
	char event[64], actor[96], object[80], sha[80], detail[512];
	uint32_t has_size = 0;
	uint64_t size = 0;
	size_t i;
	int r;

	proc_get_str(req, event, sizeof(event));
	proc_get_str(req, actor, sizeof(actor));
	proc_get_str(req, object, sizeof(object));
	proc_get_u32(req, &has_size);
	proc_get_u64(req, &size);
	proc_get_str(req, sha, sizeof(sha));
	proc_get_str(req, detail, sizeof(detail));
	proc_expect_end(req);
	for (i = 0; i < nevents; i++)
		if (strcmp(event, events[i]) == 0)
			break;
	if (i == nevents)
		proc_malformed(req, "an audit event that is not net's to record");
	r = daemon_store_audit(log, event, actor, object[0] ? object : NULL,
	    has_size != 0, size, sha[0] ? sha : NULL,
	    detail[0] ? detail : NULL);
	proc_reply_status(chan, DAEMON_MSG_AUDIT, r == 0 ? 0 : 503, r == 0 ?
	    "" : "the audit log cannot be written");
}

void
daemon_store_on_audit_state(int chan, struct audit_log *log,
    struct proc_msg *req)
{
	struct proc_msg rep;

	proc_expect_end(req);
	proc_reply_begin(&rep, DAEMON_MSG_AUDIT_STATE, 0, "");
	proc_put_u32(&rep, audit_broken(log) ? 1 : 0);
	proc_reply_send(chan, &rep, -1);
}

/* ---- a parent, net and store ---- */

static volatile sig_atomic_t parent_stop;

static void
on_parent_signal(int sig)
{
	(void)sig;
	parent_stop = 1;
}

pid_t
daemon_spawn(const char *program, const char *self, const char *conf,
    const char *part, const int *fds, size_t nfds)
{
	char *argv[] = { (char *)(uintptr_t)program, "-c",
		(char *)(uintptr_t)conf, "proc", (char *)(uintptr_t)part, NULL };
	pid_t pid;

	if (proc_spawn(self, argv, fds, nfds, &pid) != 0)
		fatalx("cannot start the %s process: %s", part,
		    strerror(errno));
	return pid;
}

void
daemon_parent_signals(void)
{
	daemon_signals(on_parent_signal);
}

int
daemon_parent_wait(const struct local_config *local,
    const struct site_config *site, struct proc_child *kids, size_t n,
    unsigned grace_s)
{
	struct sandbox_layers layers = { 0 };

	/* Nothing is left here but the children's ids. Said once the
	 * sandbox is in place (the tests wait for it before they look). */
	daemon_drop(local, &layers);
	daemon_sandbox(local, site, SANDBOX_PARENT, &layers);
	log_info("the parent is sandboxed, with %s process %ld and %s process "
	    "%ld", kids[0].name, (long)kids[0].pid,
	    n > 1 ? kids[1].name : "no other", n > 1 ? (long)kids[1].pid : 0L);
	return proc_supervise(kids, n, &parent_stop, &daemon_reload, grace_s);
}

void
daemon_store_begin(const struct local_config *local,
    struct sandbox_layers *layers)
{
	struct sigaction sa;

	/* The parent stops net; the store ends when net's channel closes,
	 * after the last request has been answered. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);	/* net reloads; it asks the store */
	daemon_drop(local, layers);
	proc_die_with_parent();
}

int
daemon_sandbox_check_part(const struct local_config *local,
    const struct site_config *site, const char *part, const char *call,
    void (*usage)(void))
{
	static const struct {
		const char *name;
		enum sandbox_kind kind;
	} kinds[] = {
		{ "net", SANDBOX_NET },
		{ "store", SANDBOX_STORE },
		{ "parent", SANDBOX_PARENT },
		{ "push", SANDBOX_PUSH },
	};
	size_t i;

	for (i = 0; i < SK_ARRAY_LEN(kinds); i++)
		if (strcmp(part, kinds[i].name) == 0)
			return daemon_sandbox_check(local, site, kinds[i].kind,
			    call, NULL);
	usage();
	return 2;
}

/* One request from chan, handled; returns 1 when chan has ended. */
static int
store_one(int chan, const struct daemon_handler *h, size_t nh, void *arg,
    const char *peer)
{
	struct proc_msg req;
	size_t i;
	int r;

	if ((r = proc_recv(chan, &req)) == SK_ETRUNCATED)
		return 1;
	if (r != 0)
		fatalx("a message from the %s process: %s; ending", peer,
		    sk_strerror(r));
	/* No descriptor ever travels to the store. */
	if (req.fd != -1)
		proc_malformed(&req, "a descriptor came with it");
	for (i = 0; i < nh; i++)
		if (h[i].type == req.type)
			break;
	if (i == nh)
		proc_malformed(&req, "an unknown type");
	h[i].handle(arg, &req);
	proc_msg_free(&req);
	return 0;
}

void
daemon_store_serve2(int chan, const struct daemon_handler *h, size_t nh,
    int chan2, const struct daemon_handler *h2, size_t nh2, int *current,
    void *arg, unsigned tick_ms, void (*tick)(void *arg))
{
	struct pollfd pfd[2] = { { .fd = chan, .events = POLLIN },
		{ .fd = chan2, .events = POLLIN } };
	uint64_t next = util_now_ms() + tick_ms, now;
	nfds_t n = chan2 >= 0 ? 2 : 1;
	int r;

	for (;;) {
		now = util_now_ms();
		if (tick != NULL && now >= next) {
			tick(arg);
			next = now + tick_ms;
		}
		r = poll(pfd, n, tick != NULL ? (int)(next - now) : -1);
		if (r == 0 || (r < 0 && errno == EINTR))
			continue;
		if (r < 0)
			fatalx("poll: %s", strerror(errno));
		if (pfd[0].revents != 0) {
			if (current != NULL)
				*current = chan;
			if (store_one(chan, h, nh, arg, "net"))
				return;		/* net has ended */
		}
		if (n == 2 && pfd[1].revents != 0) {
			if (current != NULL)
				*current = chan2;
			if (store_one(chan2, h2, nh2, arg, "push"))
				fatalx("the push process has ended");
			if (current != NULL)
				*current = chan;
		}
	}
}

void
daemon_store_serve(int chan, const struct daemon_handler *h, size_t nh,
    void *arg, unsigned tick_ms, void (*tick)(void *arg))
{
	daemon_store_serve2(chan, h, nh, -1, NULL, 0, NULL, arg, tick_ms,
	    tick);
}

int
daemon_audit_cmd(int argc, char **argv, void (*usage)(void))
{
	if (argc >= 1 && strcmp(argv[0], "verify") == 0)
		return audit_verify_cmd(argc - 1, argv + 1, usage);
	if (argc == 1 && strcmp(argv[0], "events") == 0)
		return audit_schema_print(stdout) == 0 ? 0 : 1;
	usage();
	return 2;
}
