/*
 * acct.c: what each recipient downloaded in the sliding window (R16).
 *
 * Per recipient, one bucket a minute with the bytes sent and the downloads
 * started; buckets older than the window fall away. The buckets are kept in
 * data_dir/accounting/RECIPIENT, rewritten after every download, so that a
 * restart of the sender does not reset anyone's window. Called with the
 * sender's lock held.
 */
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

#define ACCT_FILE_MAX (2u << 20)

struct acct *
acct_find(struct sender *s, const char *recipient)
{
	size_t i;

	for (i = 0; i < s->site->nrecipients; i++)
		if (strcmp(s->accts[i].recipient, recipient) == 0)
			return &s->accts[i];
	return NULL;
}

/* Drops the buckets that left the window. */
static void
prune(struct acct *a, int64_t now, unsigned window)
{
	int64_t oldest = (now - (int64_t)window) / 60;
	size_t i = 0;

	while (i < a->n && a->b[i].minute <= oldest)
		i++;
	if (i > 0) {
		memmove(a->b, a->b + i, (a->n - i) * sizeof(*a->b));
		a->n -= i;
	}
}

void
acct_usage(struct acct *a, int64_t now, unsigned window, uint64_t *bytes,
    uint64_t *files)
{
	size_t i;

	prune(a, now, window);
	*bytes = *files = 0;
	for (i = 0; i < a->n; i++) {
		*bytes += a->b[i].bytes;
		*files += a->b[i].files;
	}
}

int64_t
acct_retry_after(struct acct *a, int64_t now,
    const struct config_downloads *d, uint64_t bytes)
{
	uint64_t used_b, used_f;
	size_t i;

	acct_usage(a, now, d->window, &used_b, &used_f);
	/* Walk the buckets oldest first until, without them, it fits. */
	for (i = 0; i < a->n; i++) {
		if ((d->limit_bytes == 0 || used_b + bytes <= d->limit_bytes) &&
		    (d->limit_files == 0 || used_f + 1 <= d->limit_files))
			break;
		used_b -= a->b[i].bytes;
		used_f -= a->b[i].files;
	}
	if (i == 0)
		return 0;
	return (a->b[i - 1].minute + 1) * 60 + (int64_t)d->window - now;
}

int
acct_add(struct acct *a, int64_t now, int64_t bytes, int64_t files)
{
	struct acct_bucket *p;
	int64_t minute = now / 60;

	if (a->n == 0 || a->b[a->n - 1].minute != minute) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 16;

			if ((p = reallocarray(a->b, cap, sizeof(*p))) == NULL)
				return SK_ENOMEM;
			a->b = p;
			a->cap = cap;
		}
		memset(&a->b[a->n], 0, sizeof(*a->b));
		a->b[a->n++].minute = minute;
	}
	p = &a->b[a->n - 1];
	/* A correction (bytes reserved but never sent) may reach back into
	 * an older bucket's share; never below zero. */
	p->bytes = bytes < 0 && (uint64_t)-bytes > p->bytes ? 0 :
	    p->bytes + (uint64_t)bytes;
	p->files = files < 0 && (uint64_t)-files > p->files ? 0 :
	    p->files + (uint64_t)files;
	return 0;
}

int
acct_save(struct sender *s, struct acct *a)
{
	char *buf;
	size_t i, o = 0, cap = 64 + a->n * 64;
	int e;

	if ((buf = malloc(cap)) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < a->n; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%" PRId64 " %" PRIu64
		    " %" PRIu64 "\n", a->b[i].minute, a->b[i].bytes,
		    a->b[i].files);
	e = util_write_at(s->acct_fd, a->recipient, buf, o);
	free(buf);
	return e;
}

static void
load_one(struct sender *s, struct acct *a)
{
	struct acct_bucket b;
	char *buf, *p;
	ssize_t n;
	int fd, used;

	if ((fd = openat(s->acct_fd, a->recipient, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((buf = malloc(ACCT_FILE_MAX + 1)) == NULL) {
		close(fd);
		return;
	}
	n = read(fd, buf, ACCT_FILE_MAX);
	close(fd);
	if (n < 0) {
		free(buf);
		return;
	}
	buf[n] = '\0';
	for (p = buf; sscanf(p, "%" SCNd64 " %" SCNu64 " %" SCNu64 "\n%n",
	    &b.minute, &b.bytes, &b.files, &used) == 3; p += used) {
		if (a->n > 0 && b.minute <= a->b[a->n - 1].minute)
			break;		/* out of order: keep what came before */
		if (acct_add(a, b.minute * 60, (int64_t)b.bytes,
		    (int64_t)b.files) != 0)
			break;
	}
	free(buf);
}

int
acct_load(struct sender *s)
{
	size_t i;

	if ((s->accts = calloc(s->site->nrecipients + 1, sizeof(*s->accts))) ==
	    NULL)
		return SK_ENOMEM;
	for (i = 0; i < s->site->nrecipients; i++) {
		snprintf(s->accts[i].recipient, sizeof(s->accts[i].recipient),
		    "%s", s->site->recipients[i].id);
		load_one(s, &s->accts[i]);
	}
	return 0;
}
