/*
 * logbook.h: the three hosts' audit logs as one book of entries (for the
 * ledgers and the monthly review).
 */
#ifndef VAULT_LOGBOOK_H
#define VAULT_LOGBOOK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define JST (9 * 3600)

enum host { H_RECEIVER, H_VAULT, H_SENDER, H_OTHER };

struct entry {
	enum host host;
	int64_t t;
	char event[48];
	char actor[96];
	char object[72];
	uint64_t size;
	int has_size;
	char detail[1024];
};

struct logfile {
	char path[PATH_MAX];
	enum host host;
	size_t entries, first_index;	/* its entries in the book */
	int64_t first, last;
	uint64_t head_seq;		/* its last entry: seq and mac */
	char head_mac[65];
};

struct book {
	struct entry *e;
	size_t n, cap;
	unsigned logs[H_OTHER + 1];
	struct logfile *files;
	size_t nfiles;
};

/* Reads a log, or a folder's audit.log and *.audit.log, into the book. */
int logbook_load(struct book *b, const char *path);
/* `--logs A B ...`: how many arguments follow argv[*i] up to the next
 * option (*i is moved onto the last); they are loaded, after the rest of
 * the call was checked, by logbook_load_args (which exits on an error). */
int logbook_arg_list(int argc, char **argv, int *i);
void logbook_load_args(struct book *b, char **paths, int n);

/* Orders the entries by time (stable for equal times is not needed). */
void logbook_sort(struct book *b);
void logbook_free(struct book *b);

/* The first entry of host h with this event and object, or NULL. */
const struct entry *logbook_find(const struct book *b, enum host h,
    const char *event, const char *object);

/* The same, whose detail begins with the word kind ("source", "release"). */
const struct entry *logbook_find_kind(const struct book *b, enum host h,
    const char *event, const char *object, const char *kind);

/* A detail's first word (an upload.stored's dataset) into out. */
void logbook_word(const char *detail, char *out, size_t cap);

/* A detail's "key=value" (up to the next space) into out. */
int logbook_detail(const char *detail, const char *key, char *out,
    size_t cap);

/* "YYYY-MM-DD" as 00:00 JST of that day; a time as JST text. */
int logbook_day(const char *s, int64_t *out);
void logbook_jst(int64_t t, int with_time, char *out, size_t cap);

#endif
