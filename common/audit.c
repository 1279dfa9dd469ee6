/*
 * audit.c: the forward-secure HMAC-chained audit log (see audit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "json.h"
#include "sk.h"
#include "util.h"

#define AUDIT_STATE_MAGIC "SKAUDIT1"
#define AUDIT_STATE_LEN (8 + 8 + 32 + 32)
#define AUDIT_MAC_SUFFIX_LEN 74	/* ,"mac":"<64 hex>"} */
#define AUDIT_TAIL_READ 4096

struct audit_log {
	pthread_mutex_t lock;
	int fd;
	int state_fd;
	int broken;
	uint64_t next_seq;
	uint8_t key[32];
	uint8_t last_mac[32];
};

static void
evolve(uint8_t key[32])
{
	static const char label[] = "sekisho-audit-evolve";
	uint8_t next[32];
	unsigned n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	/* A failure here would break the chain; there is no safe fallback. */
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, label, sizeof(label) - 1) != 1 ||
	    EVP_DigestUpdate(md, key, 32) != 1 ||
	    EVP_DigestFinal_ex(md, next, &n) != 1)
		abort();
	EVP_MD_CTX_free(md);
	memcpy(key, next, 32);
	sk_wipe(next, sizeof(next));
}

static int
entry_mac(const uint8_t key[32], const uint8_t prev[32], const char *body,
    size_t len, uint8_t out[32])
{
	char prevhex[65];
	struct iovec parts[2] = {
		{ .iov_base = prevhex, .iov_len = 64 },
		{ .iov_base = (void *)(uintptr_t)body, .iov_len = len },
	};

	sk_hex(prev, 32, prevhex);
	return util_hmac_sha256(key, 32, parts, 2, out);
}

static int
state_write(struct audit_log *a)
{
	uint8_t buf[AUDIT_STATE_LEN];
	int i, r = 0;

	memcpy(buf, AUDIT_STATE_MAGIC, 8);
	for (i = 0; i < 8; i++)
		buf[8 + i] = (uint8_t)(a->next_seq >> (56 - 8 * i));
	memcpy(buf + 16, a->key, 32);
	memcpy(buf + 48, a->last_mac, 32);
	if (pwrite(a->state_fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fdatasync(a->state_fd) == -1)
		r = SK_ESYS;
	sk_wipe(buf, sizeof(buf));
	return r;
}

static int
state_parse(const uint8_t buf[AUDIT_STATE_LEN], uint64_t *seq, uint8_t key[32],
    uint8_t mac[32])
{
	int i;

	if (memcmp(buf, AUDIT_STATE_MAGIC, 8) != 0)
		return SK_EFORMAT;
	*seq = 0;
	for (i = 0; i < 8; i++)
		*seq = *seq << 8 | buf[8 + i];
	memcpy(key, buf + 16, 32);
	memcpy(mac, buf + 48, 32);
	return *seq >= 1 ? 0 : SK_EFORMAT;
}

static int
hexdecode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		hi = hex[2 * i];
		lo = hex[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' :
		    hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' :
		    lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return SK_EFORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * Splits a line (without its newline) into the MACed body and the mac, and
 * reads its sequence number.
 */
static int
line_split(const char *line, size_t len, size_t *bodylen, uint8_t mac[32],
    uint64_t *seq)
{
	const char *p;
	char *end;

	if (len < AUDIT_MAC_SUFFIX_LEN + 10 || strncmp(line, "{\"seq\":", 7) != 0)
		return SK_EFORMAT;
	p = line + len - AUDIT_MAC_SUFFIX_LEN;
	if (strncmp(p, ",\"mac\":\"", 8) != 0 || strncmp(line + len - 2,
	    "\"}", 2) != 0 || hexdecode(p + 8, mac, 32) != 0)
		return SK_EFORMAT;
	if (line[7] < '1' || line[7] > '9')
		return SK_EFORMAT;
	errno = 0;
	*seq = strtoull(line + 7, &end, 10);
	if (errno != 0 || *end != ',')
		return SK_EFORMAT;
	*bodylen = (size_t)(p - line);
	return 0;
}

/*
 * Reads the tail of the log into buf and finds its last line; *line points
 * into buf at its start, NUL-terminated, without the newline.
 */
static int
read_last_line(int fd, char *buf, size_t cap, char **line, size_t *len)
{
	struct stat st;
	uint64_t size, start;
	size_t n, i;
	int r;

	if (fstat(fd, &st) == -1)
		return SK_ESYS;
	size = (uint64_t)st.st_size;
	if (size == 0)
		return SK_ENOTFOUND;
	n = size < cap ? (size_t)size : cap;
	start = size - n;
	if ((r = util_pread_full(fd, buf, n, start)) != 0)
		return r;
	if (buf[n - 1] != '\n')
		return SK_ETRUNCATED;	/* a torn final write */
	for (i = n - 1; i > 0 && buf[i - 1] != '\n'; i--)
		;
	if (i == 0 && start != 0)
		return SK_ETOOBIG;
	buf[n - 1] = '\0';
	*line = buf + i;
	*len = n - 1 - i;
	return 0;
}

/*
 * Brings the state in line with the log after a crash between the append
 * and the state update: the log may hold exactly one entry more.
 */
static int
reconcile(struct audit_log *a)
{
	char tail[AUDIT_TAIL_READ + 1], *line = NULL;
	uint8_t mac[32], want[32];
	uint64_t seq;
	size_t len = 0, bodylen;
	int r;

	r = read_last_line(a->fd, tail, AUDIT_TAIL_READ, &line, &len);
	if (r == SK_ENOTFOUND)
		return a->next_seq == 1 ? 0 : SK_EAUTH;
	if (r != 0)
		return SK_EAUTH;
	if ((r = line_split(line, len, &bodylen, mac, &seq)) != 0)
		return SK_EAUTH;
	if (seq + 1 == a->next_seq)
		return CRYPTO_memcmp(mac, a->last_mac, 32) == 0 ? 0 : SK_EAUTH;
	if (seq != a->next_seq)
		return SK_EAUTH;
	if ((r = entry_mac(a->key, a->last_mac, line, bodylen, want)) != 0)
		return r;
	if (CRYPTO_memcmp(mac, want, 32) != 0)
		return SK_EAUTH;
	memcpy(a->last_mac, mac, 32);
	evolve(a->key);
	a->next_seq++;
	return state_write(a);
}

static int
audit_create_key0(const char *key0_path, uint8_t key[32])
{
	int fd, r;

	if ((r = util_read_secret(key0_path, key, 32)) == 0)
		return 0;	/* provisioned by the administrator */
	if (errno != ENOENT)
		return r;
	if ((r = util_random(key, 32)) != 0)
		return r;
	fd = open(key0_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return SK_ESYS;
	r = util_write_all(fd, key, 32);
	if (r == 0 && fsync(fd) == -1)
		r = SK_ESYS;
	close(fd);
	return r;
}

static int
audit_load_state(struct audit_log *a, const char *key0_path, int created)
{
	uint8_t buf[AUDIT_STATE_LEN];
	int r;

	if (created) {
		if ((r = audit_create_key0(key0_path, a->key)) != 0)
			return r;
		a->next_seq = 1;
		memset(a->last_mac, 0, sizeof(a->last_mac));
		return state_write(a);
	}
	r = util_pread_full(a->state_fd, buf, sizeof(buf), 0);
	if (r == 0)
		r = state_parse(buf, &a->next_seq, a->key, a->last_mac);
	sk_wipe(buf, sizeof(buf));
	return r != 0 ? SK_EAUTH : reconcile(a);
}

int
audit_open(const char *path, const char *key0_path, struct audit_log **out)
{
	struct audit_log *a;
	char state_path[4096];
	int r, created = 0;

	if (snprintf(state_path, sizeof(state_path), "%s.state", path) >=
	    (int)sizeof(state_path))
		return SK_EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SK_ENOMEM;
	a->fd = a->state_fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	a->state_fd = open(state_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (a->state_fd == -1 && errno == ENOENT) {
		/* A log without its state cannot be continued safely. */
		if (access(path, F_OK) == 0) {
			r = SK_EAUTH;
			goto fail;
		}
		a->state_fd = open(state_path, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		created = 1;
	}
	if (a->state_fd == -1) {
		r = SK_ESYS;
		goto fail;
	}
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (a->fd == -1) {
		r = SK_ESYS;
		goto fail;
	}
	if ((r = audit_load_state(a, key0_path, created)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	audit_close(a);
	return r;
}

static int
format_entry(const struct audit_log *a, const struct audit_event *ev,
    char *buf, size_t cap)
{
	struct json j;
	char stamp[32];
	int n;

	if (sk_time_format((int64_t)time(NULL), stamp, sizeof(stamp)) != 0)
		return SK_EINTERNAL;
	json_begin(&j, buf, cap);
	json_u64(&j, "seq", a->next_seq);
	json_str(&j, "time", stamp);
	json_str(&j, "event", ev->event);
	json_str(&j, "actor", ev->actor != NULL ? ev->actor : "system");
	if (ev->object != NULL)
		json_str(&j, "object", ev->object);
	if (ev->has_size)
		json_u64(&j, "size", ev->size);
	if (ev->sha256 != NULL)
		json_str(&j, "sha256", ev->sha256);
	if (ev->detail != NULL)
		json_str(&j, "detail", ev->detail);
	/* The body ends before the closing brace; the mac member closes it. */
	n = json_end(&j);
	if (n < 0 || (size_t)n + AUDIT_MAC_SUFFIX_LEN + 1 >= cap)
		return SK_ETOOBIG;
	return n - 1;
}

static int
audit_append_locked(struct audit_log *a, const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX], machex[65];
	uint8_t mac[32];
	off_t end;
	int n, r;

	if (a->broken)
		return SK_ESYS;
	if ((n = format_entry(a, ev, line, sizeof(line))) < 0)
		return n;
	if ((r = entry_mac(a->key, a->last_mac, line, (size_t)n, mac)) != 0)
		return r;
	sk_hex(mac, 32, machex);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"mac\":\"%s\"}\n",
	    machex);
	if ((end = lseek(a->fd, 0, SEEK_END)) == -1)
		return SK_ESYS;
	if ((r = util_write_all(a->fd, line, (size_t)n)) != 0 ||
	    fdatasync(a->fd) == -1) {
		/* Leave no torn entry behind: cut back to the last whole one. */
		if (ftruncate(a->fd, end) == -1)
			return SK_ESYS;
		return r != 0 ? r : SK_ESYS;
	}
	memcpy(a->last_mac, mac, 32);
	evolve(a->key);
	a->next_seq++;
	return state_write(a);
}

int
audit_append(struct audit_log *a, const struct audit_event *ev)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = audit_append_locked(a, ev);
	if (r != 0)
		a->broken = 1;
	pthread_mutex_unlock(&a->lock);
	return r;
}

int
audit_broken(struct audit_log *a)
{
	int b;

	pthread_mutex_lock(&a->lock);
	b = a->broken;
	pthread_mutex_unlock(&a->lock);
	return b;
}

void
audit_close(struct audit_log *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	if (a->state_fd != -1)
		close(a->state_fd);
	sk_wipe(a->key, sizeof(a->key));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static int
verify_fail(struct audit_verify_result *res, uint64_t line, const char *why)
{
	res->bad_line = line;
	snprintf(res->reason, sizeof(res->reason), "%s", why);
	return SK_EAUTH;
}

/* The state file as it is now: the next seq, the key and the last mac. */
static int
verify_read_state(const char *state_path, uint64_t *sseq, uint8_t skey[32],
    uint8_t smac[32], struct audit_verify_result *res)
{
	uint8_t buf[AUDIT_STATE_LEN];
	int fd, r;

	if ((fd = open(state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return SK_ESYS;
	r = util_pread_full(fd, buf, sizeof(buf), 0);
	close(fd);
	if (r != 0 || state_parse(buf, sseq, skey, smac) != 0)
		r = verify_fail(res, 0, "the state file is unreadable");
	sk_wipe(buf, sizeof(buf));
	return r;
}

/* At the entry the state was written after: the same mac and key. */
static int
verify_at_state(const uint8_t key[32], const uint8_t prev[32],
    const uint8_t skey[32], const uint8_t smac[32],
    struct audit_verify_result *res)
{
	if (CRYPTO_memcmp(smac, prev, 32) != 0)
		return verify_fail(res, res->entries, "the log differs from "
		    "its state at the last entry written");
	if (CRYPTO_memcmp(skey, key, 32) != 0)
		return verify_fail(res, 0, "the state key does not follow from "
		    "the first key");
	return 0;
}

int
audit_verify(const char *path, const char *key0_path, const char *state_path,
    struct audit_verify_result *res)
{
	uint8_t key[32], prev[32], mac[32], want[32], skey[32], smac[32];
	char *line = NULL;
	size_t cap = 0, bodylen;
	ssize_t len;
	uint64_t seq, lineno = 0, sseq = 0;
	FILE *fp;
	int r;

	memset(res, 0, sizeof(*res));
	memset(skey, 0, sizeof(skey));
	if ((r = util_read_secret(key0_path, key, 32)) != 0)
		return r;
	/* The state first: a daemon may append while we read, and the log
	 * must reach at least where the state was; what comes after it is
	 * checked by the chain like the rest. */
	if (state_path != NULL && (r = verify_read_state(state_path, &sseq,
	    skey, smac, res)) != 0)
		goto out;
	if ((fp = fopen(path, "re")) == NULL) {
		r = SK_ESYS;
		goto out;
	}
	memset(prev, 0, sizeof(prev));
	r = 0;
	if (state_path != NULL && sseq == 1)
		r = verify_at_state(key, prev, skey, smac, res);
	while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			r = verify_fail(res, lineno, "the last line is cut off");
			break;
		}
		line[--len] = '\0';
		if ((size_t)len > AUDIT_LINE_MAX ||
		    line_split(line, (size_t)len, &bodylen, mac, &seq) != 0)
			r = verify_fail(res, lineno, "not an audit entry");
		else if (seq != lineno)
			r = verify_fail(res, lineno, "sequence number out of "
			    "order: an entry was removed, added or moved");
		else if (entry_mac(key, prev, line, bodylen, want) != 0 ||
		    CRYPTO_memcmp(mac, want, 32) != 0)
			r = verify_fail(res, lineno, "the MAC does not match: "
			    "the entry was changed");
		else {
			memcpy(prev, mac, 32);
			evolve(key);
			res->entries++;
			if (state_path != NULL && res->entries + 1 == sseq)
				r = verify_at_state(key, prev, skey, smac, res);
		}
	}
	free(line);
	fclose(fp);
	if (r == 0 && state_path != NULL && res->entries + 1 < sseq)
		r = verify_fail(res, res->entries + 1, "the log ends before "
		    "the last entry written: entries were removed");
out:
	sk_wipe(key, sizeof(key));
	sk_wipe(skey, sizeof(skey));
	return r;
}
