/*
 * audit.c: the forward-secure HMAC-chained audit log (see audit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "audit_schema.h"
#include "json.h"
#include "jsonr.h"
#include "log.h"
#include "sk.h"
#include "util.h"

#define AUDIT_STATE_MAGIC "SKAUDIT1"
#define AUDIT_STATE_LEN (8 + 8 + 32 + 32)
#define AUDIT_MAC_SUFFIX_LEN 74	/* ,"mac":"<64 hex>"} */
#define AUDIT_TAIL_READ 4096
#define AUDIT_RETRY_MS 1000	/* a broken log is tried again this often */
#define AUDIT_MARKER_MAGIC "SKCHAIN1"
#define AUDIT_MARKER_LEN (8 + 8 + 32 + 32 + 32)

struct audit_log {
	pthread_mutex_t lock;
	int fd;
	int state_fd;
	int broken;
	int state_stale;	/* the log holds an entry its state does not */
	uint64_t next_seq;
	uint8_t key[32];
	uint8_t last_mac[32];
	uint64_t good_end;	/* the log's length after its last whole entry */
	/* While broken: since when, the error, the entries not written. */
	int64_t broken_since;
	int broken_errno;
	uint64_t lost;
	uint64_t retry_ms;
	/* Space held for the log past its end (FALLOC_FL_KEEP_SIZE). */
	uint64_t reserve;
	uint64_t alloc_end;
	int reserve_short;
	/* The chain's marker, kept apart from the log (see audit.h). */
	int has_marker;
	char marker_path[4096];
	uint8_t marker_key[32];
	uint8_t log_id[32];	/* SHA-256 of the log's path */
	/* Rotation into segments beside the log, and their retention. */
	char path[4096];
	uint64_t rotate_bytes;	/* 0: never */
	int rotate_monthly;
	int64_t month;		/* of the last entry (month_of); 0: none */
	unsigned retention_days;	/* 0: keep every segment */
	int64_t retention_checked;
};

#define SEGMENT_DIGITS 12

struct segment {
	char name[4352];	/* the full path */
	uint64_t first, last;
};

/* The segments beside path ("PATH.FIRST-LAST", 12 digits each), sorted by
 * their first entry; the caller frees *out. */
static int
segments_list(const char *path, struct segment **out, size_t *n)
{
	char dir[4096], pre[4096];
	const char *slash = strrchr(path, '/');
	struct segment *v = NULL, *p;
	unsigned long long f, l;
	struct dirent *de;
	size_t pl, cap = 0, i, j;
	char tail;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 : slash == path ?
	    1 : (int)(slash - path), slash == NULL ? "." : path);
	snprintf(pre, sizeof(pre), "%s.", slash == NULL ? path : slash + 1);
	pl = strlen(pre);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : SK_ESYS;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, pre, pl) != 0 ||
		    strlen(de->d_name) != pl + 2 * SEGMENT_DIGITS + 1 ||
		    sscanf(de->d_name + pl, "%12llu-%12llu%c", &f, &l, &tail) !=
		    2 || de->d_name[pl + SEGMENT_DIGITS] != '-' || f == 0 ||
		    l < f)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return SK_ENOMEM;
			}
			v = p;
		}
		snprintf(v[*n].name, sizeof(v[0].name), "%s/%s", dir,
		    de->d_name);
		v[*n].first = f;
		v[*n].last = l;
		(*n)++;
	}
	closedir(d);
	for (i = 1; i < *n; i++)	/* few: insertion sort */
		for (j = i; j > 0 && v[j - 1].first > v[j].first; j--) {
			struct segment t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	return 0;
}

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
 * An empty log whose chain goes on from a segment: a rotation moved the
 * log aside and its new file got no entry yet. The newest segment must end
 * exactly where the state says, with the state's mac.
 */
static int
segment_continues(struct audit_log *a)
{
	char tail[AUDIT_TAIL_READ + 1], *line = NULL;
	struct segment *v = NULL;
	uint8_t mac[32];
	uint64_t seq;
	size_t n = 0, len, bodylen;
	int fd, ok = 0;

	if (a->path[0] == '\0' || segments_list(a->path, &v, &n) != 0 ||
	    n == 0 || v[n - 1].last + 1 != a->next_seq ||
	    (fd = open(v[n - 1].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		free(v);
		return 0;
	}
	ok = read_last_line(fd, tail, AUDIT_TAIL_READ, &line, &len) == 0 &&
	    line_split(line, len, &bodylen, mac, &seq) == 0 &&
	    seq + 1 == a->next_seq && CRYPTO_memcmp(mac, a->last_mac, 32) == 0;
	close(fd);
	free(v);
	return ok;
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
		return a->next_seq == 1 || segment_continues(a) ? 0 : SK_EAUTH;
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

static int chain_check(struct audit_log *a, int created);

int
audit_open(const char *path, const char *key0_path, struct audit_log **out)
{
	return audit_open_marked(path, key0_path, NULL, NULL, out);
}

int
audit_open_marked(const char *path, const char *key0_path,
    const char *marker_path, const uint8_t marker_key[32],
    struct audit_log **out)
{
	struct audit_log *a;
	char state_path[4096];
	struct stat st;
	int r, created = 0;

	if (snprintf(state_path, sizeof(state_path), "%s.state", path) >=
	    (int)sizeof(state_path))
		return SK_EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SK_ENOMEM;
	a->fd = a->state_fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	snprintf(a->path, sizeof(a->path), "%s", path);
	if (marker_path != NULL) {
		if (snprintf(a->marker_path, sizeof(a->marker_path), "%s",
		    marker_path) >= (int)sizeof(a->marker_path)) {
			r = SK_EINVAL;
			goto fail;
		}
		memcpy(a->marker_key, marker_key, 32);
		a->has_marker = 1;
		if (EVP_Digest(path, strlen(path), a->log_id, NULL,
		    EVP_sha256(), NULL) != 1) {
			r = SK_ECRYPTO;
			goto fail;
		}
	}
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
	if (fstat(a->fd, &st) == -1) {
		r = SK_ESYS;
		goto fail;
	}
	a->good_end = (uint64_t)st.st_size;
	if (a->has_marker && (r = chain_check(a, created)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	audit_close(a);
	return r;
}

/* ---- the chain's marker ---- */

static int
marker_mac(const struct audit_log *a, const uint8_t *buf, uint8_t out[32])
{
	struct iovec part = { .iov_base = (void *)(uintptr_t)buf,
		.iov_len = AUDIT_MARKER_LEN - 32 };

	return util_hmac_sha256(a->marker_key, 32, &part, 1, out);
}

/* Records, apart from the log, that this chain exists: when it began, its
 * first entry's mac and the log's path (a digest), under a MAC of the
 * host's master key. */
static void
marker_write(struct audit_log *a, const uint8_t first[32])
{
	uint8_t buf[AUDIT_MARKER_LEN];
	char tmp[sizeof(a->marker_path) + 8], dir[sizeof(a->marker_path)];
	uint64_t now = (uint64_t)time(NULL);
	char *slash;
	int fd, i, ok;

	memcpy(buf, AUDIT_MARKER_MAGIC, 8);
	for (i = 0; i < 8; i++)
		buf[8 + i] = (uint8_t)(now >> (56 - 8 * i));
	memcpy(buf + 16, first, 32);
	memcpy(buf + 48, a->log_id, 32);
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->marker_path);
	snprintf(dir, sizeof(dir), "%s", a->marker_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	ok = marker_mac(a, buf, buf + 80) == 0;
	fd = ok ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600) : -1;
	ok = fd != -1 && util_write_all(fd, buf, sizeof(buf)) == 0 &&
	    fsync(fd) == 0;
	if (fd != -1 && close(fd) == -1)
		ok = 0;
	ok = ok && rename(tmp, a->marker_path) == 0 &&
	    util_fsync_dir_path(dir) == 0;
	if (!ok) {
		log_warnx("cannot write the audit chain's marker %s (%s): a "
		    "removed log would not be noticed", a->marker_path,
		    strerror(errno));
		unlinkat(AT_FDCWD, tmp, 0);
	}
}

static int
marker_read(const struct audit_log *a, int64_t *began, uint8_t first[32])
{
	uint8_t buf[AUDIT_MARKER_LEN + 1], mac[32];
	uint64_t t = 0;
	ssize_t n;
	int fd, i;

	if ((fd = open(a->marker_path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? SK_ENOTFOUND : SK_ESYS;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != AUDIT_MARKER_LEN || memcmp(buf, AUDIT_MARKER_MAGIC, 8) != 0 ||
	    marker_mac(a, buf, mac) != 0 ||
	    CRYPTO_memcmp(mac, buf + 80, 32) != 0)
		return SK_EAUTH;
	/* A marker of a log kept elsewhere before (audit.log moved in the
	 * configuration): this log has none yet. */
	if (memcmp(buf + 48, a->log_id, 32) != 0)
		return SK_ENOTFOUND;
	for (i = 0; i < 8; i++)
		t = t << 8 | buf[8 + i];
	*began = (int64_t)t;
	memcpy(first, buf + 16, 32);
	return 0;
}

/* The mac of the log's first entry. */
static int
first_mac(int fd, uint8_t mac[32])
{
	char buf[AUDIT_LINE_MAX + 2], *nl;
	size_t bodylen;
	uint64_t seq;
	ssize_t n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return SK_ENOTFOUND;
	if ((nl = memchr(buf, '\n', (size_t)n)) == NULL)
		return SK_EFORMAT;
	*nl = '\0';
	if (line_split(buf, (size_t)(nl - buf), &bodylen, mac, &seq) != 0 ||
	    seq != 1)
		return SK_EFORMAT;
	return 0;
}

static int
format_body(const struct audit_log *a, const struct audit_event *ev,
    const char *fields, char *buf, size_t cap, char *stamp, size_t scap)
{
	struct json j;
	int n;

	if (sk_time_format((int64_t)time(NULL), stamp, scap) != 0)
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
	if (fields != NULL)
		json_raw(&j, "fields", fields);
	/* The body ends before the closing brace; the mac member closes it. */
	n = json_end(&j);
	if (n < 0 || (size_t)n + AUDIT_MAC_SUFFIX_LEN + 1 >= cap)
		return SK_ETOOBIG;
	return n - 1;
}

static int
format_entry(const struct audit_log *a, const struct audit_event *ev,
    char *buf, size_t cap)
{
	char stamp[32], fields[AUDIT_LINE_MAX / 2];
	int n, with = ev->detail != NULL &&
	    audit_schema_fields(ev->event, ev->detail, fields,
	    sizeof(fields)) == 0;

	/* Without the fields if the line would be too long with them. */
	if ((n = format_body(a, ev, with ? fields : NULL, buf, cap,
	    stamp, sizeof(stamp))) == SK_ETOOBIG && with)
		n = format_body(a, ev, NULL, buf, cap, stamp, sizeof(stamp));
	return n;
}

/*
 * Writes one entry and makes it durable. The caller holds the lock and has
 * checked that the log is not broken; on failure errno is kept for the
 * entry that records the gap.
 */
static int
append_locked(struct audit_log *a, const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX], machex[65];
	uint8_t mac[32];
	off_t end;
	int n, r;

	if ((n = format_entry(a, ev, line, sizeof(line))) < 0)
		return n;
	if ((r = entry_mac(a->key, a->last_mac, line, (size_t)n, mac)) != 0)
		return r;
	sk_hex(mac, 32, machex);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"mac\":\"%s\"}\n",
	    machex);
	if ((end = lseek(a->fd, 0, SEEK_END)) == -1) {
		a->broken_errno = errno;
		return SK_ESYS;
	}
	if ((r = util_write_all(a->fd, line, (size_t)n)) != 0 ||
	    fdatasync(a->fd) == -1) {
		a->broken_errno = errno;
		/* Leave no torn entry behind: cut back to the last whole one
		 * (if this fails too, the retry cuts it). */
		if (ftruncate(a->fd, end) == -1)
			return SK_ESYS;
		return r != 0 ? r : SK_ESYS;
	}
	a->good_end = (uint64_t)end + (uint64_t)n;
	memcpy(a->last_mac, mac, 32);
	evolve(a->key);
	a->next_seq++;
	if (a->next_seq == 2 && a->has_marker)
		marker_write(a, mac);
	if ((r = state_write(a)) != 0) {
		a->broken_errno = errno;
		a->state_stale = 1;
	}
	return r;
}

/*
 * Compares the log with the chain's marker. A log and state that are gone
 * while the marker says a chain was begun, a log that begins with another
 * entry than the marker's, or a marker that does not verify: the chain goes
 * on (or begins) with an entry that records the break, and `audit verify`
 * reports it. A missing marker beside an existing log is written.
 */
static int
chain_check(struct audit_log *a, int created)
{
	char why[200], began[32];
	struct audit_event ev = { .event = "audit.break", .actor = "system",
		.detail = why };
	uint8_t first[32], mine[32];
	int64_t t = 0;
	int m, have;

	why[0] = '\0';
	m = marker_read(a, &t, first);
	if (m == 0 && sk_time_format(t, began, sizeof(began)) != 0)
		snprintf(began, sizeof(began), "unknown");
	have = !created && first_mac(a->fd, mine) == 0;
	if (m == SK_ESYS)
		log_warnx("cannot read the audit chain's marker %s: %s",
		    a->marker_path, strerror(errno));
	else if (created && m == 0)
		snprintf(why, sizeof(why), "the log recorded %s and its state "
		    "are gone; this chain begins after them", began);
	else if (m == SK_EAUTH)
		snprintf(why, sizeof(why), "the chain's marker does not "
		    "verify: an earlier log may be gone or replaced");
	else if (have && m == 0 && CRYPTO_memcmp(first, mine, 32) != 0)
		snprintf(why, sizeof(why), "the log does not begin with the "
		    "first entry of the chain recorded %s: it was replaced",
		    began);
	else if (have && m == SK_ENOTFOUND)
		marker_write(a, mine);
	if (why[0] == '\0')
		return 0;
	log_errorx("audit log: %s (recorded as audit.break)", why);
	if (append_locked(a, &ev) != 0)
		return SK_ESYS;
	/* A new chain's marker was written with its first entry. */
	if (!created && first_mac(a->fd, mine) == 0)
		marker_write(a, mine);
	return 0;
}

/*
 * Keeps `reserve` bytes allocated past the log's end, so that entries can
 * still be written when uploads have filled the disk. Renewed when half is
 * used; a renewal the disk cannot give is said once, and tried again.
 */
static void
reserve_renew(struct audit_log *a)
{
	uint64_t left = a->alloc_end > a->good_end ?
	    a->alloc_end - a->good_end : 0;

	if (a->reserve == 0 || left >= a->reserve / 2)
		return;
	if (fallocate(a->fd, FALLOC_FL_KEEP_SIZE, (off_t)a->good_end,
	    (off_t)a->reserve) == 0) {
		a->alloc_end = a->good_end + a->reserve;
		if (a->reserve_short)
			log_info("the audit log's reserve of %" PRIu64 " bytes "
			    "is whole again", a->reserve);
		a->reserve_short = 0;
		return;
	}
	if (!a->reserve_short)
		log_warnx("the audit log's reserve of %" PRIu64 " bytes cannot "
		    "be renewed (%s): %" PRIu64 " bytes of it are left",
		    a->reserve, strerror(errno), left);
	a->reserve_short = 1;
}

/*
 * A broken log is tried again (at most once per AUDIT_RETRY_MS): a torn
 * entry is cut, the state caught up, and the first entry written again is
 * one that records the gap: since when, the error, how many entries were
 * not written (R50).
 */
static void
recover_locked(struct audit_log *a)
{
	char detail[256], since[32];
	struct audit_event ev = { .event = "audit.resumed", .actor = "system",
		.detail = detail };
	uint64_t now = util_now_ms();
	struct stat st;

	if (now - a->retry_ms < AUDIT_RETRY_MS)
		return;
	a->retry_ms = now;
	if (fstat(a->fd, &st) == -1 || ((uint64_t)st.st_size != a->good_end &&
	    ftruncate(a->fd, (off_t)a->good_end) == -1))
		return;
	if (a->state_stale) {
		if (state_write(a) != 0)
			return;
		a->state_stale = 0;
	}
	if (sk_time_format(a->broken_since, since, sizeof(since)) != 0)
		snprintf(since, sizeof(since), "unknown");
	snprintf(detail, sizeof(detail), "unwritable_since=%s "
	    "entries_not_written=%" PRIu64 " error=%s", since, a->lost,
	    strerror(a->broken_errno));
	if (append_locked(a, &ev) != 0)
		return;
	log_info("the audit log can be written again after %" PRId64 " s; "
	    "entries not written: %" PRIu64 "; work resumes (R50)",
	    (int64_t)time(NULL) - a->broken_since, a->lost);
	a->broken = 0;
	a->lost = 0;
	reserve_renew(a);
}

static void
mark_broken(struct audit_log *a)
{
	a->broken = 1;
	a->broken_since = (int64_t)time(NULL);
	a->retry_ms = util_now_ms();
	/* An entry whose state alone failed is in the log. */
	a->lost = a->state_stale ? 0 : 1;
}

/* The seq of the current file's first entry (0: it is empty). */
static uint64_t
first_seq(int fd)
{
	char buf[AUDIT_LINE_MAX + 2], *nl;
	uint8_t mac[32];
	size_t bodylen;
	uint64_t seq;
	ssize_t n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0 ||
	    (nl = memchr(buf, '\n', (size_t)n)) == NULL)
		return 0;
	*nl = '\0';
	return line_split(buf, (size_t)(nl - buf), &bodylen, mac, &seq) == 0 ?
	    seq : 0;
}

/*
 * Moves the log aside as a read-only segment PATH.FIRST-LAST and goes on
 * in a new file, whose first entry (audit.rotated) names the segment, its
 * entries and its SHA-256: the chain continues across files. A new empty
 * file is made first, so that a crash leaves either the old log, or the
 * segment and an empty log that reconcile() accepts.
 */
static int
rotate_locked(struct audit_log *a)
{
	char tmp[4200], seg[4352], detail[512], sha[65];
	struct audit_event ev = { .event = "audit.rotated", .actor = "system",
		.detail = detail };
	uint64_t first = first_seq(a->fd), last = a->next_seq - 1;
	const char *base;
	int nfd;

	if (first == 0 || last < first)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.rotating", a->path);
	snprintf(seg, sizeof(seg), "%s.%0*llu-%0*llu", a->path,
	    SEGMENT_DIGITS, (unsigned long long)first, SEGMENT_DIGITS,
	    (unsigned long long)last);
	if (fdatasync(a->fd) != 0 || util_fd_sha256_hex(a->fd, sha) != 0)
		return SK_ESYS;
	unlinkat(AT_FDCWD, tmp, 0);
	if ((nfd = open(tmp, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1)
		return SK_ESYS;
	if (fchmod(a->fd, 0440) != 0 || renameat(AT_FDCWD, a->path, AT_FDCWD, seg) != 0) {
		fchmod(a->fd, 0640);
		close(nfd);
		unlinkat(AT_FDCWD, tmp, 0);
		return SK_ESYS;
	}
	if (renameat(AT_FDCWD, tmp, AT_FDCWD, a->path) != 0) {
		/* The segment is whole; the log goes on in it no more, and
		 * the next start finds an empty log after it. */
		close(nfd);
		return SK_ESYS;
	}
	util_fsync_dir_path(a->path);
	close(a->fd);
	a->fd = nfd;
	a->good_end = 0;
	a->alloc_end = 0;
	base = strrchr(seg, '/') != NULL ? strrchr(seg, '/') + 1 : seg;
	snprintf(detail, sizeof(detail), "segment=%.200s entries=%llu "
	    "sha256=%s", base, (unsigned long long)(last - first + 1), sha);
	return append_locked(a, &ev);
}

/* The time of a file's last entry (0: none). */
static int64_t
last_time(const char *file)
{
	char tail[AUDIT_TAIL_READ + 1], *line = NULL, *t;
	struct tm tm;
	size_t len;
	int fd;
	int64_t r = 0;

	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if (read_last_line(fd, tail, AUDIT_TAIL_READ, &line, &len) == 0 &&
	    (t = strstr(line, "\"time\":\"")) != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (strptime(t + 8, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL)
			r = (int64_t)timegm(&tm);
	}
	close(fd);
	return r;
}

/*
 * Retention: the oldest segments whose last entry is older than
 * retention_days are removed, each with an entry (audit.segment_disposed)
 * that names it and gives its last seq and mac, from which `audit verify`
 * goes on. Checked at most once an hour.
 */
static void dispose_before_locked(struct audit_log *a, int64_t cutoff);

static void
retention_locked(struct audit_log *a)
{
	int64_t now = (int64_t)time(NULL);

	if (a->retention_days == 0 || now - a->retention_checked < 3600)
		return;
	a->retention_checked = now;
	dispose_before_locked(a, now - (int64_t)a->retention_days * 86400);
}

void
audit_dispose_segments_before(struct audit_log *a, int64_t cutoff)
{
	pthread_mutex_lock(&a->lock);
	if (!a->broken)
		dispose_before_locked(a, cutoff);
	pthread_mutex_unlock(&a->lock);
}

static void
dispose_before_locked(struct audit_log *a, int64_t cutoff)
{
	char tail[AUDIT_TAIL_READ + 1], *line, detail[512], machex[65];
	struct audit_event ev = { .event = "audit.segment_disposed",
		.actor = "system", .detail = detail };
	struct segment *v = NULL;
	uint8_t mac[32];
	size_t n = 0, i, len, bodylen;
	uint64_t seq;
	int64_t t;
	int fd, ok;

	if (segments_list(a->path, &v, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if ((t = last_time(v[i].name)) == 0 || t >= cutoff)
			break;
		if ((fd = open(v[i].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
		    -1)
			break;
		line = NULL;
		ok = read_last_line(fd, tail, AUDIT_TAIL_READ, &line, &len) ==
		    0 && line_split(line, len, &bodylen, mac, &seq) == 0 &&
		    seq == v[i].last;
		close(fd);
		if (!ok)
			break;
		sk_hex(mac, 32, machex);
		snprintf(detail, sizeof(detail), "segment=%.200s entries=%llu "
		    "through=%llu mac=%s retention_days=%u",
		    strrchr(v[i].name, '/') + 1, (unsigned long long)(v[i].last -
		    v[i].first + 1), (unsigned long long)v[i].last, machex,
		    a->retention_days);
		/* Recorded first: a segment is never gone without a record. */
		if (append_locked(a, &ev) != 0) {
			mark_broken(a);
			break;
		}
		if (unlinkat(AT_FDCWD, v[i].name, 0) != 0)
			log_warnx("cannot remove the audit segment %s: %s",
			    v[i].name, strerror(errno));
	}
	free(v);
}

/* A time's month in Japan (UTC+9, no summer time): year * 12 + month. */
static int64_t
month_of(int64_t t)
{
	time_t x = (time_t)(t + 9 * 3600);
	struct tm tm;

	if (gmtime_r(&x, &tm) == NULL)
		return 0;
	return (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
}

void
audit_set_monthly(struct audit_log *a, int on)
{
	int64_t t;

	pthread_mutex_lock(&a->lock);
	a->rotate_monthly = on;
	t = last_time(a->path);
	a->month = t > 0 ? month_of(t) : 0;
	pthread_mutex_unlock(&a->lock);
}

void
audit_set_rotation(struct audit_log *a, uint64_t bytes, unsigned days)
{
	pthread_mutex_lock(&a->lock);
	a->rotate_bytes = bytes;
	a->retention_days = days;
	a->retention_checked = 0;
	if (!a->broken)
		retention_locked(a);
	pthread_mutex_unlock(&a->lock);
}

int
audit_append(struct audit_log *a, const struct audit_event *ev)
{
	int64_t now;
	int r;

	pthread_mutex_lock(&a->lock);
	if (a->broken)
		recover_locked(a);
	if (a->broken) {
		a->lost++;
		r = SK_ESYS;
		pthread_mutex_unlock(&a->lock);
		return r;
	}
	/* A rotation that fails leaves the log as it was: said, not fatal. */
	now = (int64_t)time(NULL);
	if (((a->rotate_bytes > 0 && a->good_end >= a->rotate_bytes) ||
	    (a->rotate_monthly && a->good_end > 0 && a->month != 0 &&
	    month_of(now) != a->month)) && (r = rotate_locked(a)) != 0)
		log_warnx("the audit log %s could not be rotated: %s", a->path,
		    strerror(errno));
	if ((r = append_locked(a, ev)) != 0)
		mark_broken(a);
	else {
		a->month = month_of(now);
		reserve_renew(a);
		retention_locked(a);
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int
audit_broken(struct audit_log *a)
{
	int b;

	pthread_mutex_lock(&a->lock);
	if (a->broken)
		recover_locked(a);
	b = a->broken;
	pthread_mutex_unlock(&a->lock);
	return b;
}

void
audit_health(struct audit_log *a, struct audit_health *h)
{
	pthread_mutex_lock(&a->lock);
	if (a->broken)
		recover_locked(a);
	h->broken = a->broken;
	h->since = a->broken ? a->broken_since : 0;
	h->error = a->broken ? a->broken_errno : 0;
	h->lost = a->broken ? a->lost : 0;
	h->reserve = a->reserve;
	h->reserve_short = a->reserve_short;
	pthread_mutex_unlock(&a->lock);
}

void
audit_head(struct audit_log *a, uint64_t *seq, char mac_hex[65])
{
	pthread_mutex_lock(&a->lock);
	*seq = a->next_seq > 0 ? a->next_seq - 1 : 0;
	sk_hex(a->last_mac, sizeof(a->last_mac), mac_hex);
	pthread_mutex_unlock(&a->lock);
}

void
audit_set_reserve(struct audit_log *a, uint64_t bytes)
{
	pthread_mutex_lock(&a->lock);
	a->reserve = bytes;
	a->alloc_end = 0;
	reserve_renew(a);
	pthread_mutex_unlock(&a->lock);
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
	sk_wipe(a->marker_key, sizeof(a->marker_key));
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

/* Breaks and gaps that the chain itself records, and entries off their
 * event's schema. */
static void
note_event(struct audit_verify_result *res, const char *line, uint64_t lineno)
{
	static const char brk[] = "\"event\":\"audit.break\",";
	static const char gap[] = "\"event\":\"audit.resumed\",";
	/* seq and time come first and cannot hold a quote: the first
	 * "event" member is the entry's own. */
	const char *ev = strstr(line, "\"event\":\"");
	char event[64], detail[AUDIT_LINE_MAX], why[200];
	struct jsonr doc = { line, strlen(line) }, d;

	if (ev == NULL)
		return;
	/* The schema's contract (audit_schema.h): reported, not a break. */
	detail[0] = '\0';
	if (jsonr_get_string(doc, "event", event, sizeof(event)) != 0 ||
	    (jsonr_member(doc, "detail", &d) == 0 &&
	    jsonr_string(d, detail, sizeof(detail)) != 0))
		snprintf(why, sizeof(why), "the event or the detail cannot be "
		    "read");
	else if (audit_schema_check(event, detail, why, sizeof(why)) == 0)
		why[0] = '\0';
	if (why[0] != '\0' && res->off_schema++ == 0) {
		res->first_off_schema = lineno;
		snprintf(res->off_schema_why, sizeof(res->off_schema_why),
		    "%s", why);
	}
	if (strncmp(ev, brk, sizeof(brk) - 1) == 0) {
		if (res->breaks++ == 0)
			res->first_break = lineno;
	} else if (strncmp(ev, gap, sizeof(gap) - 1) == 0)
		res->gaps++;
}

/*
 * Where the chain starts when its first segments were disposed of: the
 * latest audit.segment_disposed entry whose `through` is first - 1 gives
 * the mac of the entry before (it is verified later, in the chain).
 */
static int
disposed_before(const struct segment *v, size_t n, const char *path,
    uint64_t first, uint8_t mac[32])
{
	char *line = NULL, *p, hex[65];
	unsigned long long through;
	size_t cap = 0, i, k;
	int found = 0;
	FILE *fp;

	for (i = 0; i <= n; i++) {
		if ((fp = fopen(i < n ? v[i].name : path, "re")) == NULL)
			continue;
		while (getline(&line, &cap, fp) != -1)
			if (strstr(line, "\"event\":\"audit.segment_disposed\"") !=
			    NULL && (p = strstr(line, "through=")) != NULL &&
			    sscanf(p, "through=%llu mac=%64[0-9a-f]", &through,
			    hex) == 2 && through + 1 == first &&
			    strlen(hex) == 64) {
				for (k = 0; k < 32; k++) {
					unsigned b;

					sscanf(hex + 2 * k, "%2x", &b);
					mac[k] = (uint8_t)b;
				}
				found = 1;
			}
		fclose(fp);
	}
	free(line);
	return found ? 0 : SK_ENOTFOUND;
}

int
audit_verify(const char *path, const char *key0_path, const char *state_path,
    struct audit_verify_result *res)
{
	uint8_t key[32], prev[32], mac[32], want[32], skey[32], smac[32];
	struct segment *v = NULL;
	char *line = NULL, why[160];
	size_t cap = 0, bodylen, nseg = 0, f;
	ssize_t len;
	uint64_t seq, expect = 1, sseq = 0, k;
	FILE *fp;
	int r, fdp;

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
	/* The segments a rotation moved aside come first, in order. */
	if ((r = segments_list(path, &v, &nseg)) != 0)
		goto out;
	memset(prev, 0, sizeof(prev));
	if (nseg > 0)
		expect = v[0].first;
	else if ((fdp = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		expect = first_seq(fdp);
		close(fdp);
		if (expect == 0)
			expect = 1;
	}
	if (expect > 1) {
		/* Segments before were disposed of under the retention: the
		 * chain goes on from the mac their record gives. */
		if (disposed_before(v, nseg, path, expect, prev) != 0) {
			r = verify_fail(res, expect, "the log begins after "
			    "entry 1 and no audit.segment_disposed entry "
			    "accounts for what came before: segments were "
			    "removed");
			goto out;
		}
		for (k = 1; k < expect; k++)
			evolve(key);
	}
	r = 0;
	if (state_path != NULL && sseq == expect)
		r = verify_at_state(key, prev, skey, smac, res);
	for (f = 0; r == 0 && f <= nseg; f++) {
		if ((fp = fopen(f < nseg ? v[f].name : path, "re")) == NULL) {
			r = f < nseg ? SK_ESYS : 0;
			if (f == nseg && errno != ENOENT)
				r = SK_ESYS;
			break;
		}
		if (f < nseg && v[f].first != expect) {
			snprintf(why, sizeof(why), "segment %.100s does not begin "
			    "where the one before ends", strrchr(v[f].name,
			    '/') != NULL ? strrchr(v[f].name, '/') + 1 :
			    v[f].name);
			r = verify_fail(res, expect, why);
			fclose(fp);
			break;
		}
		while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
			if (len == 0 || line[len - 1] != '\n') {
				r = verify_fail(res, expect, "the last line is "
				    "cut off");
				break;
			}
			line[--len] = '\0';
			if ((size_t)len > AUDIT_LINE_MAX ||
			    line_split(line, (size_t)len, &bodylen, mac,
			    &seq) != 0)
				r = verify_fail(res, expect, "not an audit entry");
			else if (seq != expect)
				r = verify_fail(res, expect, "sequence number "
				    "out of order: an entry was removed, added "
				    "or moved");
			else if (entry_mac(key, prev, line, bodylen, want) != 0 ||
			    CRYPTO_memcmp(mac, want, 32) != 0)
				r = verify_fail(res, expect, "the MAC does not "
				    "match: the entry was changed");
			else {
				memcpy(prev, mac, 32);
				evolve(key);
				res->entries++;
				note_event(res, line, expect);
				expect++;
				if (state_path != NULL && expect == sseq)
					r = verify_at_state(key, prev, skey,
					    smac, res);
			}
		}
		if (f < nseg && r == 0 && expect != v[f].last + 1)
			r = verify_fail(res, expect, "a segment ends before "
			    "the seq its name gives: entries were removed");
		fclose(fp);
	}
	if (r == 0 && state_path != NULL && expect < sseq)
		r = verify_fail(res, expect, "the log ends before "
		    "the last entry written: entries were removed");
	res->segments = nseg;
out:
	free(line);
	free(v);
	sk_wipe(key, sizeof(key));
	sk_wipe(skey, sizeof(skey));
	return r;
}

void
audit_oldest_file(const char *path, char *out, size_t cap)
{
	struct segment *v = NULL;
	size_t n = 0;

	if (segments_list(path, &v, &n) == 0 && n > 0)
		snprintf(out, cap, "%s", v[0].name);
	else
		snprintf(out, cap, "%s", path);
	free(v);
}

/* ---- witnesses (R47) ---- */

struct head {
	uint64_t seq;
	char mac[65];
	char time[32];
};

static int
read_heads(const char *path, const char *event, int witnesses,
    struct head **out, size_t *n)
{
	char line[AUDIT_LINE_MAX + 2], detail[AUDIT_LINE_MAX], ev[64], v[32];
	struct head *h = NULL, *p;
	struct jsonr doc;
	size_t len, cap = 0;
	const char *s;
	FILE *fp;

	*n = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return SK_ESYS;
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		doc.p = line;
		doc.n = len;
		if (jsonr_valid(line, len) != 0 ||
		    jsonr_get_string(doc, "event", ev, sizeof(ev)) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((p = reallocarray(h, cap, sizeof(*h))) == NULL) {
				free(h);
				fclose(fp);
				return SK_ENOMEM;
			}
			h = p;
		}
		p = &h[*n];
		memset(p, 0, sizeof(*p));
		jsonr_get_string(doc, "time", p->time, sizeof(p->time));
		if (witnesses) {
			if (strcmp(ev, event) != 0 || jsonr_get_string(doc,
			    "detail", detail, sizeof(detail)) != 0 ||
			    (s = strstr(detail, "seq=")) == NULL ||
			    sscanf(s + 4, "%31[0-9]", v) != 1 ||
			    (s = strstr(detail, "mac=")) == NULL ||
			    sscanf(s + 4, "%64[0-9a-f]", p->mac) != 1)
				continue;
			p->seq = strtoull(v, NULL, 10);
		} else if (jsonr_get_u64(doc, "seq", &p->seq) != 0 ||
		    jsonr_get_string(doc, "mac", p->mac, sizeof(p->mac)) != 0)
			continue;
		(*n)++;
	}
	fclose(fp);
	*out = h;
	return 0;
}

/* A log's own heads, its segments' first. */
static int
read_own_heads(const char *path, struct head **out, size_t *n)
{
	struct segment *v = NULL;
	struct head *all = NULL, *h, *p;
	size_t nseg = 0, i, k, total = 0;
	int e;

	*out = NULL;
	*n = 0;
	if ((e = segments_list(path, &v, &nseg)) != 0)
		return e;
	for (i = 0; i <= nseg; i++) {
		if ((e = read_heads(i < nseg ? v[i].name : path, NULL, 0, &h,
		    &k)) != 0) {
			if (i == nseg && errno == ENOENT)
				break;
			free(all);
			free(v);
			return e;
		}
		if (k > 0 && (p = reallocarray(all, total + k,
		    sizeof(*all))) == NULL) {
			free(h);
			free(all);
			free(v);
			return SK_ENOMEM;
		} else if (k > 0) {
			all = p;
			memcpy(all + total, h, k * sizeof(*h));
			total += k;
		}
		free(h);
	}
	free(v);
	*out = all;
	*n = total;
	return 0;
}

int
audit_verify_witness(const char *path, const char *role,
    const char *witness_path, uint64_t *checked, uint64_t *bad, char *why,
    size_t whycap)
{
	struct head *mine = NULL, *seen = NULL;
	size_t nm, ns, i, k;
	char event[64];
	int e;

	*checked = *bad = 0;
	why[0] = '\0';
	snprintf(event, sizeof(event), "witness.%s", role);
	if ((e = read_own_heads(path, &mine, &nm)) != 0)
		return e;
	if ((e = read_heads(witness_path, event, 1, &seen, &ns)) != 0) {
		free(mine);
		return e;
	}
	for (i = 0; i < ns; i++) {
		(*checked)++;
		if (seen[i].seq == 0)
			continue;	/* an empty log was witnessed */
		/* Entry seq is line seq of an unbroken chain; look it up. */
		k = seen[i].seq - 1 < nm && mine[seen[i].seq - 1].seq ==
		    seen[i].seq ? seen[i].seq - 1 : nm;
		if (k == nm)
			for (k = 0; k < nm && mine[k].seq != seen[i].seq; k++)
				;
		if (k < nm && strcmp(mine[k].mac, seen[i].mac) == 0)
			continue;
		if (*bad == 0)
			snprintf(why, whycap, "entry %" PRIu64 ", witnessed at "
			    "%s, %s", seen[i].seq, seen[i].time, k == nm ?
			    "is not in this log (cut short, deleted or "
			    "replaced)" : "differs from what was witnessed "
			    "(rewritten or replaced)");
		(*bad)++;
	}
	free(mine);
	free(seen);
	return *bad == 0 ? 0 : SK_EAUTH;
}
