/*
 * backup.c: the vault's backups (R22, R52) and their register (R13).
 *
 *   backup --to DIR --operator OP --key KEY          the store, sealed
 *   backup --escrow-key CERT --to DIR --operator OP --key KEY
 *                                                    the master key, CMS
 *   backup list [--json]                             the register
 *   backup check FILE                                reads it all back
 *   backup dispose NAME --file FILE --operator OP --key KEY
 *   restore --from FILE --operator OP --key KEY      into a fresh store
 *
 * The backup's plaintext is a small archive: "SKVB1\n", then per file 'F',
 * the name's length (u16) and the name ("jobs/ID", "sources/ID", ...), the
 * size (u64) and the bytes, then 'Z' and the number of files (u64). Names
 * are checked against a fixed list of folders and a plain alphabet when
 * the archive is read, so a backup cannot write outside the store. The
 * sealed object authenticates every chunk and its end: a backup that was
 * altered, cut short or sealed under another master key is refused before
 * anything is written.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "approve.h"
#include "backup.h"
#include "daemon.h"
#include "json.h"
#include "jsonr.h"
#include "log.h"
#include "seal.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

#define ARC_MAGIC "SKVB1\n"
#define ARC_NAME_MAX 160
#define RECORD_MAX (8u << 20)
#define RECORD_ID_MAX 200
#define BACKUP_FORMAT "sekisho-vault-backup"

/* The store's folders a backup holds, in the order written. */
static const char *const folders[] = { "jobs", "sources", "releases",
	"reports", "backups", "roster" };

struct names {
	char **v;
	size_t n;
};

static void
names_free(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
names_add(struct names *l, const char *s)
{
	char **p = reallocarray(l->v, l->n + 1, sizeof(*p));

	if (p == NULL)
		return SK_ENOMEM;
	l->v = p;
	if ((l->v[l->n] = strdup(s)) == NULL)
		return SK_ENOMEM;
	l->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A name the store uses: letters, digits, '.', '_', '-', not hidden. */
static int
plain_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '.' || strstr(s, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Which folder an archive name goes to (-1: none, refused); *base is
 * the file's own name. The marker and the log copy have folder -2. */
static int
arc_folder(const char *name, const char **base)
{
	const char *slash = strchr(name, '/');
	size_t i;

	if (strcmp(name, "audit.chain") == 0 || strcmp(name, "audit.log") ==
	    0) {
		*base = name;
		return -2;
	}
	if (slash == NULL || !plain_name(slash + 1))
		return -1;
	for (i = 0; i < SK_ARRAY_LEN(folders); i++)
		if (strlen(folders[i]) == (size_t)(slash - name) &&
		    strncmp(name, folders[i], (size_t)(slash - name)) == 0) {
			*base = slash + 1;
			return (int)i;
		}
	return -1;
}

static void
utc_stamp(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y%m%dT%H%M%SZ", &tm);
}

/* The real path of an existing folder, or of a file's folder. */
static int
real_dir(const char *path, char *out)
{
	return realpath(path, out) == NULL ? SK_ESYS : 0;
}

/* 1 if dir is the data folder or inside it. */
static int
inside(const char *dir, const char *data)
{
	size_t n = strlen(data);

	return strcmp(dir, data) == 0 || (strncmp(dir, data, n) == 0 &&
	    dir[n] == '/');
}

/* ---- the operator's signature on a backup action ---- */

static int
backup_message(const char *action, const char *name, const char *sha,
    const char *path, int64_t t, char *out, size_t cap)
{
	int n = snprintf(out, cap, "sekisho-vault backup v1\naction=%s\n"
	    "name=%s\nsha256=%s\npath=%s\ntime=%" PRId64 "\n", action, name,
	    sha, path, t);

	return n < 0 || (size_t)n >= cap ? SK_ETOOBIG : 0;
}

struct signer {
	const struct config_operator *op;
	EVP_PKEY *roster_key;
	EVP_PKEY *key;
};

/* Reads the operator's key (as whoever runs the command) and checks at
 * once that it is the roster's and in its dates. */
static void
signer_open(struct vault *v, const char *op, const char *keyfile,
    struct signer *s)
{
	char msg[512], sig[256], why[256];
	int64_t now = (int64_t)time(NULL);

	if ((s->op = site_find_operator(v->site, op)) == NULL)
		fatalx("operator %s is not on the roster; refused", op);
	s->roster_key = v->op_keys[s->op - v->site->operators];
	if (approval_load_key(keyfile, &s->key, why, sizeof(why)) != 0)
		fatalx("%s: %s", keyfile, why);
	if (backup_message("probe", "-", "-", "-", now, msg, sizeof(msg)) !=
	    0 || approval_sign(s->key, msg, sig, sizeof(sig), why,
	    sizeof(why)) != 0 || approval_verify(s->op, s->roster_key, msg,
	    sig, now, why, sizeof(why)) != 0)
		fatalx("refused: %s", why);
}

static void
signer_sign(struct signer *s, const char *action, const char *name,
    const char *sha, const char *path, int64_t t, char *sig, size_t cap)
{
	char msg[PATH_MAX + 512], why[256];

	if (backup_message(action, name, sha, path, t, msg, sizeof(msg)) !=
	    0 || approval_sign(s->key, msg, sig, cap, why, sizeof(why)) != 0 ||
	    approval_verify(s->op, s->roster_key, msg, sig, t, why,
	    sizeof(why)) != 0)
		fatalx("cannot sign the %s record: %s", action, why);
}

static void
signer_close(struct signer *s)
{
	EVP_PKEY_free(s->key);
	s->key = NULL;
}

/* ---- the register: data_dir/backups/ID.pending, then ID.json ---- */

struct owner {
	int root;
	uid_t uid;
	gid_t gid;
};

static void
owner_of(const struct vault *v, struct owner *o)
{
	struct passwd *pw;

	memset(o, 0, sizeof(*o));
	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(v->local.user)) == NULL)
		fatalx("user %s does not exist", v->local.user);
	o->root = 1;
	o->uid = pw->pw_uid;
	o->gid = pw->pw_gid;
}

/* A folder of the data folder, made if missing and given to the vault's
 * user when we are root. */
static int
store_dir(const struct vault *v, const struct owner *o, const char *name)
{
	int fd = daemon_open_dir(v->local.data_dir, name);

	if (o->root && fchown(fd, o->uid, o->gid) != 0)
		fatalx("%s/%s: %s", v->local.data_dir, name, strerror(errno));
	return fd;
}

static void
record_write(const struct vault *v, const struct owner *o, const char *id,
    const char *text, size_t len)
{
	char tmp[RECORD_ID_MAX + 16], fin[RECORD_ID_MAX + 16];
	int dfd = store_dir(v, o, "backups"), fd, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", id);
	snprintf(fin, sizeof(fin), "%s.pending", id);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		fatalx("%s/backups/%s: %s", v->local.data_dir, tmp,
		    strerror(errno));
	if ((e = util_write_all(fd, text, len)) != 0 ||
	    (o->root && fchown(fd, o->uid, o->gid) != 0) || fsync(fd) != 0) {
		unlinkat(dfd, tmp, 0);
		fatalx("cannot write the register record %s: %s", id,
		    e != 0 ? sk_strerror(e) : strerror(errno));
	}
	close(fd);
	if ((e = seal_commit(dfd, tmp, dfd, fin)) != 0) {
		unlinkat(dfd, tmp, 0);
		fatalx("cannot record %s: %s", id, sk_strerror(e));
	}
	close(dfd);
}

/* ---- locks ---- */

static int
lock_open(const struct vault *v, const struct owner *o, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", v->local.data_dir, name) >=
	    (int)sizeof(path))
		fatalx("%s: path too long", v->local.data_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		fatalx("%s: %s", path, strerror(errno));
	if (o != NULL && o->root && fchown(fd, o->uid, o->gid) != 0)
		fatalx("%s: %s", path, strerror(errno));
	return fd;
}

void
vault_backup_open(struct vault *v)
{
	v->store_lock_fd = lock_open(v, NULL, ".store.lock");
	v->daemon_lock_fd = lock_open(v, NULL, ".daemon.lock");
	if (flock(v->daemon_lock_fd, LOCK_EX | LOCK_NB) != 0)
		fatalx("%s/.daemon.lock is held: another vault daemon or a "
		    "restore runs on this data folder", v->local.data_dir);
	v->backups_fd = daemon_open_dir(v->local.data_dir, "backups");
	v->console_fd = daemon_open_dir(v->local.data_dir, "console");
}

/*
 * A note of an operator's signature on a release (the console's
 * release-approve, -reject, -withdraw): the operator whose signature of
 * that action on the job verifies now goes into actor; 0, or -1 when none
 * does (the note is then recorded as unverified).
 */
static int
signer_of(struct vault *v, const char *cmd, const char *object,
    const char *detail, char *actor, size_t cap)
{
	char op[CONFIG_ID_MAX], ops[512], *p;
	unsigned n, bad;
	struct job j;
	size_t len;

	if (sscanf(detail, "operator=%63s", op) != 1 || v->jobs_fd < 0 ||
	    job_load(v->jobs_fd, object, &j) != 0 ||
	    approval_count(v->jobs_fd, v->site, v->op_keys, &j,
	    cmd + strlen("release-"), (int64_t)time(NULL), &n, &bad, ops,
	    sizeof(ops), NULL, 0) != 0)
		return -1;
	len = strlen(op);
	for (p = ops; (p = strstr(p, op)) != NULL; p += len)
		if ((p == ops || p[-1] == ',') && (p[len] == ',' ||
		    p[len] == '\0')) {
			snprintf(actor, cap, "operator:%s", op);
			return 0;
		}
	return -1;
}

/* The daemon: the console's notes of use (R30) into the audit log. */
static void
console_notes_audit(struct vault *v)
{
	char text[1100], cmd[64], obj[80], detail[600], user[64], actor[80];
	struct names files = { 0 };
	int sig;
	struct audit_event ev;
	struct jsonr doc;
	struct dirent *de;
	size_t i, n;
	ssize_t got;
	DIR *d;
	int fd;

	if (v->console_fd < 0 || (fd = dup(v->console_fd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL && files.n < 64) {
		n = strlen(de->d_name);
		if (plain_name(de->d_name) && n > 8 &&
		    strcmp(de->d_name + n - 8, ".pending") == 0)
			names_add(&files, de->d_name);
	}
	closedir(d);
	if (files.n > 0)
		qsort(files.v, files.n, sizeof(*files.v), cmp_str);
	for (i = 0; i < files.n; i++) {
		if ((fd = openat(v->console_fd, files.v[i], O_RDONLY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		got = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[got > 0 ? got : 0] = '\0';
		doc.p = text;
		doc.n = got > 0 ? (size_t)got : 0;
		if (got <= 0 || jsonr_valid(text, (size_t)got) != 0 ||
		    jsonr_get_string(doc, "command", cmd, sizeof(cmd)) != 0 ||
		    jsonr_get_string(doc, "user", user, sizeof(user)) != 0) {
			unlinkat(v->console_fd, files.v[i], 0);
			vault_audit(v, "console.record_invalid", NULL, 0, 0,
			    NULL, "an unreadable note of the console's use");
			continue;
		}
		obj[0] = detail[0] = '\0';
		jsonr_get_string(doc, "object", obj, sizeof(obj));
		jsonr_get_string(doc, "detail", detail, sizeof(detail));
		snprintf(actor, sizeof(actor), "console:%s", user);
		sig = strcmp(cmd, "release-approve") == 0 ||
		    strcmp(cmd, "release-reject") == 0 ||
		    strcmp(cmd, "release-withdraw") == 0;
		if (sig && signer_of(v, cmd, obj, detail, actor,
		    sizeof(actor)) != 0 && strlen(detail) + 24 < sizeof(detail))
			strcat(detail, " signature=unverified");
		memset(&ev, 0, sizeof(ev));
		/* An operator's signature on a release (approval,
		 * rejection, withdrawal): an entry of its own, with the
		 * operator and the digest of the text signed (issue 20). */
		ev.event = sig ? "release.signed" : "console.used";
		ev.actor = actor;
		ev.object = obj[0] ? obj : NULL;
		snprintf(text, sizeof(text), "command=%s%s%s", cmd,
		    detail[0] ? " " : "", detail);
		ev.detail = text;
		/* The audit entry is the record; the note goes once it is. */
		if (audit_append(v->audit, &ev) == 0)
			unlinkat(v->console_fd, files.v[i], 0);
	}
	names_free(&files);
}

void
vault_store_hold(struct vault *v)
{
	while (v->store_lock_fd >= 0 && flock(v->store_lock_fd, LOCK_SH) != 0)
		if (errno != EINTR || v->stop)
			break;
}

void
vault_store_release(struct vault *v)
{
	if (v->store_lock_fd >= 0)
		flock(v->store_lock_fd, LOCK_UN);
}

/* ---- writing the archive ---- */

struct arc_out {
	struct seal_writer *w;
	uint64_t files, bytes, jobs;
	struct names objects;		/* "sources/ID", "releases/ID" */
};

static int
arc_header(struct arc_out *a, const char *name, uint64_t size)
{
	uint8_t h[1 + 2 + ARC_NAME_MAX + 8];
	size_t n = strlen(name), o = 0;
	int i;

	if (n == 0 || n > ARC_NAME_MAX)
		return SK_ETOOBIG;
	h[o++] = 'F';
	h[o++] = (uint8_t)(n >> 8);
	h[o++] = (uint8_t)n;
	memcpy(h + o, name, n);
	o += n;
	for (i = 7; i >= 0; i--)
		h[o++] = (uint8_t)(size >> (8 * i));
	return seal_writer_write(a->w, h, o);
}

/* One file into the archive: its first size bytes (the log copy: up to
 * its last complete line). */
static int
arc_add_fd(struct arc_out *a, const char *name, int fd, uint64_t size)
{
	uint8_t buf[65536];
	uint64_t off = 0;
	ssize_t n;
	int e;

	if ((e = arc_header(a, name, size)) != 0)
		return e;
	while (off < size) {
		n = pread(fd, buf, size - off < sizeof(buf) ?
		    (size_t)(size - off) : sizeof(buf), (off_t)off);
		if (n <= 0)
			return n == 0 ? SK_ETRUNCATED : SK_ESYS;
		if ((e = seal_writer_write(a->w, buf, (size_t)n)) != 0)
			return e;
		off += (uint64_t)n;
	}
	sk_wipe(buf, sizeof(buf));
	a->files++;
	a->bytes += size;
	return 0;
}

static int
arc_add_folder(struct arc_out *a, const char *data_dir, size_t which)
{
	char path[PATH_MAX], name[ARC_NAME_MAX + 1];
	struct names l = { 0 };
	struct dirent *de;
	struct stat st;
	size_t i;
	DIR *d;
	int dfd, fd, e = 0;

	if (snprintf(path, sizeof(path), "%s/%s", data_dir,
	    folders[which]) >= (int)sizeof(path))
		return SK_ETOOBIG;
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : SK_ESYS;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return SK_ESYS;
	}
	while (e == 0 && (de = readdir(d)) != NULL)
		/* Hidden files (the lock) and temporary files stay out. */
		if (plain_name(de->d_name) && strstr(de->d_name, ".tmp") ==
		    NULL)
			e = names_add(&l, de->d_name);
	if (e == 0 && l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	for (i = 0; e == 0 && i < l.n; i++) {
		if ((fd = openat(dirfd(d), l.v[i], O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1) {
			if (errno == ENOENT)
				continue;	/* a record renamed meanwhile */
			e = SK_ESYS;
			break;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s", folders[which], l.v[i]);
		e = arc_add_fd(a, name, fd, (uint64_t)st.st_size);
		close(fd);
		if (e == 0 && which == 0 && job_id_valid(l.v[i]))
			a->jobs++;
		if (e == 0 && (which == 1 || which == 2))
			e = names_add(&a->objects, name);
	}
	closedir(d);
	names_free(&l);
	return e;
}

/* The audit log's copy: up to its last complete line. */
static int
arc_add_log(struct arc_out *a, const char *path)
{
	uint8_t c;
	struct stat st;
	uint64_t end;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : SK_ESYS;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return SK_ESYS;
	}
	for (end = (uint64_t)st.st_size; end > 0; end--)
		if (pread(fd, &c, 1, (off_t)(end - 1)) != 1 || c == '\n')
			break;
	e = arc_add_fd(a, "audit.log", fd, end);
	close(fd);
	return e;
}

static int
arc_add_marker(struct arc_out *a, const char *data_dir)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, e;

	if (snprintf(path, sizeof(path), "%s/audit.chain", data_dir) >=
	    (int)sizeof(path))
		return SK_ETOOBIG;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : SK_ESYS;
	e = fstat(fd, &st) != 0 ? SK_ESYS :
	    arc_add_fd(a, "audit.chain", fd, (uint64_t)st.st_size);
	close(fd);
	return e;
}

static int
arc_end(struct arc_out *a)
{
	uint8_t z[9];
	int i;

	z[0] = 'Z';
	for (i = 0; i < 8; i++)
		z[1 + i] = (uint8_t)(a->files >> (8 * (7 - i)));
	return seal_writer_write(a->w, z, sizeof(z));
}

/* ---- reading the archive ---- */

struct arc_meta {
	char name[96];
	char site[65];
	char key_id[17];
	uint64_t created, files, bytes, jobs;
};

static int
read_exact(struct seal_reader *r, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got;
	int e;

	while (len > 0) {
		if ((e = seal_reader_read(r, p, len, &got)) != 0)
			return e;
		if (got == 0)
			return SK_ETRUNCATED;
		p += got;
		len -= got;
	}
	return 0;
}

static int
arc_meta_read(struct seal_reader *r, struct arc_meta *m)
{
	char buf[SEAL_META_MAX + 1], fmt[64];
	struct jsonr doc;
	size_t len;
	int e;

	memset(m, 0, sizeof(*m));
	if ((e = seal_reader_meta(r, (uint8_t *)buf, SEAL_META_MAX, &len)) != 0)
		return e;
	buf[len] = '\0';
	doc.p = buf;
	doc.n = len;
	if (jsonr_valid(buf, len) != 0 ||
	    jsonr_get_string(doc, "format", fmt, sizeof(fmt)) != 0 ||
	    strcmp(fmt, BACKUP_FORMAT) != 0 ||
	    jsonr_get_string(doc, "name", m->name, sizeof(m->name)) != 0 ||
	    !plain_name(m->name) ||
	    jsonr_get_string(doc, "site", m->site, sizeof(m->site)) != 0 ||
	    jsonr_get_string(doc, "key_id", m->key_id, sizeof(m->key_id)) != 0 ||
	    jsonr_get_u64(doc, "created", &m->created) != 0 ||
	    jsonr_get_u64(doc, "files", &m->files) != 0 ||
	    jsonr_get_u64(doc, "bytes", &m->bytes) != 0 ||
	    jsonr_get_u64(doc, "jobs", &m->jobs) != 0)
		return SK_EFORMAT;
	return 0;
}

/*
 * Reads the archive from its start. For each file, on_file gets its folder
 * (arc_folder) and base name and must read exactly size bytes with
 * read_exact (NULL: they are read and dropped). Everything is checked: the
 * magic, each name, the end record, the count, nothing after the end.
 */
typedef int (*arc_file_fn)(void *ctx, int folder, const char *base,
    uint64_t size, struct seal_reader *r);

static int
arc_walk(struct seal_reader *r, arc_file_fn on_file, void *ctx,
    uint64_t *files, uint64_t *bytes, char *why, size_t whycap)
{
	uint8_t hdr[8], buf[65536], tag;
	char name[ARC_NAME_MAX + 1];
	const char *base;
	uint64_t size, n = 0, total = 0, count, left;
	size_t len, got;
	int e, folder, i;

	if ((e = seal_reader_seek(r, 0)) != 0 ||
	    (e = read_exact(r, hdr, 6)) != 0 ||
	    memcmp(hdr, ARC_MAGIC, 6) != 0) {
		snprintf(why, whycap, "%s", e == SK_EAUTH ? "it was altered "
		    "(authentication failed)" : e == SK_ETRUNCATED ?
		    "it is cut short" : e != 0 ? sk_strerror(e) :
		    "not a vault backup");
		return e != 0 ? e : SK_EFORMAT;
	}
	for (;;) {
		if ((e = read_exact(r, &tag, 1)) != 0)
			break;
		if (tag == 'Z') {
			if ((e = read_exact(r, hdr, 8)) != 0)
				break;
			for (count = 0, i = 0; i < 8; i++)
				count = count << 8 | hdr[i];
			if (count != n) {
				snprintf(why, whycap, "the end record counts "
				    "%" PRIu64 " files, the archive has %"
				    PRIu64, count, n);
				return SK_EFORMAT;
			}
			if ((e = seal_reader_read(r, buf, 1, &got)) != 0)
				break;
			if (got != 0) {
				snprintf(why, whycap, "bytes after the end");
				return SK_EFORMAT;
			}
			*files = n;
			*bytes = total;
			return 0;
		}
		if (tag != 'F' || (e = read_exact(r, hdr, 2)) != 0 ||
		    (len = (size_t)hdr[0] << 8 | hdr[1]) == 0 ||
		    len > ARC_NAME_MAX || (e = read_exact(r, name, len)) != 0) {
			e = e != 0 ? e : SK_EFORMAT;
			break;
		}
		name[len] = '\0';
		if ((folder = arc_folder(name, &base)) == -1 ||
		    memchr(name, '\0', len) != NULL) {
			snprintf(why, whycap, "entry %" PRIu64 ": a name the "
			    "store does not use", n + 1);
			return SK_EFORMAT;
		}
		if ((e = read_exact(r, hdr, 8)) != 0)
			break;
		for (size = 0, i = 0; i < 8; i++)
			size = size << 8 | hdr[i];
		if (on_file != NULL)
			e = on_file(ctx, folder, base, size, r);
		else
			for (left = size; e == 0 && left > 0; left -= got) {
				got = left < sizeof(buf) ? (size_t)left :
				    sizeof(buf);
				e = read_exact(r, buf, got);
			}
		if (e != 0) {
			snprintf(why, whycap, "entry %" PRIu64 " (%s): %s",
			    n + 1, name, sk_strerror(e));
			return e;
		}
		n++;
		total += size;
	}
	snprintf(why, whycap, "after entry %" PRIu64 ": %s", n,
	    e == SK_EAUTH ? "it was altered (authentication failed)" :
	    e == SK_ETRUNCATED ? "it is cut short" : sk_strerror(e));
	return e != 0 ? e : SK_EFORMAT;
}

/*
 * Opens a backup file as whoever runs the command (root may read a medium
 * the vault's user cannot), unwrapping its key with the loaded master key.
 */
static struct seal_reader *
backup_open(struct vault *v, const char *file, int *raw_fd)
{
	char dir[PATH_MAX], idhex[17];
	const char *base = strrchr(file, '/');
	uint8_t key[SEAL_KEY_LEN], hdr[20];
	struct seal_reader *r = NULL;
	int dfd, fd, e;

	snprintf(dir, sizeof(dir), "%.*s", base == NULL ? 1 : base == file ?
	    1 : (int)(base - file), base == NULL ? "." : file);
	base = base == NULL ? file : base + 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", dir, strerror(errno));
	if ((*raw_fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		fatalx("%s: %s", file, strerror(errno));
	if ((e = seal_object_open(&v->master, dfd, base, key, &fd)) != 0) {
		if (pread(*raw_fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
		    memcmp(hdr, "SKSEAL\0\1", 8) == 0) {
			sk_hex(hdr + 12, 8, idhex);
			if (memcmp(hdr + 12, v->master.key_id, 8) != 0)
				fatalx("%s was sealed under master key id %s, "
				    "not under this vault's master key: put "
				    "back the master key escrowed with it "
				    "first (openssl cms -decrypt, see the "
				    "admin guide)", file, idhex);
		}
		fatalx("%s: %s; nothing was read from it", file, e == SK_EAUTH ?
		    "破損しています / damaged: it was altered, or is not a "
		    "backup of this vault" : sk_strerror(e));
	}
	close(dfd);
	if ((e = seal_reader_attach(fd, key, &r)) != 0) {
		close(fd);
		sk_wipe(key, sizeof(key));
		fatalx("%s: 破損しています / damaged: it was altered or cut "
		    "short (%s); nothing was read from it", file,
		    sk_strerror(e));
	}
	sk_wipe(key, sizeof(key));
	return r;
}

static void
master_load(struct vault *v)
{
	int e;

	if ((e = seal_master_load(v->local.master_key, &v->master)) != 0)
		fatalx("master key %s: %s%s%s", v->local.master_key,
		    sk_strerror(e), e == SK_ESYS ? ": " : "",
		    e == SK_ESYS ? strerror(errno) : "");
	v->master_loaded = 1;
}

/* ---- backup --to DIR ---- */

static int
objects_json(const struct names *l, char **out)
{
	size_t cap = 16 + l->n * (ARC_NAME_MAX + 4), o = 0, i;
	char *s = malloc(cap);

	if (s == NULL)
		return SK_ENOMEM;
	s[o++] = '[';
	for (i = 0; i < l->n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s\"%s\"", i ? "," : "",
		    l->v[i]);
	s[o++] = ']';
	s[o] = '\0';
	*out = s;
	return 0;
}

static void
write_register(struct vault *v, const struct owner *o, const char *id,
    const char *action, const char *name, const char *sha, const char *path,
    int64_t t, const char *opid, const char *sig, uint64_t bytes,
    uint64_t files, uint64_t jobs, const char *objects, const char *note)
{
	size_t cap = 4096 + (objects ? strlen(objects) : 0) + strlen(path);
	char *buf = malloc(cap);
	struct json j;
	int n;

	if (buf == NULL)
		fatalx("out of memory");
	json_begin(&j, buf, cap);
	json_str(&j, "action", action);
	json_str(&j, "name", name);
	json_u64(&j, "time", (uint64_t)t);
	json_str(&j, "operator", opid);
	json_str(&j, "path", path);
	json_str(&j, "sha256", sha);
	json_str(&j, "sig", sig);
	json_u64(&j, "bytes", bytes);
	json_u64(&j, "files", files);
	json_u64(&j, "jobs", jobs);
	if (note != NULL)
		json_str(&j, "note", note);
	if (objects != NULL)
		json_raw(&j, "objects", objects);
	if ((n = json_end(&j)) < 0)
		fatalx("the register record of %s is too long", name);
	buf[n] = '\n';
	record_write(v, o, id, buf, (size_t)n + 1);
	free(buf);
}

static int
cmd_backup(struct vault *v, const char *to, const char *op,
    const char *keyfile)
{
	char dir[PATH_MAX], data[PATH_MAX], path[PATH_MAX + 64], stamp[32];
	char name[96], file[112], tmp[128], meta[1024], sha[65], sig[256];
	char why[256], idhex[17], *objects = NULL;
	struct arc_out a = { 0 };
	struct signer s = { 0 };
	struct owner o;
	struct stat sd, sv;
	struct seal_reader *r;
	struct json j;
	uint64_t files, bytes;
	int64_t now = (int64_t)time(NULL);
	int dfd, lk, jl, fd, e, n;
	size_t i;

	owner_of(v, &o);
	if (real_dir(to, dir) != 0 || real_dir(v->local.data_dir, data) != 0)
		fatalx("%s: %s", errno == ENOENT ? to : v->local.data_dir,
		    strerror(errno));
	if (inside(dir, data))
		fatalx("バックアップはデータフォルダの外に置いてください / "
		    "refusing to write a backup into the data folder %s: keep "
		    "it apart, on another medium (R22)", data);
	if (stat(dir, &sd) == 0 && stat(data, &sv) == 0 && sd.st_dev ==
	    sv.st_dev)
		log_warnx("%s is on the same file system as the data folder: "
		    "a backup is kept apart only once it is moved to another "
		    "medium", dir);
	signer_open(v, op, keyfile, &s);
	master_load(v);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", dir, strerror(errno));
	utc_stamp(now, stamp, sizeof(stamp));
	snprintf(name, sizeof(name), "vault-backup-%s", stamp);
	snprintf(file, sizeof(file), "%s.skb", name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", file);
	if (faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		fatalx("%s/%s exists: try again in a second", dir, file);
	if ((e = seal_writer_open(&v->master, dfd, tmp, 0, &a.w)) != 0)
		fatalx("%s/%s: %s", dir, tmp, sk_strerror(e));
	/* The store between two of the daemon's steps, and no decision
	 * being recorded meanwhile. */
	lk = lock_open(v, &o, ".store.lock");
	if (flock(lk, LOCK_EX | LOCK_NB) != 0) {
		printf("waiting for the vault daemon to finish its current "
		    "step ...\n");
		fflush(stdout);
		if (flock(lk, LOCK_EX) != 0)
			fatalx("cannot lock the store: %s", strerror(errno));
	}
	jl = open(v->local.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (jl >= 0) {
		fd = openat(jl, "jobs/.lock", O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		close(jl);
		jl = fd;
	}
	if (jl < 0 || (o.root && fchown(jl, o.uid, o.gid) != 0) ||
	    flock(jl, LOCK_EX) != 0)
		fatalx("cannot lock the jobs: %s", strerror(errno));
	e = seal_writer_write(a.w, ARC_MAGIC, 6);
	for (i = 0; e == 0 && i < SK_ARRAY_LEN(folders); i++)
		e = arc_add_folder(&a, v->local.data_dir, i);
	if (e == 0)
		e = arc_add_marker(&a, v->local.data_dir);
	if (e == 0)
		e = arc_add_log(&a, v->local.audit_log);
	flock(jl, LOCK_UN);
	close(jl);
	flock(lk, LOCK_UN);
	close(lk);
	if (e == 0)
		e = arc_end(&a);
	json_begin(&j, meta, sizeof(meta));
	json_str(&j, "format", BACKUP_FORMAT);
	json_str(&j, "name", name);
	json_u64(&j, "created", (uint64_t)now);
	json_str(&j, "site", v->site->digest);
	sk_hex(v->master.key_id, sizeof(v->master.key_id), idhex);
	json_str(&j, "key_id", idhex);
	json_u64(&j, "files", a.files);
	json_u64(&j, "bytes", a.bytes);
	json_u64(&j, "jobs", a.jobs);
	if (e == 0 && (n = json_end(&j)) < 0)
		e = SK_ETOOBIG;
	if (e == 0)
		e = seal_writer_finish(a.w, meta, strlen(meta));
	if (e == 0)
		e = seal_writer_commit(a.w, dfd, dfd, file);
	seal_writer_free(a.w);
	if (e != 0)
		fatalx("the backup was not written (nothing was left in %s): "
		    "%s%s%s", dir, sk_strerror(e), e == SK_ESYS ? ": " : "",
		    e == SK_ESYS ? strerror(errno) : "");
	/* Read it all back before saying it is a backup. */
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		fatalx("%s: path too long", dir);
	r = backup_open(v, path, &fd);
	if ((e = arc_walk(r, NULL, NULL, &files, &bytes, why,
	    sizeof(why))) != 0 || files != a.files)
		fatalx("%s does not read back (%s): do not rely on it",
		    path, why);
	seal_reader_free(r);
	if ((e = util_fd_sha256_hex(fd, sha)) != 0)
		fatalx("%s: %s", path, sk_strerror(e));
	close(fd);
	close(dfd);
	signer_sign(&s, "written", name, sha, path, now, sig, sizeof(sig));
	if (objects_json(&a.objects, &objects) != 0)
		fatalx("out of memory");
	snprintf(tmp, sizeof(tmp), "%s.written", name);
	write_register(v, &o, tmp, "written", name, sha, path, now, op, sig,
	    a.bytes, a.files, a.jobs, objects, NULL);
	printf("バックアップを書き込みました / backup written: %s\n"
	    "  %" PRIu64 " files (%" PRIu64 " jobs, %zu sealed objects), %"
	    PRIu64 " bytes of the store; sha256 %s\n"
	    "  sealed under the master key (id %s), which it does not "
	    "contain: keep the escrowed master key apart from it\n", path,
	    a.files, a.jobs, a.objects.n, a.bytes, sha, idhex);
	free(objects);
	names_free(&a.objects);
	signer_close(&s);
	return 0;
}

/* ---- backup --escrow-key CERT --to DIR ---- */

static int
cmd_escrow(struct vault *v, const char *certfile, const char *to,
    const char *op, const char *keyfile)
{
	char dir[PATH_MAX], data[PATH_MAX], path[PATH_MAX + 64], stamp[32];
	char name[96], sha[65], sig[256], subj[256], idhex[17], rec[128];
	uint8_t certmd[32];
	unsigned mdlen = sizeof(certmd);
	char certhex[65];
	struct signer s = { 0 };
	STACK_OF(X509) *recips = NULL;
	CMS_ContentInfo *cms = NULL;
	struct owner o;
	BIO *in = NULL, *out = NULL;
	X509 *cert = NULL;
	FILE *fp;
	int64_t now = (int64_t)time(NULL);
	int fd, e;

	owner_of(v, &o);
	if (real_dir(to, dir) != 0 || real_dir(v->local.data_dir, data) != 0)
		fatalx("%s: %s", to, strerror(errno));
	if (inside(dir, data))
		fatalx("refusing to write the escrowed master key into the "
		    "data folder %s", data);
	if ((fp = fopen(certfile, "r")) == NULL)
		fatalx("%s: %s", certfile, strerror(errno));
	cert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (cert == NULL)
		fatalx("%s: not a PEM certificate", certfile);
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		fatalx("%s: the backup officer's certificate is not valid now",
		    certfile);
	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	if (X509_digest(cert, EVP_sha256(), certmd, &mdlen) != 1)
		fatalx("%s: cannot digest the certificate", certfile);
	sk_hex(certmd, sizeof(certmd), certhex);
	signer_open(v, op, keyfile, &s);
	master_load(v);
	sk_hex(v->master.key_id, sizeof(v->master.key_id), idhex);
	utc_stamp(now, stamp, sizeof(stamp));
	snprintf(name, sizeof(name), "vault-master-%s-%s", idhex, stamp);
	if (snprintf(path, sizeof(path), "%s/%s.cms", dir, name) >=
	    (int)sizeof(path))
		fatalx("%s: path too long", dir);
	if ((recips = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(recips, cert) ||
	    (in = BIO_new_mem_buf(v->master.key, sizeof(v->master.key))) ==
	    NULL ||
	    (cms = CMS_encrypt(recips, in, EVP_aes_256_gcm(), CMS_BINARY)) ==
	    NULL)
		fatalx("cannot seal the master key to %s (an RSA or EC "
		    "certificate for key encipherment is needed)", certfile);
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		fatalx("%s: %s", path, strerror(errno));
	if ((out = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL ||
	    i2d_CMS_bio(out, cms) != 1 || BIO_flush(out) != 1 ||
	    fsync(fd) != 0) {
		unlink(path);
		fatalx("%s: cannot write it", path);
	}
	if ((e = util_fd_sha256_hex(fd, sha)) != 0)
		fatalx("%s: %s", path, sk_strerror(e));
	close(fd);
	util_fsync_dir_path(path);
	BIO_free(out);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	sk_X509_free(recips);
	signer_sign(&s, "escrowed", name, sha, path, now, sig, sizeof(sig));
	snprintf(rec, sizeof(rec), "%s.escrowed", name);
	{
		char note[512];

		snprintf(note, sizeof(note), "to %s (certificate sha256 %s)",
		    subj, certhex);
		write_register(v, &o, rec, "escrowed", name, sha, path, now,
		    op, sig, 0, 0, 0, NULL, note);
	}
	printf("マスター鍵を預託用に封かんしました / master key (id %s) "
	    "sealed to %s: %s\n  keep it on another medium than the "
	    "backups; it opens with openssl cms -decrypt -inform DER "
	    "-recip CERT -inkey KEY\n", idhex, subj, path);
	X509_free(cert);
	signer_close(&s);
	return 0;
}

/* ---- backup check FILE ---- */

static int
cmd_check(struct vault *v, const char *file)
{
	struct arc_meta m;
	struct seal_reader *r;
	char why[256], when[32];
	uint64_t files, bytes;
	int fd, e;

	master_load(v);
	r = backup_open(v, file, &fd);
	close(fd);
	if ((e = arc_meta_read(r, &m)) != 0)
		fatalx("%s: not a vault backup (%s)", file, sk_strerror(e));
	if ((e = arc_walk(r, NULL, NULL, &files, &bytes, why,
	    sizeof(why))) != 0)
		fatalx("%s: 破損しています / damaged: %s", file, why);
	seal_reader_free(r);
	if (files != m.files || bytes != m.bytes)
		fatalx("%s: its contents do not match its own summary", file);
	sk_time_format((int64_t)m.created, when, sizeof(when));
	printf("%s: OK: backup %s made %s, %" PRIu64 " files (%" PRIu64
	    " jobs), %" PRIu64 " bytes, site digest %s%s\n", file, m.name,
	    when, files, m.jobs, bytes, m.site,
	    strcmp(m.site, v->site->digest) == 0 ? "" :
	    " (the site configuration has changed since)");
	return 0;
}

/* ---- the register, read ---- */

struct record {
	char id[RECORD_ID_MAX];
	char action[16], name[96], op[64], path[PATH_MAX], sha[65];
	char sig[256], note[512];
	uint64_t time, bytes, files, jobs;
	int pending;
	char *text;			/* the whole record */
	size_t len;
};

static int
record_read(int dfd, const char *file, struct record *rec)
{
	struct jsonr doc;
	struct stat st;
	ssize_t n;
	int fd;

	memset(rec, 0, sizeof(*rec));
	if ((fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return SK_ESYS;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > RECORD_MAX ||
	    (rec->text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return SK_EFORMAT;
	}
	n = util_pread_full(fd, rec->text, (size_t)st.st_size, 0) == 0 ?
	    st.st_size : -1;
	close(fd);
	if (n < 0) {
		free(rec->text);
		rec->text = NULL;
		return SK_ESYS;
	}
	rec->len = (size_t)n;
	while (rec->len > 0 && rec->text[rec->len - 1] == '\n')
		rec->len--;
	rec->text[rec->len] = '\0';
	doc.p = rec->text;
	doc.n = rec->len;
	if (jsonr_valid(rec->text, rec->len) != 0 ||
	    jsonr_get_string(doc, "action", rec->action,
	    sizeof(rec->action)) != 0 ||
	    jsonr_get_string(doc, "name", rec->name, sizeof(rec->name)) != 0 ||
	    !plain_name(rec->name) ||
	    jsonr_get_string(doc, "operator", rec->op, sizeof(rec->op)) != 0 ||
	    jsonr_get_string(doc, "path", rec->path, sizeof(rec->path)) != 0 ||
	    jsonr_get_string(doc, "sha256", rec->sha, sizeof(rec->sha)) != 0 ||
	    jsonr_get_string(doc, "sig", rec->sig, sizeof(rec->sig)) != 0 ||
	    jsonr_get_u64(doc, "time", &rec->time) != 0) {
		free(rec->text);
		rec->text = NULL;
		return SK_EFORMAT;
	}
	jsonr_get_u64(doc, "bytes", &rec->bytes);
	jsonr_get_u64(doc, "files", &rec->files);
	jsonr_get_u64(doc, "jobs", &rec->jobs);
	jsonr_get_string(doc, "note", rec->note, sizeof(rec->note));
	snprintf(rec->id, sizeof(rec->id), "%.*s", (int)(strrchr(file, '.') -
	    file), file);
	rec->pending = strstr(file, ".pending") != NULL;
	return 0;
}

/* The register's files (ID.json and ID.pending), sorted. */
static int
register_files(int dfd, struct names *l)
{
	struct dirent *de;
	size_t n;
	DIR *d;
	int fd, e = 0;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return SK_ESYS;
	}
	rewinddir(d);
	while (e == 0 && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (plain_name(de->d_name) && ((n > 5 &&
		    strcmp(de->d_name + n - 5, ".json") == 0) || (n > 8 &&
		    strcmp(de->d_name + n - 8, ".pending") == 0)))
			e = names_add(l, de->d_name);
	}
	closedir(d);
	if (e == 0 && l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	return e;
}

/* How many of a written backup's objects the store no longer holds: the
 * backup still has their keys until it is itself disposed of (R13). */
static unsigned
gone_since(const struct vault *v, const struct record *rec, unsigned *held)
{
	struct jsonr doc = { rec->text, rec->len }, arr, el;
	char name[ARC_NAME_MAX + 1], path[PATH_MAX];
	unsigned gone = 0;
	size_t pos = 0;

	*held = 0;
	if (jsonr_member(doc, "objects", &arr) != 0)
		return 0;
	while (jsonr_next(arr, &pos, &el) == 0) {
		if (jsonr_string(el, name, sizeof(name)) != 0)
			continue;
		(*held)++;
		if (snprintf(path, sizeof(path), "%s/%s", v->local.data_dir,
		    name) >= (int)sizeof(path) || access(path, F_OK) != 0)
			gone++;
	}
	return gone;
}

static int
cmd_list(struct vault *v, int as_json)
{
	struct names files = { 0 };
	struct record *recs;
	char when[32], out[1024];
	unsigned held, gone;
	size_t i, k, nrec = 0;
	int dfd, disposed, kept;

	dfd = daemon_open_dir(v->local.data_dir, "backups");
	if (register_files(dfd, &files) != 0)
		fatalx("cannot read %s/backups", v->local.data_dir);
	if ((recs = calloc(files.n + 1, sizeof(*recs))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < files.n; i++)
		if (record_read(dfd, files.v[i], &recs[nrec]) == 0)
			nrec++;
		else
			log_warnx("%s/backups/%s: not a register record",
			    v->local.data_dir, files.v[i]);
	if (!as_json)
		printf("%-34s %-9s %-20s %-10s %s\n", "name / 名前",
		    "action", "time (UTC)", "operator", "detail");
	for (i = 0; i < nrec; i++) {
		struct json j;

		disposed = 0;
		for (k = 0; k < nrec; k++)
			if (strcmp(recs[k].action, "disposed") == 0 &&
			    strcmp(recs[k].name, recs[i].name) == 0)
				disposed = 1;
		kept = strcmp(recs[i].action, "written") == 0 ||
		    strcmp(recs[i].action, "restored") == 0;
		gone = kept ? gone_since(v, &recs[i], &held) : (held = 0);
		sk_time_format((int64_t)recs[i].time, when, sizeof(when));
		if (as_json) {
			json_begin(&j, out, sizeof(out));
			json_str(&j, "name", recs[i].name);
			json_str(&j, "action", recs[i].action);
			json_u64(&j, "time", recs[i].time);
			json_str(&j, "operator", recs[i].op);
			json_str(&j, "path", recs[i].path);
			json_str(&j, "sha256", recs[i].sha);
			json_u64(&j, "files", recs[i].files);
			json_u64(&j, "bytes", recs[i].bytes);
			json_bool(&j, "audited", !recs[i].pending);
			if (kept) {
				json_bool(&j, "disposed", disposed);
				json_u64(&j, "objects", held);
				json_u64(&j, "objects_disposed_since", gone);
			}
			if (json_end(&j) >= 0)
				printf("%s\n", out);
			continue;
		}
		printf("%-34s %-9s %-20s %-10s ", recs[i].name,
		    recs[i].action, when, recs[i].op);
		if (kept)
			printf("%" PRIu64 " files, %" PRIu64 " bytes, at %s; "
			    "%s", recs[i].files, recs[i].bytes, recs[i].path,
			    disposed ? "disposed of / 廃棄済み" : gone > 0 ?
			    "kept: still holds the keys of objects disposed "
			    "of since / 廃棄済みの対象を含む: " :
			    "kept / 保管中");
		else
			printf("%s", strcmp(recs[i].action, "escrowed") == 0 ?
			    recs[i].note : recs[i].path);
		if (kept && !disposed && gone > 0)
			printf("%u of %u", gone, held);
		printf("%s\n", recs[i].pending ? " (not yet audited: the "
		    "daemon records it at its next round)" : "");
	}
	for (i = 0; i < nrec; i++)
		free(recs[i].text);
	free(recs);
	names_free(&files);
	close(dfd);
	return 0;
}

/* ---- backup dispose NAME --file FILE ---- */

static int
cmd_dispose(struct vault *v, const char *name, const char *file,
    const char *op, const char *keyfile)
{
	struct names files = { 0 };
	struct record rec, found;
	struct seal_disposal d;
	struct signer s = { 0 };
	struct owner o;
	char sha[65], sig[256], dir[PATH_MAX], id[RECORD_ID_MAX], stamp[32];
	const char *base;
	int64_t now = (int64_t)time(NULL);
	int bfd, dfd, fd, e, have = 0, gone = 0;
	size_t i;

	owner_of(v, &o);
	bfd = store_dir(v, &o, "backups");
	if (register_files(bfd, &files) != 0)
		fatalx("cannot read the register");
	memset(&found, 0, sizeof(found));
	for (i = 0; i < files.n; i++) {
		if (record_read(bfd, files.v[i], &rec) != 0)
			continue;
		if (strcmp(rec.name, name) == 0 && !have &&
		    (strcmp(rec.action, "written") == 0 ||
		    strcmp(rec.action, "restored") == 0)) {
			found = rec;
			have = 1;
			continue;
		}
		if (strcmp(rec.name, name) == 0 && strcmp(rec.action,
		    "disposed") == 0)
			gone = 1;
		free(rec.text);
	}
	names_free(&files);
	if (!have)
		fatalx("no backup %s in the register (backup list)", name);
	if (gone)
		fatalx("backup %s was disposed of already", name);
	signer_open(v, op, keyfile, &s);
	/* The file must be that backup: its digest is in the register. */
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatalx("%s: %s", file, strerror(errno));
	if ((e = util_fd_sha256_hex(fd, sha)) != 0)
		fatalx("%s: %s", file, sk_strerror(e));
	close(fd);
	if (strcmp(sha, found.sha) != 0)
		fatalx("%s is not backup %s (sha256 %s, the register has %s): "
		    "nothing was disposed of", file, name, sha, found.sha);
	base = strrchr(file, '/');
	snprintf(dir, sizeof(dir), "%.*s", base == NULL ? 1 : base == file ?
	    1 : (int)(base - file), base == NULL ? "." : file);
	base = base == NULL ? file : base + 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatalx("%s: %s", dir, strerror(errno));
	if ((e = seal_dispose(dfd, base, &d)) != 0 || !d.key_destroyed)
		fatalx("%s: cannot dispose of it: %s", file, sk_strerror(e));
	close(dfd);
	signer_sign(&s, "disposed", name, sha, file, now, sig, sizeof(sig));
	utc_stamp(now, stamp, sizeof(stamp));
	snprintf(id, sizeof(id), "%s.disposed.%s", name, stamp);
	write_register(v, &o, id, "disposed", name, sha, file, now, op, sig,
	    d.file_bytes, 0, 0, NULL, "the wrapped key was overwritten, "
	    "then the file removed");
	printf("バックアップを廃棄しました / backup %s disposed of: its key "
	    "was overwritten and %s removed (%" PRIu64 " bytes)\n", name,
	    file, d.file_bytes);
	free(found.text);
	close(bfd);
	signer_close(&s);
	return 0;
}

/* Who runs the console: the login sudo names, else the real user. */
static void
console_user(char *out, size_t cap)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;
	size_t i;

	if (s == NULL || s[0] == '\0')
		s = (pw = getpwuid(getuid())) != NULL ? pw->pw_name : "unknown";
	snprintf(out, cap, "%s", s);
	for (i = 0; out[i] != '\0'; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' &&
		    out[i] <= 'Z') || (out[i] >= '0' && out[i] <= '9') ||
		    out[i] == '.' || out[i] == '_' || out[i] == '-'))
			out[i] = '_';
}

void
console_user_capture(struct vault *v)
{
	console_user(v->console_user, sizeof(v->console_user));
}

void
console_note(struct vault *v, const char *command, const char *object,
    const char *detail)
{
	char text[1024], tmp[96], fin[96], stamp[32], rnd[8], hex[17];
	int64_t now = (int64_t)time(NULL);
	struct owner o;
	struct json j;
	int dfd, fd, n;

	owner_of(v, &o);
	dfd = store_dir(v, &o, "console");
	utc_stamp(now, stamp, sizeof(stamp));
	if (util_random(rnd, sizeof(rnd)) != 0)
		fatalx("no randomness");
	sk_hex((uint8_t *)rnd, sizeof(rnd), hex);
	snprintf(tmp, sizeof(tmp), "%s-%s.tmp", stamp, hex);
	snprintf(fin, sizeof(fin), "%s-%s.pending", stamp, hex);
	json_begin(&j, text, sizeof(text));
	json_str(&j, "command", command);
	json_str(&j, "object", object != NULL ? object : "");
	json_str(&j, "detail", detail != NULL ? detail : "");
	json_str(&j, "user", v->console_user[0] ? v->console_user : "unknown");
	json_u64(&j, "time", (uint64_t)now);
	if ((n = json_end(&j)) < 0 || (fd = openat(dfd, tmp, O_WRONLY |
	    O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		fatalx("cannot record the console's use (R30): %s",
		    strerror(errno));
	if (util_write_all(fd, text, (size_t)n) != 0 || (o.root &&
	    fchown(fd, o.uid, o.gid) != 0) || fsync(fd) != 0 ||
	    seal_commit(dfd, tmp, dfd, fin) != 0) {
		unlinkat(dfd, tmp, 0);
		fatalx("cannot record the console's use (R30)");
	}
	close(fd);
	close(dfd);
}

void
console_signed_record(struct vault *v, const char *action, const char *name,
    const char *sha, const char *path, const char *op, const char *keyfile,
    const char *note)
{
	struct signer s = { 0 };
	struct owner o;
	char sig[256], id[RECORD_ID_MAX], stamp[32], real[PATH_MAX];
	int64_t now = (int64_t)time(NULL);

	if (realpath(path, real) == NULL)
		fatalx("%s: %s", path, strerror(errno));
	owner_of(v, &o);
	signer_open(v, op, keyfile, &s);
	signer_sign(&s, action, name, sha, real, now, sig, sizeof(sig));
	utc_stamp(now, stamp, sizeof(stamp));
	snprintf(id, sizeof(id), "%s.%s.%s", name, action, stamp);
	write_register(v, &o, id, action, name, sha, real, now, op, sig, 0, 0,
	    0, NULL, note);
	signer_close(&s);
}

int
console_backup(struct vault *v, int argc, char **argv)
{
	const char *to = NULL, *op = NULL, *key = NULL, *escrow = NULL;
	const char *file = NULL;
	int i, first = 0;

	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		struct sandbox_layers layers;

		if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
			return -1;
		daemon_drop(&v->local, &layers);
		return cmd_list(v, argc == 2);
	}
	if (argc == 2 && strcmp(argv[0], "check") == 0)
		return cmd_check(v, argv[1]);
	if (argc >= 2 && strcmp(argv[0], "dispose") == 0)
		first = 2;
	for (i = first; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--to") == 0)
			to = argv[i + 1];
		else if (strcmp(argv[i], "--operator") == 0)
			op = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--escrow-key") == 0 && first == 0)
			escrow = argv[i + 1];
		else if (strcmp(argv[i], "--file") == 0 && first == 2)
			file = argv[i + 1];
		else
			return -1;
	}
	if (i != argc || op == NULL || key == NULL)
		return -1;
	if (first == 2)
		return file == NULL ? -1 : cmd_dispose(v, argv[1], file, op,
		    key);
	if (to == NULL)
		return -1;
	return escrow != NULL ? cmd_escrow(v, escrow, to, op, key) :
	    cmd_backup(v, to, op, key);
}

/* ---- restore ---- */

struct restore {
	struct vault *v;
	int dirs[SK_ARRAY_LEN(folders)];
	int data_fd, tmp_fd;
	const char *bkname;
	struct names done;		/* "folder-index/name" written */
	struct names objects;		/* "sources/ID", "releases/ID" */
	uint64_t n;
	int marker_kept;		/* the host's own marker stays */
};

static int
restore_file(void *ctx, int folder, const char *base, uint64_t size,
    struct seal_reader *r)
{
	struct restore *rs = ctx;
	char tmp[64], name[ARC_NAME_MAX + 64], done[ARC_NAME_MAX + 16];
	uint8_t buf[65536];
	uint64_t left;
	size_t got;
	int fd, dst, e = 0;

	snprintf(tmp, sizeof(tmp), "restore.%" PRIu64, rs->n++);
	if (folder == -2 && strcmp(base, "audit.log") == 0) {
		/* The old chain's copy, for the auditor, beside the register. */
		dst = rs->dirs[4];
		snprintf(name, sizeof(name), "%s.audit.log", rs->bkname);
	} else if (folder == -2) {
		dst = rs->data_fd;
		snprintf(name, sizeof(name), "%s", base);
		if (faccessat(dst, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			rs->marker_kept = 1;
			dst = -1;	/* read and drop */
		}
	} else {
		dst = rs->dirs[folder];
		snprintf(name, sizeof(name), "%s", base);
	}
	fd = dst < 0 ? -1 : openat(rs->tmp_fd, tmp, O_WRONLY | O_CREAT |
	    O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (dst >= 0 && fd == -1)
		return SK_ESYS;
	for (left = size; e == 0 && left > 0; left -= got) {
		got = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		if ((e = read_exact(r, buf, got)) == 0 && fd >= 0)
			e = util_write_all(fd, buf, got);
	}
	sk_wipe(buf, sizeof(buf));
	if (fd < 0)
		return e;
	if (e == 0 && fsync(fd) != 0)
		e = SK_ESYS;
	close(fd);
	if (e == 0)
		e = seal_commit(rs->tmp_fd, tmp, dst, name);
	if (e != 0) {
		unlinkat(rs->tmp_fd, tmp, 0);
		return e;
	}
	if (snprintf(done, sizeof(done), "%d/%s", folder, name) >=
	    (int)sizeof(done))
		return SK_ETOOBIG;
	if ((folder == 1 || folder == 2) && (e = names_add(&rs->objects,
	    folder == 1 ? "sources" : "releases")) == 0) {
		free(rs->objects.v[rs->objects.n - 1]);
		if (asprintf(&rs->objects.v[rs->objects.n - 1], "%s/%s",
		    folders[folder], name) < 0) {
			rs->objects.v[rs->objects.n - 1] = NULL;
			return SK_ENOMEM;
		}
	}
	return e != 0 ? e : names_add(&rs->done, done);
}

/* Takes back what a failed restore wrote, so that it can be tried again. */
static void
restore_undo(struct restore *rs)
{
	size_t i;
	int folder;
	char *slash;

	for (i = 0; i < rs->done.n; i++) {
		folder = atoi(rs->done.v[i]);
		slash = strchr(rs->done.v[i], '/');
		if (slash != NULL)
			unlinkat(folder == -2 ? (strstr(slash, ".audit.log") ?
			    rs->dirs[4] : rs->data_fd) : rs->dirs[folder],
			    slash + 1, 0);
	}
}

static size_t
entries(int dfd)
{
	struct names l = { 0 };
	struct dirent *de;
	size_t n;
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			names_add(&l, de->d_name);
	closedir(d);
	n = l.n;
	names_free(&l);
	return n;
}

int
console_restore(struct vault *v, int argc, char **argv)
{
	const char *from = NULL, *op = NULL, *keyfile = NULL;
	struct restore rs;
	struct sandbox_layers layers;
	struct signer s = { 0 };
	struct owner o;
	struct arc_meta m;
	struct seal_reader *r;
	char why[256], sha[65], sig[256], id[RECORD_ID_MAX], stamp[32];
	char when[32], note[256], path[PATH_MAX], *objects = NULL;
	uint64_t files, bytes;
	int64_t now = (int64_t)time(NULL);
	int raw, lk, e, i;
	size_t k, busy = 0;

	for (i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--from") == 0)
			from = argv[i + 1];
		else if (strcmp(argv[i], "--operator") == 0)
			op = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			keyfile = argv[i + 1];
		else
			return -1;
	}
	if (i != argc || from == NULL || op == NULL || keyfile == NULL)
		return -1;
	if (realpath(from, path) == NULL)
		fatalx("%s: %s", from, strerror(errno));
	/* As root: the operator's key, the master key, the backup. */
	owner_of(v, &o);
	signer_open(v, op, keyfile, &s);
	master_load(v);
	r = backup_open(v, path, &raw);
	if ((e = arc_meta_read(r, &m)) != 0)
		fatalx("%s: not a vault backup (%s)", path, sk_strerror(e));
	if ((e = util_fd_sha256_hex(raw, sha)) != 0)
		fatalx("%s: %s", path, sk_strerror(e));
	close(raw);
	/* Then as the vault's user, who owns what is written. */
	daemon_drop(&v->local, &layers);
	memset(&rs, 0, sizeof(rs));
	rs.v = v;
	rs.bkname = m.name;
	lk = lock_open(v, NULL, ".daemon.lock");
	if (flock(lk, LOCK_EX | LOCK_NB) != 0)
		fatalx("the vault daemon runs on %s: stop it first "
		    "(systemctl stop sekisho-vault)", v->local.data_dir);
	if ((rs.data_fd = open(v->local.data_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatalx("%s: %s", v->local.data_dir, strerror(errno));
	rs.tmp_fd = daemon_open_dir(v->local.data_dir, "tmp");
	for (k = 0; k < SK_ARRAY_LEN(folders); k++) {
		rs.dirs[k] = daemon_open_dir(v->local.data_dir, folders[k]);
		if (k < 4)
			busy += entries(rs.dirs[k]);
	}
	if (busy > 0)
		fatalx("復元先が空ではありません / the store in %s is not empty "
		    "(%zu files in jobs, sources, releases, reports): a backup "
		    "is restored into a fresh data folder only",
		    v->local.data_dir, busy);
	/* Everything is read and authenticated before anything is written. */
	if ((e = arc_walk(r, NULL, NULL, &files, &bytes, why,
	    sizeof(why))) != 0 || files != m.files)
		fatalx("%s: 破損しているため復元しません / damaged, nothing "
		    "was restored: %s", path, e != 0 ? why :
		    "its contents do not match its summary");
	if ((e = arc_walk(r, restore_file, &rs, &files, &bytes, why,
	    sizeof(why))) != 0) {
		restore_undo(&rs);
		fatalx("restore failed, what it had written was removed: %s%s%s",
		    why, e == SK_ESYS ? ": " : "", e == SK_ESYS ?
		    strerror(errno) : "");
	}
	seal_reader_free(r);
	for (k = 0; k < SK_ARRAY_LEN(folders); k++)
		fsync(rs.dirs[k]);
	fsync(rs.data_fd);
	signer_sign(&s, "restored", m.name, sha, path, now, sig, sizeof(sig));
	utc_stamp(now, stamp, sizeof(stamp));
	snprintf(id, sizeof(id), "%s.restored.%s", m.name, stamp);
	sk_time_format((int64_t)m.created, when, sizeof(when));
	snprintf(note, sizeof(note), "backup made %s; the audit log up to it: "
	    "backups/%s.audit.log", when, m.name);
	if (objects_json(&rs.objects, &objects) != 0)
		fatalx("out of memory");
	write_register(v, &o, id, "restored", m.name, sha, path, now, op, sig,
	    bytes, files, m.jobs, objects, note);
	free(objects);
	names_free(&rs.objects);
	printf("復元しました / restored %" PRIu64 " files (%" PRIu64 " jobs) "
	    "from %s, made %s\n"
	    "  the audit log up to the backup: %s/backups/%s.audit.log\n"
	    "  %s\n", files, m.jobs, path, when, v->local.data_dir, m.name,
	    rs.marker_kept ? "this host's audit chain goes on" :
	    "at its start the vault begins a new audit chain with an "
	    "audit.break entry: what the old host logged after the backup "
	    "was lost with it");
	names_free(&rs.done);
	signer_close(&s);
	flock(lk, LOCK_UN);
	return 0;
}

/* ---- the daemon: audit the register's new records ---- */

void
vault_backup_audit(struct vault *v)
{
	struct names files = { 0 };
	struct record rec;
	struct audit_event ev;
	char msg[PATH_MAX + 512], why[256], actor[80], event[40];
	char detail[PATH_MAX + 256], fin[RECORD_ID_MAX + 8];
	const struct config_operator *o;
	size_t i, done = 0;
	int ok;

	console_notes_audit(v);
	if (v->backups_fd < 0 || register_files(v->backups_fd, &files) != 0)
		return;
	for (i = 0; i < files.n && done < 16; i++) {
		if (strstr(files.v[i], ".pending") == NULL)
			continue;
		if (record_read(v->backups_fd, files.v[i], &rec) != 0) {
			vault_audit(v, "backup.record_invalid", NULL, 0, 0,
			    NULL, "unreadable register record");
			snprintf(fin, sizeof(fin), "%s.invalid", files.v[i]);
			renameat(v->backups_fd, files.v[i], v->backups_fd, fin);
			continue;
		}
		o = site_find_operator(v->site, rec.op);
		ok = o != NULL && (strcmp(rec.action, "written") == 0 ||
		    strcmp(rec.action, "escrowed") == 0 ||
		    strcmp(rec.action, "disposed") == 0 ||
		    strcmp(rec.action, "restored") == 0 ||
		    strcmp(rec.action, "reviewed") == 0) &&
		    backup_message(rec.action, rec.name, rec.sha, rec.path,
		    (int64_t)rec.time, msg, sizeof(msg)) == 0 &&
		    approval_verify(o, v->op_keys[o - v->site->operators], msg,
		    rec.sig, (int64_t)rec.time, why, sizeof(why)) == 0;
		snprintf(actor, sizeof(actor), "operator:%s", ok ? rec.op :
		    "unknown");
		snprintf(event, sizeof(event), "%s", !ok ?
		    "backup.record_invalid" : strcmp(rec.action, "reviewed") ==
		    0 ? "review.signed" : "");
		if (ok && event[0] == '\0')
			snprintf(event, sizeof(event), "backup.%s", rec.action);
		snprintf(detail, sizeof(detail), "path=%s files=%" PRIu64
		    " jobs=%" PRIu64 "%s%.100s%s", rec.path, rec.files, rec.jobs,
		    rec.note[0] && strchr(rec.note, ' ') == NULL ? " " : "",
		    rec.note[0] && strchr(rec.note, ' ') == NULL ? rec.note :
		    "", ok ? "" : " signature=invalid");
		memset(&ev, 0, sizeof(ev));
		ev.event = event;
		ev.actor = actor;
		ev.object = rec.name;
		ev.has_size = 1;
		ev.size = rec.bytes;
		ev.sha256 = rec.sha;
		ev.detail = detail;
		if (audit_append(v->audit, &ev) == 0) {
			snprintf(fin, sizeof(fin), "%s.%s", rec.id, ok ?
			    "json" : "invalid");
			if (renameat(v->backups_fd, files.v[i], v->backups_fd,
			    fin) != 0)
				log_warnx("backups/%s: %s", files.v[i],
				    strerror(errno));
			log_info("backup register: %s %s by %s recorded",
			    rec.action, rec.name, rec.op);
		}
		free(rec.text);
		done++;
	}
	names_free(&files);
}
