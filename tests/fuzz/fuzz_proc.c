/*
 * fuzz_proc.c: libFuzzer target for the message reader between a daemon's
 * processes (proc_recv and the proc_get_* getters). The input is written to
 * a real socketpair, as a compromised peer process would; each message is
 * then read with getters in an order its own type picks, then proc_end.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads fields until one fails, choosing each from the type's bits. */
static void
walk(struct proc_msg *m)
{
	uint8_t fixed[32], bytes[300];
	char str[64];
	uint32_t u32, op = m->type;
	uint64_t u64;
	size_t n;
	int i;

	for (i = 0; i < 16 && m->error == 0; i++, op >>= 2) {
		switch (op & 3) {
		case 0:
			proc_get_u32(m, &u32);
			break;
		case 1:
			proc_get_u64(m, &u64);
			break;
		case 2:
			if (proc_get_bytes(m, bytes, sizeof(bytes), &n) == 0 &&
			    n > sizeof(bytes))
				__builtin_trap();
			break;
		default:
			if (proc_get_str(m, str, sizeof(str)) == 0 &&
			    strlen(str) >= sizeof(str))
				__builtin_trap();
			proc_get_fixed(m, fixed, 1 + (i % 31));
			break;
		}
	}
	if (proc_end(m) == 0 && m->pos != m->len)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_msg m;
	int sp[2], r;

	/* A socketpair holds this much without a reader. */
	if (size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		return 0;
	if (size > 0 && write(sp[0], data, size) != (ssize_t)size) {
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	close(sp[0]);
	while ((r = proc_recv(sp[1], &m)) == 0) {
		walk(&m);
		proc_msg_free(&m);
	}
	if (r != SK_ETRUNCATED && r != SK_ETOOBIG && r != SK_EFORMAT &&
	    r != SK_ENOMEM)
		__builtin_trap();
	close(sp[1]);
	return 0;
}
