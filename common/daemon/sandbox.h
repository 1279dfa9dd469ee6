/*
 * sandbox.h: privilege drop and the kernel sandbox every daemon enters
 * (R02, R05, R17; DESIGN.md's second layer of one-way).
 *
 * The order is fixed, and each daemon's main file follows it:
 *
 *   1. as root: verify the firewall, read the TLS keys, bind the listeners;
 *   2. sandbox_drop(): setgroups, setresgid, setresuid to the role's user,
 *      then a check that root cannot be regained;
 *   3. open the data folder and the audit log as that user;
 *   4. sandbox_enter(): no_new_privs, rlimits, Landlock (the filesystem
 *      limited to the role's paths, TCP bind and connect to the role's
 *      ports, where the kernel offers it) and a seccomp allow-list that
 *      kills the process on any other system call.
 *
 * Any failure in 2 or 4 is fatal: a daemon never serves half-sandboxed.
 * The receiver's and the sender's processes have no connect(2) and no
 * socket(2); the vault's have no bind(2), listen(2), accept(2) or
 * accept4(2).
 */
#ifndef SK_SANDBOX_H
#define SK_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SANDBOX_PATHS_MAX 16
#define SANDBOX_PORTS_MAX 4

/*
 * Which allow-list and which paths a process gets: the vault's main
 * process gets its role's (SANDBOX_ALONE); every other process its kind's,
 * whatever the role.
 */
enum sandbox_kind {
	SANDBOX_ALONE,		/* the role's list (the vault's main) */
	SANDBOX_NET,		/* TLS and HTTP on sockets it was given; no
				 * file call, no path, no new socket */
	SANDBOX_STORE,		/* keys, data folder, audit log; no socket
				 * but its channel, no thread */
	SANDBOX_PARENT,		/* waits for its children; nothing else */
	SANDBOX_SPAWNER,	/* vault: starts engines and checkers; reads
				 * and runs programs, writes nothing; no
				 * seccomp (a filter would pass to them) */
	SANDBOX_ENGINE,		/* vault: one job on descriptors it was
				 * handed; no file call, no socket */
	SANDBOX_CHECKER,	/* vault: re-reads one release; the same,
				 * and no thread */
	SANDBOX_PUSH,		/* sender: connects to the push recipients'
				 * endpoints only; no file, no listener */
};

struct sandbox_spec {
	enum config_role role;
	enum sandbox_kind kind;
	const char *rw[SANDBOX_PATHS_MAX];	/* folders it writes in */
	size_t nrw;
	const char *ro[SANDBOX_PATHS_MAX];	/* files (or folders) it reads */
	size_t nro;
	uint16_t connect_ports[SANDBOX_PORTS_MAX];	/* TCP it may connect to */
	size_t nconnect;
	unsigned max_files;			/* RLIMIT_NOFILE */
	unsigned max_tasks;			/* RLIMIT_NPROC, after a drop */
};

/* What sandbox_enter() put in place, for the start-up log line. */
struct sandbox_layers {
	int dropped;			/* 1: root was given up */
	unsigned uid, gid;
	int landlock_abi;		/* 0: the kernel has no Landlock */
	int landlock_net;		/* TCP bind/connect rules active */
	unsigned seccomp_calls;		/* system calls on the allow-list */
	int no_seccomp;			/* the spawner: none, on purpose */
};

/*
 * When running as root, becomes user (its uid, its primary group, no
 * supplementary groups) for good, and checks that root cannot be regained
 * and no capability is left. Not root: nothing to drop, 0. Returns 0, or
 * -1 with the reason in why.
 */
int sandbox_drop(const char *user, struct sandbox_layers *out, char *why,
    size_t whycap);

/*
 * Fills a process's spec from its configuration: for a store or a daemon
 * of one process, the data folder and the audit log's folder read-write;
 * for a net process or a parent, no path at all; nothing else (every
 * key, certificate and policy is read before the sandbox); for the vault,
 * the two internal ports it connects to.
 */
/* Before the sandbox: a file the vault's main will read again later (a
 * table a policy names, the site file, an operator's key; what says which,
 * for the log); its folder is added to main's reading. */
void sandbox_read_also(const char *file, const char *what);

void sandbox_spec_for(const struct local_config *local,
    const struct site_config *site, enum sandbox_kind kind,
    struct sandbox_spec *spec);

/*
 * Enters the sandbox for good: PR_SET_NO_NEW_PRIVS, no core dumps (they
 * would hold plaintext), RLIMIT_NOFILE and (after a drop) RLIMIT_NPROC,
 * Landlock where the kernel has it, then the role's seccomp allow-list,
 * applied to every thread. Returns 0 or -1 with the reason in why.
 */
int sandbox_enter(const struct sandbox_spec *spec, struct sandbox_layers *out,
    char *why, size_t whycap);

/* One line for the log: which layers are active. */
void sandbox_describe(const struct sandbox_layers *l, char *buf, size_t cap);

/*
 * The proof, for tests and for an administrator: issues the system call
 * named (connect, bind, listen, accept, accept4, socket, execve, ptrace,
 * or getpid as the control; "open" is openat(2) on a path) with harmless
 * arguments. Inside the sandbox a
 * forbidden one never returns: the kernel kills the process with SIGSYS.
 * "open-file" (/etc/passwd) is an allowed call that Landlock refuses with
 * EACCES. The forbidden calls are made with syscall(2) on descriptor -1, so
 * no program gains a connect(2) or bind(2) import from this. Returns what
 * the call returned, or -2 for an unknown name.
 */
long sandbox_try_call(const char *name);

#endif
