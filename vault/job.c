/*
 * job.c: the vault's job records (see job.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "sk.h"
#include "util.h"

static const char *const names[JOB_NSTATES] = { "received", "processing",
	"awaiting_approval", "approved", "published", "rejected", "failed",
	"withdrawing", "withdrawn", "expired", "replaced" };

const char *
job_state_name(enum job_state s)
{
	return s < JOB_NSTATES ? names[s] : "?";
}

int
job_id_valid(const char *id)
{
	return sk_hexid_valid(id, JOB_ID_MAX - 1);
}

int
job_lock(int jobs_fd)
{
	int fd = openat(jobs_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
job_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

int
job_exists(int jobs_fd, const char *id)
{
	return faccessat(jobs_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
job_save(int jobs_fd, struct job *j)
{
	char buf[8192], tmp[JOB_ID_MAX + 8];
	int fd, n, e = 0;

	j->updated = (int64_t)time(NULL);
	n = snprintf(buf, sizeof(buf), "id=%s\nmunicipality=%s\ndataset=%s\n"
	    "size=%" PRIu64 "\nsha256=%s\nreceived=%" PRId64 "\nstate=%s\n"
	    "reason=%s\nout_size=%" PRIu64 "\nout_sha256=%s\n"
	    "report_sha256=%s\nrelease_id=%s\ndecided=%" PRId64 "\n"
	    "published=%" PRId64 "\nexpires=%" PRId64 "\nsource_disposed=%d\n"
	    "updated=%" PRId64 "\nreplaces=%s\nreplaced_by=%s\n"
	    "reported=%s\nvault_gone=%" PRId64 "\nsender_gone=%" PRId64 "\n"
	    "recipients=%s\nsealed=%d\ndatapackage_sha256=%s\n"
	    "codebook_sha256=%s\nrows_out=%" PRIu64 "\n",
	    j->id, j->municipality, j->dataset, j->size, j->sha256, j->received,
	    job_state_name(j->state), j->reason, j->out_size, j->out_sha256,
	    j->report_sha256, j->release_id, j->decided, j->published,
	    j->expires, j->source_disposed, j->updated, j->replaces,
	    j->replaced_by, j->reported, j->vault_gone, j->sender_gone,
	    j->recipients, j->sealed, j->datapackage_sha256,
	    j->codebook_sha256, j->rows_out);
	if (n < 0 || (size_t)n >= sizeof(buf) || !job_id_valid(j->id))
		return SK_ETOOBIG;
	snprintf(tmp, sizeof(tmp), ".%s.t", j->id);
	if ((fd = openat(jobs_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return SK_ESYS;
	if (util_write_all(fd, buf, (size_t)n) != 0 || fsync(fd) != 0)
		e = SK_ESYS;
	if (close(fd) != 0)
		e = SK_ESYS;
	if (e == 0 && (renameat(jobs_fd, tmp, jobs_fd, j->id) != 0 ||
	    fsync(jobs_fd) != 0))
		e = SK_ESYS;
	if (e != 0)
		unlinkat(jobs_fd, tmp, 0);
	return e;
}

static int
set_text(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return SK_EFORMAT;
	strcpy(dst, v);
	return 0;
}

int
job_load(int jobs_fd, const char *id, struct job *j)
{
	char buf[8192], *line, *save = NULL, *eq;
	ssize_t n;
	size_t k;
	int fd, e = 0;

	memset(j, 0, sizeof(*j));
	if (!job_id_valid(id))
		return SK_ENOTFOUND;
	if ((fd = openat(jobs_fd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? SK_ENOTFOUND : SK_ESYS;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return SK_ESYS;
	buf[n] = '\0';
	j->state = JOB_NSTATES;
	for (line = strtok_r(buf, "\n", &save); line != NULL && e == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			return SK_EFORMAT;
		*eq++ = '\0';
		if (strcmp(line, "id") == 0)
			e = set_text(j->id, sizeof(j->id), eq);
		else if (strcmp(line, "municipality") == 0)
			e = set_text(j->municipality, sizeof(j->municipality),
			    eq);
		else if (strcmp(line, "dataset") == 0)
			e = set_text(j->dataset, sizeof(j->dataset), eq);
		else if (strcmp(line, "sha256") == 0)
			e = set_text(j->sha256, sizeof(j->sha256), eq);
		else if (strcmp(line, "reason") == 0)
			e = set_text(j->reason, sizeof(j->reason), eq);
		else if (strcmp(line, "out_sha256") == 0)
			e = set_text(j->out_sha256, sizeof(j->out_sha256), eq);
		else if (strcmp(line, "release_id") == 0)
			e = eq[0] == '\0' || sk_hexid_valid(eq, 32) ?
			    set_text(j->release_id, sizeof(j->release_id), eq) :
			    SK_EFORMAT;
		else if (strcmp(line, "report_sha256") == 0)
			e = set_text(j->report_sha256, sizeof(j->report_sha256),
			    eq);
		else if (strcmp(line, "state") == 0) {
			for (k = 0; k < JOB_NSTATES; k++)
				if (strcmp(eq, names[k]) == 0)
					j->state = (enum job_state)k;
		} else if (strcmp(line, "size") == 0)
			j->size = strtoull(eq, NULL, 10);
		else if (strcmp(line, "out_size") == 0)
			j->out_size = strtoull(eq, NULL, 10);
		else if (strcmp(line, "rows_out") == 0)
			j->rows_out = strtoull(eq, NULL, 10);
		else if (strcmp(line, "received") == 0)
			j->received = strtoll(eq, NULL, 10);
		else if (strcmp(line, "decided") == 0)
			j->decided = strtoll(eq, NULL, 10);
		else if (strcmp(line, "published") == 0)
			j->published = strtoll(eq, NULL, 10);
		else if (strcmp(line, "expires") == 0)
			j->expires = strtoll(eq, NULL, 10);
		else if (strcmp(line, "source_disposed") == 0)
			j->source_disposed = atoi(eq);
		else if (strcmp(line, "updated") == 0)
			j->updated = strtoll(eq, NULL, 10);
		else if (strcmp(line, "replaces") == 0)
			e = set_text(j->replaces, sizeof(j->replaces), eq);
		else if (strcmp(line, "replaced_by") == 0)
			e = set_text(j->replaced_by, sizeof(j->replaced_by), eq);
		else if (strcmp(line, "reported") == 0)
			e = set_text(j->reported, sizeof(j->reported), eq);
		else if (strcmp(line, "vault_gone") == 0)
			j->vault_gone = strtoll(eq, NULL, 10);
		else if (strcmp(line, "sender_gone") == 0)
			j->sender_gone = strtoll(eq, NULL, 10);
		else if (strcmp(line, "recipients") == 0)
			e = set_text(j->recipients, sizeof(j->recipients), eq);
		else if (strcmp(line, "sealed") == 0)
			j->sealed = atoi(eq) != 0;
		else if (strcmp(line, "datapackage_sha256") == 0)
			e = eq[0] == '\0' || sk_hexid_valid(eq, 64) ?
			    set_text(j->datapackage_sha256,
			    sizeof(j->datapackage_sha256), eq) : SK_EFORMAT;
		else if (strcmp(line, "codebook_sha256") == 0)
			e = eq[0] == '\0' || sk_hexid_valid(eq, 64) ?
			    set_text(j->codebook_sha256,
			    sizeof(j->codebook_sha256), eq) : SK_EFORMAT;
	}
	if (e != 0 || j->state == JOB_NSTATES || strcmp(j->id, id) != 0)
		return SK_EFORMAT;
	return 0;
}

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
job_list(int jobs_fd, char ***ids, size_t *n)
{
	struct dirent *de;
	char **p, **v = NULL;
	size_t k = 0;
	DIR *d;
	int fd;

	if ((fd = dup(jobs_fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return SK_ESYS;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!job_id_valid(de->d_name))
			continue;
		if ((p = reallocarray(v, k + 1, sizeof(*p))) == NULL)
			break;
		v = p;
		if ((v[k] = strdup(de->d_name)) == NULL)
			break;
		k++;
	}
	closedir(d);
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_ids);
	*ids = v;
	*n = k;
	return 0;
}
