/*
 * test_proc.c: the typed messages between a daemon's processes (R17):
 * fields round-trip, every getter checks what is there, nothing may be
 * left over, descriptors travel, and a peer that closes or lies about a
 * length is an error, never a read past the end; a request gets its reply,
 * and a reply out of turn ends the asker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"
#include "sk.h"

static void
pair(int sp[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sp), 0);
}

/* Sends m on a fresh channel and receives it into *out. */
static void
round_trip(struct proc_msg *m, int fd, struct proc_msg *out)
{
	int sp[2];

	pair(sp);
	assert_int_equal(proc_send(sp[0], m, fd), 0);
	assert_int_equal(proc_recv(sp[1], out), 0);
	close(sp[0]);
	close(sp[1]);
}

static void
test_fields_round_trip(void **state)
{
	struct proc_msg m, r;
	uint8_t fixed[4] = { 1, 2, 3, 4 }, got4[4], bytes[8];
	char str[16];
	uint32_t u32;
	uint64_t u64;
	size_t n;

	(void)state;
	proc_msg_init(&m, 7);
	proc_put_u32(&m, 0xdeadbeef);
	proc_put_u64(&m, UINT64_MAX - 1);
	proc_put_fixed(&m, fixed, sizeof(fixed));
	proc_put_bytes(&m, "\0ab", 3);
	proc_put_str(&m, "muni:131156");
	proc_put_str(&m, NULL);
	round_trip(&m, -1, &r);
	assert_int_equal(r.type, 7);
	assert_int_equal(r.fd, -1);
	assert_int_equal(proc_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(proc_get_u64(&r, &u64), 0);
	assert_true(u64 == UINT64_MAX - 1);
	assert_int_equal(proc_get_fixed(&r, got4, sizeof(got4)), 0);
	assert_memory_equal(got4, fixed, 4);
	assert_int_equal(proc_get_bytes(&r, bytes, sizeof(bytes), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(bytes, "\0ab", 3);
	assert_int_equal(proc_get_str(&r, str, sizeof(str)), 0);
	assert_string_equal(str, "muni:131156");
	assert_int_equal(proc_get_str(&r, str, sizeof(str)), 0);
	assert_string_equal(str, "");
	assert_int_equal(proc_end(&r), 0);
	proc_msg_free(&m);
	proc_msg_free(&r);
}

static void
test_left_over_bytes_fail_the_end(void **state)
{
	struct proc_msg m, r;
	uint32_t v;

	(void)state;
	proc_msg_init(&m, 1);
	proc_put_u32(&m, 1);
	proc_put_u32(&m, 2);
	round_trip(&m, -1, &r);
	assert_int_equal(proc_get_u32(&r, &v), 0);
	assert_int_equal(proc_end(&r), SK_EFORMAT);
	proc_msg_free(&m);
	proc_msg_free(&r);
}

/* A short field fails, and so does every getter after it. */
static void
test_short_field_is_sticky(void **state)
{
	struct proc_msg m, r;
	uint8_t two[2] = { 0, 1 };
	uint64_t v64 = 99;
	uint32_t v;

	(void)state;
	proc_msg_init(&m, 1);
	proc_put_fixed(&m, two, sizeof(two));
	round_trip(&m, -1, &r);
	assert_int_equal(proc_get_u32(&r, &v), SK_EFORMAT);
	assert_int_equal(proc_get_fixed(&r, two, 1), SK_EFORMAT);
	assert_int_equal(proc_get_u64(&r, &v64), SK_EFORMAT);
	assert_true(v64 == 99);		/* out-parameters untouched */
	assert_int_equal(proc_end(&r), SK_EFORMAT);
	proc_msg_free(&m);
	proc_msg_free(&r);
}

/* A length that claims more than the message holds, a string longer than
 * the reader's buffer, and a NUL inside text. */
static void
test_lengths_and_text_are_checked(void **state)
{
	struct proc_msg m, r;
	char small[4], str[16];
	uint8_t buf[8];
	size_t n;

	(void)state;
	proc_msg_init(&m, 2);
	proc_put_u32(&m, 1000);		/* a length, but 3 bytes follow */
	proc_put_fixed(&m, "abc", 3);
	round_trip(&m, -1, &r);
	assert_int_equal(proc_get_bytes(&r, buf, sizeof(buf), &n), SK_EFORMAT);
	proc_msg_free(&m);
	proc_msg_free(&r);

	proc_msg_init(&m, 2);
	proc_put_str(&m, "abcd");	/* needs 5 with its NUL */
	round_trip(&m, -1, &r);
	assert_int_equal(proc_get_str(&r, small, sizeof(small)), SK_EFORMAT);
	proc_msg_free(&m);
	proc_msg_free(&r);

	proc_msg_init(&m, 2);
	proc_put_bytes(&m, "ab\0cd", 5);
	round_trip(&m, -1, &r);
	assert_int_equal(proc_get_str(&r, str, sizeof(str)), SK_EFORMAT);
	proc_msg_free(&m);
	proc_msg_free(&r);
}

static void
test_descriptor_travels(void **state)
{
	struct proc_msg m, r;
	char got[6] = { 0 };
	int pfd[2], fd;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	proc_msg_init(&m, 3);
	proc_put_u32(&m, 5);
	round_trip(&m, pfd[1], &r);
	close(pfd[1]);
	assert_int_not_equal(r.fd, -1);
	fd = proc_take_fd(&r);
	assert_int_equal(r.fd, -1);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(read(pfd[0], got, 5), 5);
	assert_string_equal(got, "hello");
	close(pfd[0]);
	proc_msg_free(&m);
	proc_msg_free(&r);
}

/* Two descriptors on one message: refused, and neither is kept. */
static void
test_two_descriptors_refused(void **state)
{
	uint8_t head[PROC_HEAD_LEN] = { 0, 0, 0, 1, 0, 0, 0, 0 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = head, .iov_len = sizeof(head) };
	struct msghdr mh;
	struct proc_msg r;
	int sp[2], fds[2] = { 0, 1 };

	(void)state;
	pair(sp);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.space;
	mh.msg_controllen = sizeof(cm.space);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(&cm.h), fds, sizeof(fds));
	assert_int_equal(sendmsg(sp[0], &mh, 0), (ssize_t)sizeof(head));
	assert_int_equal(proc_recv(sp[1], &r), SK_EFORMAT);
	assert_int_equal(r.fd, -1);
	close(sp[0]);
	close(sp[1]);
}

/* The peer closes between messages, or in the middle of one. */
static void
test_peer_gone_is_truncated(void **state)
{
	uint8_t head[PROC_HEAD_LEN] = { 0, 0, 0, 1, 0, 0, 0, 10 };
	struct proc_msg r;
	int sp[2];

	(void)state;
	pair(sp);
	close(sp[0]);
	assert_int_equal(proc_recv(sp[1], &r), SK_ETRUNCATED);
	close(sp[1]);

	pair(sp);
	assert_int_equal(write(sp[0], head, sizeof(head)), (ssize_t)sizeof(head));
	assert_int_equal(write(sp[0], "abc", 3), 3);
	close(sp[0]);
	assert_int_equal(proc_recv(sp[1], &r), SK_ETRUNCATED);
	assert_null(r.buf);
	close(sp[1]);
}

/* A length over the maximum is refused before anything is allocated. */
static void
test_length_over_max_refused(void **state)
{
	uint8_t head[PROC_HEAD_LEN] = { 0, 0, 0, 1 };
	struct proc_msg r;
	int sp[2];

	(void)state;
	sk_put_be32(head + 4, PROC_MSG_MAX + 1);
	pair(sp);
	assert_int_equal(write(sp[0], head, sizeof(head)), (ssize_t)sizeof(head));
	assert_int_equal(proc_recv(sp[1], &r), SK_ETOOBIG);
	close(sp[0]);
	close(sp[1]);
}

/* A message cannot be built past the maximum, and is then not sent. */
static void
test_put_past_max_is_refused(void **state)
{
	struct proc_msg m;
	uint8_t *big;
	int sp[2];

	(void)state;
	assert_non_null(big = calloc(1, PROC_MSG_MAX));
	proc_msg_init(&m, 1);
	proc_put_fixed(&m, big, PROC_MSG_MAX);
	assert_int_equal(m.error, 0);
	proc_put_u32(&m, 1);
	assert_int_equal(m.error, SK_ETOOBIG);
	pair(sp);
	assert_int_equal(proc_send(sp[0], &m, -1), SK_ETOOBIG);
	close(sp[0]);
	close(sp[1]);
	proc_msg_free(&m);
	free(big);
}

/* A message larger than the socket buffer arrives whole (a child sends
 * it while this process reads). */
static void
test_large_message_arrives_whole(void **state)
{
	const size_t len = 3u << 20;
	struct proc_msg m, r;
	uint8_t *big, *got;
	size_t n, i;
	int sp[2], status;
	pid_t pid;

	(void)state;
	assert_non_null(big = malloc(len));
	assert_non_null(got = malloc(len));
	for (i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7);
	pair(sp);
	if ((pid = fork()) == 0) {
		int e;

		close(sp[1]);
		proc_msg_init(&m, 9);
		proc_put_bytes(&m, big, len);
		e = proc_send(sp[0], &m, -1);
		/* valgrind checks the child's leaks too. */
		proc_msg_free(&m);
		free(big);
		free(got);
		close(sp[0]);
		_exit(e == 0 ? 0 : 1);
	}
	close(sp[0]);
	assert_int_equal(proc_recv(sp[1], &r), 0);
	assert_int_equal(proc_get_bytes(&r, got, len, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(got, big, len);
	assert_int_equal(proc_end(&r), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	proc_msg_free(&r);
	close(sp[1]);
	free(big);
	free(got);
}

/* The answering side, in a child: one reply to one request, of the type
 * asked (or, with wrong_type, of another). */
static pid_t
answerer(int chan, int wrong_type)
{
	struct proc_msg req, rep;
	uint32_t v = 0;
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	if (proc_recv(chan, &req) != 0 || proc_get_u32(&req, &v) != 0 ||
	    proc_end(&req) != 0)
		_exit(2);
	proc_reply_begin(&rep, wrong_type ? req.type + 1 : req.type, 507,
	    "no room");
	proc_put_u32(&rep, v + 1);
	proc_reply_send(chan, &rep, -1);
	proc_msg_free(&req);
	_exit(0);
}

static void
test_call_gets_its_reply(void **state)
{
	struct proc_chan ch;
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t v = 0;
	int sp[2], status;
	pid_t pid;

	(void)state;
	pair(sp);
	pid = answerer(sp[1], 0);
	proc_chan_init(&ch, sp[0], "the test's answerer");
	proc_msg_init(&req, 5);
	proc_put_u32(&req, 41);
	proc_call(&ch, &req, -1, &rep);
	assert_int_equal(rep.msg.type, 5 | PROC_REPLY);
	assert_int_equal(rep.status, 507);
	assert_string_equal(rep.reason, "no room");
	assert_int_equal(proc_get_u32(&rep.msg, &v), 0);
	assert_int_equal(v, 42);
	proc_reply_end(&ch, &rep);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sp[0]);
	close(sp[1]);
}

/* A reply of another type than the request ends the asking process. */
static void
test_reply_out_of_turn_ends_the_caller(void **state)
{
	struct proc_chan ch;
	struct proc_msg req;
	struct proc_reply rep;
	int sp[2], status;
	pid_t asker, pid;

	(void)state;
	pair(sp);
	pid = answerer(sp[1], 1);
	if ((asker = fork()) == 0) {
		proc_chan_init(&ch, sp[0], "the test's answerer");
		proc_msg_init(&req, 5);
		proc_put_u32(&req, 1);
		proc_call(&ch, &req, -1, &rep);
		_exit(0);		/* not reached: fatal above */
	}
	assert_int_equal(waitpid(asker, &status, 0), asker);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(sp[0]);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_round_trip),
		cmocka_unit_test(test_left_over_bytes_fail_the_end),
		cmocka_unit_test(test_short_field_is_sticky),
		cmocka_unit_test(test_lengths_and_text_are_checked),
		cmocka_unit_test(test_descriptor_travels),
		cmocka_unit_test(test_two_descriptors_refused),
		cmocka_unit_test(test_peer_gone_is_truncated),
		cmocka_unit_test(test_length_over_max_refused),
		cmocka_unit_test(test_put_past_max_is_refused),
		cmocka_unit_test(test_large_message_arrives_whole),
		cmocka_unit_test(test_call_gets_its_reply),
		cmocka_unit_test(test_reply_out_of_turn_ends_the_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
