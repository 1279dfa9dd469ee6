/*
 * sekisho-receiver: the receive-only server on the IP-VPN side (R02).
 *
 * What it does: accepts TLS 1.3 connections from municipalities that present
 * a certificate of the municipalities' CA, checks the peer's identity and
 * source network against the site configuration, and stores each uploaded
 * file sealed (encrypted under its own key) and durably before it answers
 * with a receipt. Every decision is written to the audit log first.
 *
 * What it may touch: its listening socket, its data directory (objects/,
 * tmp/, the audit log), its keys and configuration.
 *
 * What it must never do: open a connection. There is no outbound code in
 * this program at all: `nm -D --undefined-only sekisho-receiver` shows no
 * connect(2). Plaintext of an upload never reaches the disk, and neither
 * file contents nor file names are ever logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "audit.h"
#include "config.h"
#include "fwbatch.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "netaddr.h"
#include "receiver.h"
#include "seal.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define RECEIVER_VERSION "0.1.0"
#define REJECT_TIMEOUT_S 5
#define LINGER_BYTES (256u << 10)
#define LINGER_MS 1000

static struct receiver *the_receiver;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: sekisho-receiver -c LOCAL.conf run\n"
	    "       sekisho-receiver -c LOCAL.conf check-config\n"
	    "       sekisho-receiver -c LOCAL.conf init\n"
	    "       sekisho-receiver audit verify FILE [--key KEY0] "
	    "[--state STATE]\n");
	exit(2);
}

int
conn_audit(struct conn *c, const char *event, const char *object,
    int has_size, uint64_t size, const char *sha256, const char *detail)
{
	struct audit_event ev = {
		.event = event,
		.actor = c->actor[0] != '\0' ? c->actor : c->peer_str,
		.object = object,
		.has_size = has_size,
		.size = size,
		.sha256 = sha256,
		.detail = detail,
	};
	int r;

	if ((r = audit_append(c->rcv->audit, &ev)) != 0)
		log_errorx("audit log write failed (%s): refusing all work "
		    "from now on (R50)", sk_strerror(r));
	return r;
}

/*
 * Closes the write side and reads a little of what the client still sends,
 * so that an early error reply is not destroyed by a TCP reset.
 */
static void
conn_linger(struct conn *c)
{
	uint8_t sink[16384];
	uint64_t deadline = util_now_ms() + LINGER_MS;
	size_t total = 0;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	shutdown(c->fd, SHUT_WR);
	while (total < LINGER_BYTES && util_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - util_now_ms())) <= 0)
			break;
		if ((n = read(c->fd, sink, sizeof(sink))) <= 0)
			break;
		total += (size_t)n;
	}
}

void
conn_respond(struct conn *c, int status, const char *body,
    const char *extra_headers)
{
	char head[1024];
	int n;

	if (c->responded)
		return;
	c->responded = 1;
	n = http_format_head(head, sizeof(head), status, "application/json",
	    strlen(body) + 1, extra_headers);
	if (n < 0 || tls_write_all(c->ssl, head, (size_t)n) != 0 ||
	    tls_write_all(c->ssl, body, strlen(body)) != 0 ||
	    tls_write_all(c->ssl, "\n", 1) != 0)
		log_warnx("peer %s: could not send the %d reply", c->peer_str,
		    status);
}

/* Answers an error with a JSON body, a log line and an audit entry. */
void
conn_error(struct conn *c, int status, const char *event, const char *reason)
{
	char body[512], detail[160];
	struct json j;

	json_begin(&j, body, sizeof(body));
	json_u64(&j, "status", (uint64_t)status);
	json_str(&j, "error", reason);
	if (json_end(&j) < 0)
		snprintf(body, sizeof(body), "{\"status\":%d}", status);
	log_warnx("peer %s (%s): %d: %s", c->peer_str,
	    c->actor[0] != '\0' ? c->actor : "unidentified", status, reason);
	snprintf(detail, sizeof(detail), "status=%d %s", status, reason);
	/* A refusal is still answered when the audit log is broken. */
	if (event != NULL && !audit_broken(c->rcv->audit))
		conn_audit(c, event, NULL, 0, 0, NULL, detail);
	conn_respond(c, status, body, NULL);
}

static int
conn_read_head(struct conn *c, int *status)
{
	size_t got;
	int r;

	for (;;) {
		r = http_parse_request(c->head, c->head_len,
		    &http_default_limits, &c->req, status);
		if (r != SK_EAGAIN)
			return r;
		if (c->head_len == sizeof(c->head)) {
			*status = 431;
			return SK_ETOOBIG;
		}
		r = tls_read(c->ssl, c->head + c->head_len,
		    sizeof(c->head) - c->head_len, &got);
		if (r != 0 || got == 0) {
			*status = 0;	/* nothing to answer: the peer left */
			return SK_ETRUNCATED;
		}
		c->head_len += got;
	}
}

/* Identity from the certificate, then the source network (R01, R10). */
static int
conn_authorize(struct conn *c)
{
	char identity[TLS_IDENTITY_MAX];
	size_t i;

	if (tls_peer_identity(c->ssl, identity, sizeof(identity)) != 0) {
		conn_error(c, 403, "access.refused",
		    "the certificate names no identity");
		return -1;
	}
	c->muni = site_find_municipality_by_identity(c->rcv->site, identity);
	if (c->muni == NULL) {
		log_warnx("peer %s: certificate identity is not a known "
		    "municipality", c->peer_str);
		conn_error(c, 403, "access.refused",
		    "this certificate is not a known municipality");
		return -1;
	}
	snprintf(c->actor, sizeof(c->actor), "muni:%s", c->muni->id);
	for (i = 0; i < c->muni->nnetworks; i++)
		if (netaddr_contains(&c->muni->networks[i],
		    (struct sockaddr *)&c->peer))
			return 0;
	conn_error(c, 403, "access.refused",
	    "source address is outside this municipality's networks");
	return -1;
}

static void
conn_dispatch(struct conn *c)
{
	char segs[6][256];
	size_t nsegs;
	int status, r;

	if (audit_broken(c->rcv->audit)) {
		conn_error(c, 503, NULL, "the audit log cannot be written; "
		    "uploads are refused until an operator fixes it");
		return;
	}
	if (conn_authorize(c) != 0)
		return;
	if ((r = conn_read_head(c, &status)) != 0) {
		if (status != 0)
			conn_error(c, status, "request.refused",
			    http_reason(status));
		else
			log_info("peer %s (%s): closed before a request",
			    c->peer_str, c->actor);
		return;
	}
	r = http_split_path(c->req.target, segs, SK_ARRAY_LEN(segs), &nsegs);
	if (r == 0 && nsegs == 4 && strcmp(segs[0], "v1") == 0 &&
	    strcmp(segs[1], "uploads") == 0) {
		if (c->req.method != HTTP_PUT) {
			conn_error(c, 405, "request.refused",
			    "only PUT is allowed on /v1/uploads/");
			return;
		}
		upload_handle(c, segs, nsegs);
		return;
	}
	if (r == SK_EFORMAT || r == SK_ETOOBIG) {
		conn_error(c, 400, "request.refused", r == SK_ETOOBIG ?
		    "a path segment is longer than 255 bytes" :
		    "malformed path");
		return;
	}
	conn_error(c, 405, "request.refused",
	    "the only endpoint is PUT /v1/uploads/{dataset}/{filename}");
}

static void
conn_set_timeouts(int fd, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
conn_handshake(struct conn *c)
{
	char why[256];

	if (tls_accept(c->rcv->tls_external, c->fd, &c->ssl, why,
	    sizeof(why)) == 0)
		return 0;
	log_warnx("peer %s: TLS handshake refused: %s", c->peer_str, why);
	if (!audit_broken(c->rcv->audit))
		conn_audit(c, "tls.refused", NULL, 0, 0, NULL, why);
	return -1;
}

static void
conn_finish(struct conn *c)
{
	if (c->ssl != NULL) {
		tls_close(c->ssl);
		conn_linger(c);
	}
	close(c->fd);
	free(c);
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct receiver *rcv = c->rcv;

	conn_set_timeouts(c->fd, rcv->local.read_timeout);
	if (conn_handshake(c) == 0)
		conn_dispatch(c);
	conn_finish(c);
	atomic_fetch_sub(&rcv->active, 1);
	return NULL;
}

/* Over the connection cap: handshake quickly, answer 503, close. */
static void *
conn_reject_main(void *arg)
{
	struct conn *c = arg;
	struct receiver *rcv = c->rcv;

	conn_set_timeouts(c->fd, REJECT_TIMEOUT_S);
	if (conn_handshake(c) == 0)
		conn_error(c, 503, NULL, "too many connections; try again "
		    "shortly");
	conn_finish(c);
	atomic_fetch_sub(&rcv->rejecting, 1);
	return NULL;
}

static void
receiver_spawn(struct receiver *rcv, int fd, struct sockaddr_storage *peer)
{
	void *(*fn)(void *) = conn_main;
	atomic_uint *counter = &rcv->active;
	pthread_attr_t attr;
	pthread_t tid;
	struct conn *c;

	if (atomic_load(&rcv->active) >= rcv->local.max_connections) {
		fn = conn_reject_main;
		counter = &rcv->rejecting;
		if (atomic_load(&rcv->rejecting) >= RECEIVER_REJECTERS_MAX) {
			close(fd);	/* saturated: drop without a word */
			return;
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: dropping a connection");
		close(fd);
		return;
	}
	c->rcv = rcv;
	c->fd = fd;
	c->peer = *peer;
	netaddr_sockaddr_str((struct sockaddr *)peer, c->peer_str,
	    sizeof(c->peer_str));
	atomic_fetch_add(counter, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256u << 10);
	if (pthread_create(&tid, &attr, fn, c) != 0) {
		log_warnx("cannot start a thread: dropping a connection");
		atomic_fetch_sub(counter, 1);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_receiver != NULL)
		the_receiver->stop = 1;
}

static int
receiver_listen(struct receiver *rcv)
{
	const struct config_listener *l = &rcv->site->receiver.external;
	struct sockaddr_storage ss;
	struct netaddr na;
	socklen_t sslen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (netaddr_parse(l->address, &na) != 0)
		fatalx("bad listen address %s", l->address);
	if (na.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->port);
		memcpy(&sin->sin_addr, na.addr, 4);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->port);
		memcpy(&sin6->sin6_addr, na.addr, 16);
		sslen = sizeof(*sin6);
	}
	if ((fd = socket(na.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatalx("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		fatalx("bind %s port %u: %s", l->address, l->port,
		    strerror(errno));
	if (listen(fd, 128) == -1)
		fatalx("listen: %s", strerror(errno));
	return fd;
}

static void
receiver_loop(struct receiver *rcv)
{
	struct sockaddr_storage peer;
	struct pollfd pfd = { .fd = rcv->listen_fd, .events = POLLIN };
	socklen_t plen;
	int fd;

	while (!rcv->stop) {
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		plen = sizeof(peer);
		fd = accept4(rcv->listen_fd, (struct sockaddr *)&peer, &plen,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				log_warnx("accept: %s", strerror(errno));
			continue;
		}
		receiver_spawn(rcv, fd, &peer);
	}
}

static void
load_config(struct receiver *rcv, const char *path)
{
	struct config_error err;

	memset(&err, 0, sizeof(err));
	if (local_config_load(path, &rcv->local, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if (rcv->local.role != ROLE_RECEIVER)
		fatalx("%s: role is \"%s\", not \"receiver\"", path,
		    config_role_name(rcv->local.role));
	if (site_config_load(rcv->local.site_file, &rcv->site, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
}

static int
open_dir(const char *base, const char *name)
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

static void
derive_id_key(struct receiver *rcv)
{
	static const char label[] = "sekisho-receiver-object-id";
	struct iovec part = { .iov_base = (void *)(uintptr_t)label,
		.iov_len = sizeof(label) - 1 };

	if (util_hmac_sha256(rcv->master.key, SEAL_KEY_LEN, &part, 1,
	    rcv->id_key) != 0)
		fatalx("cannot derive the object id key");
}

static void
open_storage(struct receiver *rcv)
{
	struct audit_event ev = { .event = "receiver.start", .actor = "system" };
	char detail[256];
	unsigned removed = 0;
	int r;

	if (util_mkdir(rcv->local.data_dir, 0700) != 0)
		fatalx("%s: %s", rcv->local.data_dir, strerror(errno));
	if ((r = seal_master_load(rcv->local.master_key, &rcv->master)) != 0)
		fatalx("master key %s: %s%s", rcv->local.master_key,
		    sk_strerror(r), r == SK_ESYS ? " (run 'init' first?)" : "");
	derive_id_key(rcv);
	rcv->objects_fd = open_dir(rcv->local.data_dir, "objects");
	rcv->tmp_fd = open_dir(rcv->local.data_dir, "tmp");
	if ((r = seal_cleanup_dir(rcv->tmp_fd, &removed)) != 0)
		fatalx("cannot clean %s/tmp: %s", rcv->local.data_dir,
		    sk_strerror(r));
	if ((r = audit_open(rcv->local.audit_log, rcv->local.audit_key,
	    &rcv->audit)) != 0)
		fatalx("audit log %s: %s", rcv->local.audit_log,
		    r == SK_EAUTH ? "does not match its state file: it was "
		    "truncated or replaced; refusing to continue it" :
		    sk_strerror(r));
	snprintf(detail, sizeof(detail), "version=%s openssl=%s site=%s "
	    "leftovers_removed=%u", RECEIVER_VERSION,
	    OpenSSL_version(OPENSSL_VERSION_STRING), rcv->site->digest, removed);
	ev.detail = detail;
	if (audit_append(rcv->audit, &ev) != 0)
		fatalx("cannot write the audit log (R50)");
	log_info("sekisho-receiver %s, %s, site digest %s, %u leftover "
	    "temporary file(s) removed", RECEIVER_VERSION,
	    OpenSSL_version(OPENSSL_VERSION), rcv->site->digest, removed);
}

static void
open_tls(struct receiver *rcv)
{
	const struct config_listener *l = &rcv->site->receiver.external;
	char why[512];

	if (tls_server_new(rcv->local.certificate, rcv->local.key, l->ca_file,
	    l->crl_file, &rcv->tls_external, why, sizeof(why)) != 0)
		fatalx("external listener TLS: %s", why);
}

static int
cmd_run(struct receiver *rcv)
{
	struct sigaction sa;
	struct audit_event ev = { .event = "receiver.stop", .actor = "system" };
	int i;

	log_init("sekisho-receiver", rcv->local.use_syslog,
	    (enum log_level)rcv->local.log_level);
	/* The network layer of one-way must be in place before we serve. */
	if (rcv->local.require_firewall &&
	    fw_verify(rcv->site, ROLE_RECEIVER, stderr) != 0)
		fatalx("this host's firewall is not the receiver ruleset of %s; "
		    "apply it with 'sekisho-firewall -c %s --role receiver "
		    "apply' (or set require_firewall = false); refusing to serve",
		    rcv->local.site_file, rcv->local.site_file);
	if (rcv->local.require_firewall)
		log_info("firewall verified: table inet sekisho is the "
		    "receiver ruleset of the site");
	open_tls(rcv);
	open_storage(rcv);
	rcv->listen_fd = receiver_listen(rcv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	the_receiver = rcv;
	log_info("listening on %s port %u for %zu municipalities",
	    rcv->site->receiver.external.address,
	    rcv->site->receiver.external.port, rcv->site->nmunicipalities);
	receiver_loop(rcv);
	close(rcv->listen_fd);
	/* Let uploads in progress finish, for a while. */
	for (i = 0; i < 100 && atomic_load(&rcv->active) > 0; i++)
		usleep(100000);
	audit_append(rcv->audit, &ev);
	if (atomic_load(&rcv->active) > 0) {
		/* Their threads still use what main() would free: leave now.
		 * Unfinished uploads were never acknowledged; their temporary
		 * files are removed at the next start. */
		log_warnx("stopped with %u upload(s) unfinished",
		    atomic_load(&rcv->active));
		_exit(0);
	}
	log_info("stopped");
	return 0;
}

static int
cmd_init(struct receiver *rcv)
{
	int r;

	if (util_mkdir(rcv->local.data_dir, 0700) != 0)
		fatalx("%s: %s", rcv->local.data_dir, strerror(errno));
	r = seal_master_create(rcv->local.master_key);
	if (r == SK_EEXIST) {
		printf("master key %s exists; left as it is\n",
		    rcv->local.master_key);
		return 0;
	}
	if (r != 0)
		fatalx("cannot create master key %s: %s", rcv->local.master_key,
		    strerror(errno));
	printf("created master key %s\n", rcv->local.master_key);
	return 0;
}

static int
cmd_audit_verify(int argc, char **argv)
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
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			statep = strncpy(state, argv[++i], sizeof(state) - 1);
		else
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

int
main(int argc, char **argv)
{
	static struct receiver rcv;
	const char *conf = NULL;
	int r;

	log_init("sekisho-receiver", 0, LOG_LEVEL_INFO);
	if (argc >= 3 && strcmp(argv[1], "audit") == 0 &&
	    strcmp(argv[2], "verify") == 0)
		return cmd_audit_verify(argc - 3, argv + 3);
	if (argc != 4 || strcmp(argv[1], "-c") != 0)
		usage();
	conf = argv[2];
	rcv.listen_fd = rcv.objects_fd = rcv.tmp_fd = -1;
	load_config(&rcv, conf);
	if (strcmp(argv[3], "check-config") == 0) {
		printf("%s: OK (site %s, digest %s, %zu municipalities, %zu "
		    "datasets)\n", conf, rcv.local.site_file, rcv.site->digest,
		    rcv.site->nmunicipalities, rcv.site->ndatasets);
		r = 0;
	} else if (strcmp(argv[3], "init") == 0)
		r = cmd_init(&rcv);
	else if (strcmp(argv[3], "run") == 0)
		r = cmd_run(&rcv);
	else
		usage();
	seal_master_wipe(&rcv.master);
	sk_wipe(rcv.id_key, sizeof(rcv.id_key));
	audit_close(rcv.audit);
	SSL_CTX_free(rcv.tls_external);
	site_config_free(rcv.site);
	return r;
}
