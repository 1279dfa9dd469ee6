/*
 * daemon_parent.c: `run` of a daemon made of a parent, a net process and a
 * store process (the receiver, the sender; see daemon.h). Apart from
 * daemon.c so that a program that never listens (the vault) links no
 * bind(2), listen(2) or accept(2): the construction checks look.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "proc.h"
#include "server.h"

int
daemon_run_parent(const char *program, const char *conf,
    const struct local_config *local, const struct site_config *site,
    const struct config_listener *external,
    const struct config_listener *internal, unsigned grace_s)
{
	struct proc_child kids[2] = { { .name = "net" }, { .name = "store" } };
	char self[4096], why[512];
	int lfd[2], sp[2], fds[3];

	/* Nothing that whoever started us left open comes along. */
	if (close_range(3, ~0u, 0) != 0)
		fatalx("close_range: %s", strerror(errno));
	log_init(program, local->use_syslog, (enum log_level)local->log_level);
	/* As root: the firewall check and the listening sockets. */
	if (local->require_firewall)
		daemon_require_firewall(local);
	if (srv_listen(external, &lfd[0], why, sizeof(why)) != 0 ||
	    srv_listen(internal, &lfd[1], why, sizeof(why)) != 0)
		fatalx("listener: %s", why);
	if (proc_self_path(self, sizeof(self)) != 0)
		fatalx("cannot find this program: %s", strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fatalx("socketpair: %s", strerror(errno));
	daemon_parent_signals();
	kids[1].pid = daemon_spawn(program, self, conf, "store", &sp[1], 1);
	fds[0] = sp[0];
	fds[1] = lfd[0];
	fds[2] = lfd[1];
	kids[0].pid = daemon_spawn(program, self, conf, "net", fds, 3);
	close(sp[0]);
	close(sp[1]);
	close(lfd[0]);
	close(lfd[1]);
	return daemon_parent_wait(local, site, kids, 2, grace_s);
}
