/*
 * sekisho-pusher: the sender's push process (R03, push mode).
 *
 * A recipient with delivery = "push" never connects to the sender: the
 * sender delivers each release addressed to it to the recipient's own
 * endpoint with an HTTP PUT over TLS 1.3, with the sender's client
 * certificate, and checks the endpoint's certificate against the CA the
 * site names for it and the DNS name it must carry. This program is that
 * process, started by sekisho-sender's parent with a channel to the store
 * when the site has a push recipient; it is a program of its own so that
 * sekisho-sender itself keeps no code that opens a connection.
 *
 * What it holds: the sender's client key and the endpoints' CAs (read
 * before the sandbox closes), one release at a time (a descriptor and its
 * object key from the store, dropped when the transfer ends). What it may
 * do: connect(2) to the push recipients' ports (seccomp and Landlock), and
 * nothing else: no file, no listener, no accept(2).
 *
 * The store decides what is due and when a failed delivery is tried again
 * (keeper.c); this process asks, delivers, and says how it went.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "config.h"
#include "daemon.h"
#include "hclient.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "sandbox.h"
#include "seal.h"
#include "sender.h"
#include "sk.h"
#include "util.h"

#define PUSH_TIMEOUT_S 60	/* one send or receive on the connection */
#define PUSH_CHUNK (1u << 20)	/* bytes per write to the endpoint */

/* The researcher's package that goes with a release (issue 20): its
 * four files, into the release's folder at the endpoint. */
#define PUSH_PKG_FILES 4

struct delivery {
	char id[RELEASE_ID_MAX];
	char recipient[CONFIG_ID_MAX];
	char sha256[65];
	char filename[RELEASE_FILENAME_MAX];
	uint64_t size;
	uint32_t envelope;
	struct seal_reader *rd;
	uint32_t npkg;			/* 0, or PUSH_PKG_FILES */
	char pkg_name[PUSH_PKG_FILES][32];
	uint8_t *pkg[PUSH_PKG_FILES];
	size_t pkg_len[PUSH_PKG_FILES];
};

static volatile sig_atomic_t stopping;
/* Plaintext of the release on its way out: wiped after every delivery. */
static uint8_t push_buf[PUSH_CHUNK];

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
print_usage(FILE *fp)
{
	fprintf(fp, "usage: sekisho-pusher -c SENDER.conf proc push\n"
	    "       (started by sekisho-sender run; not by hand)\n");
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
	exit(2);
}

/* A client context for one endpoint: TLS 1.3, our certificate, its CA. */
static SSL_CTX *
endpoint_ctx(const struct local_config *local,
    const struct config_recipient *rc)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, local->certificate) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, local->key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		fatalx("recipient %s: our certificate %s or key %s cannot be "
		    "used", rc->id, local->certificate, local->key);
	if (SSL_CTX_load_verify_locations(ctx, rc->endpoint_ca, NULL) != 1)
		fatalx("recipient %s: endpoint_ca %s cannot be read", rc->id,
		    rc->endpoint_ca);
	/* A revoked endpoint certificate ends the handshake; an expired CRL
	 * does too (renew it: sekisho-pki crl). Read here at the start; a
	 * new one on disk comes from the store (daemon_client_reload_tick). */
	if (rc->endpoint_crl[0] != '\0') {
		X509_STORE *st = SSL_CTX_get_cert_store(ctx);

		if (X509_load_crl_file(X509_STORE_add_lookup(st,
		    X509_LOOKUP_file()), rc->endpoint_crl, X509_FILETYPE_PEM) <= 0 ||
		    X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK) != 1)
			fatalx("recipient %s: endpoint_crl %s cannot be read",
			    rc->id, rc->endpoint_crl);
		log_info("recipient %s: endpoint certificates checked against "
		    "the CRL %s", rc->id, rc->endpoint_crl);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* Asks the store for the next delivery due: 1 with d filled, or 0 with
 * *wait_s until one may be due. */
static int
next_delivery(struct proc_chan *ch, struct delivery *d, unsigned *wait_s)
{
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg req;
	struct proc_reply rep;
	uint32_t wait = 0, i;
	int fd, e;

	proc_msg_init(&req, SMSG_PUSH_NEXT);
	proc_call(ch, &req, -1, &rep);
	if (rep.status == 204) {
		proc_get_u32(&rep.msg, &wait);
		proc_reply_end(ch, &rep);
		*wait_s = wait;
		return 0;
	}
	if (rep.status != 0)
		fatalx("the store answered %u: %s", rep.status, rep.reason);
	proc_get_str(&rep.msg, d->id, sizeof(d->id));
	proc_get_str(&rep.msg, d->recipient, sizeof(d->recipient));
	proc_get_u64(&rep.msg, &d->size);
	proc_get_str(&rep.msg, d->sha256, sizeof(d->sha256));
	proc_get_str(&rep.msg, d->filename, sizeof(d->filename));
	proc_get_u32(&rep.msg, &d->envelope);
	proc_get_u32(&rep.msg, &d->npkg);
	if (d->npkg != 0 && d->npkg != PUSH_PKG_FILES)
		proc_malformed(&rep.msg, "a package of another size");
	for (i = 0; i < d->npkg; i++) {
		proc_get_str(&rep.msg, d->pkg_name[i], sizeof(d->pkg_name[i]));
		if (!proto_package_file(d->pkg_name[i]) ||
		    (d->pkg[i] = malloc(PROTO_PACKAGE_MAX)) == NULL)
			proc_malformed(&rep.msg, "a package file");
		proc_get_bytes(&rep.msg, d->pkg[i], PROTO_PACKAGE_MAX,
		    &d->pkg_len[i]);
	}
	proc_get_fixed(&rep.msg, key, sizeof(key));
	fd = proc_take_fd(&rep.msg);
	proc_reply_end(ch, &rep);
	if (fd == -1)
		fatalx("the store gave no file for release %s", d->id);
	e = seal_reader_attach(fd, key, &d->rd);
	sk_wipe(key, sizeof(key));
	if (e != 0) {
		close(fd);
		fatalx("release %s cannot be read: %s", d->id, sk_strerror(e));
	}
	return 1;
}

static void
report(struct proc_chan *ch, const struct delivery *d, int status,
    const char *why, uint64_t sent, uint64_t ms)
{
	struct proc_msg req;
	struct proc_reply rep;

	proc_msg_init(&req, SMSG_PUSH_DONE);
	proc_put_str(&req, d->id);
	proc_put_str(&req, d->recipient);
	proc_put_u32(&req, (uint32_t)(status > 0 ? status : 0));
	proc_put_str(&req, why);
	proc_put_u64(&req, sent);
	proc_put_u64(&req, ms);
	proc_call(ch, &req, -1, &rep);
	proc_reply_end(ch, &rep);
}

/* path (from the site file, already safe), then name percent-encoded. */
static void
pct_path(char *out, size_t cap, const char *path, const char *name)
{
	snprintf(out, cap, "%s", path);
	if (sk_pct_append(out, cap, name) != 0)
		fatalx("a push target longer than %zu bytes", cap);
}

/* Content-Digest of the release: sha-256, base64, from its hex. */
static int
digest_header(const char *hex, char *out, size_t cap)
{
	uint8_t raw[32];
	char b64[64];
	unsigned v;
	size_t i;

	if (strlen(hex) != 64)
		return SK_EFORMAT;
	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return SK_EFORMAT;
		raw[i] = (uint8_t)v;
	}
	if (EVP_EncodeBlock((unsigned char *)b64, raw, 32) != 44)
		return SK_EFORMAT;
	return snprintf(out, cap, "Content-Digest: sha-256=:%s:\r\n", b64) <
	    (int)cap ? 0 : SK_ETOOBIG;
}

/* One package file, PUT next to the release (its own Content-Digest):
 * the endpoint's status, or 0 with why. */
static int
deliver_file(SSL_CTX *ctx, const struct config_recipient *rc,
    const char *folder, const char *name, const uint8_t *body, size_t len,
    char *why, size_t whycap)
{
	char target[sizeof(rc->push_path) + 3 * RELEASE_ID_MAX + 64];
	char extra[256], dig[128], hex[65];
	uint8_t d[32];
	unsigned dl = 0;
	struct hc_conn c;
	int e, status;

	pct_path(target, sizeof(target), folder, name);
	if (EVP_Digest(body, len, d, &dl, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256 failed");
	sk_hex(d, 32, hex);
	if (digest_header(hex, dig, sizeof(dig)) != 0)
		return 0;
	snprintf(extra, sizeof(extra), "%sContent-Type: %s\r\n", dig,
	    strcmp(name, PROTO_PKG_SIGNATURE) == 0 ? "application/pkcs7-signature" :
	    strcmp(name, PROTO_PKG_DATAPACKAGE) == 0 ? "application/json" :
	    strcmp(name, PROTO_PKG_CODEBOOK) == 0 ?
	    "text/markdown; charset=utf-8" : "text/plain; charset=utf-8");
	if ((e = hc_open_named(ctx, rc->push_address, rc->push_port,
	    rc->endpoint_name, PUSH_TIMEOUT_S, &c, why, whycap)) != 0)
		return 0;
	if ((e = hc_request(&c, "PUT", target, extra, (int64_t)len)) != 0 ||
	    (e = hc_send(&c, body, len)) != 0 || (e = hc_response(&c)) != 0) {
		snprintf(why, whycap, "%s: the connection broke: %s", name,
		    sk_strerror(e));
		hc_close(&c);
		return 0;
	}
	status = c.status;
	if (status < 200 || status > 299)
		snprintf(why, whycap, "%s: the endpoint answered %d", name,
		    status);
	hc_close(&c);
	return status;
}

/* Is the release still to be delivered (not withdrawn nor expired)? */
static int
still_due(struct proc_chan *ch, const struct delivery *d)
{
	struct proc_msg req;
	struct proc_reply rep;
	int ok;

	proc_msg_init(&req, SMSG_PUSH_ALIVE);
	proc_put_str(&req, d->id);
	proc_put_str(&req, d->recipient);
	proc_call(ch, &req, -1, &rep);
	ok = rep.status == 0;
	proc_reply_end(ch, &rep);
	return ok;
}

/*
 * One PUT of the whole release to the endpoint. Returns the endpoint's
 * HTTP status, or 0 with why when it gave none (unreachable, refused in
 * the handshake, gone in the middle); *sent gets the body bytes sent.
 */
static int
deliver(struct proc_chan *ch, SSL_CTX *ctx, const struct config_recipient *rc,
    const struct delivery *d, char *why, size_t whycap, uint64_t *sent)
{
	struct hc_conn c;
	char folder[sizeof(rc->push_path) + 3 * RELEASE_ID_MAX + 8];
	char target[sizeof(folder) + 3 * RELEASE_FILENAME_MAX + 8];
	char extra[512], dig[128];
	uint8_t *buf = push_buf;
	uint64_t next_check = util_now_ms() + 1000;
	size_t n;
	uint32_t i;
	int e, status = 0;

	*sent = 0;
	why[0] = '\0';
	/* A folder per release, named by its id, and in it the name the
	 * vault gave it (UTF-8, no /), percent-encoded, with its package. */
	pct_path(folder, sizeof(folder), rc->push_path, d->id);
	strncat(folder, "/", sizeof(folder) - strlen(folder) - 1);
	pct_path(target, sizeof(target), folder,
	    d->filename[0] != '\0' ? d->filename : d->id);
	if (digest_header(d->sha256, dig, sizeof(dig)) != 0) {
		snprintf(why, whycap, "the release's digest is malformed");
		return 0;
	}
	snprintf(extra, sizeof(extra), "%sSekisho-Release: %s\r\n"
	    "Expect: 100-continue\r\nContent-Type: %s\r\n", dig, d->id,
	    d->envelope ?
	    "application/pkcs7-mime" : "text/csv; charset=utf-8");
	if ((e = hc_open_named(ctx, rc->push_address, rc->push_port,
	    rc->endpoint_name, PUSH_TIMEOUT_S, &c, why, whycap)) != 0)
		return 0;
	if ((e = hc_request(&c, "PUT", target, extra, (int64_t)d->size)) != 0)
		goto broke;
	/* The endpoint may refuse before a byte of the body is sent (a
	 * full disk, a wrong path); it also lines the body up with its
	 * own buffers, which costs a server like nginx far less. */
	if ((e = hc_continue(&c, 2000)) < 0)
		goto broke;
	if (e == 1) {
		status = c.status;
		snprintf(why, whycap, "the endpoint answered %d before the "
		    "body", status);
		hc_close(&c);
		return status;
	}
	/* Large writes: the endpoint's TLS stack does far less per byte with
	 * a few large writes than with one per 64 KiB sealed chunk. */
	for (;;) {
		size_t have = 0;

		while (have < PUSH_CHUNK) {
			if ((e = seal_reader_read(d->rd, buf + have,
			    PUSH_CHUNK - have, &n)) != 0) {
				snprintf(why, whycap, "the stored copy cannot be "
				    "read: %s", sk_strerror(e));
				hc_close(&c);
				return 0;
			}
			if (n == 0)
				break;
			have += n;
		}
		if (have == 0 || stopping)
			break;
		/* Withdrawn or expired meanwhile: the rest is not sent. */
		if (util_now_ms() >= next_check) {
			next_check = util_now_ms() + 1000;
			if (!still_due(ch, d)) {
				log_info("release %s: withdrawn or expired while "
				    "it was pushed to %s; cut after %llu bytes",
				    d->id, d->recipient,
				    (unsigned long long)*sent);
				snprintf(why, whycap, "withdrawn or expired during "
				    "the transfer; cut after %llu bytes",
				    (unsigned long long)*sent);
				hc_close(&c);
				return 0;
			}
		}
		if ((e = hc_send(&c, buf, have)) != 0)
			goto broke;
		*sent += have;
	}
	if (*sent != d->size) {
		snprintf(why, whycap, "stopped after %llu of %llu bytes",
		    (unsigned long long)*sent, (unsigned long long)d->size);
		hc_close(&c);
		return 0;
	}
	if ((e = hc_response(&c)) != 0)
		goto broke;
	status = c.status;
	hc_close(&c);
	if (status < 200 || status > 299) {
		snprintf(why, whycap, "the endpoint answered %d", status);
		return status;
	}
	/* Delivered only with its package, when it has one. */
	for (i = 0; i < d->npkg && status >= 200 && status <= 299; i++)
		status = deliver_file(ctx, rc, folder, d->pkg_name[i], d->pkg[i],
		    d->pkg_len[i], why, whycap);
	return status;
broke:
	snprintf(why, whycap, "the connection broke after %llu bytes: %s",
	    (unsigned long long)*sent, sk_strerror(e));
	hc_close(&c);
	return 0;
}

int
pusher_main(const struct local_config *local, struct site_config *site,
    int chan)
{
	struct sandbox_layers layers = { 0 };
	struct daemon_reload_state rs = { 0 };
	struct proc_chan ch;
	SSL_CTX **ctx;
	struct delivery d;
	char why[PROC_REASON_MAX];
	unsigned wait = 0, w;
	uint64_t sent, t0;
	size_t i;
	int status;

	proc_chan_init(&ch, chan, "the store process");
	/* As root still: our key, the endpoints' CAs. Then nothing. */
	if ((ctx = calloc(site->nrecipients + 1, sizeof(*ctx))) == NULL)
		fatalx("out of memory");
	if ((rs.client_crl_gens = calloc(site->nrecipients + 1,
	    sizeof(*rs.client_crl_gens))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < site->nrecipients; i++)
		if (site->recipients[i].push)
			ctx[i] = endpoint_ctx(local, &site->recipients[i]);
	daemon_drop(local, &layers);
	proc_die_with_parent();
	daemon_sandbox(local, site, SANDBOX_PUSH, &layers);
	daemon_signals(on_signal);
	log_info("delivering to %zu push recipient(s)",
	    site_push_recipients(site));
	while (!stopping) {
		/* A renewed host pair, for the deliveries from now on. */
		daemon_client_reload_tick(&ch, ctx, site->nrecipients, &rs);
		memset(&d, 0, sizeof(d));
		if (!next_delivery(&ch, &d, &wait)) {
			/* Nothing due: ask again in a second (a new release
			 * goes out within one), or when the next try is. */
			for (w = 0; w < (wait > 1 ? 1 : wait) && !stopping; w++)
				sleep(1);
			if (wait == 0)
				usleep(200000);
			continue;
		}
		for (i = 0; i < site->nrecipients; i++)
			if (strcmp(site->recipients[i].id, d.recipient) == 0)
				break;
		if (i == site->nrecipients || ctx[i] == NULL)
			fatalx("the store asked a delivery to %s, which is not "
			    "a push recipient", d.recipient);
		t0 = util_now_ms();
		status = deliver(&ch, ctx[i], &site->recipients[i], &d, why,
		    sizeof(why), &sent);
		sk_wipe(push_buf, sizeof(push_buf));
		seal_reader_free(d.rd);
		for (i = 0; i < d.npkg; i++)
			free(d.pkg[i]);
		report(&ch, &d, status, status >= 200 && status <= 299 ? "" :
		    why, sent, util_now_ms() - t0);
	}
	for (i = 0; i < site->nrecipients; i++)
		SSL_CTX_free(ctx[i]);
	free(ctx);
	free(rs.client_crl_gens);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static struct local_config local;
	struct site_config *site = NULL;
	int r;

	if (util_cli_info(argc, argv, "sekisho-pusher", SENDER_VERSION,
	    print_usage))
		return 0;
	log_init("sekisho-sender/push", 0, LOG_LEVEL_INFO);
	if (argc != 5 || strcmp(argv[1], "-c") != 0 ||
	    strcmp(argv[3], "proc") != 0 || strcmp(argv[4], "push") != 0)
		usage();
	daemon_load_config(argv[2], ROLE_SENDER, &local, &site);
	log_init("sekisho-sender/push", local.use_syslog,
	    (enum log_level)local.log_level);
	if (site_push_recipients(site) == 0)
		fatalx("%s: no recipient has delivery = \"push\"", argv[2]);
	r = pusher_main(&local, site, PROC_CHILD_FD);
	site_config_free(site);
	return r;
}
