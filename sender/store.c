/*
 * store.c: the sender's releases.
 *
 * data_dir/objects/ID     the release, sealed; its sealed metadata record
 *                         holds what the vault said of it (store_meta_*)
 * data_dir/state/ID       bytes served so far, per recipient
 * data_dir/gone/ID        a tombstone once it is disposed of: why, when,
 *                         and for whom (so they get 410, others 404)
 *
 * Every file is written whole to a temporary name, synced and renamed. The
 * list in memory is guarded by the sender's lock; nothing outside the lock
 * keeps a pointer into it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sender.h"
#include "sk.h"
#include "util.h"

int
store_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n >= RELEASE_ID_MAX || id[0] == '.' || id[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			return 0;
	return 1;
}


/* Reads a small file (< cap bytes) into buf, NUL-terminated. */
static int
read_file(int dirfd, const char *name, char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? SK_ENOTFOUND : SK_ESYS;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return SK_ESYS;
	if ((size_t)n == cap - 1)
		return SK_ETOOBIG;
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int
store_meta_format(const struct release *r, char *buf, size_t cap)
{
	size_t o, i;
	int n;

	n = snprintf(buf, cap, "id=%s\ndataset=%s\nfilename=%s\npublished=%"
	    PRId64 "\nexpires=%" PRId64 "\nmax_downloads=%u\nsize=%" PRIu64
	    "\nsha256=%s\nenvelope=%d\n%srecipients=", r->id, r->dataset,
	    r->filename, r->published, r->expires, r->max_downloads, r->size,
	    r->sha256, r->envelope, r->package ? "package=1\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return SK_ETOOBIG;
	o = (size_t)n;
	for (i = 0; i < r->nrecipients; i++) {
		n = snprintf(buf + o, cap - o, "%s%s", i ? "," : "",
		    r->recipients[i]);
		if (n < 0 || (size_t)n >= cap - o)
			return SK_ETOOBIG;
		o += (size_t)n;
	}
	if (o + 2 > cap)
		return SK_ETOOBIG;
	buf[o++] = '\n';
	buf[o] = '\0';
	return (int)o;
}

static int
parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return SK_EFORMAT;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno != 0 || *end != '\0' ? SK_EFORMAT : 0;
}

int
store_meta_parse_recipients(const char *v, struct release *r)
{
	const char *p = v, *comma;
	size_t n;

	r->nrecipients = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= CONFIG_ID_MAX ||
		    r->nrecipients == RELEASE_RECIPIENTS_MAX)
			return SK_EFORMAT;
		memcpy(r->recipients[r->nrecipients], p, n);
		r->recipients[r->nrecipients++][n] = '\0';
		p += n + (comma != NULL);
	}
	return r->nrecipients > 0 ? 0 : SK_EFORMAT;
}

int
store_meta_parse(const char *text, size_t len, struct release *r)
{
	char line[2048], *eq;
	const char *p = text, *end = text + len, *nl;
	uint64_t u;
	int seen = 0, e = 0;

	memset(r, 0, sizeof(*r));
	while (p < end && e == 0) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    (size_t)(nl - p) >= sizeof(line))
			return SK_EFORMAT;
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		p = nl + 1;
		if ((eq = strchr(line, '=')) == NULL)
			return SK_EFORMAT;
		*eq++ = '\0';
#define TEXT(k, field) else if (strcmp(line, k) == 0) { \
	if (strlen(eq) >= sizeof(r->field)) return SK_EFORMAT; \
	strcpy(r->field, eq); seen++; }
		if (0) {}
		TEXT("id", id)
		TEXT("dataset", dataset)
		TEXT("filename", filename)
		TEXT("sha256", sha256)
#undef TEXT
		else if (strcmp(line, "published") == 0) {
			e = parse_u64(eq, &u);
			r->published = (int64_t)u;
			seen++;
		} else if (strcmp(line, "expires") == 0) {
			e = parse_u64(eq, &u);
			r->expires = (int64_t)u;
			seen++;
		} else if (strcmp(line, "max_downloads") == 0) {
			e = parse_u64(eq, &u);
			r->max_downloads = (unsigned)u;
			seen++;
		} else if (strcmp(line, "size") == 0) {
			e = parse_u64(eq, &r->size);
			seen++;
		} else if (strcmp(line, "envelope") == 0) {
			r->envelope = strcmp(eq, "1") == 0;
			seen++;
		} else if (strcmp(line, "package") == 0) {
			/* Optional: releases from before it say nothing. */
			r->package = strcmp(eq, "1") == 0;
		} else if (strcmp(line, "recipients") == 0) {
			e = store_meta_parse_recipients(eq, r);
			seen++;
		}
	}
	return e != 0 || seen != 10 || !store_id_valid(r->id) ? SK_EFORMAT : 0;
}

int
store_recipient_index(const struct release *r, const char *recipient)
{
	size_t i;

	for (i = 0; i < r->nrecipients; i++)
		if (strcmp(r->recipients[i], recipient) == 0)
			return (int)i;
	return -1;
}

struct release *
store_find(struct sender *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nreleases; i++)
		if (strcmp(s->releases[i]->id, id) == 0)
			return s->releases[i];
	return NULL;
}

int
store_add(struct sender *s, struct release *r)
{
	struct release **p, *copy;

	if ((copy = malloc(sizeof(*copy))) == NULL)
		return SK_ENOMEM;
	if ((p = reallocarray(s->releases, s->nreleases + 1, sizeof(*p))) ==
	    NULL) {
		free(copy);
		return SK_ENOMEM;
	}
	*copy = *r;
	s->releases = p;
	p[s->nreleases++] = copy;
	return 0;
}

int
store_save_state(struct sender *s, const struct release *r)
{
	char buf[RELEASE_RECIPIENTS_MAX * (CONFIG_ID_MAX + 64)];
	size_t i, o = 0;

	for (i = 0; i < r->nrecipients; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s %" PRIu64
		    " %u %u %lld\n", r->recipients[i], r->served[i],
		    (unsigned)r->push[i], r->push_attempts[i],
		    (long long)r->push_next[i]);
	return util_write_at(s->state_fd, r->id, buf, o);
}

static void
load_state(struct sender *s, struct release *r)
{
	char buf[RELEASE_RECIPIENTS_MAX * (CONFIG_ID_MAX + 64)], who[CONFIG_ID_MAX];
	const char *p;
	uint64_t bytes;
	unsigned state, attempts;
	long long next;
	size_t len;
	int i, n;

	if (read_file(s->state_fd, r->id, buf, sizeof(buf), &len) != 0)
		return;
	for (p = buf; *p != '\0'; p += n) {
		/* Older state files hold the bytes served alone. */
		state = attempts = 0;
		next = 0;
		if (sscanf(p, "%63s %" SCNu64 " %u %u %lld\n%n", who, &bytes,
		    &state, &attempts, &next, &n) != 5 &&
		    sscanf(p, "%63s %" SCNu64 "\n%n", who, &bytes, &n) != 2)
			break;
		if ((i = store_recipient_index(r, who)) >= 0) {
			r->served[i] = bytes;
			r->push[i] = state <= PUSH_DELIVERED ?
			    (uint8_t)state : PUSH_NONE;
			r->push_attempts[i] = attempts;
			r->push_next[i] = (int64_t)next;
		}
	}
}

/* The release's package (codebook, manifest) goes with it; it holds no
 * data, and a failure is logged, not fatal to the disposal. */
static void
dispose_package(struct sender *s, const char *id)
{
	struct seal_disposal dd;
	char name[RELEASE_ID_MAX + 8];
	int e;

	snprintf(name, sizeof(name), "%s.pkg", id);
	if ((e = seal_dispose(s->packages_fd, name, &dd)) != 0 &&
	    e != SK_ENOTFOUND)
		log_warnx("release %s: its package cannot be removed: %s", id,
		    sk_strerror(e));
}

/* A tombstone without its disposal done: a crash came in between. */
static void
finish_disposal(struct sender *s, const char *id)
{
	struct seal_disposal dd = { 0 };
	char detail[128];
	int e;

	if ((e = seal_dispose(s->objects_fd, id, &dd)) != 0) {
		log_errorx("release %s: its disposal cannot be finished: %s; "
		    "it is tried again at the next start", id, sk_strerror(e));
		snprintf(detail, sizeof(detail), "finishing an interrupted "
		    "disposal: %s", sk_strerror(e));
		daemon_store_audit(s->audit, "release.dispose_failed", "system",
		    id, 0, 0, NULL, detail);
		return;
	}
	dispose_package(s, id);
	unlinkat(s->state_fd, id, 0);
	snprintf(detail, sizeof(detail), "reason=finishing_an_interrupted_"
	    "disposal key_destroyed=%d file_bytes=%" PRIu64, dd.key_destroyed,
	    dd.file_bytes);
	daemon_store_audit(s->audit, "release.disposed", "system", id, 0, 0,
	    NULL, detail);
}

int
store_load(struct sender *s, unsigned *loaded)
{
	uint8_t meta[SEAL_META_MAX];
	struct seal_reader *rd;
	struct release r;
	struct dirent *de;
	size_t len;
	DIR *d;
	int fd, e;

	*loaded = 0;
	if ((fd = dup(s->objects_fd)) == -1 || (d = fdopendir(fd)) == NULL)
		return SK_ESYS;
	while ((de = readdir(d)) != NULL) {
		rd = NULL;
		if (!store_id_valid(de->d_name))
			continue;
		if (faccessat(s->gone_fd, de->d_name, F_OK, 0) == 0) {
			/* Disposed of before a crash finished it: again,
			 * on record (R33). */
			finish_disposal(s, de->d_name);
			continue;
		}
		if ((e = seal_reader_open(&s->master, s->objects_fd, de->d_name,
		    &rd)) != 0 || (e = seal_reader_meta(rd, meta,
		    sizeof(meta) - 1, &len)) != 0 ||
		    (e = store_meta_parse((char *)meta, len, &r)) != 0 ||
		    strcmp(r.id, de->d_name) != 0 ||
		    seal_reader_size(rd) != r.size) {
			log_warnx("release %s: cannot be read (%s); left as it "
			    "is", de->d_name, sk_strerror(e ? e : SK_EFORMAT));
			if (rd != NULL)
				seal_reader_free(rd);
			continue;
		}
		seal_reader_free(rd);
		load_state(s, &r);
		if ((e = store_add(s, &r)) != 0) {
			closedir(d);
			return e;
		}
		(*loaded)++;
	}
	closedir(d);
	return 0;
}

int
store_dispose(struct sender *s, struct release *r, const char *why,
    const char *actor)
{
	struct seal_disposal disp = { 0 };
	struct audit_event ev = { .event = "release.disposed", .actor = actor,
		.object = r->id, .has_size = 1, .size = r->size,
		.sha256 = r->sha256 };
	char tomb[RELEASE_RECIPIENTS_MAX * CONFIG_ID_MAX + 128], detail[160];
	size_t i, o;
	int e;

	/* Deliveries not made are made never (withdrawal, expiry). */
	for (i = 0; i < r->nrecipients; i++)
		if (r->push[i] == PUSH_PENDING) {
			char actor2[CONFIG_ID_MAX + 8];

			snprintf(actor2, sizeof(actor2), "recip:%s",
			    r->recipients[i]);
			snprintf(detail, sizeof(detail), "reason=%s attempts=%u",
			    why, r->push_attempts[i]);
			(void)daemon_store_audit(s->audit, "push.cancelled",
			    actor2, r->id, 0, 0, NULL, detail);
			r->push[i] = PUSH_NONE;
		}
	o = (size_t)snprintf(tomb, sizeof(tomb), "reason=%s\nat=%lld\n"
	    "recipients=", why, (long long)time(NULL));
	for (i = 0; i < r->nrecipients; i++)
		o += (size_t)snprintf(tomb + o, sizeof(tomb) - o, "%s%s",
		    i ? "," : "", r->recipients[i]);
	o += (size_t)snprintf(tomb + o, sizeof(tomb) - o, "\n");
	/* The tombstone first: a crash after it leaves an object that the
	 * next start disposes of again, never a release without a record. */
	if ((e = util_write_at(s->gone_fd, r->id, tomb, o)) != 0)
		return e;
	e = seal_dispose(s->objects_fd, r->id, &disp);
	if (e != 0 && e != SK_ENOTFOUND)
		return e;
	dispose_package(s, r->id);
	unlinkat(s->state_fd, r->id, 0);
	/* The downloads in progress are cut by the net process that sends
	 * them (at once, for a withdrawal; within half a second, for an
	 * expiry): counted here. */
	snprintf(detail, sizeof(detail), "reason=%s key_destroyed=%d "
	    "file_bytes=%llu downloads_cut=%u", why, disp.key_destroyed,
	    (unsigned long long)disp.file_bytes, r->busy);
	ev.detail = detail;
	audit_append(s->audit, &ev);
	log_info("release %s disposed of (%s)", r->id, why);
	for (i = 0; i < s->nreleases; i++)
		if (s->releases[i] == r) {
			s->releases[i] = s->releases[--s->nreleases];
			break;
		}
	free(r);
	return 0;
}

int
store_tombstone(struct sender *s, const char *id, const char *recipient,
    char *reason, size_t cap)
{
	char buf[RELEASE_RECIPIENTS_MAX * CONFIG_ID_MAX + 128], *p, *q;
	struct release r;
	size_t len;
	int e;

	if (!store_id_valid(id))
		return SK_ENOTFOUND;
	if ((e = read_file(s->gone_fd, id, buf, sizeof(buf), &len)) != 0)
		return e;
	if ((p = strstr(buf, "recipients=")) == NULL)
		return SK_EFORMAT;
	p += strlen("recipients=");
	if ((q = strchr(p, '\n')) != NULL)
		*q = '\0';
	if (store_meta_parse_recipients(p, &r) != 0)
		return SK_EFORMAT;
	if (recipient != NULL && store_recipient_index(&r, recipient) < 0)
		return SK_ENOTFOUND;
	if (sscanf(buf, "reason=%31[a-z]", reason) != 1)
		snprintf(reason, cap, "disposed");
	return 0;
}

unsigned
store_sweep(struct sender *s, int64_t now)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < s->nreleases;) {
		if (s->releases[i]->expires <= now &&
		    store_dispose(s, s->releases[i], "expired", "system") == 0) {
			n++;
			continue;	/* the last one moved into slot i */
		}
		i++;
	}
	return n;
}
