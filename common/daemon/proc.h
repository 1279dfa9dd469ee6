/*
 * proc.h: a daemon's processes and the typed messages between them
 * (privilege separation, R17).
 *
 * A daemon's parent fork+execs each of its processes (a fresh image: no copy
 * of the parent's memory survives) and hands it one end of a UNIX socketpair
 * made before any privilege is dropped. On that channel the processes speak
 * in messages:
 *
 *   type (u32, big-endian)  length (u32, big-endian)  payload (length bytes)
 *
 * with at most one descriptor riding on a message (SCM_RIGHTS). A payload
 * is a sequence of fields written with proc_put_* and read back, in the
 * same order, with proc_get_*: fixed-size integers, byte strings with a
 * length, and text (a length, bytes, no NUL). Every getter checks that the
 * field is there in full; proc_end() checks that nothing is left over. A
 * getter that fails marks the message, so a handler may read all its fields
 * and check once: the receiving daemon ends on a malformed message (it
 * trusts its peer's bytes no more than the network's).
 *
 * Models: OpenSMTPD's m_get_*() and m_end(), OpenBSD's imsg. Nothing here
 * allocates more than PROC_MSG_MAX for one message.
 */
#ifndef SK_PROC_H
#define SK_PROC_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_MSG_MAX (8u << 20)	/* payload bytes in one message */
#define PROC_HEAD_LEN 8
#define PROC_CHILD_FD 3		/* a child's channel to its parent */

struct proc_msg {
	uint32_t type;
	uint8_t *buf;		/* payload: built, or received */
	size_t len;		/* bytes of payload */
	size_t cap;		/* allocated */
	size_t pos;		/* read position */
	int fd;			/* the descriptor that came with it, or -1 */
	int error;		/* 0, or the first getter's or putter's error */
};

/* Starts an empty message of a type for sending. */
void proc_msg_init(struct proc_msg *m, uint32_t type);

/* Wipes the payload (it may hold keys), frees it, and closes a received
 * descriptor that nobody took (proc_take_fd). The message can be reused. */
void proc_msg_free(struct proc_msg *m);

/* Appending fields. Errors (SK_ENOMEM, SK_ETOOBIG past PROC_MSG_MAX) are
 * kept in m->error and returned by proc_send. */
void proc_put_u32(struct proc_msg *m, uint32_t v);
void proc_put_u64(struct proc_msg *m, uint64_t v);
void proc_put_fixed(struct proc_msg *m, const void *p, size_t n);
void proc_put_bytes(struct proc_msg *m, const void *p, size_t n);
/* Text: NULL is sent as the empty string. */
void proc_put_str(struct proc_msg *m, const char *s);

/*
 * Sends m (and fd, unless it is -1; the caller keeps its own copy) on chan,
 * all of it, retrying on EINTR. Returns 0, m->error, or SK_ESYS.
 */
int proc_send(int chan, const struct proc_msg *m, int fd);

/*
 * Receives one whole message into m (initialized by this call). Returns 0;
 * SK_ETRUNCATED when the peer closed the channel (cleanly, between
 * messages, or in the middle of one); SK_ETOOBIG for a length over
 * PROC_MSG_MAX; SK_EFORMAT for more than one descriptor; SK_ESYS.
 */
int proc_recv(int chan, struct proc_msg *m);

/* Reading fields in order. Each returns 0, or SK_EFORMAT when the field is
 * missing, short, too long for out, or (text) holds a NUL; m->error then
 * stays set and later getters fail too. */
int proc_get_u32(struct proc_msg *m, uint32_t *v);
int proc_get_u64(struct proc_msg *m, uint64_t *v);
int proc_get_fixed(struct proc_msg *m, void *out, size_t n);
/* A byte string of at most cap bytes into out; its length in *n. */
int proc_get_bytes(struct proc_msg *m, void *out, size_t cap, size_t *n);
/* Text into out (cap includes the terminating NUL). */
int proc_get_str(struct proc_msg *m, char *out, size_t cap);

/* 0 when every field was read without error and nothing is left over;
 * else SK_EFORMAT. */
int proc_end(const struct proc_msg *m);

/* The received descriptor, now the caller's (-1 if none came). */
int proc_take_fd(struct proc_msg *m);

/*
 * fork+exec of path with argv. In the child the descriptors keep[0..n-1]
 * become 3, 4, ... (PROC_CHILD_FD first), every other descriptor above 2 is
 * closed, and the child is killed if this process dies
 * (PR_SET_PDEATHSIG). Returns 0 with the child's pid, or SK_ESYS.
 */
int proc_spawn(const char *path, char *const argv[], const int *keep,
    size_t n, pid_t *pid);

/*
 * In a child, after its privilege drop (which clears it): asks again to be
 * killed when the parent dies, and exits at once if it has died already.
 */
void proc_die_with_parent(void);

/* The path of the running program (/proc/self/exe), for proc_spawn. */
int proc_self_path(char *out, size_t cap);

/*
 * Requests and replies. One process asks (a daemon's net process, from any
 * of its threads, one request at a time under the channel's lock), the
 * other answers each request with exactly one reply of the same type with
 * PROC_REPLY set. A reply begins with a status (0: go on; otherwise an HTTP
 * status for the asker to answer) and a reason. Either side ends on a
 * broken channel or a message out of place: they trust each other's bytes
 * no more than the network's.
 */
#define PROC_REPLY 0x80000000u
#define PROC_REASON_MAX 256

struct proc_chan {
	int fd;
	pthread_mutex_t lock;		/* one request at a time */
	const char *peer;		/* "the store process": for the log */
};

struct proc_reply {
	struct proc_msg msg;
	uint32_t status;
	char reason[PROC_REASON_MAX];
};

void proc_chan_init(struct proc_chan *ch, int fd, const char *peer);

/*
 * Sends req (and fd, unless -1), frees it, receives the reply and reads its
 * status and reason; the caller reads the rest and calls proc_reply_end.
 */
void proc_call(struct proc_chan *ch, struct proc_msg *req, int fd,
    struct proc_reply *rep);
/* Checks that the reply was read to its end, and frees it. */
void proc_reply_end(struct proc_chan *ch, struct proc_reply *rep);

/* The answering side: a reply's first fields; sending it (and freeing). */
void proc_reply_begin(struct proc_msg *rep, uint32_t type, uint32_t status,
    const char *reason);
void proc_reply_send(int chan, struct proc_msg *rep, int fd);
/* A reply of a status and a reason alone. */
void proc_reply_status(int chan, uint32_t type, uint32_t status,
    const char *reason);
/* Ends the answering process: a request it should never have had. */
void proc_malformed(const struct proc_msg *m, const char *what)
    __attribute__((noreturn));
/* proc_malformed unless every field was read and nothing is left. */
void proc_expect_end(const struct proc_msg *m);

struct proc_child {
	const char *name;	/* "net", "store": for the log */
	pid_t pid;		/* 0 once reaped */
	int status;		/* its wait status, once reaped */
};

/*
 * The parent's loop: waits for its children. On *stop it sends SIGTERM to
 * the first child (the one that serves the network: it finishes what it is
 * doing, and the others follow when their channel closes). When a child
 * ends unasked, every other one is sent SIGTERM. Children still alive
 * `grace_s` seconds after the first SIGTERM are killed. Returns 0 when
 * every child exited with status 0 after a stop, else 1.
 * On *hup (SIGHUP) it sends SIGHUP to the first child.
 */
int proc_supervise(struct proc_child *kids, size_t n,
    volatile sig_atomic_t *stop, volatile sig_atomic_t *hup, unsigned grace_s);

#endif
