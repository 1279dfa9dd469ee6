/*
 * plausible.h: the receiver's look at an upload as it streams in (issue
 * 18, item 3): is every byte valid in the dataset's encoding, and is the
 * header row the dataset's columns? A city that sent the wrong file, or the
 * right one in the wrong encoding, learns it in seconds (422, with the line),
 * not days later from a failed job.
 *
 * Pure: bytes in, a verdict out. It never keeps or reports a value of the
 * data: the verdict names a line number and, for the header, the column the
 * site file expects there.
 */
#ifndef SK_PLAUSIBLE_H
#define SK_PLAUSIBLE_H

#include <stddef.h>
#include <stdint.h>

#define PLAUSIBLE_HEAD_MAX 4096		/* the header row, at most */
#define PLAUSIBLE_COLUMNS_MAX 64

enum plausible_enc { PLAUSIBLE_UTF8, PLAUSIBLE_CP932 };

/* The header the dataset expects: each column's bytes in its encoding. */
struct plausible_header {
	const uint8_t *field[PLAUSIBLE_COLUMNS_MAX];
	size_t len[PLAUSIBLE_COLUMNS_MAX];
	const char *name[PLAUSIBLE_COLUMNS_MAX];	/* UTF-8, for messages */
	size_t n;			/* 0: the header is not checked */
};

struct plausible {
	enum plausible_enc enc;
	const struct plausible_header *want;
	uint64_t offset;		/* bytes seen */
	uint64_t lines;			/* LFs seen */
	unsigned need;			/* continuation bytes still to come */
	uint8_t lo, hi;			/* range of the next one (UTF-8) */
	uint8_t head[PLAUSIBLE_HEAD_MAX];
	size_t head_len;
	int head_done;
	int bad;			/* 1: a verdict is in why */
	uint64_t bad_line;
	char why[192];
	char why_ja[256];
};

void plausible_init(struct plausible *p, enum plausible_enc enc,
    const struct plausible_header *want);

/* Looks at the next bytes (before anything changes them). */
void plausible_feed(struct plausible *p, const uint8_t *b, size_t n);

/* After the last byte: 0 when the file is plausible, else -1 with why and
 * why_ja (English and Japanese, naming the line). */
int plausible_end(struct plausible *p);

#endif
