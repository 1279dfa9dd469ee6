/*
 * proc.c: processes and the typed messages between them (see proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sk.h"

#define PROC_GROW_MIN 256

void
proc_msg_init(struct proc_msg *m, uint32_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->fd = -1;
}

void
proc_msg_free(struct proc_msg *m)
{
	if (m->buf != NULL) {
		sk_wipe(m->buf, m->cap);
		free(m->buf);
	}
	if (m->fd != -1)
		close(m->fd);
	proc_msg_init(m, m->type);
}

/* Room for n more bytes; the old buffer is wiped, not just freed. */
static int
reserve(struct proc_msg *m, size_t n)
{
	size_t want, cap;
	uint8_t *nb;

	if (m->error != 0)
		return m->error;
	if (n > PROC_MSG_MAX || m->len > PROC_MSG_MAX - n)
		return m->error = SK_ETOOBIG;
	want = m->len + n;
	if (want <= m->cap)
		return 0;
	cap = m->cap < PROC_GROW_MIN ? PROC_GROW_MIN : m->cap;
	while (cap < want)
		cap = cap > PROC_MSG_MAX / 2 ? PROC_MSG_MAX : cap * 2;
	if ((nb = malloc(cap)) == NULL)
		return m->error = SK_ENOMEM;
	if (m->buf != NULL) {
		memcpy(nb, m->buf, m->len);
		sk_wipe(m->buf, m->cap);
		free(m->buf);
	}
	m->buf = nb;
	m->cap = cap;
	return 0;
}

void
proc_put_fixed(struct proc_msg *m, const void *p, size_t n)
{
	if (n == 0 || reserve(m, n) != 0)
		return;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
proc_put_u32(struct proc_msg *m, uint32_t v)
{
	uint8_t b[4];

	sk_put_be32(b, v);
	proc_put_fixed(m, b, sizeof(b));
}

void
proc_put_u64(struct proc_msg *m, uint64_t v)
{
	proc_put_u32(m, (uint32_t)(v >> 32));
	proc_put_u32(m, (uint32_t)v);
}

void
proc_put_bytes(struct proc_msg *m, const void *p, size_t n)
{
	if (n > PROC_MSG_MAX) {
		if (m->error == 0)
			m->error = SK_ETOOBIG;
		return;
	}
	proc_put_u32(m, (uint32_t)n);
	proc_put_fixed(m, p, n);
}

void
proc_put_str(struct proc_msg *m, const char *s)
{
	if (s == NULL)
		s = "";
	proc_put_bytes(m, s, strlen(s));
}

/* sendmsg until every byte is out; the descriptor rides on the first. */
static int
send_all(int chan, const uint8_t *head, const uint8_t *body, size_t blen,
    int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)head, .iov_len = PROC_HEAD_LEN },
		{ .iov_base = (void *)(uintptr_t)body, .iov_len = blen },
	};
	struct msghdr mh;
	size_t left = PROC_HEAD_LEN + blen, done;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = blen > 0 ? 2 : 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	while (left > 0) {
		n = sendmsg(chan, &mh, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return SK_ESYS;
		left -= (size_t)n;
		mh.msg_control = NULL;	/* sent with the first byte */
		mh.msg_controllen = 0;
		/* Step the iovecs past what went. */
		for (done = (size_t)n; done > 0 && mh.msg_iovlen > 0;) {
			if (done >= mh.msg_iov[0].iov_len) {
				done -= mh.msg_iov[0].iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov[0].iov_base =
				    (uint8_t *)mh.msg_iov[0].iov_base + done;
				mh.msg_iov[0].iov_len -= done;
				done = 0;
			}
		}
	}
	return 0;
}

int
proc_send(int chan, const struct proc_msg *m, int fd)
{
	uint8_t head[PROC_HEAD_LEN];

	if (m->error != 0)
		return m->error;
	sk_put_be32(head, m->type);
	sk_put_be32(head + 4, (uint32_t)m->len);
	return send_all(chan, head, m->buf, m->len, fd);
}

/* Reads exactly n bytes (the first call may bring a descriptor). */
static int
recv_exact(int chan, uint8_t *p, size_t n, int *fd, int *nfds)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	size_t got = 0, k, nf;
	ssize_t r;
	int fds[2];

	while (got < n) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = p + got;
		iov.iov_len = n - got;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		r = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return SK_ESYS;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		    c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			nf = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (nf > 2)
				nf = 2;
			memcpy(fds, CMSG_DATA(c), nf * sizeof(int));
			for (k = 0; k < nf; k++) {
				if (*fd == -1)
					*fd = fds[k];
				else
					close(fds[k]);
				(*nfds)++;
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			(*nfds) += 2;	/* descriptors were lost: refuse */
		if (r == 0)
			return SK_ETRUNCATED;
		got += (size_t)r;
	}
	return 0;
}

int
proc_recv(int chan, struct proc_msg *m)
{
	uint8_t head[PROC_HEAD_LEN];
	uint32_t len;
	int fd = -1, nfds = 0, r;

	proc_msg_init(m, 0);
	if ((r = recv_exact(chan, head, sizeof(head), &fd, &nfds)) != 0)
		goto fail;
	m->type = sk_get_be32(head);
	len = sk_get_be32(head + 4);
	if (len > PROC_MSG_MAX) {
		r = SK_ETOOBIG;
		goto fail;
	}
	if (len > 0) {
		if ((m->buf = malloc(len)) == NULL) {
			r = SK_ENOMEM;
			goto fail;
		}
		m->cap = len;
		if ((r = recv_exact(chan, m->buf, len, &fd, &nfds)) != 0)
			goto fail;
	}
	m->len = len;
	if (nfds > 1) {
		r = SK_EFORMAT;
		goto fail;
	}
	m->fd = fd;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	m->fd = -1;
	proc_msg_free(m);
	return r;
}

int
proc_get_fixed(struct proc_msg *m, void *out, size_t n)
{
	if (m->error != 0)
		return m->error;
	if (n > m->len - m->pos)
		return m->error = SK_EFORMAT;
	if (n > 0)
		memcpy(out, m->buf + m->pos, n);
	m->pos += n;
	return 0;
}

int
proc_get_u32(struct proc_msg *m, uint32_t *v)
{
	uint8_t b[4];
	int r;

	if ((r = proc_get_fixed(m, b, sizeof(b))) != 0)
		return r;
	*v = sk_get_be32(b);
	return 0;
}

int
proc_get_u64(struct proc_msg *m, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if ((r = proc_get_u32(m, &hi)) != 0 || (r = proc_get_u32(m, &lo)) != 0)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
proc_get_bytes(struct proc_msg *m, void *out, size_t cap, size_t *n)
{
	uint32_t len;
	int r;

	if ((r = proc_get_u32(m, &len)) != 0)
		return r;
	if (len > cap)
		return m->error = SK_EFORMAT;
	if ((r = proc_get_fixed(m, out, len)) != 0)
		return r;
	*n = len;
	return 0;
}

int
proc_get_str(struct proc_msg *m, char *out, size_t cap)
{
	size_t n = 0;
	int r;

	if (cap == 0)
		return m->error = SK_EINVAL;
	if ((r = proc_get_bytes(m, out, cap - 1, &n)) != 0)
		return r;
	if (memchr(out, '\0', n) != NULL)
		return m->error = SK_EFORMAT;
	out[n] = '\0';
	return 0;
}

int
proc_end(const struct proc_msg *m)
{
	return m->error == 0 && m->pos == m->len ? 0 : SK_EFORMAT;
}

int
proc_take_fd(struct proc_msg *m)
{
	int fd = m->fd;

	m->fd = -1;
	return fd;
}

int
proc_self_path(char *out, size_t cap)
{
	ssize_t n;

	if ((n = readlink("/proc/self/exe", out, cap)) <= 0 ||
	    (size_t)n >= cap)
		return SK_ESYS;
	out[n] = '\0';
	return 0;
}

void
proc_die_with_parent(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		fatalx("PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() == 1)
		_exit(1);	/* the parent is gone already */
}

/* In the child: the kept descriptors to 3, 4, ..., nothing else above 2. */
static void
child_fds(const int *keep, size_t n)
{
	int high[8];
	size_t i;

	if (n > SK_ARRAY_LEN(high))
		_exit(127);
	/* Out of the way first, so that moving one cannot clobber another. */
	for (i = 0; i < n; i++)
		if ((high[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 64)) == -1)
			_exit(127);
	for (i = 0; i < n; i++)
		if (dup2(high[i], PROC_CHILD_FD + (int)i) == -1)
			_exit(127);
	if (close_range(PROC_CHILD_FD + (unsigned)n, ~0u, 0) != 0)
		_exit(127);
}

int
proc_spawn(const char *path, char *const argv[], const int *keep, size_t n,
    pid_t *pid)
{
	pid_t parent = getpid(), p;
	sigset_t all, old;

	/* No handler of ours may run in the child before exec. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((p = fork()) == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return SK_ESYS;
	}
	if (p == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
		    getppid() != parent)
			_exit(127);
		child_fds(keep, n);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execv(path, argv);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	*pid = p;
	return 0;
}

static void
signal_all(struct proc_child *kids, size_t n, int sig)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kids[i].pid > 0 && kill(kids[i].pid, sig) != 0)
			log_warnx("cannot signal the %s process: %s",
			    kids[i].name, strerror(errno));
}

static size_t
alive(const struct proc_child *kids, size_t n)
{
	size_t i, a = 0;

	for (i = 0; i < n; i++)
		a += kids[i].pid > 0;
	return a;
}

/* Reaps what has ended; returns 1 if any child ended. */
static int
reap(struct proc_child *kids, size_t n, int *bad)
{
	int status, any = 0;
	size_t i;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (kids[i].pid != p)
				continue;
			kids[i].pid = 0;
			kids[i].status = status;
			any = 1;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				log_info("%s process ended", kids[i].name);
			else {
				*bad = 1;
				if (WIFSIGNALED(status))
					log_warnx("%s process killed by signal "
					    "%d%s", kids[i].name,
					    WTERMSIG(status),
					    WTERMSIG(status) == SIGSYS ?
					    " (a system call its sandbox "
					    "forbids)" : "");
				else
					log_warnx("%s process exited with "
					    "status %d", kids[i].name,
					    WEXITSTATUS(status));
			}
		}
	}
	return any;
}

int
proc_supervise(struct proc_child *kids, size_t n,
    volatile sig_atomic_t *stop, volatile sig_atomic_t *hup, unsigned grace_s)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	unsigned ticks = 0, limit = grace_s * 20;
	int stopping = 0, bad = 0;

	while (alive(kids, n) > 0) {
		if (reap(kids, n, &bad) && !stopping && !*stop) {
			/* One ended unasked: the others go too, and the
			 * service manager starts the daemon afresh. */
			bad = 1;
			stopping = 1;
			signal_all(kids, n, SIGTERM);
		}
		if (hup != NULL && *hup) {
			*hup = 0;
			log_info("SIGHUP: passed on to the %s process",
			    kids[0].name);
			if (n > 0 && kids[0].pid > 0)
				kill(kids[0].pid, SIGHUP);
		}
		if (*stop && !stopping) {
			stopping = 1;
			if (n > 0 && kids[0].pid > 0 &&
			    kill(kids[0].pid, SIGTERM) != 0)
				log_warnx("cannot stop the %s process: %s",
				    kids[0].name, strerror(errno));
		}
		if (stopping && ++ticks == limit) {
			log_warnx("processes still running %u s after the "
			    "stop: killed", grace_s);
			signal_all(kids, n, SIGKILL);
			bad = 1;
		}
		nanosleep(&tick, NULL);
	}
	return bad ? 1 : 0;
}

/* ---- requests and replies ---- */

void
proc_chan_init(struct proc_chan *ch, int fd, const char *peer)
{
	ch->fd = fd;
	ch->peer = peer;
	pthread_mutex_init(&ch->lock, NULL);
}

void
proc_call(struct proc_chan *ch, struct proc_msg *req, int fd,
    struct proc_reply *rep)
{
	uint32_t type = req->type;
	int r;

	pthread_mutex_lock(&ch->lock);
	r = proc_send(ch->fd, req, fd);
	if (r == 0)
		r = proc_recv(ch->fd, &rep->msg);
	pthread_mutex_unlock(&ch->lock);
	proc_msg_free(req);
	if (r != 0)
		fatalx("%s: %s; ending", ch->peer, sk_strerror(r));
	if (rep->msg.type != (type | PROC_REPLY))
		fatalx("%s answered request %u with %u; ending", ch->peer, type,
		    rep->msg.type);
	proc_get_u32(&rep->msg, &rep->status);
	proc_get_str(&rep->msg, rep->reason, sizeof(rep->reason));
	if (rep->msg.error != 0)
		fatalx("a malformed reply from %s; ending", ch->peer);
}

void
proc_reply_end(struct proc_chan *ch, struct proc_reply *rep)
{
	if (proc_end(&rep->msg) != 0)
		fatalx("a malformed reply %u from %s; ending", rep->msg.type,
		    ch->peer);
	proc_msg_free(&rep->msg);
}

void
proc_reply_begin(struct proc_msg *rep, uint32_t type, uint32_t status,
    const char *reason)
{
	proc_msg_init(rep, type | PROC_REPLY);
	proc_put_u32(rep, status);
	proc_put_str(rep, reason);
}

void
proc_reply_send(int chan, struct proc_msg *rep, int fd)
{
	if (proc_send(chan, rep, fd) != 0)
		fatalx("cannot answer the net process: %s", strerror(errno));
	proc_msg_free(rep);
}

void
proc_reply_status(int chan, uint32_t type, uint32_t status,
    const char *reason)
{
	struct proc_msg rep;

	proc_reply_begin(&rep, type, status, reason);
	proc_reply_send(chan, &rep, -1);
}

void
proc_malformed(const struct proc_msg *m, const char *what)
{
	fatalx("request %u from the net process: %s; ending", m->type, what);
}

void
proc_expect_end(const struct proc_msg *m)
{
	if (proc_end(m) != 0)
		proc_malformed(m, "malformed");
}
