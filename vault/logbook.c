/*
 * logbook.c: the three hosts' audit logs read into one book of entries,
 * for the ledgers and the monthly review the vault prints (R40, R43).
 * Each log says whose it is by its start entry (receiver.start,
 * vault.start, sender.start). The lines are read, not verified: the review
 * verifies each log with its first key where one is given.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonr.h"
#include "log.h"
#include "logbook.h"
#include "sk.h"

#define LINE_MAX_LEN 4096


static int64_t
parse_rfc3339(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    *end != 'Z')
		return -1;
	return (int64_t)timegm(&tm);
}

/* "YYYY-MM-DD" as 00:00 JST of that day. */
int
logbook_day(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0' ||
	    strlen(s) != 10)
		return SK_EFORMAT;
	*out = (int64_t)timegm(&tm) - JST;
	return 0;
}

void
logbook_jst(int64_t t, int with_time, char *out, size_t cap)
{
	time_t tt = (time_t)(t + JST);
	struct tm tm;

	if (t <= 0) {
		snprintf(out, cap, "%s", "");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, cap, with_time ? "%Y-%m-%d %H:%M" : "%Y-%m-%d", &tm);
}

static int
book_add(struct book *b, const struct entry *e)
{
	struct entry *p;

	if (b->n == b->cap) {
		if ((p = reallocarray(b->e, b->cap ? b->cap * 2 : 1024,
		    sizeof(*p))) == NULL)
			return SK_ENOMEM;
		b->e = p;
		b->cap = b->cap ? b->cap * 2 : 1024;
	}
	b->e[b->n++] = *e;
	return 0;
}

/* Reads one audit log; whose it is, from its start entry. */
static int
book_read(struct book *b, const char *path)
{
	char line[LINE_MAX_LEN], when[40];
	struct jsonr doc;
	struct entry e;
	enum host h = H_OTHER;
	size_t len, first = b->n, i;
	char mac[65], head_mac[65] = "";
	uint64_t seq, head_seq = 0;
	struct logfile *f;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return SK_ESYS;
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		doc.p = line;
		doc.n = len;
		memset(&e, 0, sizeof(e));
		if (len == 0 || jsonr_valid(line, len) != 0 ||
		    jsonr_get_string(doc, "time", when, sizeof(when)) != 0 ||
		    jsonr_get_string(doc, "event", e.event,
		    sizeof(e.event)) != 0 || (e.t = parse_rfc3339(when)) < 0)
			continue;
		jsonr_get_string(doc, "actor", e.actor, sizeof(e.actor));
		jsonr_get_string(doc, "object", e.object, sizeof(e.object));
		jsonr_get_string(doc, "detail", e.detail, sizeof(e.detail));
		e.has_size = jsonr_get_u64(doc, "size", &e.size) == 0;
		if (jsonr_get_u64(doc, "seq", &seq) == 0 &&
		    jsonr_get_string(doc, "mac", mac, sizeof(mac)) == 0) {
			head_seq = seq;
			memcpy(head_mac, mac, sizeof(head_mac));
		}
		if (strcmp(e.event, "receiver.start") == 0)
			h = H_RECEIVER;
		else if (strcmp(e.event, "vault.start") == 0)
			h = H_VAULT;
		else if (strcmp(e.event, "sender.start") == 0)
			h = H_SENDER;
		if (book_add(b, &e) != 0) {
			fclose(fp);
			return SK_ENOMEM;
		}
	}
	fclose(fp);
	for (i = first; i < b->n; i++)
		b->e[i].host = h;
	b->logs[h]++;
	if ((f = reallocarray(b->files, b->nfiles + 1, sizeof(*f))) == NULL)
		return SK_ENOMEM;
	b->files = f;
	f = &b->files[b->nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->host = h;
	f->head_seq = head_seq;
	memcpy(f->head_mac, head_mac, sizeof(f->head_mac));
	f->entries = b->n - first;
	f->first_index = first;
	if (f->entries > 0) {
		f->first = b->e[first].t;
		f->last = b->e[b->n - 1].t;
	}
	return 0;
}

/* A folder's audit logs (audit.log, *.audit.log), or one file. */
int
logbook_load(struct book *b, const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t n, f0 = b->nfiles, i, k;
	enum host h = H_OTHER;
	DIR *d;
	int e = 0;

	if (stat(path, &st) != 0)
		return SK_ESYS;
	if (!S_ISDIR(st.st_mode))
		return book_read(b, path);
	if ((d = opendir(path)) == NULL)
		return SK_ESYS;
	while (e == 0 && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		/* A log, or a segment a rotation moved aside (.FIRST-LAST). */
		if (strcmp(de->d_name, "audit.log") != 0 && (n < 10 ||
		    strcmp(de->d_name + n - 10, ".audit.log") != 0) &&
		    !(n > 26 && strstr(de->d_name, "audit.log.") != NULL &&
		    de->d_name[n - 13] == '-' && strspn(de->d_name + n - 25,
		    "0123456789-") == 25))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >=
		    (int)sizeof(p))
			continue;
		e = book_read(b, p);
	}
	closedir(d);
	/* A segment, or a log rotated since the daemon's last start, has no
	 * start entry of its own: it is the folder's host's. */
	for (i = f0; i < b->nfiles; i++)
		if (b->files[i].host != H_OTHER)
			h = b->files[i].host;
	for (i = f0; e == 0 && h != H_OTHER && i < b->nfiles; i++) {
		if (b->files[i].host != H_OTHER)
			continue;
		b->files[i].host = h;
		for (k = b->files[i].first_index; k < b->files[i].first_index +
		    b->files[i].entries; k++)
			b->e[k].host = h;
		b->logs[H_OTHER]--;
		b->logs[h]++;
	}
	return e;
}

static int
cmp_time(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

void
logbook_sort(struct book *b)
{
	if (b->n > 0)
		qsort(b->e, b->n, sizeof(*b->e), cmp_time);
}

void
logbook_free(struct book *b)
{
	free(b->e);
	free(b->files);
	memset(b, 0, sizeof(*b));
}

/* The first entry of host h with this event and object. */
const struct entry *
logbook_find(const struct book *b, enum host h, const char *event, const char *object)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->e[i].host == h && strcmp(b->e[i].event, event) == 0 &&
		    strcmp(b->e[i].object, object) == 0)
			return &b->e[i];
	return NULL;
}

/* A "key=value" of a detail, up to the next space. */
const struct entry *
logbook_find_kind(const struct book *b, enum host h, const char *event,
    const char *object, const char *kind)
{
	size_t i, n = strlen(kind);

	for (i = 0; i < b->n; i++)
		if (b->e[i].host == h && strcmp(b->e[i].event, event) == 0 &&
		    strcmp(b->e[i].object, object) == 0 &&
		    strncmp(b->e[i].detail, kind, n) == 0 &&
		    (b->e[i].detail[n] == ' ' || b->e[i].detail[n] == '\0'))
			return &b->e[i];
	return NULL;
}

void
logbook_word(const char *detail, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s", (int)strcspn(detail, " "), detail);
}

int
logbook_detail(const char *detail, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key), n;
	const char *p = detail;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == detail || p[-1] == ' ') && p[kl] == '=') {
			p += kl + 1;
			n = strcspn(p, " ");
			snprintf(out, cap, "%.*s", (int)n, p);
			return 0;
		}
		p += kl;
	}
	if (cap > 0)
		out[0] = '\0';
	return SK_ENOTFOUND;
}


int
logbook_arg_list(int argc, char **argv, int *i)
{
	int n = 0;

	while (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
		(*i)++;
		n++;
	}
	return n;
}

void
logbook_load_args(struct book *b, char **paths, int n)
{
	int k, e;

	for (k = 0; k < n; k++)
		if ((e = logbook_load(b, paths[k])) != 0)
			fatalx("%s: %s", paths[k], e == SK_ESYS ?
			    strerror(errno) : sk_strerror(e));
}
