/*
 * sandbox.c: privilege drop, rlimits, Landlock and seccomp (see sandbox.h).
 *
 * The seccomp allow-list is one table: each row is a system call, the roles
 * that may make it, and why. Everything else kills the process (SIGSYS).
 * Models: OpenSSH's sandbox-seccomp-filter.c, OpenBSD's pledge(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

/* Who may make a call: the vault's main process (by its role, SB_V), or
 * a process kind of a separated daemon. */
#define SB_V (1u << ROLE_VAULT)
#define SB_NET (1u << 8)	/* TLS and HTTP: sockets it was given */
#define SB_STORE (1u << 9)	/* keys and files: no socket */
#define SB_PARENT (1u << 10)	/* waits for its children, nothing else */
#define SB_ENGINE (1u << 11)	/* one job on handed descriptors */
#define SB_CHECK (1u << 12)	/* re-reads one release, no thread */
#define SB_PUSH (1u << 13)	/* sender: connects out to push endpoints */
#define SB_PART (SB_ENGINE | SB_CHECK)
#define SB_FILES (SB_V | SB_STORE)	/* reach files by folder */
#define SB_SOCKS (SB_V | SB_NET | SB_PUSH)	/* talk TCP */
#define SB_ALL (SB_V | SB_NET | SB_STORE | SB_PUSH)
#define SB_EVERY (SB_ALL | SB_PARENT | SB_PART)

struct sb_call {
	int nr;
	unsigned who;
	const char *why;
};

/*
 * The allow-list. Files are reached only through descriptors opened before
 * the sandbox or by openat() below them, and Landlock keeps even that inside
 * the role's folders; a net process has no file call at all, only the
 * descriptors the store hands it. Sockets: the net processes only accept
 * on listeners bound before the drop; the vault's main process only
 * connects (socket() is further limited to TCP over IPv4 or IPv6, below);
 * a store has no socket but its channel.
 */
static const struct sb_call sb_calls[] = {
	/* Input and output on what is already open. */
	{ SCMP_SYS(read), SB_ALL | SB_PART, "sockets, pipes, sealed objects" },
	{ SCMP_SYS(write), SB_EVERY, "sockets, objects, audit log, log" },
	{ SCMP_SYS(readv), SB_ALL | SB_PART, "stdio reads in one call" },
	{ SCMP_SYS(writev), SB_EVERY, "stdio writes the log line in one call" },
	{ SCMP_SYS(pread64), SB_ALL, "sealed objects are read by offset" },
	{ SCMP_SYS(pwrite64), SB_FILES,
	    "audit state, sealed headers in place" },
	{ SCMP_SYS(lseek), SB_ALL | SB_PART,
	    "stdio on job records and reports" },
	{ SCMP_SYS(close), SB_EVERY, "every descriptor is closed after use" },
	{ SCMP_SYS(fstat), SB_ALL | SB_PART, "sizes of objects; stdio" },
	{ SCMP_SYS(newfstatat), SB_FILES, "does an object exist (no follow)" },
	{ SCMP_SYS(statx), SB_FILES, "the same, in newer glibc" },
	{ SCMP_SYS(faccessat), SB_FILES, "does an object exist" },
	{ SCMP_SYS(faccessat2), SB_FILES, "the same, in newer glibc" },
	{ SCMP_SYS(fcntl), SB_ALL, "descriptor flags (non-blocking sockets)" },
	{ SCMP_SYS(dup), SB_ALL, "fdopendir() on a copy of a folder's fd" },
	/* The data folder: new objects, commits, disposal (Landlock: only
	 * below the role's folders). */
	{ SCMP_SYS(openat), SB_FILES,
	    "objects, records, reports by folder fd" },
	{ SCMP_SYS(getdents64), SB_FILES,
	    "list pending objects, jobs, leftovers" },
	{ SCMP_SYS(unlinkat), SB_FILES, "temporary files, disposed objects" },
	{ SCMP_SYS(renameat), SB_FILES,
	    "commit an object or record into place" },
	{ SCMP_SYS(renameat2), SB_FILES,
	    "commit without replacing (NOREPLACE)" },
	{ SCMP_SYS(rename), SB_FILES, "rename() in glibc on some targets" },
	{ SCMP_SYS(mkdirat), SB_FILES, "a data subfolder made on first use" },
	{ SCMP_SYS(fsync), SB_FILES,
	    "durable before any receipt (and folders)" },
	{ SCMP_SYS(fdatasync), SB_ALL, "durable object data (net seals into "
	    "the file the store made) and audit entries" },
	{ SCMP_SYS(sync_file_range), SB_ALL,
	    "start write-back of big objects" },
	{ SCMP_SYS(ftruncate), SB_FILES, "a torn audit entry is cut off" },
	{ SCMP_SYS(fallocate), SB_FILES,
	    "the audit log's reserve, held past its end" },
	{ SCMP_SYS(fchmod), SB_FILES, "new objects and records are 0600" },
	{ SCMP_SYS(statfs), SB_STORE, "free space before storing (507)" },
	{ SCMP_SYS(geteuid), SB_FILES,
	    "a renewed key must be this user's (util_open_secret)" },
	{ SCMP_SYS(fstatfs), SB_FILES, "the same, and fdopendir()" },
	{ SCMP_SYS(sysinfo), SB_FILES | SB_PART,
	    "qsort() of a long listing asks glibc "
	    "for the memory size (sysconf _SC_PHYS_PAGES)" },
	{ SCMP_SYS(flock), SB_V, "the jobs lock shared with the console" },
	{ SCMP_SYS(pipe2), SB_V, "the engine runs between two pipes" },
	/* Memory. */
	{ SCMP_SYS(brk), SB_EVERY, "malloc" },
	{ SCMP_SYS(mmap), SB_EVERY, "malloc of large blocks, thread stacks" },
	{ SCMP_SYS(munmap), SB_EVERY, "free of large blocks, thread stacks" },
	{ SCMP_SYS(mremap), SB_ALL | SB_PART, "realloc of large blocks" },
	{ SCMP_SYS(mprotect), SB_ALL | SB_PART,
	    "malloc arenas, thread stack guards" },
	{ SCMP_SYS(madvise), SB_ALL | SB_PART,
	    "malloc returns memory; thread exit" },
	/* Threads: one per connection, the sealing and engine threads. A
	 * store and a parent are one thread. */
	{ SCMP_SYS(clone), SB_SOCKS | SB_ENGINE, "pthread_create" },
	{ SCMP_SYS(clone3), SB_SOCKS | SB_ENGINE,
	    "pthread_create in newer glibc" },
	{ SCMP_SYS(futex), SB_EVERY, "mutexes, condition variables, joins" },
	{ SCMP_SYS(set_robust_list), SB_SOCKS | SB_ENGINE, "every new thread" },
	{ SCMP_SYS(rseq), SB_SOCKS | SB_ENGINE,
	    "every new thread (glibc 2.35+)" },
	{ SCMP_SYS(exit), SB_SOCKS | SB_ENGINE, "a thread ends" },
	{ SCMP_SYS(exit_group), SB_EVERY, "the process ends" },
	{ SCMP_SYS(gettid), SB_EVERY, "glibc's thread bookkeeping" },
	{ SCMP_SYS(getpid), SB_EVERY, "glibc's abort() and raise()" },
	{ SCMP_SYS(tgkill), SB_EVERY, "abort() on a broken invariant" },
	{ SCMP_SYS(sched_yield), SB_ALL | SB_PART,
	    "spinning locks in glibc and OpenSSL" },
	{ SCMP_SYS(sched_getaffinity), SB_ALL | SB_PART,
	    "glibc sizes malloc arenas" },
	/* Signals: TERM and INT stop the daemon; SIGPIPE is ignored. */
	{ SCMP_SYS(rt_sigaction), SB_EVERY, "signal handlers" },
	{ SCMP_SYS(rt_sigprocmask), SB_EVERY, "threads start with signals "
	    "masked" },
	{ SCMP_SYS(rt_sigreturn), SB_EVERY, "return from a signal handler" },
	{ SCMP_SYS(restart_syscall), SB_EVERY, "a sleep interrupted by a "
	    "signal" },
	/* Time and randomness. */
	{ SCMP_SYS(clock_gettime), SB_EVERY, "timeouts, rates, audit times" },
	{ SCMP_SYS(gettimeofday), SB_EVERY, "time() where the vDSO is absent" },
	{ SCMP_SYS(clock_nanosleep), SB_ALL | SB_PARENT,
	    "sleeps between rounds" },
	{ SCMP_SYS(nanosleep), SB_ALL | SB_PARENT, "the same, in older glibc" },
	{ SCMP_SYS(getrandom), SB_ALL | SB_PART, "keys, nonces, TLS" },
	/* Sockets already open: the listeners and accepted connections; a
	 * store's channel to its net process. */
	{ SCMP_SYS(poll), SB_ALL,
	    "wait on listeners and sockets, with timeouts" },
	{ SCMP_SYS(ppoll), SB_ALL, "the same, in newer glibc" },
	{ SCMP_SYS(accept4), SB_NET, "take a connection on a listener" },
	{ SCMP_SYS(recvfrom), SB_SOCKS, "TLS records (recv)" },
	{ SCMP_SYS(sendto), SB_ALL | SB_PARENT,
	    "TLS records (send); the syslog socket" },
	{ SCMP_SYS(recvmsg), SB_ALL | SB_PART,
	    "TLS records; messages and descriptors "
	    "on the channel" },
	{ SCMP_SYS(sendmsg), SB_ALL | SB_PART,
	    "TLS records; messages and descriptors "
	    "on the channel" },
	{ SCMP_SYS(setsockopt), SB_SOCKS,
	    "timeouts and TCP options per socket" },
	{ SCMP_SYS(getsockopt), SB_SOCKS,
	    "the result of a non-blocking connect" },
	{ SCMP_SYS(getsockname), SB_SOCKS, "log the local end" },
	{ SCMP_SYS(getpeername), SB_SOCKS, "the peer's address for "
	    "authorization" },
	{ SCMP_SYS(shutdown), SB_SOCKS, "end a TLS connection cleanly" },
	/* The vault opens connections (R05): to the receiver's and the
	 * sender's internal listeners; the sender's push process to the
	 * push recipients' endpoints (Landlock names the ports). */
	{ SCMP_SYS(connect), SB_V | SB_PUSH,
	    "vault: the receiver and the sender; push: the endpoints" },
	/* A parent: its children's ends, and the stop passed on. */
	{ SCMP_SYS(wait4), SB_PARENT, "reap a child that ended" },
	{ SCMP_SYS(kill), SB_PARENT, "pass a stop on to the children" },
};

/*
 * Extra calls for the sanitizer build only (make SAN=1, which the tests
 * run): at exit, LeakSanitizer stops the world with a tracer task before it
 * scans for leaks; each of these was found needed by removing it. The
 * production build has none of them. (A sanitizer report in the middle of a
 * run may need more, and then ends in SIGSYS: a failure all the same.)
 */
#ifdef SK_SANITIZER_BUILD
static const struct sb_call sb_san_calls[] = {
	{ SCMP_SYS(ptrace), SB_EVERY, "the tracer attaches to every thread" },
	{ SCMP_SYS(wait4), SB_EVERY, "the tracer waits for each to stop" },
	{ SCMP_SYS(prctl), SB_EVERY, "the tracer asks to die with its parent" },
	{ SCMP_SYS(getppid), SB_EVERY, "the tracer checks its parent lives" },
	{ SCMP_SYS(sigaltstack), SB_EVERY, "the tracer's own signal stack" },
	{ SCMP_SYS(getdents), SB_EVERY, "the tracer lists /proc/PID/task" },
	{ SCMP_SYS(open), SB_EVERY, "the scan reads /proc/PID/maps" },
	{ SCMP_SYS(clone), SB_EVERY, "the tracer is a task of its own" },
	{ SCMP_SYS(read), SB_EVERY, "the scan reads what it opened" },
	{ SCMP_SYS(sched_yield), SB_EVERY, "the tracer waits its turn" },
	{ SCMP_SYS(mprotect), SB_EVERY, "the tracer's stack guard" },
	{ SCMP_SYS(madvise), SB_EVERY, "the runtime returns its memory" },
	{ SCMP_SYS(exit), SB_EVERY, "the tracer ends" },
	{ SCMP_SYS(lseek), SB_EVERY, "the scan walks /proc/PID/maps" },
	{ SCMP_SYS(fstat), SB_EVERY, "the scan sizes what it opened" },
	{ SCMP_SYS(readv), SB_EVERY, "the scan reads in one call" },
};
#endif

int
sandbox_drop(const char *user, struct sandbox_layers *out, char *why,
    size_t whycap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	struct passwd *pw;

	if (geteuid() != 0) {
		out->dropped = 0;
		out->uid = (unsigned)geteuid();
		out->gid = (unsigned)getegid();
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, whycap, "user %s does not exist (create it, see "
		    "deploy/sysusers.d/sekisho.conf)", user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(why, whycap, "user %s is root or in group root", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(why, whycap, "cannot become %s: %s", user,
		    strerror(errno));
		return -1;
	}
	/* Root must be gone for good: no id, group or capability left. */
	if (setuid(0) != -1 || setgid(0) != -1 ||
	    getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid ||
	    rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid ||
	    getgroups(2, groups) != 1 || groups[0] != pw->pw_gid) {
		snprintf(why, whycap, "root could be regained after the drop");
		return -1;
	}
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0 || d[0].effective != 0 ||
	    d[0].permitted != 0 || d[1].effective != 0 || d[1].permitted != 0) {
		snprintf(why, whycap, "capabilities are left after the drop");
		return -1;
	}
	out->dropped = 1;
	out->uid = (unsigned)pw->pw_uid;
	out->gid = (unsigned)pw->pw_gid;
	return 0;
}

/* ---- Landlock ---- */

/* Rights newer than the kernel headers Debian 12 ships (ABI 1 and 2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SB_LL_NET_BIND_TCP (1ULL << 0)
#define SB_LL_NET_CONNECT_TCP (1ULL << 1)
#define SB_LL_RULE_NET_PORT 2
#define SB_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SB_LL_SCOPE_SIGNAL (1ULL << 1)

/* The kernel's struct landlock_ruleset_attr as of ABI 6; older kernels
 * are given the prefix they know. */
struct sb_ll_ruleset {
	uint64_t handled_fs;
	uint64_t handled_net;
	uint64_t scoped;
};

struct sb_ll_port {
	uint64_t allowed_access;
	uint64_t port;
};

static uint64_t
ll_fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

static int
ll_add_path(int rs, const char *path, uint64_t want, uint64_t handled,
    char *why, size_t whycap)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0) {
		snprintf(why, whycap, "landlock: %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* A file takes only the rights that apply to files. */
	if (!S_ISDIR(st.st_mode))
		want &= LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	pb.allowed_access = want & handled;
	pb.parent_fd = fd;
	r = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	close(fd);
	if (r != 0) {
		snprintf(why, whycap, "landlock: rule for %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
ll_enter(const struct sandbox_spec *spec, struct sandbox_layers *out,
    char *why, size_t whycap)
{
	const uint64_t rw = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
	const uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	struct sb_ll_ruleset attr;
	struct sb_ll_port port;
	size_t size, i;
	int abi, rs;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0) {
		out->landlock_abi = 0;	/* not in this kernel: said in the log */
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_fs = ll_fs_rights(abi);
	size = sizeof(attr.handled_fs);
	if (abi >= 4) {
		attr.handled_net = SB_LL_NET_BIND_TCP | SB_LL_NET_CONNECT_TCP;
		size += sizeof(attr.handled_net);
	}
	if (abi >= 6) {
		/* A parent passes the stop on to its children, which are
		 * outside its Landlock domain: it keeps signals, no more. */
		attr.scoped = SB_LL_SCOPE_ABSTRACT_UNIX;
		if (spec->kind != SANDBOX_PARENT)
			attr.scoped |= SB_LL_SCOPE_SIGNAL;
		size += sizeof(attr.scoped);
	}
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) <
	    0) {
		snprintf(why, whycap, "landlock: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < spec->nrw; i++)
		if (ll_add_path(rs, spec->rw[i], rw, attr.handled_fs, why,
		    whycap) != 0)
			goto fail;
	for (i = 0; i < spec->nro; i++)
		if (ll_add_path(rs, spec->ro[i], spec->kind == SANDBOX_SPAWNER ?
		    ro | LANDLOCK_ACCESS_FS_EXECUTE : ro, attr.handled_fs, why,
		    whycap) != 0)
			goto fail;
	for (i = 0; abi >= 4 && i < spec->nconnect; i++) {
		port.allowed_access = SB_LL_NET_CONNECT_TCP;
		port.port = spec->connect_ports[i];
		if (syscall(SYS_landlock_add_rule, rs, SB_LL_RULE_NET_PORT,
		    &port, 0) != 0) {
			snprintf(why, whycap, "landlock: port %u: %s",
			    spec->connect_ports[i], strerror(errno));
			goto fail;
		}
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		snprintf(why, whycap, "landlock: %s", strerror(errno));
		goto fail;
	}
	close(rs);
	out->landlock_abi = abi;
	out->landlock_net = abi >= 4;
	return 0;
fail:
	close(rs);
	return -1;
}

/* ---- seccomp ---- */

static int
sb_allow(scmp_filter_ctx ctx, const struct sb_call *calls, size_t n,
    unsigned role_bit, unsigned *count)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((calls[i].who & role_bit) == 0)
			continue;
		/* A call this architecture lacks is no hole: skip it. */
		if (calls[i].nr < 0)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i].nr, 0) != 0)
			return -1;
		(*count)++;
	}
	return 0;
}

/* The allow-list's bit for a process. */
static unsigned
sb_bit(enum config_role role, enum sandbox_kind kind)
{
	switch (kind) {
	case SANDBOX_NET:
		return SB_NET;
	case SANDBOX_STORE:
		return SB_STORE;
	case SANDBOX_PARENT:
		return SB_PARENT;
	case SANDBOX_ENGINE:
		return SB_ENGINE;
	case SANDBOX_CHECKER:
		return SB_CHECK;
	case SANDBOX_PUSH:
		return SB_PUSH;
	case SANDBOX_SPAWNER:
	case SANDBOX_ALONE:
		break;
	}
	return 1u << role;
}

static int
seccomp_enter(enum config_role role, enum sandbox_kind kind,
    struct sandbox_layers *out, char *why, size_t whycap)
{
	scmp_filter_ctx ctx;
	unsigned bit = sb_bit(role, kind), count = 0;
	int r = -1;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(why, whycap, "seccomp: cannot start a filter");
		return -1;
	}
	/* Every thread, also those that exist already. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    sb_allow(ctx, sb_calls, sizeof(sb_calls) / sizeof(sb_calls[0]),
	    bit, &count) != 0)
		goto out;
#ifdef SK_SANITIZER_BUILD
	if (sb_allow(ctx, sb_san_calls, sizeof(sb_san_calls) /
	    sizeof(sb_san_calls[0]), bit, &count) != 0)
		goto out;
#endif
	/* ioctl() only to ask whether a stream is a terminal (stdio does,
	 * before it buffers stdout). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS)) != 0)
		goto out;
	count++;
	/* The vault's socket(): TCP over IPv4 or IPv6, nothing else (no
	 * UDP, no raw, no netlink, no UNIX sockets). */
	/* A net process, a push process and a parent: fstat() (glibc's newfstatat on the
	 * descriptor itself, AT_EMPTY_PATH; stdio does it before its first
	 * write) but no look-up of any path. */
	if (bit == SB_NET || bit == SB_PARENT || bit == SB_PUSH ||
	    (bit & SB_PART) != 0) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
		    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH,
		    AT_EMPTY_PATH)) != 0)
			goto out;
		count++;
	}
	if (bit == SB_V || bit == SB_PUSH) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_INET),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_INET6),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)) != 0)
			goto out;
		count++;
	}
	if (seccomp_load(ctx) != 0)
		goto out;
	out->seccomp_calls = count;
	r = 0;
out:
	if (r != 0)
		snprintf(why, whycap, "seccomp: the filter could not be built "
		    "or loaded");
	seccomp_release(ctx);
	return r;
}

static int
set_limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl);
}

int
sandbox_enter(const struct sandbox_spec *spec, struct sandbox_layers *out,
    char *why, size_t whycap)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whycap, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* No core dump may hold keys or plaintext; no descriptor or task
	 * beyond what the role's limits need. */
	if (set_limit(RLIMIT_CORE, 0) != 0 ||
	    set_limit(RLIMIT_NOFILE, spec->max_files) != 0 ||
	    (out->dropped && set_limit(RLIMIT_NPROC, spec->max_tasks) != 0)) {
		snprintf(why, whycap, "rlimits: %s", strerror(errno));
		return -1;
	}
#ifndef SK_SANITIZER_BUILD
	/* Nobody of our uid may ptrace us or read our memory. (The sanitizer
	 * build leaves this: LeakSanitizer traces its own process.) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(why, whycap, "dumpable: %s", strerror(errno));
		return -1;
	}
#endif
	if (ll_enter(spec, out, why, whycap) != 0)
		return -1;
	/* A seccomp filter outlives execve(2): the spawner's would be the
	 * engine's too, and would have to allow all that the dynamic loader
	 * and the engine's start-up do. The engine enters its own. */
	if (spec->kind == SANDBOX_SPAWNER) {
		out->seccomp_calls = 0;
		out->no_seccomp = 1;
		return 0;
	}
	return seccomp_enter(spec->role, spec->kind, out, why, whycap);
}

void
sandbox_describe(const struct sandbox_layers *l, char *buf, size_t cap)
{
	char who[64], ll[96];

	if (l->dropped)
		snprintf(who, sizeof(who), "root dropped to uid %u gid %u",
		    l->uid, l->gid);
	else
		snprintf(who, sizeof(who), "not started as root (uid %u)",
		    l->uid);
	if (l->landlock_abi > 0)
		snprintf(ll, sizeof(ll), "landlock ABI %d (files%s)",
		    l->landlock_abi, l->landlock_net ? ", TCP ports" : "");
	else
		snprintf(ll, sizeof(ll), "landlock unavailable in this kernel");
	if (l->no_seccomp)
		snprintf(buf, cap, "sandbox: %s; no_new_privs; rlimits; %s; no "
		    "seccomp filter (the programs it starts enter their own)",
		    who, ll);
	else
		snprintf(buf, cap, "sandbox: %s; no_new_privs; rlimits; %s; "
		    "seccomp allow-list of %u calls, anything else kills", who,
		    ll, l->seccomp_calls);
}

long
sandbox_try_call(const char *name)
{
	if (strcmp(name, "getpid") == 0)
		return syscall(SYS_getpid);
	if (strcmp(name, "connect") == 0)
		return syscall(SYS_connect, -1, NULL, 0);
	if (strcmp(name, "bind") == 0)
		return syscall(SYS_bind, -1, NULL, 0);
	if (strcmp(name, "listen") == 0)
		return syscall(SYS_listen, -1, 0);
	if (strcmp(name, "accept") == 0)
		return syscall(SYS_accept, -1, NULL, NULL);
	if (strcmp(name, "accept4") == 0)
		return syscall(SYS_accept4, -1, NULL, NULL, 0);
	if (strcmp(name, "socket") == 0)	/* UDP: no role may */
		return syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	if (strcmp(name, "execve") == 0)
		return syscall(SYS_execve, NULL, NULL, NULL);
	if (strcmp(name, "ptrace") == 0)
		return syscall(SYS_ptrace, PTRACE_PEEKDATA, 0, NULL, NULL);
	if (strcmp(name, "open-file") == 0)	/* Landlock: EACCES */
		return openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (strcmp(name, "open") == 0)	/* no file call at all: SIGSYS */
		return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	return -2;
}

/* path's folder, into buf. */
static const char *
folder_of(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return ".";
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		return NULL;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return buf;
}

/*
 * The store may read the folder of a watched file (a CRL, a CA, its own
 * pair; the vault's main also its policies), unless the service user
 * cannot enter it or the list is full: then a new file there is taken
 * only at a restart, and the process says so at its start when it is a
 * CRL's or a policy's (what names it, else NULL).
 */
static void
watch_folder(struct sandbox_spec *spec, const char *file, const char *what)
{
	static char dirs[SANDBOX_PATHS_MAX][PATH_MAX];
	const char *d;
	size_t k;

	if (file[0] == '\0' || spec->nro >= SANDBOX_PATHS_MAX ||
	    (d = folder_of(file, dirs[spec->nro], sizeof(dirs[0]))) == NULL) {
		if (file[0] != '\0' && what != NULL)
			log_warnx("%s: more folders to watch than the sandbox "
			    "takes: a new %s there is taken only at a restart",
			    file, what);
		return;
	}
	if (access(d, X_OK) != 0) {
		if (what != NULL)
			log_warnx("%s: this user cannot enter it (%s): a new %s "
			    "there is taken only at a restart", d,
			    strerror(errno), what);
		return;
	}
	for (k = 0; k < spec->nro; k++)
		if (strcmp(spec->ro[k], d) == 0)
			return;
	spec->ro[spec->nro++] = d;
}

/* Files the vault's main reads after its start besides those the site
 * names for the others: the tables its policies name, the site file and
 * the operators' keys (sandbox_read_also), one of each folder. */
static struct {
	char folder[PATH_MAX], file[PATH_MAX];
	const char *what;
} also_read[SANDBOX_PATHS_MAX];
static size_t nalso_read;

void
sandbox_read_also(const char *file, const char *what)
{
	char d[PATH_MAX];
	size_t i;

	if (folder_of(file, d, sizeof(d)) == NULL)
		return;
	for (i = 0; i < nalso_read; i++)
		if (strcmp(also_read[i].folder, d) == 0)
			return;
	if (nalso_read == SANDBOX_PATHS_MAX) {
		log_warnx("%s: more folders to watch than the sandbox takes: "
		    "a new %s there is taken only at a restart", file, what);
		return;
	}
	snprintf(also_read[nalso_read].folder, PATH_MAX, "%s", d);
	snprintf(also_read[nalso_read].file, PATH_MAX, "%s", file);
	also_read[nalso_read++].what = what;
}

void
sandbox_spec_for(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind,
    struct sandbox_spec *spec)
{
	static char audit_dir[PATH_MAX];
	const char *d;
	size_t n;

	memset(spec, 0, sizeof(*spec));
	spec->role = local->role;
	spec->kind = kind;
	/* A process that serves the network and one that only waits reach
	 * no file at all (a net process writes and reads only what the
	 * store hands it); Landlock gives them no path. */
	/* A connection not yet authenticated is a socket and a thread. */
	spec->max_files = local->max_connections * 4 +
	    local->max_unauthenticated + 64;
	spec->max_tasks = local->max_connections * 3 +
	    local->max_unauthenticated + 64;
#ifdef SK_SANITIZER_BUILD
	/* LeakSanitizer reads /proc/PID/task and maps (test build only). */
	spec->ro[spec->nro++] = "/proc";
#endif
	if (kind == SANDBOX_NET || kind == SANDBOX_PARENT)
		return;
	if (kind == SANDBOX_PUSH) {
		/* No file (its keys and CAs are loaded before); TCP to the
		 * push recipients' ports only. */
		size_t i;

		spec->max_files = 64;
		for (i = 0; i < site->nrecipients &&
		    spec->nconnect < SANDBOX_PORTS_MAX; i++)
			if (site->recipients[i].push)
				spec->connect_ports[spec->nconnect++] =
				    site->recipients[i].push_port;
		return;
	}
	if (kind == SANDBOX_ENGINE || kind == SANDBOX_CHECKER) {
		/* Its channel, its input and output, stdio, and what the
		 * sanitizer's leak scan opens in the test build. */
		spec->max_files = 32;
		return;
	}
	if (kind == SANDBOX_SPAWNER) {
		/* It writes nowhere; it reads and runs what the loader, the
		 * configuration and the policies need, which it cannot name
		 * one by one (a policy's tables may be anywhere). What it can
		 * reach is what the vault's user may read. */
		spec->ro[spec->nro++] = "/";
		return;
	}
	spec->rw[spec->nrw++] = local->data_dir;
	/* The audit log may live apart from the data (its own disk). */
	n = strlen(local->data_dir);
	if ((strncmp(local->audit_log, local->data_dir, n) != 0 ||
	    local->audit_log[n] != '/') &&
	    (d = folder_of(local->audit_log, audit_dir, sizeof(audit_dir))) !=
	    NULL)
		spec->rw[spec->nrw++] = d;
	if (kind == SANDBOX_STORE) {
		/* The store watches its listeners' CRLs and the host's own
		 * certificate and key (issue 15), and the sender's the push
		 * recipients' endpoint CRLs: it reads the folders of the CRL
		 * and CA files, public data, and of the pair. */
		const struct config_host *h = local->role == ROLE_RECEIVER ?
		    &site->receiver : &site->sender;
		const char *files[6] = { h->external.crl_file,
		    h->external.ca_file, h->internal.crl_file,
		    h->internal.ca_file, local->certificate, local->key };
		size_t i;

		for (i = 0; i < 6; i++)
			watch_folder(spec, files[i], i < 4 ? "CRL" : NULL);
		for (i = 0; local->role == ROLE_SENDER &&
		    i < site->nrecipients; i++)
			if (site->recipients[i].push &&
			    site->recipients[i].endpoint_crl[0] != '\0') {
				watch_folder(spec, site->recipients[i].endpoint_crl, "CRL");
				watch_folder(spec, site->recipients[i].endpoint_ca, "CRL");
			}
	}
	if (local->role == ROLE_VAULT) {
		/* Policies, keys and certificates are loaded before the
		 * sandbox; it reads the folders of its own pair and of the
		 * internal CA (a renewed pair, issue 15) and of the
		 * municipalities' CA and CRL (a new CRL for the engines),
		 * public data and its own key. It connects to the two
		 * internal listeners only. */
		size_t i;

		watch_folder(spec, local->certificate, NULL);
		watch_folder(spec, local->key, NULL);
		watch_folder(spec, site->receiver.internal.ca_file, NULL);
		watch_folder(spec, site->receiver.external.crl_file, "CRL");
		watch_folder(spec, site->receiver.external.ca_file, "CRL");
		/* Its policies and the tables they name, the site file and
		 * the operators' keys: a changed policy or roster is checked
		 * and taken in place (issue 15). */
		for (i = 0; kind == SANDBOX_ALONE && i < site->ndatasets; i++)
			watch_folder(spec, site->datasets[i].policy, "policy");
		for (i = 0; kind == SANDBOX_ALONE && i < nalso_read; i++)
			watch_folder(spec, also_read[i].file, also_read[i].what);
		spec->connect_ports[spec->nconnect++] =
		    site->receiver.internal.port;
		spec->connect_ports[spec->nconnect++] =
		    site->sender.internal.port;
	}
}
