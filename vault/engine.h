/*
 * engine.h: the vault's processes and the messages between them (R17).
 *
 *   parent     (root, then the vault's user) starts main and spawner,
 *              passes a stop on, and waits
 *   main       the master key, the data, the jobs, the TLS client, the
 *              operators' keys and the envelope key: pulls, seals,
 *              approves, publishes; never parses an upload itself
 *   spawner    no key, no data: on main's request, fork+execs an engine
 *              or a checker with one end of a fresh socketpair and hands
 *              main the other end; reports how each ended
 *   engine     one per job: opens the envelope (with the envelope key main
 *              hands it, wiped after) and runs the anonymization from the
 *              descriptor main feeds to the descriptor main collects; its
 *              pseudonym key is born and wiped inside it
 *   checker    one per release: re-reads it and recounts (check.h)
 *
 * The engine and the checker load their policy before their sandbox
 * closes; from then on they have no file and no socket call, and only the
 * descriptors they were handed. Every message is checked field by field;
 * a process ends on one it did not expect.
 */
#ifndef VAULT_ENGINE_H
#define VAULT_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum vault_msg {
	/* main -> spawner */
	VMSG_SPAWN = 1,		/* str part ("engine"|"checker"), str policy */
	/* spawner -> main */
	VMSG_SPAWNED,		/* u32 pid; fd: main's end of the channel */
	VMSG_EXITED,		/* u32 pid, u32 wait status */
	/* main -> engine */
	VMSG_JOB,		/* u32 flags, str municipality identity,
				 * bytes cert, bytes key, bytes ca, bytes crl,
				 * u64 input bytes; fd: the input */
	VMSG_OUTPUT,		/* fd: where the release goes */
	/* engine -> main */
	VMSG_OPENED,		/* u64 plaintext bytes (envelopes only) */
	VMSG_DONE,		/* u32 outcome, str why, str report */
	/* main -> checker */
	VMSG_CHECK,		/* str report; fd: the release */
	/* checker -> main */
	VMSG_CHECKED,		/* u32 0 (holds) or 1, str why */
	/* main -> engine, checker: the first message */
	VMSG_POLICY,		/* bytes: the policy's text, as main checked it */
};

#define ENGINE_ENVELOPE 1u	/* the input is CMS enveloped data */
#define ENGINE_SIGNED 2u	/* ... holding the municipality's signature */
#define ENGINE_NO_MY_NUMBERS 4u	/* R29: the dataset may not carry them */

enum engine_outcome {
	ENGINE_MADE,		/* a release and its report */
	ENGINE_REJECTED,	/* the envelope cannot be opened or verified */
	ENGINE_FAILED,		/* the data does not go under the policy */
};

#define ENGINE_PEM_MAX (4u << 20)	/* a CA bundle or CRL handed over */
#define ENGINE_REPORT_MAX (1u << 20)
#define ENGINE_POLICY_MAX (4u << 20)	/* a policy's text handed over */

/* The processes' entry points (`sekisho-vault -c LOCAL proc PART ...`). */
int engine_main(const struct local_config *local,
    const struct site_config *site, const char *policy);
int checker_main(const struct local_config *local,
    const struct site_config *site, const char *policy);
int spawner_main(const char *conf, const struct local_config *local,
    const struct site_config *site);

/* Main's side: asks the spawner for a part under policy p and hands it
 * p's text (the part reads no policy file: it runs what main checked,
 * whatever the file says now); *chan is main's end. */
struct policy;
int engine_spawn(int spawner, const char *part, const struct policy *p,
    int *chan, pid_t *pid, char *why, size_t whycap);
/* Main's side: how that part ended (its wait status). */
int engine_reaped(int spawner, pid_t pid, int *status);
/* "exit 0", "killed by signal 31 (SIGSYS: a call outside its sandbox)". */
void engine_status_text(int status, char *buf, size_t cap);

#endif
